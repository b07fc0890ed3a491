"""tlcourse.exercises: the checks behind the notebooks' exercises.

Each check runs your function on seeded inputs of several sizes and compares it with a reference kept here,
out of the notebook, so the exercise cell never shows the answer. It prints a verdict and a hint, never the
expected value. tests/test_exercises.py shows each check fails on the common wrong answers.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

from tlcourse.check import _say, _value


def _compare(name, candidate, reference, inputs, hint, atol=1e-9, rtol=1e-7):
    for args in inputs:
        try:
            value, problem = _value(lambda: candidate(*args))
        except Exception as error:  # a wrong shape or type is a wrong answer, not a crash of the notebook
            return _say(False, name, hint, f"it raised {type(error).__name__}: {error}.")
        if problem:
            return _say(False, name, hint, problem)
        if value is None:
            return _say(False, name, hint, "the function returned None.")
        got = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value, dtype=float)
        want = np.asarray(reference(*args), dtype=float)
        if got.shape != want.shape:
            return _say(False, name, hint, f"an answer of shape {got.shape} where {want.shape} was expected.")
        if not np.allclose(got, want, atol=atol, rtol=rtol):
            return _say(False, name, hint, "it differs from the reference on one of the test inputs.")
    return _say(True, name, hint, "")


def _generator(seed):
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------------------ notebook 01
def cross_entropy_gradient(candidate):
    """candidate(z, y) = gradient of F.cross_entropy(z, y) (mean over N) with respect to z, shape (N, K)."""
    inputs = []
    for seed, (n, k) in enumerate([(1, 2), (3, 5), (4, 3), (7, 4), (16, 10)]):
        g = _generator(seed)
        inputs.append((torch.randn(n, k, generator=g, dtype=torch.float64), torch.randint(0, k, (n,), generator=g)))

    def reference(z, y):
        z = z.detach().clone().requires_grad_()
        return torch.autograd.grad(F.cross_entropy(z, y), z)[0].numpy()

    return _compare("softmax cross-entropy gradient", candidate, reference, inputs,
                    "prediction minus target per example, and the mean over the batch divides by its size")


def mlm_loss(candidate):
    """candidate(logits (B, T, V), labels (B, T) with -100 where not masked) = BERT's MLM loss."""
    inputs = []
    for seed, (b, t, v) in enumerate([(1, 5, 7), (2, 7, 30), (3, 11, 50)]):
        g = _generator(seed)
        logits = torch.randn(b, t, v, generator=g, dtype=torch.float64)
        labels = torch.randint(0, v, (b, t), generator=g)
        labels[torch.rand(b, t, generator=g) > 0.3] = -100
        labels[0, 0] = int(torch.randint(0, v, (1,), generator=g))  # at least one masked position
        inputs.append((logits, labels))

    def reference(logits, labels):
        keep = labels != -100
        return float(-torch.log_softmax(logits[keep], -1).gather(-1, labels[keep].unsqueeze(-1)).mean())

    return _compare("MLM loss", candidate, reference, inputs,
                    "F.cross_entropy wants the classes in dimension 1: flatten to (B*T, V) and (B*T,)")


def perplexity_from_probabilities(candidate):
    """candidate(p) = perplexity of a model that gives probability p[i] to the right token at masked position i."""
    inputs = [(torch.full((4,), 0.25, dtype=torch.float64),)]
    for seed, n in enumerate([3, 10, 57]):
        inputs.append((torch.rand(n, generator=_generator(seed), dtype=torch.float64) * 0.9 + 0.05,))
    return _compare("perplexity", candidate, lambda p: math.exp(float(-p.log().mean())), inputs,
                    "perplexity = exp(mean cross-entropy), and the cross-entropy at one position is -log p")


# ------------------------------------------------------------------------------------------ notebook 02
def picked_fraction(candidate, mask_tokens, mask_id=4, vocab_size=100):
    """candidate(special_tokens_mask, labels) = share of the non-special tokens that got a label (not -100)."""
    inputs = []
    for seed, (b, t) in enumerate([(1, 12), (4, 30), (8, 64)]):
        g = _generator(seed)
        ids = torch.randint(5, vocab_size, (b, t), generator=g)
        special = torch.zeros(b, t, dtype=torch.long)
        lengths = torch.randint(t // 2, t + 1, (b,), generator=g)
        for row, length in enumerate(lengths.tolist()):
            ids[row, 0], ids[row, length - 1], ids[row, length:] = 2, 3, 0  # [CLS] ... [SEP] [PAD]...
            special[row, 0] = special[row, length - 1] = 1
            special[row, length:] = 1
        _, labels = mask_tokens(ids, special, mask_id, vocab_size, generator=g)
        inputs.append((special, labels))

    def reference(special, labels):
        return float((labels != -100).sum() / (special == 0).sum())

    return _compare("picked fraction", candidate, reference, inputs,
                    "count labels != -100; divide by the tokens that could be picked: special_tokens_mask == 0")


def perplexity_from_loss(candidate):
    """candidate(mean_loss) = the perplexity of a mean cross-entropy in nats."""
    inputs = [(x,) for x in (0.0, 0.5, 2.3, 5.0, 6.9)]
    return _compare("perplexity", candidate, lambda loss: math.exp(loss), inputs,
                    "the loss is a mean cross-entropy in nats (natural log)")


def embedding_parameters(candidate):
    """candidate(config) = number of parameters of the token-embedding matrix of a model built from config."""
    from transformers import RoFormerConfig, RoFormerModel

    configs = [RoFormerConfig(vocab_size=v, hidden_size=h, embedding_size=h, num_hidden_layers=layers,
                              num_attention_heads=1, intermediate_size=2 * h)
               for v, h, layers in [(100, 8, 1), (333, 16, 2), (2000, 24, 3)]]

    def reference(config):
        return RoFormerModel(config).embeddings.word_embeddings.weight.numel()

    return _compare("embedding parameters", candidate, reference, [(c,) for c in configs],
                    "one vector per vocabulary entry, as long as the embedding size", atol=0, rtol=0)
