"""Notebook 05's transfer protocol, searched: for each method and label budget, the learning rate and training
length (the step cap of the schedule) with the best mean validation accuracy; every run keeps its best
validation checkpoint, as in the notebook.

    python benchmarks/vit_transfer.py --budgets 5 10 --seeds 0 1      # what results/ holds
    python benchmarks/vit_transfer.py --budgets 50 all --seeds 0

Needs notebook 05's pretrained checkpoints in the course cache (run the notebook once). Writes
benchmarks/results/vit_transfer_lr.json, which notebook 05 reads: the chosen rate and cap per method and budget,
with every run's validation accuracy and steps. The test split is not touched.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from transformers import ViTForImageClassification

import tlcourse
from tlcourse.course import data, models
from tlcourse.tools import text, vision

RESULTS = Path(__file__).parent / "results" / "vit_transfer_lr.json"
MAX_STEPS = {"5": 200, "10": 300, "50": 400, "all": 500}  # the longer cap; the search also tries half of it
BATCH, EVAL_EVERY, PATIENCE = 32, 25, 8
CHECKPOINTS = {"finetune": "vit-fashion-supervised", "finetune_mae": "vit-fashion-mae75"}


def start_from(method, seed, vit_sizes):
    """A ViT for the 10 digits: random (scratch) or a cached checkpoint, always with a fresh head."""
    torch.manual_seed(seed)
    if method == "scratch":
        model = ViTForImageClassification(vision.small_vit_config(**vit_sizes, num_labels=10))
    else:
        model = ViTForImageClassification.from_pretrained(models.save_dir(CHECKPOINTS[method]))
    model.classifier = torch.nn.Linear(model.config.hidden_size, 10)  # re-initialised for every method
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", nargs="+", default=["scratch", "finetune", "finetune_mae"])
    parser.add_argument("--budgets", nargs="+", default=["5", "10", "50", "all"])
    parser.add_argument("--lrs", nargs="+", type=float, default=[5e-4, 1e-3, 2e-3])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--caps", nargs="+", type=float, default=[1.0, 0.5], help="fractions of MAX_STEPS to try")
    args = parser.parse_args()
    device = tlcourse.setup(seed=0, profile="default")
    vit_sizes = dict(patch_size=7, hidden=128, layers=4, heads=4)
    digits = data.load("digits")
    pixels, labels = vision.image_tensors(digits["train"])
    val_pixels, val_labels = vision.image_tensors(digits["validation"])
    runs = json.loads(RESULTS.read_text())["runs"] if RESULTS.exists() else []
    for budget in args.budgets:
        rows = text.label_budget(labels.numpy(), None if budget == "all" else int(budget))
        for method in args.methods:
            for lr in args.lrs:
                for cap in [int(MAX_STEPS[budget] * fraction) for fraction in args.caps]:
                    for seed in args.seeds:
                        started = time.perf_counter()
                        model, info = vision.train_early_stopped(
                            start_from(method, seed, vit_sizes).to(device),
                            pixels[rows],
                            labels[rows],
                            val_pixels,
                            val_labels,
                            lr=lr,
                            max_steps=cap,
                            batch_size=BATCH,
                            eval_every=EVAL_EVERY,
                            patience=PATIENCE,
                            seed=seed,
                        )
                        run = {
                            "method": method,
                            "budget": budget,
                            "lr": lr,
                            "max_steps": cap,
                            "seed": seed,
                            **info,
                            "seconds": time.perf_counter() - started,
                        }
                        key = ("method", "budget", "lr", "max_steps", "seed")
                        runs = [r for r in runs if [r[k] for k in key] != [run[k] for k in key]]
                        runs.append(run)
                        print(json.dumps(run), flush=True)
    chosen = {}
    for method in {r["method"] for r in runs}:
        for budget in {r["budget"] for r in runs if r["method"] == method}:
            mine = [r for r in runs if (r["method"], r["budget"]) == (method, budget)]
            settings = {(r["lr"], r["max_steps"]) for r in mine}
            mean = {s: np.mean([r["val_accuracy"] for r in mine if (r["lr"], r["max_steps"]) == s]) for s in settings}
            lr, cap = max(mean, key=mean.get)
            chosen.setdefault(method, {})[budget] = {"lr": lr, "max_steps": cap, "val_accuracy": mean[lr, cap]}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"chosen": chosen, "batch_size": BATCH, "eval_every": EVAL_EVERY, "patience": PATIENCE, "runs": runs},
            indent=1,
        )
        + "\n"
    )
    print(json.dumps(chosen, indent=1))


if __name__ == "__main__":
    main()
