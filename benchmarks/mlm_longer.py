"""How much does longer MLM pretraining buy? Notebook 02's default recipe, run for more epochs, with the
held-out perplexity (fixed validation masks) after every epoch.

Run: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/mlm_longer.py --epochs 4
"""
import argparse
import math
import time

import torch
from transformers import BertForMaskedLM, DataCollatorForLanguageModeling, DataCollatorForTokenClassification

import tlcourse
from tlcourse import data, text
from tlcourse.train import fit


@torch.no_grad()
def held_out_perplexity(model, fixed, pad):
    model.eval()
    loss_sum = count = 0
    for batch in torch.utils.data.DataLoader(fixed, batch_size=64, collate_fn=pad):
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        keep = batch["labels"] != -100
        loss_sum += torch.nn.functional.cross_entropy(logits[keep], batch["labels"][keep], reduction="sum").item()
        count += keep.sum().item()
    return math.exp(loss_sum / count)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, nargs="+", default=[2, 4])
    args = parser.parse_args()
    tlcourse.setup(profile="default", seed=0)
    sizes = text.pretraining_sizes()
    corpus = data.load("wiki_corpus")
    tokenizer = text.train_tokenizer(corpus["train"]["text"], sizes["vocab_size"], sizes["max_length"])
    train = text.tokenize(corpus["train"], tokenizer, sizes["max_length"])
    validation = text.tokenize(corpus["validation"], tokenizer, sizes["max_length"])
    masker = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    pad = DataCollatorForTokenClassification(tokenizer)
    torch.manual_seed(123)
    fixed = []
    for row in validation:  # one fixed masking of the held-out paragraphs, the same for every run
        batch = masker([{"input_ids": row["input_ids"], "special_tokens_mask": row["special_tokens_mask"]}])
        fixed.append({"input_ids": batch["input_ids"][0].tolist(), "attention_mask": row["attention_mask"],
                      "labels": batch["labels"][0].tolist()})
    for epochs in args.epochs:  # each run gets its own full warm-up + decay schedule
        torch.manual_seed(0)
        model = BertForMaskedLM(text.small_bert_config(tokenizer, sizes["layers"], sizes["hidden"], 2,
                                                       sizes["max_length"]))
        started = time.perf_counter()
        history = fit(model, train, None, collate_fn=masker, epochs=epochs, batch_size=sizes["batch_size"],
                      lr=sizes["lr"], plot=False, progress=False)
        seconds = time.perf_counter() - started
        losses = ", ".join(f"{e['train_loss']:.2f}" for e in history.epochs)
        print(f"epochs {epochs}: held-out perplexity {held_out_perplexity(model, fixed, pad):.0f} "
              f"after {seconds:.0f} s; training loss per epoch: {losses}", flush=True)


if __name__ == "__main__":
    main()
