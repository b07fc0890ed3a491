"""tlcourse.tools.text: the text pieces notebooks 04-08 share: label budgets, tokenized datasets, frozen sentence
embeddings (and a cache of them on disk), the linear probe, and notebook 04's LP-FT run with the course loop (`fit`).

The classifier itself (MeanPoolClassifier), the probe-to-head copy and mean pooling are written in notebook 04's
cells and exported to tlcourse.lessons.bert_text_classification: the recipe and these loops share them.
"""

import os

import numpy as np
import torch

from tlcourse.lessons.bert_text_classification import MeanPoolClassifier, mean_pool, start_head_from_probe

OWN_BERT = "own-bert-mlm"  # the cache name of the BERT pretrained in notebook 03 (per profile; tools.mlm builds it)


def tokenize(dataset, tokenizer, max_length=128, keep=()):
    """input_ids (+ attention_mask, special_tokens_mask) per text, truncated; other columns dropped but `keep`."""

    def encode(batch):
        return tokenizer(batch["text"], truncation=True, max_length=max_length, return_special_tokens_mask=True)

    drop = [c for c in dataset.column_names if c not in keep]
    return dataset.map(encode, batched=True, remove_columns=drop)


def label_budget(labels, per_class, seed=0):
    """Indices of `per_class` examples of each label (all of them for None), sorted.

    The picks are nested: the 8 per class are the first 8 of the 32, so budgets differ only in size."""
    labels, rng = np.asarray(labels), np.random.default_rng(seed)
    picked = [rng.permutation(np.flatnonzero(labels == label))[:per_class] for label in np.unique(labels)]
    return np.sort(np.concatenate(picked))


def embed(encoder, tokenizer, texts, max_length=32, batch_size=64):
    """Frozen sentence embeddings (numpy, one row per text) from a transformers encoder, mean-pooled."""
    encoder.eval()
    rows = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                list(texts[start : start + batch_size]),
                truncation=True,
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            ).to(encoder.device)
            hidden = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
            rows.append(mean_pool(hidden, batch["attention_mask"]).float().cpu().numpy())
    return np.concatenate(rows)


def cached_embeddings(checkpoint, texts, max_length, compute, refresh=False):
    """Sentence embeddings of `texts` (in order), read at most `max_length` tokens by the model in folder
    `checkpoint`, kept in <build>/embeddings/: notebooks 07 and 08 and their solutions embed the same paragraphs with
    the same model, and only the first to run pays. The key is the folder, the size and time of its weights files,
    max_length and the sha256 of the texts. compute(texts) makes them on a miss, or every time with refresh=True
    (notebook 07, which teaches and times the embedding, computes it live and leaves it for the others).
    Returns a float32 array, one row per text."""
    import hashlib
    from pathlib import Path

    from tlcourse.course.config import build_dir

    texts, folder = [str(t) for t in texts], Path(checkpoint).resolve()
    weights = sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin"))
    key = hashlib.sha256()
    for part in [str(folder), *(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in weights)]:
        key.update(part.encode() + b"\0")
    key.update(f"max_length={max_length}\0".encode())
    for t in texts:
        key.update(t.encode() + b"\0")
    path = build_dir() / "embeddings" / f"{key.hexdigest()[:40]}.npy"
    if path.exists() and not refresh:
        vectors = np.load(path)
        if len(vectors) == len(texts):
            return vectors
    vectors = np.asarray(compute(texts), dtype=np.float32)
    if len(vectors) != len(texts):
        raise ValueError(f"compute returned {len(vectors)} rows for {len(texts)} texts")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npy")  # a reader never sees half a file
    np.save(partial, vectors)
    partial.replace(path)
    return vectors


def classification_tokens(dataset, tokenizer, max_length=32):
    """input_ids, attention_mask and label per text (truncated, not padded: the collator pads each batch)."""

    def encode(batch):
        return tokenizer(batch["text"], truncation=True, max_length=max_length)

    return dataset.map(encode, batched=True, remove_columns=[c for c in dataset.column_names if c != "label"])


def linear_probe(features, labels, C=10.0):
    """Logistic regression on frozen features: the linear probe."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=3000).fit(features, labels)


def classifier_from_probe(encoder, probe, label_names):
    """LP-FT's starting point: `encoder` with mean pooling and a head that equals the fitted `probe`."""
    model = MeanPoolClassifier.from_encoder(encoder, label_names)
    start_head_from_probe(model.classifier, probe)
    return model


def fine_tune(
    encoder,
    tokenizer,
    train,
    label_names,
    probe=None,
    *,
    max_length=32,
    epochs=4,
    batch_size=16,
    lr_encoder=1e-4,
    lr_head=1e-3,
    seed=0,
    **fit_kwargs,
):
    """Notebook 04's recipe, LP-FT, run with the course loop: fit a linear probe on frozen mean-pooled features,
    start the head from it, then fine-tune everything, the head at its own (by default 10x higher) learning rate.
    `train` has text and label columns (label i names label_names[i]). Returns (MeanPoolClassifier, History)."""
    from transformers import DataCollatorWithPadding

    from tlcourse.tools.train import fit

    if probe is None:
        probe = linear_probe(embed(encoder, tokenizer, train["text"], max_length), train["label"])
    model = classifier_from_probe(encoder, probe, label_names)
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(
        [
            {"params": model.encoder.parameters(), "lr": lr_encoder},
            {"params": model.classifier.parameters(), "lr": lr_head},
        ],
        weight_decay=0.01,
    )
    history = fit(
        model,
        classification_tokens(train, tokenizer, max_length),
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        collate_fn=DataCollatorWithPadding(tokenizer),
        seed=seed,
        **fit_kwargs,
    )
    return model, history


def small_encoder_scores(encoder, tokenizer, train, evaluations, label_names, *, lr, epochs, max_length=32, seed=0):
    """Notebook 04's small-BERT arm in one call: LP-FT with `lr` for the encoder and the head (fine_tune), then
    accuracy on each dataset of `evaluations` ({name: dataset with text and label}). Returns {name: accuracy}."""
    from transformers import DataCollatorWithPadding

    from tlcourse.tools import evaluate

    model, _ = fine_tune(
        encoder,
        tokenizer,
        train,
        label_names,
        max_length=max_length,
        epochs=epochs,
        lr_encoder=lr,
        lr_head=lr,
        seed=seed,
        plot=False,
        progress=False,
    )
    collate = DataCollatorWithPadding(tokenizer)
    accuracies = {}
    for name, rows in evaluations.items():
        logits, labels = evaluate.predict(model, classification_tokens(rows, tokenizer, max_length), collate)
        accuracies[name] = float((logits.argmax(-1) == labels).mean())
    return accuracies
