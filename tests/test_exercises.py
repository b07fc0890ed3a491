"""Every exercise check passes the right answer and fails the common wrong ones (and never crashes on them)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tlcourse import exercises


def mask_tokens(input_ids, special_tokens_mask, mask_id, vocab_size, probability=0.15, generator=None):
    """Notebook 03's masking function."""
    input_ids, labels = input_ids.clone(), input_ids.clone()
    chance = torch.full(input_ids.shape, probability)
    chance[special_tokens_mask.bool()] = 0.0
    picked = torch.bernoulli(chance, generator=generator).bool()
    labels[~picked] = -100
    to_mask = torch.bernoulli(torch.full(input_ids.shape, 0.8), generator=generator).bool() & picked
    input_ids[to_mask] = mask_id
    to_random = torch.bernoulli(torch.full(input_ids.shape, 0.5), generator=generator).bool() & picked & ~to_mask
    input_ids[to_random] = torch.randint(vocab_size, input_ids.shape, generator=generator)[to_random]
    return input_ids, labels


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
    gain = lambda hits: sum(h / math.log2(r + offset) if r + offset > 1 else math.inf for r, h in enumerate(hits))
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
    (exercises.cross_entropy_gradient, right_gradient, [
        lambda z, y, e: (torch.softmax(z, -1) - F.one_hot(y, z.shape[-1])) / z.shape[0],  # smoothing ignored
        lambda z, y, e: (torch.softmax(z, -1) - (1 - e) * F.one_hot(y, z.shape[-1])
                         - e / (z.shape[-1] - 1) * (1 - F.one_hot(y, z.shape[-1]))) / z.shape[0],  # e/(K-1) elsewhere
        lambda z, y, e: right_gradient(z, y, e) * z.shape[0],  # no mean
        lambda z, y, e: -right_gradient(z, y, e),  # the article's sign
    ]),
    (exercises.mlm_loss, right_mlm, [
        lambda logits, labels: F.cross_entropy(logits, labels),  # classes in the wrong dimension
        lambda logits, labels: F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                               reduction="sum") / labels.numel(),  # mean over all positions
        lambda logits, labels: F.binary_cross_entropy_with_logits(  # the article's BCE
            logits[labels != -100], F.one_hot(labels[labels != -100], logits.shape[-1]).double()),
    ]),
    (exercises.perplexity_from_probabilities, lambda p: torch.exp(-p.log().mean()), [
        lambda p: 4.0,
        lambda p: 1 / p.mean(),
        lambda p: (1 / p).mean(),
        lambda p: torch.exp(p.mean()),
    ]),
    (exercises.perplexity_from_loss, lambda loss: math.exp(loss), [
        lambda loss: 2 ** loss, lambda loss: math.exp(-loss), lambda loss: 10 ** loss, lambda loss: math.log(loss + 1),
    ]),
    (exercises.embedding_parameters, lambda c: c.vocab_size * c.embedding_size, [
        lambda c: 8000 * 128,
        lambda c: c.vocab_size * c.hidden_size * c.num_hidden_layers,
        lambda c: c.vocab_size + c.hidden_size,
    ]),
    # notebook 04
    (exercises.macro_f1, lambda t, p: np.mean([2 * np.sum((p == c) & (t == c)) / max(1, np.sum(p == c) + np.sum(t == c))
                                                for c in np.union1d(t, p)]), [
        lambda t, p: np.mean(t == p),  # accuracy (= micro-F1)
        lambda t, p: np.mean([2 * np.sum((p == c) & (t == c)) / max(1, np.sum(p == c) + np.sum(t == c))
                              for c in np.unique(p)]),  # a class never predicted left out
        lambda t, p: np.average([2 * np.sum((p == c) & (t == c)) / max(1, np.sum(p == c) + np.sum(t == c))
                                 for c in np.union1d(t, p)], weights=[np.sum(t == c) for c in np.union1d(t, p)]),
    ]),
    (exercises.mean_pool, lambda h, m: (h * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True), [
        lambda h, m: h.mean(1),  # padding counted
        lambda h, m: (h * m.unsqueeze(-1)).sum(1) / h.shape[1],  # divided by the padded length
        lambda h, m: torch.nn.functional.normalize((h * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True), dim=-1),
    ]),
    # notebook 05
    (exercises.projection_parameters, lambda s: s["patch_size"] ** 2 * s["hidden"] + s["hidden"], [
        lambda s: s["patch_size"] ** 2 * s["hidden"],  # the bias forgotten
        lambda s: 3 * s["patch_size"] ** 2 * s["hidden"] + s["hidden"],  # three channels
        lambda s: 49 * 128 + 128,  # the notebook's sizes hard-coded
    ]),
    (exercises.encoder_tokens, lambda s, p, r: int((s // p) ** 2 * (1 - r)) + 1, [
        lambda s, p, r: int((s // p) ** 2 * (1 - r)),  # [CLS] forgotten
        lambda s, p, r: (s // p) ** 2 + 1,  # every patch
        lambda s, p, r: int((s // p) ** 2 * r) + 1,  # the hidden ones
    ]),
    # notebook 06
    (exercises.lora_parameters, lambda n, h, r, m: n * m * (r * h + h * r), [
        lambda n, h, r, m: n * m * r * h,  # A only
        lambda n, h, r, m: n * m * h * h,  # the full matrices
        lambda n, h, r, m: 6 * 2 * 2 * 8 * 384,  # MiniLM's numbers hard-coded
    ]),
    (exercises.per_process_batch, lambda g, p, a: g // p // a, [
        lambda g, p, a: g // p, lambda g, p, a: g // a, lambda g, p, a: g * a // p,
    ]),
    (exercises.total_variation, lambda p, q: 0.5 * np.abs(p - q).sum(), [
        lambda p, q: np.abs(p - q).sum(), lambda p, q: np.abs(p - q).max(), lambda p, q: 0.5 * ((p - q) ** 2).sum(),
    ]),
    (exercises.zero_shot_several_descriptions, lambda t, d, c, k: zero_shot(t, d, c, k), [
        lambda t, d, c, k: zero_shot(t, d, c, k, renormalise=False),  # dot product with the raw mean
        lambda t, d, c, k: np.asarray(c)[(t @ d.T).argmax(1)],  # the single nearest description
        lambda t, d, c, k: (t @ d.T).argmax(1),  # a description index, not a class
    ]),
    (exercises.in_batch_negatives_loss, lambda q, d, s=20.0: in_batch(q, d, s), [
        lambda q, d, s=20.0: F.cross_entropy(s * q @ d.T, torch.arange(len(q))),  # not normalised
        lambda q, d, s=20.0: in_batch(q, d, 1.0),  # the scale forgotten
        lambda q, d, s=20.0: in_batch(d, q, s),  # documents pick their query: the other direction
        lambda q, d, s=20.0: F.cross_entropy(s * F.normalize(q, dim=-1) @ F.normalize(d, dim=-1).T,
                                             torch.zeros(len(q), dtype=torch.long)),  # every target class 0
    ]),
    (exercises.ndcg_at_k, lambda rel, ranking, k: ndcg(rel, ranking, k), [
        lambda rel, ranking, k: ndcg(rel, ranking, k, ideal_over_k=True),  # as if k items were relevant
        lambda rel, ranking, k: ndcg(rel, ranking, k, normalise=False),  # DCG, not nDCG
        lambda rel, ranking, k: ndcg(rel, ranking, k, offset=1),  # log2(r) instead of log2(r + 1): rank 1 divides by 0
        lambda rel, ranking, k: float(np.mean(np.asarray(rel)[ranking[:k]])),  # precision@k
    ]),
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
    for wrong in [lambda special, labels: 0.15,
                  lambda special, labels: (labels != -100).float().mean().item(),  # divides by every position
                  lambda special, labels: ((labels != -100).sum() / (special == 1).sum()).item()]:
        assert exercises.picked_fraction(wrong, mask_tokens) is False


def test_unattempted_exercise_is_reported_not_raised(capsys):
    def stub(*args):
        raise NotImplementedError

    assert exercises.mlm_loss(stub) is False
    assert "not attempted" in capsys.readouterr().out


def test_predict_names_fails_the_wrong_axis_and_a_batch_of_one():
    names = {i: f"topic {i}" for i in range(5)}
    assert exercises.predict_names(lambda z: [names[i] for i in z.argmax(dim=-1).tolist()], names) is True
    for wrong in [lambda z: [names[i] for i in z.argmax(dim=0).tolist()],  # over the batch
                  lambda z: [names[i] for i in z.argmax(dim=2).tolist()],  # the article's dim=2: raises
                  lambda z: z.argmax(dim=-1).tolist(),  # ids, not names
                  lambda z: [names[i] for i in z.squeeze().argmax(dim=-1).reshape(-1).tolist()][:1]]:
        assert exercises.predict_names(wrong, names) is False


def test_unpatchify_check_fails_a_wrong_inverse():
    def patchify(pixels, p):
        b, c, h, w = pixels.shape
        grid = pixels.reshape(b, c, h // p, p, w // p, p)
        return grid.permute(0, 2, 4, 1, 3, 5).reshape(b, (h // p) * (w // p), c * p ** 2)

    def right(patches, p, size):
        b = patches.shape[0]
        grid = patches.reshape(b, size // p, size // p, 1, p, p)
        return grid.permute(0, 3, 1, 4, 2, 5).reshape(b, 1, size, size)

    def transposed(patches, p, size):  # rows and columns swapped
        return right(patches, p, size).transpose(-1, -2)

    assert exercises.unpatchify(right, patchify) is True
    assert exercises.unpatchify(transposed, patchify) is False
    assert exercises.unpatchify(lambda patches, p, size: patches.reshape(patches.shape[0], 1, size, size), patchify) is False
