"""Every exercise check passes the right answer and fails the common wrong ones (and never crashes on them)."""

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tlcourse.course import exercises
from tlcourse.lessons.mlm_pretraining import mask_tokens  # notebook 03's masking cell, exported


def right_gradient(z, y, smoothing):
    k = z.shape[-1]
    target = (1 - smoothing) * F.one_hot(y, k) + smoothing / k
    return (torch.softmax(z, -1) - target) / z.shape[0]


def right_mlm(logits, labels):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))


def zero_shot(texts, descriptions, classes, k, renormalise=True):
    centres = np.stack([descriptions[np.asarray(classes) == c].mean(0) for c in range(k)])
    if renormalise:
        centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)
    return (texts @ centres.T).argmax(1)


def in_batch(queries, documents, scale):
    logits = scale * F.normalize(queries, dim=-1) @ F.normalize(documents, dim=-1).T
    return -torch.log_softmax(logits, dim=1).diagonal().mean()


def ndcg(relevant, ranking, k, ideal_over_k=False, normalise=True, offset=2):
    def gain(hits):
        return sum(h / math.log2(r + offset) if r + offset > 1 else math.inf for r, h in enumerate(hits))

    dcg = gain(np.asarray(relevant)[np.asarray(ranking)[:k]])
    ideal = gain([1] * (k if ideal_over_k else min(k, int(np.sum(relevant)))))
    with np.errstate(all="ignore"):  # the log2(r) answer divides by zero at rank 1, as the learner's would
        return dcg / ideal if normalise else dcg


def test_ndcg_reference_agrees_with_scikit_learn():
    from sklearn.metrics import ndcg_score

    rng = np.random.default_rng(0)
    relevant = (rng.random(40) < 0.2).astype(int)
    scores = rng.random(40)
    ranking = np.argsort(-scores)
    assert math.isclose(exercises._ndcg_reference(relevant, ranking, 10), ndcg_score([relevant], [scores], k=10))


CASES = [
    (
        exercises.cross_entropy_gradient,
        right_gradient,
        [
            lambda z, y, e: (torch.softmax(z, -1) - F.one_hot(y, z.shape[-1])) / z.shape[0],  # smoothing ignored
            lambda z, y, e: (
                (
                    torch.softmax(z, -1)
                    - (1 - e) * F.one_hot(y, z.shape[-1])
                    - e / (z.shape[-1] - 1) * (1 - F.one_hot(y, z.shape[-1]))
                )
                / z.shape[0]
            ),  # e/(K-1) elsewhere
            lambda z, y, e: right_gradient(z, y, e) * z.shape[0],  # no mean
            lambda z, y, e: -right_gradient(z, y, e),  # the article's sign
        ],
    ),
    (
        exercises.mlm_loss,
        right_mlm,
        [
            lambda logits, labels: F.cross_entropy(logits, labels),  # classes in the wrong dimension
            lambda logits, labels: (
                F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), reduction="sum")
                / labels.numel()
            ),  # mean over all positions
            lambda logits, labels: F.binary_cross_entropy_with_logits(  # the article's BCE
                logits[labels != -100], F.one_hot(labels[labels != -100], logits.shape[-1]).double()
            ),
        ],
    ),
    (
        exercises.perplexity_from_probabilities,
        lambda p: torch.exp(-p.log().mean()),
        [
            lambda p: 4.0,
            lambda p: 1 / p.mean(),
            lambda p: (1 / p).mean(),
            lambda p: torch.exp(p.mean()),
        ],
    ),
    (
        exercises.embedding_parameters,
        lambda c: c.vocab_size * c.embedding_size,
        [
            lambda c: 8000 * 128,
            lambda c: c.vocab_size * c.hidden_size * c.num_hidden_layers,
            lambda c: c.vocab_size + c.hidden_size,
        ],
    ),
    # notebook 04
    (
        exercises.macro_f1,
        lambda t, p: np.mean(
            [2 * np.sum((p == c) & (t == c)) / max(1, np.sum(p == c) + np.sum(t == c)) for c in np.union1d(t, p)]
        ),
        [
            lambda t, p: np.mean(t == p),  # accuracy (= micro-F1)
            lambda t, p: np.mean(
                [2 * np.sum((p == c) & (t == c)) / max(1, np.sum(p == c) + np.sum(t == c)) for c in np.unique(p)]
            ),  # a class never predicted left out
            lambda t, p: np.average(
                [2 * np.sum((p == c) & (t == c)) / max(1, np.sum(p == c) + np.sum(t == c)) for c in np.union1d(t, p)],
                weights=[np.sum(t == c) for c in np.union1d(t, p)],
            ),
        ],
    ),
    # notebook 05
    # notebook 07
    (
        exercises.zero_shot_several_descriptions,
        lambda t, d, c, k: zero_shot(t, d, c, k),
        [
            lambda t, d, c, k: zero_shot(t, d, c, k, renormalise=False),  # dot product with the raw mean
            lambda t, d, c, k: np.asarray(c)[(t @ d.T).argmax(1)],  # the single nearest description
            lambda t, d, c, k: (t @ d.T).argmax(1),  # a description index, not a class
        ],
    ),
    (
        exercises.in_batch_negatives_loss,
        lambda q, d, s=20.0: in_batch(q, d, s),
        [
            lambda q, d, s=20.0: F.cross_entropy(s * q @ d.T, torch.arange(len(q))),  # not normalised
            lambda q, d, s=20.0: in_batch(q, d, 1.0),  # the scale forgotten
            lambda q, d, s=20.0: in_batch(d, q, s),  # documents pick their query: the other direction
            lambda q, d, s=20.0: F.cross_entropy(
                s * F.normalize(q, dim=-1) @ F.normalize(d, dim=-1).T, torch.zeros(len(q), dtype=torch.long)
            ),  # every target class 0
        ],
    ),
    # notebook 08
    (
        exercises.ndcg_at_k,
        lambda rel, ranking, k: ndcg(rel, ranking, k),
        [
            lambda rel, ranking, k: ndcg(rel, ranking, k, ideal_over_k=True),  # as if k items were relevant
            lambda rel, ranking, k: ndcg(rel, ranking, k, normalise=False),  # DCG, not nDCG
            lambda rel, ranking, k: ndcg(
                rel, ranking, k, offset=1
            ),  # log2(r) instead of log2(r + 1): rank 1 divides by 0
            lambda rel, ranking, k: float(np.mean(np.asarray(rel)[ranking[:k]])),  # precision@k
        ],
    ),
]


@pytest.mark.parametrize("check, right, wrongs", CASES, ids=[c[0].__name__ for c in CASES])
def test_check_passes_the_right_answer_and_fails_wrong_ones(check, right, wrongs, capsys):
    assert check(right) is True
    for wrong in wrongs:
        assert check(wrong) is False
    assert "Traceback" not in capsys.readouterr().out


def test_picked_fraction_check_fails_the_tempting_shortcuts():
    right = lambda special, labels: ((labels != -100).sum() / (special == 0).sum()).item()  # noqa: E731
    assert exercises.picked_fraction(right, mask_tokens) is True
    for wrong in [
        lambda special, labels: 0.15,
        lambda special, labels: (labels != -100).float().mean().item(),  # divides by every position
        lambda special, labels: ((labels != -100).sum() / (special == 1).sum()).item(),
    ]:
        assert exercises.picked_fraction(wrong, mask_tokens) is False


def test_unattempted_exercise_is_reported_not_raised(capsys):
    def stub(*args):
        raise NotImplementedError

    assert exercises.mlm_loss(stub) is False
    assert "not attempted" in capsys.readouterr().out


def test_predict_names_fails_the_wrong_axis_and_a_batch_of_one():
    names = {i: f"topic {i}" for i in range(5)}
    assert exercises.predict_names(lambda z: [names[i] for i in z.argmax(dim=-1).tolist()], names) is True
    for wrong in [
        lambda z: [names[i] for i in z.argmax(dim=0).tolist()],  # over the batch
        lambda z: [names[i] for i in z.argmax(dim=2).tolist()],  # the article's dim=2: raises
        lambda z: z.argmax(dim=-1).tolist(),  # ids, not names
        lambda z: [names[i] for i in z.squeeze().argmax(dim=-1).reshape(-1).tolist()][:1],
    ]:
        assert exercises.predict_names(wrong, names) is False


def test_unpatchify_check_fails_a_wrong_inverse():
    def patchify(pixels, p):
        b, c, h, w = pixels.shape
        grid = pixels.reshape(b, c, h // p, p, w // p, p)
        return grid.permute(0, 2, 4, 1, 3, 5).reshape(b, (h // p) * (w // p), c * p**2)

    def right(patches, p, size):
        b = patches.shape[0]
        grid = patches.reshape(b, size // p, size // p, 1, p, p)
        return grid.permute(0, 3, 1, 4, 2, 5).reshape(b, 1, size, size)

    def transposed(patches, p, size):  # rows and columns swapped
        return right(patches, p, size).transpose(-1, -2)

    assert exercises.unpatchify(right, patchify) is True
    assert exercises.unpatchify(transposed, patchify) is False
    assert (
        exercises.unpatchify(lambda patches, p, size: patches.reshape(patches.shape[0], 1, size, size), patchify)
        is False
    )


# notebook 02: each check passes the right answer, fails each trap, and never prints the expected values
def attention_02(q, k, v, padding_mask, scale=True, mask="before", dim=-1):
    scores = q @ k.transpose(-2, -1) / (math.sqrt(q.shape[-1]) if scale else 1.0)
    keep = padding_mask[:, None, None, :].bool()
    if mask == "before":
        scores = scores.masked_fill(~keep, float("-inf"))
    weights = torch.softmax(scores, dim=dim)
    if mask == "after":  # the padded keys' weights zeroed after the softmax: the rows no longer sum to 1
        weights = weights * keep
    return weights @ v


def split_heads_02(x, heads):
    b, t, d = x.shape
    return x.view(b, t, heads, d // heads).transpose(1, 2)


CASES_02 = [
    (
        exercises.masked_attention,
        attention_02,
        [
            lambda q, k, v, m: attention_02(q, k, v, m, mask="after"),  # mask applied after the softmax
            lambda q, k, v, m: attention_02(q, k, v, m, scale=False),  # no 1/sqrt(d)
            lambda q, k, v, m: attention_02(q, k, v, m, dim=-2),  # softmax over the queries
            lambda q, k, v, m: attention_02(q, k, v, m, mask="none"),  # padding ignored
        ],
    ),
    (
        exercises.split_heads,
        split_heads_02,
        [
            lambda x, h: x.view(x.shape[0], h, x.shape[1], x.shape[2] // h),  # no transpose
            lambda x, h: x.view(x.shape[0], x.shape[1], x.shape[2] // h, h).permute(0, 3, 1, 2),  # strided heads
            lambda x, h: x.view(x.shape[0], x.shape[1], h, x.shape[2] // h),  # not transposed at all
        ],
    ),
    (
        exercises.causal_mask,
        lambda t: torch.ones(t, t).tril().bool(),
        [
            lambda t: torch.ones(t, t).triu().bool(),  # transposed: attends to the future
            lambda t: torch.ones(t, t).tril(-1).bool(),  # the diagonal excluded
            lambda t: torch.ones(t, t).triu(1).bool(),  # True where masked (the other convention)
            lambda t: torch.ones(t, t).bool(),  # no mask
        ],
    ),
]


@pytest.mark.parametrize("check, right, wrongs", CASES_02, ids=[c[0].__name__ for c in CASES_02])
def test_notebook_02_checks_pass_the_right_answer_and_fail_each_trap(check, right, wrongs, capsys):
    import re

    assert check(right) is True
    for wrong in wrongs:
        assert check(wrong) is False
    printed = capsys.readouterr().out
    assert "Traceback" not in printed
    assert printed.count("[TRY AGAIN]") == len(wrongs) and printed.count("[OK]") == 1
    # verdicts and hints only: no tensor, array or decimal number of the expected answer
    assert not any(word in printed for word in ("tensor(", "array(", "True", "False", "[["))
    assert not re.search(r"\d\.\d", printed), printed


def test_notebook_02_checks_say_not_attempted_and_survive_a_crash(capsys):
    def stub(*args):
        raise NotImplementedError

    for check in (exercises.masked_attention, exercises.split_heads, exercises.causal_mask):
        assert check(stub) is False
        assert check(lambda *args: torch.zeros(2, 3)[5]) is False  # an IndexError is a wrong answer
    printed = capsys.readouterr().out
    assert printed.count("not attempted") == 3 and "IndexError" in printed


# ------------------------------------------------------------------ experiments: the learner's measured numbers
def _account(rows, activations, way="full", gradients=86.1):
    return {
        "way": way,
        "precision": "no",
        "rows": rows,
        "length": 32,
        "exact": True,
        "peak_mb": 300 + activations,
        "gradients_mb": gradients,
        "optimizer_mb": 2 * gradients,
        "activations_mb": activations,
    }


EXPERIMENTS = [
    # (check, the notebook's own numbers, a plausible measurement, the common wrong ones)
    (
        exercises.word_order_experiment,
        (),
        (0.972, 1.0),
        [
            (0.972, 0.972),  # positions never removed
            (1.0, 0.972),  # the two swapped
            (0.972, 0.95),  # the word embeddings zeroed, or other words compared
            (1.0, 1.0),
        ],
    ),  # the same sentence twice
    (
        exercises.right_neighbour_experiment,
        (5.445, 6.930),
        5.452,
        [
            5.445,  # the left-bigram again
            7.996,  # reversed training blocks scored on unreversed masks
            0.4,  # the answer leaked into the context
            6.0,
        ],
    ),  # another set of blanks
    (
        exercises.random_encoder_experiment,
        (11,),
        (0.40, 0.79),
        [
            (0.79, 0.79),  # from_pretrained twice
            (0.75, 0.79),  # hardly random (a copy with one layer re-drawn)
            (1.0, 1.0),  # training accuracy
            (0.09, 0.79),  # another tokenizer: no better than chance
            (40.0, 79.0),
        ],
    ),  # percent, not fractions
    (
        exercises.patch_shuffle_experiment,
        (0.81,),
        0.43,
        [
            0.81,  # the identity permutation
            0.85,  # better than the original: swapped
            0.78,  # pixels nudged, not patches moved
            43.0,
        ],
    ),  # percent
    (
        exercises.batch_memory_experiment,
        (),
        (_account(16, 96.1), _account(32, 192.2)),
        [
            (_account(16, 96.1), _account(16, 96.1)),  # the rows never changed
            (_account(16, 96.1), _account(32, 96.1)),  # an inexact account
            (_account(16, 96.1), _account(32, 150.0, way="lora", gradients=1.2)),  # another way of training
            (_account(16, 96.1), {"rows": 32}),
        ],
    ),  # not an account
    (
        exercises.document_length_experiment,
        (0.772,),
        0.55,
        [
            0.772,  # not re-encoded
            0.80,  # swapped, or queries cut instead
            0.765,
        ],
    ),  # cut far above the median length
    (
        exercises.day_size_experiment,
        (0.80,),
        (0.30, 0.012),
        [
            (0.80, 0.010),  # per_day never changed
            (0.55, 0.20),  # the old level kept: rings on calm days
            (0.85, 0.010),  # swapped
            (0.75, 0.010),
        ],
    ),  # the story share not kept at a quarter
]


@pytest.mark.parametrize("check, given, right, wrongs", EXPERIMENTS, ids=[e[0].__name__ for e in EXPERIMENTS])
def test_experiment_checks_accept_a_measurement_and_reject_the_common_wrong_ones(check, given, right, wrongs, capsys):
    assert check(lambda: right, *given, prediction="my guess") is True
    for wrong in wrongs:
        assert check(lambda: wrong, *given) is False, wrong
    printed = capsys.readouterr().out
    assert "You predicted: my guess" in printed and "Traceback" not in printed


@pytest.mark.parametrize("check, given", [(e[0], e[1]) for e in EXPERIMENTS], ids=[e[0].__name__ for e in EXPERIMENTS])
def test_an_experiment_not_yet_run_says_so_and_a_crash_is_a_verdict(check, given, capsys):
    def stub():
        raise NotImplementedError

    def crash():
        raise ValueError("shapes do not match")

    assert check(stub, *given) is False and check(crash, *given) is False
    printed = capsys.readouterr().out
    assert "not attempted yet" in printed and "ValueError" in printed


def test_an_experiment_verdict_never_prints_the_expected_values(capsys):
    """The checks' messages hold no reference number: the learner's prediction is theirs to make."""
    for check, given, _, wrongs in EXPERIMENTS:
        for wrong in wrongs:
            check(lambda: wrong, *given)
    printed = capsys.readouterr().out
    assert not re.search(r"\d\.\d", printed.replace("7 x 7", "")), printed
