"""tlcourse.course.exercises: the checks behind the notebooks' exercises.

Each check runs your function on seeded inputs of several sizes and compares it with a reference kept here,
out of the notebook, so the exercise cell never shows the answer. It prints a verdict and a hint, never the
expected value. tests/test_exercises.py shows each check fails on the common wrong answers.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F


def _value(answer):
    try:
        return answer() if callable(answer) else answer, None
    except NotImplementedError:
        return None, "not attempted yet: fill in the exercise cell above"


def _say(ok, name, hint, detail=""):
    print(f"[{'OK' if ok else 'TRY AGAIN'}] {name}" + ("" if ok else f": {detail}{' Hint: ' + hint if hint else ''}"))
    return ok


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
    """candidate(z, y, smoothing) = gradient of F.cross_entropy(z, y, label_smoothing=smoothing) (mean over N)
    with respect to z, shape (N, K)."""
    inputs = []
    for seed, (n, k, smoothing) in enumerate([(1, 2, 0.0), (3, 5, 0.1), (4, 3, 0.2), (7, 4, 0.0), (16, 10, 0.1)]):
        g = _generator(seed)
        inputs.append(
            (torch.randn(n, k, generator=g, dtype=torch.float64), torch.randint(0, k, (n,), generator=g), smoothing)
        )

    def reference(z, y, smoothing):
        z = z.detach().clone().requires_grad_()
        return torch.autograd.grad(F.cross_entropy(z, y, label_smoothing=smoothing), z)[0].numpy()

    return _compare(
        "cross-entropy gradient with label smoothing",
        candidate,
        reference,
        inputs,
        "prediction minus the smoothed target, (1 - smoothing) onehot(y) + smoothing / K, per example; "
        "the mean over the batch divides by its size",
    )


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

    return _compare(
        "MLM loss",
        candidate,
        reference,
        inputs,
        "F.cross_entropy wants the classes in dimension 1: flatten to (B*T, V) and (B*T,)",
    )


def perplexity_from_probabilities(candidate):
    """candidate(p) = perplexity of a model that gives probability p[i] to the right token at masked position i."""
    inputs = [(torch.full((4,), 0.25, dtype=torch.float64),)]
    for seed, n in enumerate([3, 10, 57]):
        inputs.append((torch.rand(n, generator=_generator(seed), dtype=torch.float64) * 0.9 + 0.05,))
    return _compare(
        "perplexity",
        candidate,
        lambda p: math.exp(float(-p.log().mean())),
        inputs,
        "perplexity = exp(mean cross-entropy), and the cross-entropy at one position is -log p",
    )


# ------------------------------------------------------------------------------------------ notebook 02
def _attention_reference(q, k, v, padding_mask):
    """Scaled dot-product attention with padded keys hidden before the softmax; q, k, v (B, H, T, d)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    scores = scores.masked_fill(padding_mask[:, None, None, :] == 0, float("-inf"))
    return (torch.softmax(scores, dim=-1) @ v).numpy()


def masked_attention(candidate):
    """candidate(q, k, v, padding_mask) = scaled dot-product attention, q, k, v of shape (B, H, T, d) and
    padding_mask (B, T) with 1 for a real token, 0 for padding; returns (B, H, T, d)."""
    inputs = []
    for seed, (b, h, t, d) in enumerate([(1, 1, 4, 4), (2, 3, 6, 8), (3, 2, 9, 16), (4, 4, 12, 32)]):
        g = _generator(seed)
        q, k, v = torch.randn(3, b, h, t, d, generator=g, dtype=torch.float64).unbind(0)
        lengths = torch.randint(1, t, (b,), generator=g)
        lengths[-1] = t  # one row without padding; the first is always padded
        padding_mask = (torch.arange(t)[None, :] < lengths[:, None]).long()
        inputs.append((q, k, v, padding_mask))
    return _compare(
        "masked attention",
        candidate,
        _attention_reference,
        inputs,
        "divide the scores by the square root of the head size; give the padded keys a score "
        "of -inf before the softmax; the softmax runs over the keys, the last dimension",
    )


def split_heads(candidate):
    """candidate(x, heads) = x (B, T, D) cut into heads: (B, heads, T, D // heads), the layout attention uses."""
    inputs = []
    for seed, (b, t, dim, heads) in enumerate([(1, 3, 4, 2), (2, 5, 12, 3), (2, 7, 384, 12), (3, 4, 8, 8)]):
        inputs.append((torch.randn(b, t, dim, generator=_generator(seed), dtype=torch.float64), heads))

    def reference(x, heads):
        b, t, dim = x.shape
        return x.reshape(b, t, heads, dim // heads).permute(0, 2, 1, 3).numpy()

    return _compare(
        "split heads",
        candidate,
        reference,
        inputs,
        "each token's D features are cut into consecutive groups, one per head: reshape to "
        "(B, T, heads, D // heads) first, then swap the token and head dimensions",
        atol=0,
        rtol=0,
    )


def causal_mask(candidate):
    """candidate(T) = (T, T) boolean mask, True where query i may attend to key j (a boolean attn_mask of
    F.scaled_dot_product_attention): each token sees itself and the tokens before it."""

    def reference(t):
        return (torch.arange(t)[None, :] <= torch.arange(t)[:, None]).numpy()

    return _compare(
        "causal mask",
        candidate,
        reference,
        [(1,), (2,), (5,), (16,)],
        "row i is the query, column j the key, and a marked entry means 'may look': a token "
        "sees the keys up to and including its own position, none after it",
        atol=0,
        rtol=0,
    )


# ------------------------------------------------------------------------------------------ notebook 03
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

    return _compare(
        "picked fraction",
        candidate,
        reference,
        inputs,
        "count labels != -100; divide by the tokens that could be picked: special_tokens_mask == 0",
    )


def embedding_parameters(candidate):
    """candidate(config) = number of parameters of the token-embedding matrix of a model built from config."""
    from transformers import RoFormerConfig, RoFormerModel

    configs = [
        RoFormerConfig(
            vocab_size=v,
            hidden_size=h,
            embedding_size=h,
            num_hidden_layers=layers,
            num_attention_heads=1,
            intermediate_size=2 * h,
        )
        for v, h, layers in [(100, 8, 1), (333, 16, 2), (2000, 24, 3)]
    ]

    def reference(config):
        return RoFormerModel(config).embeddings.word_embeddings.weight.numel()

    return _compare(
        "embedding parameters",
        candidate,
        reference,
        [(c,) for c in configs],
        "one vector per vocabulary entry, as long as the embedding size",
        atol=0,
        rtol=0,
    )


# ------------------------------------------------------------------------------------------ notebook 04
def macro_f1(candidate):
    """candidate(y_true, y_pred) = macro-F1 (numpy int arrays), over the classes in either array."""
    from sklearn.metrics import f1_score

    inputs = []
    for seed, (n, k) in enumerate([(10, 2), (40, 4), (200, 11)]):
        rng = np.random.default_rng(seed)
        y_true = rng.integers(0, k, n)
        y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, k, n))
        y_pred[y_pred == k - 1] = 0  # one class is never predicted: its F1 is 0, and it still counts
        inputs.append((y_true, y_pred))
    return _compare(
        "macro-F1",
        candidate,
        lambda t, p: f1_score(t, p, average="macro", zero_division=0),
        inputs,
        "F1 = 2 TP / (2 TP + FP + FN) per class, then the plain mean over the classes",
    )


def predict_names(candidate, id2label):
    """candidate(logits (batch, classes) tensor) = the list of predicted label names."""
    k = len(id2label)
    for seed, batch in enumerate([1, 6, k, 13]):
        logits = torch.randn(batch, k, generator=_generator(seed))
        try:
            value, problem = _value(lambda: candidate(logits))
        except Exception as error:  # the article's argmax(dim=2) raises: a wrong answer, not a crash
            value, problem = None, f"it raised {type(error).__name__}: {error}."
        if problem:
            return _say(
                False, "predicted names", "argmax over the last dimension (the classes), then id2label", problem
            )
        expected = [id2label[i] for i in logits.argmax(dim=-1).tolist()]
        if value != expected:
            return _say(
                False,
                "predicted names",
                "argmax over the last dimension (the classes), then id2label",
                "it differs from the reference for one of the test batches.",
            )
    return _say(True, "predicted names", "")


# ------------------------------------------------------------------------------------------ notebook 05
def unpatchify(candidate, patchify):
    """candidate(patches, patch_size, image_size) undoes patchify for one-channel images."""
    for seed, (b, size, p) in enumerate([(1, 28, 7), (3, 12, 4), (2, 28, 14)]):
        x = torch.randn(b, 1, size, size, generator=_generator(seed))
        try:
            value, problem = _value(lambda: candidate(patchify(x, p), p, size))
        except Exception as error:
            value, problem = None, f"it raised {type(error).__name__}: {error}."
        hint = "reshape to (b, rows, cols, 1, p, p), permute the axes back, reshape to (b, 1, size, size)"
        if problem or value is None:
            return _say(False, "unpatchify", hint, problem or "the function returned None.")
        if tuple(value.shape) != tuple(x.shape) or not torch.equal(value, x):
            return _say(False, "unpatchify", hint, "unpatchify(patchify(x)) is not x for one of the test images.")
    return _say(True, "unpatchify", "")


# ------------------------------------------------------------------------------------------ notebook 07
def _unit_rows(rng, rows, dimension):
    vectors = rng.standard_normal((rows, dimension))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _zero_shot_reference(text_vectors, description_vectors, description_classes, num_classes):
    centres = np.stack([description_vectors[np.asarray(description_classes) == c].mean(0) for c in range(num_classes)])
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    return (text_vectors @ centres.T).argmax(1)


def zero_shot_several_descriptions(candidate):
    """candidate(text_vectors, description_vectors, description_classes, num_classes) = a class per text."""
    inputs = []
    for seed, (texts, classes, per_class, dimension) in enumerate([(50, 3, (1, 4, 2), 8), (80, 4, (3, 1, 5, 2), 16)]):
        rng = np.random.default_rng(seed)
        description_classes = np.repeat(np.arange(classes), per_class)
        # descriptions of a class point to different sides of a common direction, unequally spread
        centres = _unit_rows(rng, classes, dimension)
        spread = rng.uniform(0.3, 2.0, classes)[description_classes][:, None]
        descriptions = centres[description_classes] + spread * _unit_rows(rng, len(description_classes), dimension)
        descriptions /= np.linalg.norm(descriptions, axis=1, keepdims=True)
        inputs.append((_unit_rows(rng, texts, dimension), descriptions, description_classes, classes))
    return _compare(
        "zero-shot with several descriptions",
        candidate,
        _zero_shot_reference,
        inputs,
        "average each class's description vectors, then compare directions (cosine), one class per text",
        atol=0,
        rtol=0,
    )


def _in_batch_reference(query_vectors, document_vectors, scale=20.0):
    similarity = F.normalize(query_vectors, dim=-1) @ F.normalize(document_vectors, dim=-1).T
    return F.cross_entropy(scale * similarity, torch.arange(len(query_vectors)))


def in_batch_negatives_loss(candidate):
    """candidate(query_vectors, document_vectors, scale=20.0) = MultipleNegativesRankingLoss on raw vectors."""
    inputs = []
    for seed, (batch, dimension, scale) in enumerate([(4, 8, 20.0), (7, 16, 20.0), (5, 6, 5.0)]):
        generator = _generator(seed)
        queries = 3 * torch.randn(batch, dimension, generator=generator, dtype=torch.float64)
        inputs.append(
            (queries, queries + 2 * torch.randn(batch, dimension, generator=generator, dtype=torch.float64), scale)
        )
    return _compare(
        "in-batch negatives loss",
        candidate,
        lambda q, d, s: _in_batch_reference(q, d, s).item(),
        inputs,
        "cosine similarities of every query with every document in the batch, times the scale; "
        "each query's own document is the right class",
        atol=1e-8,
        rtol=1e-6,
    )


# ------------------------------------------------------------------------------------------ notebook 08
def _ndcg_reference(relevant, ranking, k):
    relevant = np.asarray(relevant, dtype=float)
    discount = 1 / np.log2(np.arange(2, k + 2))
    gained = relevant[np.asarray(ranking)[:k]]
    best = np.sort(relevant)[::-1][:k]
    ideal = (best * discount[: len(best)]).sum()
    return 0.0 if ideal == 0 else float((gained * discount[: len(gained)]).sum() / ideal)


def ndcg_at_k(candidate):
    """candidate(relevant, ranking, k) = nDCG@k of one ranking with 0/1 relevance."""
    inputs = []
    for seed, (items, share, k) in enumerate([(30, 0.3, 10), (50, 0.05, 10), (20, 0.5, 5), (40, 0.1, 10)]):
        rng = np.random.default_rng(seed)
        relevant = (rng.random(items) < share).astype(int)
        relevant[rng.integers(items)] = 1  # at least one relevant item
        inputs.append((relevant, rng.permutation(items)[:k], k))
    return _compare(
        "nDCG@k",
        candidate,
        _ndcg_reference,
        inputs,
        "rank r counts 1 / log2(r + 1) with r from 1; the ideal ordering puts every relevant item first, "
        "but there may be fewer than k of them",
        atol=1e-12,
        rtol=1e-9,
    )


# ------------------------------------------------------------------------------------------ experiments
# An experiment exercise changes one thing in the notebook, asks for a prediction first, and checks the learner's
# *measured* numbers, which `measure()` returns: their direction and rough size, with bounds wide enough for every
# default-profile run of the course (seeds, CPU kinds) and narrow enough to catch the usual slips. A verdict never
# prints the expected value. (The smoke profile's models are too short-trained for some experiments to show much.)
def _experiment(name, prediction, measure, judge, hint):
    """judge(measured) -> [(broken, message)]: the first broken rule is the verdict."""
    try:
        measured, problem = _value(measure)
        rules = None if problem else judge(measured)
    except Exception as error:  # a crash in the learner's code is a verdict, not a crash of the notebook
        return _say(False, name, hint, f"it raised {type(error).__name__}: {error}.")
    if problem:
        return _say(False, name, hint, problem)
    print(f"You predicted: {prediction}" if prediction else "(No prediction written: next time write it first.)")
    for broken, message in rules:
        if broken:
            return _say(False, name, hint, message)
    return _say(True, name, hint)


def _fractions(*values):
    return not all(0 <= v <= 1 for v in values)


def word_order_experiment(measure, prediction=None):
    """Notebook 02. measure() = (with_positions, without_positions): cosine similarity of MiniLM's mean-pooled
    vectors for a sentence and the same words reordered, with the position table as trained and set to zero."""

    def judge(measured):
        w, wo = map(float, measured)
        return [
            (abs(w) > 1 + 1e-6 or abs(wo) > 1 + 1e-6, "a cosine similarity lies between -1 and 1."),
            (abs(w - wo) < 1e-6, "both numbers are the same: did the second model really lose its positions?"),
            (wo < w, "the model without positions should not tell the two orders apart better than the one with."),
            (
                wo < 0.9999,
                "without positions the model still tells the two orders apart: compare the same words, "
                "reordered, and zero the position table (not the word embeddings).",
            ),
            (
                w > 0.9999,
                "with positions the two orders should give different vectors: is the first model the "
                "pretrained one, unchanged?",
            ),
        ]

    hint = "section 3: a layer without positions is permutation-equivariant; what does mean pooling do then?"
    return _experiment("word order, with and without positions", prediction, measure, judge, hint)


def right_neighbour_experiment(measure, left_loss, unigram_loss, prediction=None):
    """Notebook 03. measure() = loss at [MASK] of a right-bigram count model (the token just after the blank) on
    the fixed validation masks; left_loss and unigram_loss: the notebook's yardsticks on the same masks."""
    gain = float(unigram_loss) - float(left_loss)  # what one left neighbour is worth

    def judge(measured):
        r = float(measured)
        return [
            (
                abs(r - left_loss) < 1e-9,
                "exactly the left-bigram's loss: did the count model read the right neighbour?",
            ),
            (
                r >= unigram_loss,
                "no better than the unigram: the model counted one side and was asked about the "
                "other. Reverse the masks (input_ids, labels and kind) as well as the training blocks.",
            ),
            (r < left_loss - 0.5 * gain, "far better than the left neighbour: does the model see the answer itself?"),
            (
                abs(r - left_loss) > 0.2 * gain,
                "the gap between the two sides is larger than this setup can "
                "produce: check that both models are scored on the same blanks, reversed.",
            ),
        ]

    hint = "a model that reads every block backwards sees, as its left neighbour, the original right neighbour"
    return _experiment("the right neighbour", prediction, measure, judge, hint)


def random_encoder_experiment(measure, classes, prediction=None):
    """Notebook 04. measure() = (random_accuracy, pretrained_accuracy): validation accuracy of the linear probe on
    mean-pooled vectors of MiniLM with random weights (same architecture, from_config) and of the same probe on the
    pretrained MiniLM, both trained on the same rows."""

    def judge(measured):
        rnd, pre = map(float, measured)
        return [
            (_fractions(rnd, pre), "accuracies are fractions between 0 and 1."),
            (
                min(rnd, pre) > 0.97,
                "near 1: that looks like accuracy on the training rows; score the validation split.",
            ),
            (
                abs(rnd - pre) < 1e-9,
                "the same accuracy twice: did the second encoder get random weights "
                "(from_config, not from_pretrained)?",
            ),
            (
                rnd > pre - 0.15,
                "the random encoder comes too close to the pretrained one: is it really random, "
                "and are both probes trained on the same rows?",
            ),
            (
                rnd < 1 / classes + 0.05,
                "the random encoder should still beat guessing: its word vectors are random "
                "but differ from word to word. Is its tokenizer the pretrained one's?",
            ),
        ]

    hint = "AutoModel.from_config(encoder.config) builds the same architecture with fresh random weights"
    return _experiment("a probe on random weights", prediction, measure, judge, hint)


def patch_shuffle_experiment(measure, accuracy, prediction=None):
    """Notebook 05. measure() = test accuracy of the supervised source ViT when the patches of every test image
    are moved by one fixed permutation (the position embeddings stay with the slots); accuracy: on the images."""
    base = float(accuracy)

    def judge(measured):
        shuffled = float(measured)
        return [
            (_fractions(shuffled), "an accuracy is a fraction between 0 and 1."),
            (
                abs(shuffled - base) < 1e-9,
                "no change at all: did the permutation move any patch (not the "
                "identity), and did you score the shuffled images?",
            ),
            (shuffled > base, "shuffled images scored better than the originals: are the numbers swapped?"),
            (
                shuffled > base - 0.15,
                "a small change: move whole 7 x 7 patches to other slots, the same "
                "permutation for every image, and score the source model of section 2 (default profile).",
            ),
        ]

    hint = "cut each image into its 16 patches (as patchify does), reorder them with one torch.randperm(16)"
    return _experiment("shuffled patches", prediction, measure, judge, hint)


def batch_memory_experiment(measure, prediction=None):
    """Notebook 06. measure() = (small, large): two memory accounts (dicts from memory.in_fresh_process) of the
    same way of training, the second with twice the rows per batch."""

    def judge(measured):
        small, large = measured
        ratio = {key: large[key] / small[key] for key in ("activations_mb", "gradients_mb", "optimizer_mb")}
        return [
            (
                small["way"] != large["way"] or small["precision"] != large["precision"],
                "compare the same way of training in the same precision; change only the rows.",
            ),
            (
                large["rows"] != 2 * small["rows"] or large["length"] != small["length"],
                "the second account should have twice the rows of the first, and the same length.",
            ),
            (
                not 1.8 <= ratio["activations_mb"] <= 2.2,
                "the saved activations did not follow the batch: are both accounts exact (column `exact`)?",
            ),
            (
                abs(ratio["gradients_mb"] - 1) > 0.01 or abs(ratio["optimizer_mb"] - 1) > 0.01,
                "the gradients or the optimizer state changed with the batch: same model, same trainable weights?",
            ),
        ]

    hint = "memory.in_fresh_process(way, rows=...) measures one configuration in a new process"
    return _experiment("twice the batch", prediction, measure, judge, hint)


def document_length_experiment(measure, mrr, prediction=None):
    """Notebook 07. measure() = MRR of MiniLM search when the documents are encoded from their first 16 tokens
    (the queries as before); mrr: the notebook's, with search_length."""
    full = float(mrr)

    def judge(measured):
        short = float(measured)
        return [
            (not 0 < short <= 1, "an MRR lies between 0 and 1."),
            (abs(short - full) < 1e-9, "the same MRR: were the documents encoded again, shorter?"),
            (short > full, "shorter documents found their queries better: are the numbers swapped?"),
            (
                short > full - 0.03,
                "hardly a change: encode only the documents short (the queries as before), at 16 tokens.",
            ),
        ]

    hint = "encode(minilm, documents, 16), then evaluate.top_k and evaluate.retrieval_scores"
    return _experiment("shorter documents", prediction, measure, judge, hint)


def day_size_experiment(measure, detection_rate_before, prediction=None):
    """Notebook 08. measure() = (detection_rate, false_alarm_rate) of the drift monitor with a quarter of the
    paragraphs per day, its level recomputed from calm days of that size, each on 1,000 fresh days."""
    before = float(detection_rate_before)

    def judge(measured):
        detection, false_alarm = map(float, measured)
        return [
            (_fractions(detection, false_alarm), "rates are fractions between 0 and 1."),
            (
                abs(detection - before) < 1e-9,
                "the same detection rate: did the days really get smaller, the story days too?",
            ),
            (
                false_alarm > 0.03,
                "the monitor rings too often on calm days: at a new day size, recompute the alarm "
                "level from calm days of that size.",
            ),
            (detection > before, "smaller days detected the story more often: are the numbers swapped?"),
            (
                detection > before - 0.1,
                "hardly a change: is the story still a quarter of each smaller day, and the level recomputed?",
            ),
        ]

    hint = "set per_day, then recompute calm_values, level, and both rates on 1,000 fresh days each"
    return _experiment("smaller days", prediction, measure, judge, hint)
