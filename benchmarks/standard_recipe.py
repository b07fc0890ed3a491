"""Notebook 04's standard recipe, trained to fit: its learning rate and length chosen on validation (issue 29).

The standard recipe is section 3's: AutoModelForSequenceClassification on MiniLM ([CLS] pooler, a new random head),
one learning rate for every weight, AdamW (weight decay 0.01) with 10% warm-up and linear decay, batch 16,
max_length 32, the notebook's 32 labelled paragraphs per class. The notebook runs it at 5e-5 for 4 epochs, where
it has not fitted its own training set; this grid asks what the recipe reaches when its rate and length are tuned
like the other methods'. Each run records validation accuracy (the choice), training accuracy and its last epoch's
training loss (did it fit?). The test split is not touched.

Run: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/standard_recipe.py   (about 25 minutes on 2 cores, resumable:
a configuration already in results/standard_recipe.jsonl is skipped)
"""

import argparse
import json
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

import tlcourse
from tlcourse.course import data, models
from tlcourse.tools import evaluate, text
from tlcourse.tools.train import fit

RESULTS = Path(__file__).parent / "results" / "standard_recipe.jsonl"
PER_CLASS, MAX_LENGTH = 32, 32


def run(lr, epochs, seed, topics, tokenizer, checkpoint):
    train = topics["train"].select(text.label_budget(topics["train"]["label"], PER_CLASS))
    train_tokens = text.classification_tokens(train, tokenizer, MAX_LENGTH)
    validation = text.classification_tokens(topics["validation"], tokenizer, MAX_LENGTH)
    collate = DataCollatorWithPadding(tokenizer)
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=11)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    history = fit(
        model,
        train_tokens,
        epochs=epochs,
        batch_size=16,
        optimizer=optimizer,
        warmup_ratio=0.1,
        collate_fn=collate,
        seed=seed,
        plot=False,
        progress=False,
    )
    scores = {}
    for split, rows in [("train", train_tokens), ("validation", validation)]:
        logits, labels = evaluate.predict(model, rows, collate)
        scores[f"{split}_accuracy"] = float((logits.argmax(-1) == labels).mean())
    return scores | {"last_train_loss": float(history.last["train_loss"])}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lrs", type=float, nargs="+", default=[2e-5, 5e-5, 1e-4, 2e-4, 5e-4])
    parser.add_argument("--epochs", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    tlcourse.setup(profile="default", seed=args.seed)
    topics = data.load("wiki_topics")
    checkpoint = models.resolve("minilm")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    done = [json.loads(line) for line in RESULTS.open()] if RESULTS.exists() else []
    for epochs in args.epochs:
        for lr in args.lrs:
            config = {"lr": lr, "epochs": epochs, "seed": args.seed, "per_class": PER_CLASS, "max_length": MAX_LENGTH}
            if any(all(row[k] == v for k, v in config.items()) for row in done):
                continue
            row = config | run(lr, epochs, args.seed, topics, tokenizer, checkpoint)
            print(row, flush=True)
            with RESULTS.open("a") as f:
                f.write(json.dumps(row) + "\n")
            done.append(row)
    table = {(r["lr"], r["epochs"]): r for r in done if r["seed"] == args.seed}
    print(f"{'lr':>8} {'epochs':>6} {'validation':>10} {'train':>6} {'last loss':>9}")
    for (lr, epochs), r in sorted(table.items()):
        print(
            f"{lr:8g} {epochs:6} {r['validation_accuracy']:10.3f} {r['train_accuracy']:6.3f} {r['last_train_loss']:9.3f}"
        )
    lr, epochs = max(table, key=lambda k: table[k]["validation_accuracy"])
    lrs, lengths = sorted({k[0] for k in table}), sorted({k[1] for k in table})
    interior = lrs[0] < lr < lrs[-1] and lengths[0] < epochs < lengths[-1]
    print(f"chosen on validation: lr {lr:g}, {epochs} epochs ({'inside' if interior else 'AT AN EDGE of'} the grid)")


if __name__ == "__main__":
    main()
