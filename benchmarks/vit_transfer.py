"""Notebook 05's transfer protocol, searched, then scored: for each method and label budget, the learning rate and
training length (the step cap of the schedule) with the best mean validation accuracy; then that setting with 3
seeds, each run scoring the test split once. Every run keeps its best validation checkpoint, as in the notebook.

    python benchmarks/vit_transfer.py           # the search (seeds 0 1 at 5 and 10 per class, 0 at 50 and all)
    python benchmarks/vit_transfer.py --final   # the final stage (seeds 0 1 2)

The search starts from rates 5e-4 / 1e-3 / 2e-3 and caps of half and all of MAX_STEPS, and grows the grid past any
edge the chosen setting sits at, so every choice ends inside the grid (or at the end of LR_RANGE / CAP_RANGE).

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
MAX_STEPS = {"5": 200, "10": 300, "50": 400, "all": 500}  # the search starts at half of it and all of it
SEARCH_SEEDS = {"5": [0, 1], "10": [0, 1], "50": [0], "all": [0]}
LR_RANGE, CAP_RANGE = (1.25e-4, 8e-3), (0.25, 8.0)  # how far the search grid may grow (cap: fraction of MAX_STEPS)
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
    global RESULTS
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", nargs="+", default=["scratch", "finetune", "finetune_mae"])
    parser.add_argument("--budgets", nargs="+", default=["5", "10", "50", "all"])
    parser.add_argument("--lrs", nargs="+", type=float, default=[5e-4, 1e-3, 2e-3])
    parser.add_argument("--seeds", nargs="+", type=int, help="default: SEARCH_SEEDS, or 0 1 2 for --final")
    parser.add_argument("--caps", nargs="+", type=float, default=[0.5, 1.0], help="fractions of MAX_STEPS to start at")
    parser.add_argument("--final", action="store_true", help="score the chosen settings on the test split")
    parser.add_argument(
        "--search-file",
        type=Path,
        default=RESULTS,
        help="where the search's runs and choices are kept (default: %(default)s)",
    )
    args = parser.parse_args()
    RESULTS = args.search_file  # a search in progress may be kept apart from the file the notebook reads
    device = tlcourse.setup(seed=0, profile="default")
    vit_sizes = dict(patch_size=7, hidden=128, layers=4, heads=4)
    digits = data.load("digits")
    pixels, labels = vision.image_tensors(digits["train"])
    val_pixels, val_labels = vision.image_tensors(digits["validation"])
    splits = pixels, labels, val_pixels, val_labels
    if args.final:
        splits += vision.image_tensors(digits["test"])
        final(args.methods, args.budgets, args.seeds or [0, 1, 2], device, vit_sizes, splits)
        return
    runs = json.loads(RESULTS.read_text())["runs"] if RESULTS.exists() else []
    for budget in args.budgets:
        rows = text.label_budget(labels.numpy(), None if budget == "all" else int(budget))
        seeds = args.seeds or SEARCH_SEEDS[budget]
        for method in args.methods:

            def run_one(lr, cap, seed):
                started = time.perf_counter()
                _, info = train(start_from(method, seed, vit_sizes).to(device), rows, lr, cap, seed, splits)
                run = {"method": method, "budget": budget, "lr": lr, "max_steps": cap, "seed": seed, **info}
                runs.append(run | {"seconds": time.perf_counter() - started})
                print(json.dumps(runs[-1]), flush=True)
                save(runs)  # resumable: a rerun skips the runs the file holds

            search(method, budget, sorted(args.lrs), sorted(args.caps), seeds, runs, run_one)
    save(runs)
    print(json.dumps(json.loads(RESULTS.read_text())["chosen"], indent=1))


def train(model, rows, lr, max_steps, seed, splits):
    """The notebook's protocol: `rows` of the training digits, validation scored every EVAL_EVERY steps, the best
    checkpoint kept. Returns (model, the run's record)."""
    pixels, labels, val_pixels, val_labels = splits[:4]
    return vision.train_early_stopped(
        model,
        pixels[rows],
        labels[rows],
        val_pixels,
        val_labels,
        lr=lr,
        max_steps=max_steps,
        batch_size=BATCH,
        eval_every=EVAL_EVERY,
        patience=PATIENCE,
        seed=seed,
    )


def grid_means(runs, method, budget):
    """{(lr, max_steps): mean validation accuracy over the seeds run} for one method and budget."""
    mine = [r for r in runs if (r["method"], r["budget"]) == (method, budget)]
    settings = {(r["lr"], r["max_steps"]) for r in mine}
    return {s: float(np.mean([r["val_accuracy"] for r in mine if (r["lr"], r["max_steps"]) == s])) for s in settings}


def choose(mean):
    """The best mean validation accuracy; a tie goes to a setting inside the grid, then to the shorter cap and
    lower rate. Returns (lr, max_steps)."""
    lrs, caps = sorted({lr for lr, _ in mean}), sorted({cap for _, cap in mean})

    def inside(setting):
        return setting[0] not in (lrs[0], lrs[-1]) and setting[1] not in (caps[0], caps[-1])

    return max(mean, key=lambda s: (round(mean[s], 6), inside(s), -s[1], -s[0]))


def search(method, budget, lrs, caps, seeds, runs, run_one):
    """Every (rate, cap) of the grid with `seeds`; while the chosen rate or cap sits at an edge of the grid, the grid
    grows one step past that edge (rates x2 or /2 within LR_RANGE, caps x2 or /2 within CAP_RANGE) and the new
    settings run. It stops with the choice inside the grid, or at a range's end (the printed choice says which)."""
    while True:
        for lr in lrs:
            for cap in [int(MAX_STEPS[budget] * fraction) for fraction in caps]:
                for seed in seeds:
                    done = ((r["method"], r["budget"], r["lr"], r["max_steps"], r["seed"]) for r in runs)
                    if (method, budget, lr, cap, seed) not in set(done):
                        run_one(lr, cap, seed)
        steps = [int(MAX_STEPS[budget] * fraction) for fraction in caps]
        mean = {s: v for s, v in grid_means(runs, method, budget).items() if s[0] in lrs and s[1] in steps}
        lr, cap = choose(mean)  # within this grid: an edge is the grid's edge
        fraction = cap / MAX_STEPS[budget]
        grown = False
        if lr == lrs[0] and lr / 2 >= LR_RANGE[0]:
            lrs, grown = [lr / 2, *lrs], True
        if lr == lrs[-1] and lr * 2 <= LR_RANGE[1]:
            lrs, grown = [*lrs, lr * 2], True
        if fraction == caps[0] and fraction / 2 >= CAP_RANGE[0]:
            caps, grown = [fraction / 2, *caps], True
        if fraction == caps[-1] and fraction * 2 <= CAP_RANGE[1]:
            caps, grown = [*caps, fraction * 2], True
        print(f"{method} {budget}/class: chosen lr {lr:g}, cap {cap} ({mean[lr, cap]:.4f})", flush=True)
        if not grown:
            return


def save(runs):
    """The runs (merged with those another process wrote meanwhile: one process per method may run side by side)
    and, per method and budget, the chosen setting over everything run."""
    import fcntl

    key = lambda r: (r["method"], r["budget"], r["lr"], r["max_steps"], r["seed"])  # noqa: E731
    with open(RESULTS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        others = json.loads(RESULTS.read_text())["runs"] if RESULTS.exists() else []
        mine = {key(r) for r in runs}
        runs.extend(r for r in others if key(r) not in mine)
        _write(runs)


def _write(runs):
    chosen = {}
    for method, budget in sorted({(r["method"], r["budget"]) for r in runs}):
        mean = grid_means(runs, method, budget)
        lr, cap = choose(mean)
        chosen.setdefault(method, {})[budget] = {"lr": lr, "max_steps": cap, "val_accuracy": mean[lr, cap]}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "chosen": chosen,
                "batch_size": BATCH,
                "eval_every": EVAL_EVERY,
                "patience": PATIENCE,
                "base_steps": MAX_STEPS,
                "runs": runs,
            },
            indent=1,
        )
        + "\n"
    )


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
        """True if FINAL holds this run; a row of an older search's setting is dropped; raises if FINAL holds it
        from another checkpoint."""
        key = ("method", "budget", "seed")
        same = [r for r in done if [r[k] for k in key] == [run[k] for k in key]]
        setting = lambda r: (r.get("lr"), r.get("max_steps"))  # noqa: E731
        stale = [r for r in same if r["checkpoint"] == run["checkpoint"] and setting(r) != setting(run)]
        if stale:
            print(f"dropping {len(stale)} run(s) of an older search's setting: {stale}", flush=True)
            done[:] = [r for r in done if r not in stale]
            FINAL.write_text("".join(json.dumps(r) + "\n" for r in done))
            same = [r for r in same if r not in stale]
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
                model, info = train(
                    start_from(method, seed, vit_sizes).to(device),
                    rows,
                    setting["lr"],
                    setting["max_steps"],
                    seed,
                    splits,
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
