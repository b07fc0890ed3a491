"""Every exercise check passes the right answer and fails the common wrong ones (and never crashes on them)."""
import math

import pytest
import torch
import torch.nn.functional as F

from tlcourse import exercises


def mask_tokens(input_ids, special_tokens_mask, mask_id, vocab_size, probability=0.15, generator=None):
    """Notebook 02's masking function."""
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


def right_gradient(z, y):
    return (torch.softmax(z, -1) - F.one_hot(y, z.shape[-1])) / z.shape[0]


def right_mlm(logits, labels):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))


CASES = [
    (exercises.cross_entropy_gradient, right_gradient, [
        lambda z, y: (torch.softmax(z, -1) - F.one_hot(y, z.shape[-1])) / 4,  # N hard-coded
        lambda z, y: torch.softmax(z, -1) - F.one_hot(y, z.shape[-1]),  # no mean
        lambda z, y: -right_gradient(z, y),  # the article's sign
        lambda z, y: (torch.sigmoid(z) - F.one_hot(y, z.shape[-1])) / z.shape[0],
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
