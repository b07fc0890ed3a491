import numpy as np
import pytest
import torch

from tlcourse.tools import evaluate


def test_scores_and_most_confused():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 1, 2])
    scores = evaluate.scores(y_true, y_pred)
    assert scores["accuracy"] == 4 / 6
    assert 0 < scores["macro_f1"] < 1
    assert evaluate.most_confused(y_true, y_pred, ["a", "b", "c"], top=2) == [
        ("c", "b", 1),
        ("a", "b", 1),
    ] or evaluate.most_confused(y_true, y_pred, ["a", "b", "c"], top=2) == [("a", "b", 1), ("c", "b", 1)]


def test_predict_returns_logits_and_labels():
    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 3)

        def forward(self, x):
            return {"logits": self.linear(x)}

    data = [{"x": torch.randn(2), "labels": torch.tensor(i % 3)} for i in range(10)]
    logits, labels = evaluate.predict(Model(), data, batch_size=4)
    assert logits.shape == (10, 3) and labels.tolist() == [i % 3 for i in range(10)]


def test_top_k_ranks_by_cosine_best_first():
    items = np.eye(4)
    queries = np.array([[0.1, 0.9, 0.3, 0.0], [0.05, 0.0, 0.2, 1.0]])
    np.testing.assert_array_equal(evaluate.top_k(queries, items, k=3), [[1, 2, 0], [3, 2, 0]])
    assert evaluate.top_k(queries, items, k=10).shape == (2, 4)  # k larger than the collection


def test_retrieval_scores_count_ranks_and_missing_answers():
    found = np.array([[3, 1, 2, 0, 4, 5], [0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0]])
    answer = np.array([3, 4, 9])  # first at rank 1, second at rank 5, third absent
    np.testing.assert_array_equal(evaluate.answer_ranks(found, answer), [1, 5, np.inf])
    scores = evaluate.retrieval_scores(found, answer)
    assert scores == {"recall_at_1": 1 / 3, "recall_at_5": 2 / 3, "mrr": (1 + 1 / 5 + 0) / 3}


def test_tuned_logistic_chooses_C_on_validation_and_refuses_an_unconverged_fit():
    rng = np.random.default_rng(0)
    signal = rng.normal(size=(60, 1))
    x = np.hstack([signal, rng.normal(size=(60, 200))])  # one informative column among 200 noise columns
    y = (signal[:, 0] > 0).astype(int)
    val_signal = rng.normal(size=(200, 1))
    val_x, val_y = np.hstack([val_signal, rng.normal(size=(200, 200))]), (val_signal[:, 0] > 0).astype(int)
    model, info = evaluate.tuned_logistic(x, y, val_x, val_y, grid=(1e-3, 1e-2, 1e-1, 1.0, 10.0))
    assert info["chosen_C"] == max(info["validation_by_C"], key=info["validation_by_C"].get)
    assert info["validation_by_C"][info["chosen_C"]] > info["validation_by_C"][10.0]  # weak regularisation overfits
    assert model.score(val_x, val_y) == info["validation_by_C"][info["chosen_C"]]
    with pytest.raises(RuntimeError, match="did not converge"):
        evaluate.tuned_logistic(x, y, val_x, val_y, grid=(10.0,), max_iter=2)


def test_paired_bootstrap_is_paired_and_covers_the_difference():
    rng = np.random.default_rng(1)
    a = (rng.random(1000) < 0.8).astype(float)
    b = a.copy()
    b[:50] = 1 - b[:50]  # b differs from a on 50 items only
    diff, low, high = evaluate.paired_bootstrap(a, b)
    assert diff == (a - b).mean() and low <= diff <= high
    # paired: the interval is far narrower than for two unrelated methods of the same accuracies
    unrelated = evaluate.paired_bootstrap(a, rng.permutation(b))
    assert high - low < 0.6 * (unrelated[2] - unrelated[1])
    assert evaluate.paired_bootstrap(a, a) == (0.0, 0.0, 0.0)
