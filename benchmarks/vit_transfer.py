"""Notebook 05's transfer protocol, searched, then scored: for each method and label budget, the learning rate and
training length (the step cap of the schedule) with the best mean validation accuracy; then that setting with 3
seeds, each run scoring the test split once. Every run keeps its best validation checkpoint, as in the notebook.

    python benchmarks/vit_transfer.py --budgets 5 10 --seeds 0 1      # the search: what results/ holds
    python benchmarks/vit_transfer.py --budgets 50 all --seeds 0
    python benchmarks/vit_transfer.py --final                         # the final stage (seeds 0 1 2)

Needs notebook 05's pretrained checkpoints in the course cache (run the notebook once, default profile).
The search writes benchmarks/results/vit_transfer_lr.json: the chosen rate and cap per method and budget, with
every run's validation accuracy and steps; it does not touch the test split. The final stage reads that choice and
appends one line per run to benchmarks/results/vit_transfer_final.jsonl (test, training and validation accuracy,
best step, seconds, the sha256 of the checkpoint it started from), and the frozen probe once per budget; a rerun
skips the runs the file holds. Notebook 05 reads both files.
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
from tlcourse.tools import evaluate, text, vision

RESULTS = Path(__file__).parent / "results" / "vit_transfer_lr.json"
FINAL = Path(__file__).parent / "results" / "vit_transfer_final.jsonl"
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
    parser.add_argument("--seeds", nargs="+", type=int, help="default: 0 for the search, 0 1 2 for --final")
    parser.add_argument("--caps", nargs="+", type=float, default=[1.0, 0.5], help="fractions of MAX_STEPS to try")
    parser.add_argument("--final", action="store_true", help="score the chosen settings on the test split")
    args = parser.parse_args()
    device = tlcourse.setup(seed=0, profile="default")
    vit_sizes = dict(patch_size=7, hidden=128, layers=4, heads=4)
    digits = data.load("digits")
    pixels, labels = vision.image_tensors(digits["train"])
    val_pixels, val_labels = vision.image_tensors(digits["validation"])
    if args.final:
        test_pixels, test_labels = vision.image_tensors(digits["test"])
        splits = pixels, labels, val_pixels, val_labels, test_pixels, test_labels
        final(args.methods, args.budgets, args.seeds or [0, 1, 2], device, vit_sizes, splits)
        return
    args.seeds = args.seeds or [0]
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


def checkpoint_sha256(method):
    """Which pretrained weights a run started from (None: random)."""
    return data.sha256(models.save_dir(CHECKPOINTS[method]) / "model.safetensors") if method in CHECKPOINTS else None


def cls_features(model, pixels):
    """The frozen [CLS] token of each image (notebook 05's `features`)."""
    model.eval()
    with torch.no_grad():
        return torch.cat(
            [model.vit(pixel_values=pixels[i : i + 500]).last_hidden_state[:, 0] for i in range(0, len(pixels), 500)]
        ).numpy()


def final(methods, budgets, seeds, device, vit_sizes, splits):
    """Each method at its chosen setting, `seeds` each, the test split scored once per run; the probe (logistic
    regression on the frozen supervised [CLS] features, C chosen on validation) once per budget."""
    pixels, labels, val_pixels, val_labels, test_pixels, test_labels = splits
    chosen = json.loads(RESULTS.read_text())["chosen"]
    done = [json.loads(line) for line in FINAL.open()] if FINAL.exists() else []
    probe_features = None

    def already(run):
        """True if FINAL holds this run; raises if it holds it with another setting or checkpoint."""
        key = ("method", "budget", "seed")
        same = [r for r in done if [r[k] for k in key] == [run[k] for k in key]]
        for old in same:
            if any(old[k] != run[k] for k in run):
                raise SystemExit(
                    f"{FINAL} holds {[run[k] for k in key]} with {old}, not {run} (a new search, or a new notebook 05 "
                    "run that retrained the checkpoints?): move the file away to redo the final stage"
                )
        return bool(same)

    def write(run):
        print(json.dumps(run), flush=True)
        with FINAL.open("a") as out:
            out.write(json.dumps(run) + "\n")

    for budget in budgets:
        rows = text.label_budget(labels.numpy(), None if budget == "all" else int(budget))
        if "finetune" in methods and not already(
            unit := {"method": "probe", "budget": budget, "seed": None, "checkpoint": checkpoint_sha256("finetune")}
        ):
            started = time.perf_counter()
            if probe_features is None:  # the same frozen features for every budget
                backbone = ViTForImageClassification.from_pretrained(models.save_dir(CHECKPOINTS["finetune"]))
                probe_features = [cls_features(backbone.to(device), x.to(device)) for x in splits[::2]]
            train_x, val_x, test_x = probe_features
            probe, info = evaluate.tuned_logistic(train_x[rows], labels[rows].numpy(), val_x, val_labels.numpy())
            write(
                unit
                | {
                    "chosen_C": info["chosen_C"],
                    "val_accuracy": info["validation_by_C"][info["chosen_C"]],
                    "train_accuracy": float(probe.score(train_x[rows], labels[rows].numpy())),
                    "test_accuracy": float(probe.score(test_x, test_labels.numpy())),
                    "seconds": time.perf_counter() - started,
                }
            )
        for method in methods:
            setting = chosen[method][budget]
            for seed in seeds:
                unit = {
                    "method": method,
                    "budget": budget,
                    "seed": seed,
                    "checkpoint": checkpoint_sha256(method),
                    "lr": setting["lr"],
                    "max_steps": setting["max_steps"],
                }
                if already(unit):
                    continue
                started = time.perf_counter()
                model, info = vision.train_early_stopped(
                    start_from(method, seed, vit_sizes).to(device),
                    pixels[rows],
                    labels[rows],
                    val_pixels,
                    val_labels,
                    lr=setting["lr"],
                    max_steps=setting["max_steps"],
                    batch_size=BATCH,
                    eval_every=EVAL_EVERY,
                    patience=PATIENCE,
                    seed=seed,
                )
                test_accuracy = vision.accuracy(model, test_pixels, test_labels)  # the one look at the test split
                write(
                    unit
                    | info
                    | {
                        "test_accuracy": test_accuracy,
                        "seconds": time.perf_counter() - started,
                        "threads": torch.get_num_threads(),
                    }
                )


if __name__ == "__main__":
    main()
