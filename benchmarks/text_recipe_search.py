"""The fine-tuning recipe search behind notebook 04: MiniLM on wiki_topics with 8 and 32 labels per class,
scored on the validation split (the test split stays untouched for the notebook's comparison).
Accuracy only: how long each recipe takes is measured where it runs alone, in the notebook.

Run: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/text_recipe_search.py   (about 8 minutes on 2 CPU cores)
Writes benchmarks/results/text_recipe_search.csv, which notebook 04 shows.
"""

import csv
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

import tlcourse
from tlcourse.course import data, models
from tlcourse.lessons.bert_text_classification import MeanPoolClassifier, start_head_from_probe
from tlcourse.tools import evaluate, text
from tlcourse.tools.train import fit

EPOCHS = {8: 8, 32: 4}
NAMES = [str(i) for i in range(11)]  # the 11 topics; the labels are their indices
# name, pooling, head start, encoder lr, head lr, max_length
RECIPES = [
    ("linear probe only (no fine-tuning)", "mean", "probe", 0.0, 0.0, 32),
    ("[CLS] pooler, random head, lr 5e-5 (the usual default)", "cls", "random", 5e-5, 5e-5, 32),
    ("[CLS] pooler, random head, lr 1e-4 / head 1e-3", "cls", "random", 1e-4, 1e-3, 32),
    ("[CLS] pooler, head from a probe (LP-FT), 1e-4 / 1e-3", "cls", "probe", 1e-4, 1e-3, 32),
    ("mean pooling, random head, 5e-5 / head 3e-3", "mean", "random", 5e-5, 3e-3, 32),
    ("mean pooling, LP-FT, 3e-5 / 3e-5", "mean", "probe", 3e-5, 3e-5, 32),
    ("mean pooling, LP-FT, 1e-4 / 1e-3 (chosen)", "mean", "probe", 1e-4, 1e-3, 32),
    ("mean pooling, LP-FT, 2e-4 / 1e-3", "mean", "probe", 2e-4, 1e-3, 32),
    ("mean pooling, LP-FT, 1e-4 / 1e-3, max_length 64", "mean", "probe", 1e-4, 1e-3, 64),
]


def cls_model(checkpoint, train, tokenizer, max_length, head):
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=11)
    if head == "probe":  # the probe reads the same pooled [CLS] vector the classifier will
        collate = DataCollatorWithPadding(tokenizer)
        tokens = text.classification_tokens(train, tokenizer, max_length).remove_columns("label")
        with torch.inference_mode():
            model.eval()
            features = model.bert(**collate(list(tokens))).pooler_output.numpy()
        start_head_from_probe(model.classifier, text.linear_probe(features, train["label"]))
    return model


def run(recipe, budget, topics, tokenizer, checkpoint):
    name, pooling, head, lr_encoder, lr_head, max_length = recipe
    train = topics["train"].select(text.label_budget(topics["train"]["label"], budget))
    validation = text.classification_tokens(topics["validation"], tokenizer, max_length)
    collate = DataCollatorWithPadding(tokenizer)
    if lr_encoder == 0:  # probe only
        encoder = models.load(checkpoint)
        probe = text.linear_probe(text.embed(encoder, tokenizer, train["text"], max_length), train["label"])
        features = text.embed(encoder, tokenizer, topics["validation"]["text"], max_length)
        return float((probe.predict(features) == np.array(topics["validation"]["label"])).mean())
    if pooling == "mean" and head == "probe":
        model, _ = text.fine_tune(
            models.load(checkpoint),
            tokenizer,
            train,
            NAMES,
            max_length=max_length,
            epochs=EPOCHS[budget],
            lr_encoder=lr_encoder,
            lr_head=lr_head,
            plot=False,
            progress=False,
        )
    else:
        torch.manual_seed(0)
        if pooling == "mean":
            model = MeanPoolClassifier.from_encoder(models.load(checkpoint), NAMES)
            encoder, classifier = model.encoder, model.classifier
        else:
            model = cls_model(checkpoint, train, tokenizer, max_length, head)
            encoder, classifier = model.bert, model.classifier
        optimizer = torch.optim.AdamW(
            [{"params": encoder.parameters(), "lr": lr_encoder}, {"params": classifier.parameters(), "lr": lr_head}],
            weight_decay=0.01,
        )
        fit(
            model,
            text.classification_tokens(train, tokenizer, max_length),
            epochs=EPOCHS[budget],
            batch_size=16,
            optimizer=optimizer,
            collate_fn=collate,
            plot=False,
            progress=False,
        )
    logits, labels = evaluate.predict(model, validation, collate)
    return float((logits.argmax(-1) == labels).mean())


def main():
    tlcourse.setup(profile="default", seed=0)
    topics = data.load("wiki_topics")
    checkpoint = models.resolve("minilm")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    rows = []
    for recipe in RECIPES:
        row = {"recipe": recipe[0]}
        for budget in EPOCHS:
            accuracy = run(recipe, budget, topics, tokenizer, checkpoint)
            row[f"val_accuracy_{budget}"] = round(accuracy, 3)
        print(row, flush=True)
        rows.append(row)
    out = Path(__file__).parent / "results" / "text_recipe_search.csv"
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print("wrote", out)


if __name__ == "__main__":
    main()
