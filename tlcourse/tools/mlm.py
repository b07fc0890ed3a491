"""tlcourse.tools.mlm: the measuring and the whole recipe of notebook 03's pretraining, for notebook 04 and the benchmarks.

The pieces notebook 03 teaches (pretraining_sizes, train_tokenizer, pack, mask_tokens, MaskedOnlyMLM) are written in
its cells and exported to tlcourse.lessons.mlm_pretraining; this module builds on them.
fixed_masks / held_out: one masking of held-out blocks, scored at [MASK], random and unchanged positions apart.
CountModels: the yardsticks a language model must beat, unigram and left-bigram counts.
"""

import math

import numpy as np
import torch
from tokenizers import BertWordPieceTokenizer

from tlcourse.lessons.mlm_pretraining import (
    MaskedOnlyMLM,
    pack,
    pretraining_sizes,
    train_tokenizer,
    vocabulary_sha256,
    wrap_wordpiece,
)


def fixed_masks(blocks, mask_id, vocab_size, special_ids, probability=0.15, seed=123):
    """One BERT masking (80% [MASK], 10% random, 10% unchanged) of `blocks`, fixed by `seed`, so every
    measurement sees the same blanks. Returns dict of int64 arrays: input_ids, labels (-100 = not scored),
    kind (0 not scored, 1 [MASK], 2 random, 3 unchanged)."""
    rng = np.random.default_rng(seed)
    blocks = np.asarray(blocks)
    candidate = ~np.isin(blocks, list(special_ids))
    picked = (rng.random(blocks.shape) < probability) & candidate
    draw = rng.random(blocks.shape)
    kind = np.where(picked, np.where(draw < 0.8, 1, np.where(draw < 0.9, 2, 3)), 0)
    input_ids = blocks.copy()
    input_ids[kind == 1] = mask_id
    input_ids[kind == 2] = rng.integers(len(special_ids), vocab_size, size=int((kind == 2).sum()))
    labels = np.where(picked, blocks, -100)
    return {"input_ids": input_ids, "labels": labels, "kind": kind}


@torch.no_grad()
def held_out(model, masked, frequent_ids=(), batch_size=64):
    """Loss (nats) and accuracy at the [MASK] positions of `masked` (from fixed_masks), and at all scored ones;
    rare_accuracy: accuracy at [MASK] positions whose answer is not in `frequent_ids`.
    `model` is a *ForMaskedLM (wrapped in MaskedOnlyMLM here if it is not already)."""
    wrapped = model if isinstance(model, MaskedOnlyMLM) else MaskedOnlyMLM(model)
    was_training = wrapped.training
    wrapped.eval()
    losses, hits, kinds, targets = [], [], [], []
    for start in range(0, len(masked["input_ids"]), batch_size):
        ids = torch.as_tensor(masked["input_ids"][start : start + batch_size])
        labels = torch.as_tensor(masked["labels"][start : start + batch_size])
        out = wrapped(input_ids=ids, labels=labels)
        losses.append(torch.nn.functional.cross_entropy(out["logits"].float(), out["targets"], reduction="none"))
        hits.append(out["logits"].argmax(-1) == out["targets"])
        kinds.append(torch.as_tensor(masked["kind"][start : start + batch_size])[labels != -100])
        targets.append(out["targets"])
    wrapped.train(was_training)
    loss, hit, kind, target = (torch.cat(x).numpy() for x in (losses, hits, kinds, targets))
    return mask_scores(loss, hit, kind, target, frequent_ids)


def mask_scores(loss, hit, kind, target, frequent_ids=()):
    at_mask = kind == 1
    rare = at_mask & ~np.isin(target, list(frequent_ids))
    return {
        "mask_loss": float(loss[at_mask].mean()),
        "mask_accuracy": float(hit[at_mask].mean()),
        "mask_perplexity": math.exp(loss[at_mask].mean()),
        "loss": float(loss.mean()),
        "perplexity": math.exp(loss.mean()),
        "accuracy": float(hit.mean()),
        "random_accuracy": float(hit[kind == 2].mean()),
        "unchanged_accuracy": float(hit[kind == 3].mean()),
        "rare_accuracy": float(hit[rare].mean()),
        "n_mask": int(at_mask.sum()),
    }


class CountModels:
    """Unigram and left-bigram token counts of a training stream: the yardsticks for MLM.

    unigram: p(w) = (c(w) + 1) / (N + V), ignoring context. left-bigram: p(w | v), v the token the model sees
    just left of the blank, Witten-Bell interpolated with the unigram (no knob to tune):
    p = l c(v, w) / c(v) + (1 - l) p(w), l = c(v) / (c(v) + distinct followers of v); unseen v gives p(w)."""

    def __init__(self, blocks, vocab_size, special_ids):
        from scipy.sparse import csr_matrix

        blocks = np.asarray(blocks)
        target = ~np.isin(blocks, list(special_ids))
        counts = np.bincount(blocks[target], minlength=vocab_size).astype(np.float64)
        self.unigram = (counts + 1) / (counts.sum() + vocab_size)
        left, right = blocks[:, :-1], blocks[:, 1:]
        keep = ~np.isin(right, list(special_ids))
        pairs = csr_matrix((np.ones(int(keep.sum())), (left[keep], right[keep])), shape=(vocab_size, vocab_size))
        pairs.sum_duplicates()
        self.pairs = pairs
        self.context_count = np.asarray(pairs.sum(1)).ravel()
        self.followers = np.diff(pairs.indptr)
        self.frequent_order = np.argsort(-counts)

    def bigram_probabilities(self, left_ids):
        """p(. | v) for each v in left_ids: a dense (len(left_ids), V) array."""
        left_ids = np.asarray(left_ids)
        c, t = self.context_count[left_ids], self.followers[left_ids]
        weight = np.where(c > 0, c / np.maximum(c + t, 1), 0.0)[:, None]
        rows = self.pairs[left_ids].toarray() / np.maximum(c, 1)[:, None]
        return weight * rows + (1 - weight) * self.unigram[None, :]

    def evaluate(self, masked, chunk=2000):
        """Per scored position: (loss_unigram, hit_unigram, loss_bigram, hit_bigram, kind, target) arrays."""
        rows, cols = np.nonzero(masked["labels"] != -100)
        target = masked["labels"][rows, cols]
        left = np.where(cols > 0, masked["input_ids"][rows, np.maximum(cols - 1, 0)], 0)
        uni_loss = -np.log(self.unigram[target])
        uni_hit = target == self.unigram.argmax()
        bi_loss, bi_hit = np.empty(len(target)), np.empty(len(target), dtype=bool)
        for s in range(0, len(target), chunk):
            p = self.bigram_probabilities(left[s : s + chunk])
            bi_loss[s : s + chunk] = -np.log(p[np.arange(len(p)), target[s : s + chunk]])
            bi_hit[s : s + chunk] = p.argmax(1) == target[s : s + chunk]
        return uni_loss, uni_hit, bi_loss, bi_hit, masked["kind"][rows, cols], target


# ------------------------------------------------------------------------------ notebook 03's recipe
# The course's vocabularies, shipped in tlcourse/vocab/ (sha256 in tlcourse/manifest.json), one per
# (corpus_size, vocab_size) the profiles use. `tokenizers`' WordPiece trainer breaks ties in hash-map order, so a
# vocabulary trained afresh differs from process to process (huggingface/tokenizers#1794); these files make the
# tokens, blocks, masks and yardsticks of notebook 03 the same on every machine. Made by
# `python -m tlcourse vocab` (maintainers) from train_tokenizer on wiki_corpus's train split.
VOCABULARIES = {(None, 8000): "wiki_corpus-train-8000.txt", (300, 2000): "wiki_corpus-train300-2000.txt"}


def vocabulary_path(sizes):
    """Where the shipped vocabulary for these sizes lives (it may not exist yet), or None if none is made for them."""
    from pathlib import Path

    name = VOCABULARIES.get((sizes["corpus_size"], sizes["vocab_size"]))
    return None if name is None else Path(__file__).parents[1] / "vocab" / name


def course_tokenizer(sizes):
    """The course's shipped vocabulary for `sizes` as a tokenizer (its sha256 checked against the manifest), or None
    when these sizes have none (then train your own: it will differ a little from run to run)."""
    from tlcourse.course import data

    path = vocabulary_path(sizes)
    if path is None:
        return None
    expected = data.read_manifest().get("vocabularies", {}).get(path.name)
    if not path.exists() or data.sha256(path) != expected:
        raise data.DataIntegrityError(
            f"{path} is missing or does not match its sha256 in tlcourse/manifest.json ({expected}); "
            "reinstall the course (pip install -e .), or maintainers: python -m tlcourse vocab"
        )
    return wrap_wordpiece(BertWordPieceTokenizer(str(path), lowercase=True), sizes["block_size"])


def write_vocabulary(sizes):
    """Maintainers: train the vocabulary for `sizes` once, ship it and record its sha256 in the manifest."""
    import json

    from tlcourse.course import data

    path = vocabulary_path(sizes)
    corpus = data.load("wiki_corpus")["train"]
    train = corpus if sizes["corpus_size"] is None else corpus.select(range(sizes["corpus_size"]))
    tokenizer = train_tokenizer(train["text"], sizes["vocab_size"], sizes["block_size"])
    tokens = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(token + "\n" for token, _ in tokens), encoding="utf-8")
    assert data.sha256(path) == vocabulary_sha256(tokenizer)
    manifest = data.read_manifest()
    manifest.setdefault("vocabularies", {})[path.name] = data.sha256(path)
    data.manifest_path().write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path


def corpus_blocks(sizes, tokenizer=None):
    """wiki_corpus -> (tokenizer, {split: packed blocks}, {split: paragraph count}).

    The tokenizer is the one given, else the course's shipped vocabulary for `sizes`, else one trained on the
    train split (a fresh one differs from run to run). With sizes["whole_word"], blocks["train_offsets"] holds
    the packed offset mappings whole-word masking needs."""
    from tlcourse.course import data

    corpus = data.load("wiki_corpus")
    train = corpus["train"] if sizes["corpus_size"] is None else corpus["train"].select(range(sizes["corpus_size"]))
    tokenizer = tokenizer or course_tokenizer(sizes)
    if tokenizer is None:
        print(
            f"no shipped vocabulary for corpus_size={sizes['corpus_size']}, vocab_size={sizes['vocab_size']}: "
            "training one (it differs a little from run to run)"
        )
        tokenizer = train_tokenizer(train["text"], sizes["vocab_size"], sizes["block_size"])
    splits = {"train": train, "validation": corpus["validation"], "test": corpus["test"]}
    blocks = {
        name: pack(tokenizer(list(rows["text"]), verbose=False)["input_ids"], sizes["block_size"])
        for name, rows in splits.items()
    }
    if sizes.get("whole_word"):
        offsets = tokenizer(list(train["text"]), verbose=False, return_offsets_mapping=True)["offset_mapping"]
        blocks["train_offsets"] = pack([np.asarray(o).reshape(-1, 2) for o in offsets], sizes["block_size"])
    return tokenizer, blocks, {name: len(rows) for name, rows in splits.items()}


def model_config(tokenizer, sizes):
    """RoFormer (BERT with rotary positions) or BERT (learned absolute positions), sized by `sizes`."""
    from transformers import BertConfig, RoFormerConfig

    common = dict(
        vocab_size=len(tokenizer),
        hidden_size=sizes["hidden"],
        num_hidden_layers=sizes["layers"],
        num_attention_heads=max(sizes["hidden"] // 64, 1),
        intermediate_size=4 * sizes["hidden"],
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
    )
    if sizes["arch"] == "roformer":
        return RoFormerConfig(embedding_size=sizes["hidden"], **common)
    if sizes["arch"] == "bert":
        return BertConfig(**common)
    raise ValueError(f"arch must be 'roformer' or 'bert', not {sizes['arch']!r}")


def new_model(config):
    from transformers import AutoModelForMaskedLM

    return AutoModelForMaskedLM.from_config(config)


def pretrain(save_to=None, sizes=None, seed=0, eval_fn=None, tokenizer=None, **fit_kwargs):
    """Notebook 03's recipe in one call: tokenizer, packed blocks, RoFormer, MLM with the head at masked positions,
    fresh masks every epoch (DataCollatorForLanguageModeling; whole words with sizes["whole_word"]), fit;
    save_pretrained when `save_to` is given.
    Returns (model, tokenizer, blocks, history, seconds)."""
    import time

    from transformers import DataCollatorForLanguageModeling

    from tlcourse.tools.train import fit

    sizes = sizes or pretraining_sizes()
    tokenizer, blocks, _ = corpus_blocks(sizes, tokenizer)
    torch.manual_seed(seed)
    model = new_model(model_config(tokenizer, sizes))
    whole_word = bool(sizes.get("whole_word"))
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, whole_word_mask=whole_word)
    rows = (
        [{"input_ids": b, "offset_mapping": o} for b, o in zip(blocks["train"], blocks["train_offsets"])]
        if whole_word
        else [{"input_ids": b} for b in blocks["train"]]
    )
    started = time.perf_counter()
    history = fit(
        MaskedOnlyMLM(model),
        rows,
        collate_fn=collator,
        epochs=sizes["epochs"],
        batch_size=sizes["batch_size"],
        lr=sizes["lr"],
        seed=seed,
        schedule=sizes.get("schedule", "linear"),
        mixed_precision=sizes.get("precision", "no"),
        eval_fn=eval_fn and (lambda wrapped: eval_fn(wrapped.mlm)),
        **{"plot": False, **fit_kwargs},
    )
    seconds = time.perf_counter() - started
    if save_to is not None:
        model.save_pretrained(save_to)
        tokenizer.save_pretrained(save_to)
    return model, tokenizer, blocks, history, seconds
