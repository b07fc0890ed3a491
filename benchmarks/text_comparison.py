"""Notebook 04's comparison at every label budget, over 3 label draws: the test scores the notebook does not have
the time to compute itself (it trains each method once, at 32 labels per class, and reads the rest from here).

Methods, each exactly as notebook 04 runs it (default profile, max_length 32):
- tfidf: TF-IDF + logistic regression, C (1 to 1000) and the longest n-gram (1 or 2) chosen on the validation
  split; ties go to the first setting in the grid (the smaller C, then single words). The whole grid is recorded.
- minilm_probe: logistic regression (C 10) on MiniLM's frozen mean-pooled embeddings.
- minilm_finetune: the recipe cell, `train_text_classifier` (mean pooling, LP-FT, lr 1e-4, head 1e-3), with the
  notebook's epochs per budget.
- scratch / own_pretrained / course_pretrained: notebook 03's small BERT (random weights; notebook 03's checkpoint
  from the course cache, built with its recipe if missing; the course's shipped `mlm-wiki-roformer`), LP-FT with
  the learning rate `small_bert_lr.py` chose on validation (head at the same rate), the notebook's epochs.
Seed s draws the labelled paragraphs (`text.label_budget(..., seed=s)`, the same rows for every method: paired)
and seeds the training; seed 0's rows are the notebook's. With every label ("all") the draw is the same for all
seeds, so the deterministic methods (tfidf, minilm_probe) run once; the fine-tunes do not run there (the default
profile does not either: about 2 minutes per MiniLM epoch on 2 cores). Test accuracy and macro-F1 per run,
written as they come; the test split is touched once per (method, budget, seed).

Run (resumable: a (method, per_class, seed) already in results/text_comparison.jsonl is skipped):
    flock /tmp/heavy.lock env HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2 .venv/bin/python benchmarks/text_comparison.py
    [--methods tfidf minilm_probe ...] [--budgets 8 32 128 all] [--seeds 0 1 2]
About 20 minutes on 2 cores (the TF-IDF grid with every label about 2 of them).
"""

import argparse
import hashlib
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).parent / "results" / "text_comparison.jsonl"
METHODS = ["tfidf", "minilm_probe", "minilm_finetune", "scratch", "own_pretrained", "course_pretrained"]
TFIDF_GRID = [(c, n) for c in (1.0, 10.0, 100.0, 1000.0) for n in (1, 2)]  # notebook 04's grid
EPOCHS_MINILM = {8: 8, 32: 4, 128: 2}  # notebook 04's epochs_minilm
EPOCHS_SMALL_BERT = {8: 20, 32: 10, 128: 4}  # notebook 04's epochs_small_bert (default profile)
MAX_LENGTH = 32
DETERMINISTIC = {"tfidf", "minilm_probe"}


def budget(value):
    return value if value == "all" else int(value)


def finished():
    rows = [json.loads(line) for line in RESULTS.open()] if RESULTS.exists() else []
    return {(r["method"], str(r["per_class"]), r["seed"]) for r in rows}


def append(row):
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a") as f:
        f.write(json.dumps(row) + "\n")
    print({k: v for k, v in row.items() if k != "validation_grid"}, flush=True)


def fit_tfidf(train, c, n):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, n))
    model = LogisticRegression(C=c, max_iter=5000)
    return vectorizer, model.fit(vectorizer.fit_transform(train["text"]), train["label"])


class Context:
    """What several runs share, loaded once when first needed."""

    def __init__(self):
        from tlcourse.course import data

        self.topics = data.load("wiki_topics")
        self.names = self.topics["train"].features["label"].names
        self.y_test = np.array(self.topics["test"]["label"])
        self.cache = {}

    def get(self, key, make):
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    def minilm(self):
        from transformers import AutoModel, AutoTokenizer

        from tlcourse.course import models

        path = models.resolve("minilm")
        return self.get("minilm", lambda: (path, AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path)))

    def minilm_features(self):
        from tlcourse.tools import text

        def make():
            _, tokenizer, encoder = self.minilm()
            return (
                text.embed(encoder, tokenizer, self.topics["train"]["text"], MAX_LENGTH),
                text.embed(encoder, tokenizer, self.topics["test"]["text"], MAX_LENGTH),
            )

        return self.get("minilm_features", make)

    def own_path(self):
        from tlcourse.course import models
        from tlcourse.tools import mlm, text

        def make():
            try:
                return models.resolve(text.OWN_BERT)
            except models.ModelNotAvailable:
                print("building notebook 03's checkpoint with tlcourse.tools.mlm.pretrain ...", flush=True)
                mlm.pretrain(models.save_dir(text.OWN_BERT))
                return models.resolve(text.OWN_BERT)

        return self.get("own_path", make)


def run_tfidf(ctx, per_class, rows, seed):
    train, validation = ctx.topics["train"].select(rows), ctx.topics["validation"]
    grid = []
    for c, n in TFIDF_GRID:
        vectorizer, model = fit_tfidf(train, c, n)
        accuracy = float(model.score(vectorizer.transform(validation["text"]), validation["label"]))
        grid.append({"C": c, "ngrams": n, "validation_accuracy": accuracy})
    best = max(grid, key=lambda g: g["validation_accuracy"])  # the first of equals: the smaller C, single words
    vectorizer, model = fit_tfidf(train, best["C"], best["ngrams"])
    predicted = model.predict(vectorizer.transform(ctx.topics["test"]["text"]))
    return predicted, {"C": best["C"], "ngrams": best["ngrams"], "validation_grid": grid}


def run_minilm_probe(ctx, per_class, rows, seed):
    from tlcourse.tools import text

    train_features, test_features = ctx.minilm_features()
    y_train = np.array(ctx.topics["train"]["label"])
    return text.linear_probe(train_features[rows], y_train[rows]).predict(test_features), {}


def run_minilm_finetune(ctx, per_class, rows, seed):
    from transformers import DataCollatorWithPadding

    from tlcourse.lessons.bert_text_classification import train_text_classifier
    from tlcourse.tools import evaluate, text

    path, tokenizer, _ = ctx.minilm()
    epochs = EPOCHS_MINILM[per_class]
    train = ctx.topics["train"].select(rows)
    with warnings.catch_warnings():  # the share cut at max_length 32 is known (notebook 04, section 5)
        warnings.filterwarnings("ignore", message=".*texts are cut at max_length")
        classifier = train_text_classifier(
            train["text"],
            [ctx.names[i] for i in train["label"]],
            path,
            max_length=MAX_LENGTH,
            epochs=epochs,
            seed=seed,
            progress=False,
        )
    test = ctx.get("minilm_test", lambda: text.classification_tokens(ctx.topics["test"], tokenizer, MAX_LENGTH))
    logits, _ = evaluate.predict(classifier.model, test, DataCollatorWithPadding(tokenizer))
    order = [classifier.model.config.label2id[name] for name in ctx.names]  # the recipe sorts label names
    return logits[:, order].argmax(-1), {"epochs": epochs, "lr": 1e-4, "head_lr": 1e-3}


def run_small_bert(method, ctx, per_class, rows, seed):
    from transformers import AutoConfig, AutoModel, AutoModelForMaskedLM, AutoTokenizer, DataCollatorWithPadding

    from tlcourse.course import models
    from tlcourse.tools import evaluate, text

    course_path = models.course_checkpoint("mlm-wiki-roformer")
    path = ctx.own_path() if method == "own_pretrained" else course_path
    tokenizer = AutoTokenizer.from_pretrained(path)
    chosen = json.loads((RESULTS.parent / "small_bert_lr.json").read_text())["chosen"]
    lr, epochs = chosen[method][str(per_class)], EPOCHS_SMALL_BERT[per_class]
    torch.manual_seed(seed)  # for scratch the seed also draws the random weights
    if method == "scratch":  # the architecture of notebook 03's default profile: the course checkpoint's
        encoder = AutoModel.from_config(AutoConfig.from_pretrained(course_path))
    else:
        encoder = AutoModelForMaskedLM.from_pretrained(path).base_model  # the MLM head is dropped
    model, _ = text.fine_tune(
        encoder,
        tokenizer,
        ctx.topics["train"].select(rows),
        ctx.names,
        max_length=MAX_LENGTH,
        epochs=epochs,
        lr_encoder=lr,
        lr_head=lr,
        seed=seed,
        plot=False,
        progress=False,
    )
    test = text.classification_tokens(ctx.topics["test"], tokenizer, MAX_LENGTH)
    logits, _ = evaluate.predict(model, test, DataCollatorWithPadding(tokenizer))
    extra = {"lr": lr, "epochs": epochs}
    if method == "own_pretrained":  # which of notebook 03's checkpoints: its weights' sha256
        weights = Path(path) / "model.safetensors"
        extra["checkpoint_sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    return logits.argmax(-1), extra


RUNS = {"tfidf": run_tfidf, "minilm_probe": run_minilm_probe, "minilm_finetune": run_minilm_finetune}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    parser.add_argument("--budgets", nargs="+", type=budget, default=[8, 32, 128, "all"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()

    import tlcourse
    from tlcourse.tools import evaluate, text

    tlcourse.setup(profile="default", seed=0)
    machine = {"cpu_capability": torch.backends.cpu.get_cpu_capability(), "torch": torch.__version__}
    ctx, done = Context(), finished()
    for method in args.methods:
        for per_class in args.budgets:
            if per_class == "all" and method not in DETERMINISTIC:
                continue  # not run in the default profile (see the docstring)
            for seed in args.seeds if per_class != "all" else args.seeds[:1]:
                if (method, str(per_class), seed) in done:
                    continue
                labels = ctx.topics["train"]["label"]
                rows = text.label_budget(labels, None if per_class == "all" else per_class, seed=seed)
                started = time.perf_counter()
                if method in RUNS:
                    predicted, extra = RUNS[method](ctx, per_class, rows, seed)
                else:
                    predicted, extra = run_small_bert(method, ctx, per_class, rows, seed)
                append(
                    {"method": method, "per_class": per_class, "seed": seed}
                    | evaluate.scores(ctx.y_test, predicted)
                    | {"seconds": time.perf_counter() - started}
                    | extra
                    | machine
                )
                done.add((method, str(per_class), seed))


if __name__ == "__main__":
    main()
