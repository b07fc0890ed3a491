"""tlcourse.tools.evaluate: predictions over a dataset, and the scores every notebook reports."""

import numpy as np
import torch
from torch.utils.data import DataLoader


@torch.no_grad()
def predict(model, data, collate_fn=None, batch_size=64):
    """(logits, labels) as numpy arrays for a dataset of dicts that model(**batch) accepts."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    logits, labels = [], []
    for batch in DataLoader(data, batch_size=batch_size, collate_fn=collate_fn):
        batch = {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}
        target = batch.pop("labels", None)
        logits.append(model(**batch)["logits"].float().cpu())
        if target is not None:
            labels.append(target.cpu())
    model.train(was_training)
    return torch.cat(logits).numpy(), (torch.cat(labels).numpy() if labels else None)


def scores(y_true, y_pred):
    """Accuracy and macro-F1 (each class counts equally, whatever its size)."""
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro")),
    }


def classification_report(y_true, y_pred, names, digits=3):
    """Print scikit-learn's classification report and return the scores."""
    from sklearn import metrics

    print(
        metrics.classification_report(
            y_true, y_pred, labels=np.arange(len(names)), target_names=names, digits=digits, zero_division=0
        )
    )
    return scores(y_true, y_pred)


def most_confused(y_true, y_pred, names, top=5):
    """The `top` (true, predicted, count) pairs the model mixes up most often."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y_true, y_pred, labels=np.arange(len(names)))
    np.fill_diagonal(matrix, 0)
    order = np.argsort(matrix, axis=None)[::-1][:top]
    return [
        (names[i], names[j], int(matrix[i, j]))
        for i, j in zip(*np.unravel_index(order, matrix.shape))
        if matrix[i, j] > 0
    ]


# -------------------------------------------------------------------------------- search and recommendation
def top_k(queries, items, k=10):
    """Indices of the k items most similar to each query (rows L2-normalised: dot product = cosine), best first."""
    similarity = np.asarray(queries) @ np.asarray(items).T
    k = min(k, similarity.shape[1])
    best = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(similarity, best, 1), axis=1, kind="stable")
    return np.take_along_axis(best, order, 1)


def answer_ranks(found, answer):
    """Rank (1 = first) of each query's right item in `found` (item indices, best first); inf when absent."""
    hits = np.asarray(found) == np.asarray(answer)[:, None]
    return np.where(hits.any(1), hits.argmax(1) + 1, np.inf)


def retrieval_scores(found, answer):
    """Recall@1, recall@5 and mean reciprocal rank, when each query has one right item (absent from `found`: 0)."""
    rank = answer_ranks(found, answer)
    return {
        "recall_at_1": float(np.mean(rank <= 1)),
        "recall_at_5": float(np.mean(rank <= 5)),
        "mrr": float(np.mean(1 / rank)),
    }


def tuned_logistic(train_x, train_y, val_x, val_y, grid=(1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0), max_iter=20000):
    """The simplest yardstick, tuned like a method: logistic regression on standardised inputs (raw pixels, or frozen
    features), its inverse regularisation C chosen on the validation split from `grid`, run to convergence (raises
    if lbfgs stops at max_iter). Returns (the fitted scaler + model pipeline, {chosen_C, validation_by_C})."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train_x, val_x = np.asarray(train_x).reshape(len(train_y), -1), np.asarray(val_x).reshape(len(val_y), -1)
    fitted = {}
    for c in grid:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)  # lbfgs's "failed to converge", for any reason
            try:
                model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))
                model.fit(train_x, train_y)
            except ConvergenceWarning as warning:
                raise RuntimeError(f"logistic regression with C={c} did not converge: {warning}") from None
        fitted[c] = (float(model.score(val_x, val_y)), model)
    chosen = max(grid, key=lambda c: fitted[c][0])
    return fitted[chosen][1], {"chosen_C": chosen, "validation_by_C": {c: v for c, (v, _) in fitted.items()}}


def paired_bootstrap(correct_a, correct_b, draws=2000, level=0.95, seed=0):
    """Mean of a minus b over the same test items (1 = right, 0 = wrong, or a mean over seeds), with a percentile
    bootstrap interval that resamples the items, both methods together (paired). Returns (difference, low, high)."""
    a, b = np.asarray(correct_a, dtype=float), np.asarray(correct_b, dtype=float)
    assert a.shape == b.shape, "a paired comparison needs the same items"
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(a), size=(draws, len(a)))
    resampled = (a - b)[picks].mean(1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(resampled, [tail, 100 - tail])
    return float((a - b).mean()), float(low), float(high)
