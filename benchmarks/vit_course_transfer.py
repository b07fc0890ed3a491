"""Notebook 05's transfer, from the course's shipped checkpoints, against logistic regression on raw pixels.

Three parts (notebook 05 reads results/vit_course_transfer.jsonl and shows them):

- source: Fashion-MNIST test accuracy of the shipped supervised ViT (`vit-fashion-supervised`) and of logistic
  regression on the standardised pixels of the same 55,000 training images, its C chosen on the validation split;
- digits (the notebook's target, a domain gap): at 5, 10, 50 and all labels per class, `pixels_logistic` and the
  shipped checkpoints fine-tuned (`finetune_course`, `finetune_mae_course`) with notebook 05's protocol;
- fashion (a target where pretraining is expected to pay, the image twin of notebooks 03-04): few labelled
  Fashion-MNIST images (5, 10, 50 per class) after the MAE has seen the training images without their labels:
  `pixels_logistic`, `scratch`, `probe_mae_course` (logistic regression on the frozen MAE's mean patch token) and
  `finetune_mae_course`. The supervised checkpoint saw these labels, so it has no place here.

Protocol, as in notebook 05: a fresh head, shift augmentation, batch 32, validation scored every 25 steps and the
best checkpoint kept (patience 8); the learning rate chosen per arm and budget on the validation split with seed 0 (from LRS,
the grid grown past any edge the choice sits at), then 3 seeds at that rate, each scoring the test split once. The labelled rows are the notebook's
draw (text.label_budget, seed 0), the same for every arm and seed, so arms are paired. Logistic regression:
standardised pixels (or features), C from C_GRID chosen on validation, lbfgs to convergence (asserted).

Resumable: every finished unit is one line of results/vit_course_transfer.jsonl and a rerun skips it.
Run: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/vit_course_transfer.py [--parts digits fashion source]
"""

import argparse
import json
import time
from pathlib import Path

import torch

import tlcourse
from tlcourse.course import data, models
from tlcourse.tools import evaluate, text, vision

RESULTS = Path(__file__).parent / "results" / "vit_course_transfer.jsonl"
LRS = [5e-4, 1e-3, 2e-3]  # where the search starts; it grows x2 or /2 within LR_RANGE while the choice is at an edge
LR_RANGE = (1.25e-4, 8e-3)
C_GRID = [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]
SOURCE_C_GRID = [1e-2, 1e-1, 1.0]
MAX_STEPS = {"5": 200, "10": 300, "50": 400, "all": 500}  # notebook 05's longer caps
BATCH, EVAL_EVERY, PATIENCE, SEEDS = 32, 25, 8, [0, 1, 2]
VALIDATION_ROWS = {"digits": None, "fashion": 1000}  # fashion: the first 1,000 validation images, for speed
TARGETS = {
    "digits": (["5", "10", "50", "all"], ["finetune_course", "finetune_mae_course"]),
    "fashion": (["5", "10", "50"], ["scratch", "finetune_mae_course"]),
}
CHECKPOINTS = {"finetune_course": "vit-fashion-supervised", "finetune_mae_course": "vit-fashion-mae75"}
VIT_SIZES = dict(patch_size=7, hidden=128, layers=4, heads=4)


def rows_done():
    return [json.loads(line) for line in RESULTS.open()] if RESULTS.exists() else []


def append(row):
    with RESULTS.open("a") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)


def logistic(train_x, train_y, val_x, val_y, test_x, test_y, grid):
    """evaluate.tuned_logistic (standardised, C chosen on validation, converged), test scored once at that C."""
    model, info = evaluate.tuned_logistic(train_x, train_y, val_x, val_y, grid)
    return {
        "chosen_C": info["chosen_C"],
        "validation_by_C": {str(c): round(v, 4) for c, v in info["validation_by_C"].items()},
        "validation_accuracy": info["validation_by_C"][info["chosen_C"]],
        "test_accuracy": float(model.score(test_x, test_y)),
        "train_accuracy": float(model.score(train_x, train_y)),
    }


def choose_lr(validation):
    """The rate with the best validation accuracy; a tie goes to a rate inside the grid, then to the lower rate."""
    lrs = sorted(validation)
    return max(lrs, key=lambda lr: (round(validation[lr], 6), lr not in (lrs[0], lrs[-1]), -lr))


def flat(pixels):
    return pixels.flatten(1).numpy()


def start_from(arm, seed):
    from transformers import ViTForImageClassification

    torch.manual_seed(seed)
    if arm == "scratch":
        model = ViTForImageClassification(vision.small_vit_config(**VIT_SIZES, num_labels=10))
    else:
        model = ViTForImageClassification.from_pretrained(models.course_checkpoint(CHECKPOINTS[arm]))
    model.classifier = torch.nn.Linear(model.config.hidden_size, 10)  # a fresh head for every run
    return model


def mean_patch_features(model, pixels):
    model.eval()
    with torch.no_grad():
        return torch.cat(
            [
                model.vit(pixel_values=pixels[i : i + 500]).last_hidden_state[:, 1:].mean(1)
                for i in range(0, len(pixels), 500)
            ]
        ).numpy()


def splits(target):
    name = "digits" if target == "digits" else "fashion_mnist"
    loaded = data.load(name)
    out = {split: vision.image_tensors(loaded[split]) for split in ("train", "validation", "test")}
    if VALIDATION_ROWS[target]:
        pixels, labels = out["validation"]
        out["validation"] = (pixels[: VALIDATION_ROWS[target]], labels[: VALIDATION_ROWS[target]])
    return out


def run_source(done):
    """The shipped supervised ViT and the pixel yardstick on Fashion-MNIST's test split. The yardstick's C grid grows
    (/10 or x10) while the chosen C sits at its edge: each new C is one more fit, merged into the row."""
    old = [r for r in done if r["part"] == "source"]
    if old and not grid_edge(old[-1]["pixels_logistic"]["validation_by_C"]):
        return
    images = splits("fashion")
    images["validation"] = vision.image_tensors(data.load("fashion_mnist")["validation"])  # all 5,000 here
    (x, y), (vx, vy), (tx, ty) = images["train"], images["validation"], images["test"]
    started = time.perf_counter()
    if old:
        row = old[-1]
    else:
        from transformers import ViTForImageClassification

        course = ViTForImageClassification.from_pretrained(models.course_checkpoint(CHECKPOINTS["finetune_course"]))
        row = {"part": "source", "course_supervised": vision.accuracy(course, *images["test"])}
        row["pixels_logistic"] = logistic(flat(x), y.numpy(), flat(vx), vy.numpy(), flat(tx), ty.numpy(), SOURCE_C_GRID)
    while new_c := grid_edge(row["pixels_logistic"]["validation_by_C"]):
        fit = logistic(flat(x), y.numpy(), flat(vx), vy.numpy(), flat(tx), ty.numpy(), [new_c])
        pixels = row["pixels_logistic"]
        merged = pixels["validation_by_C"] | fit["validation_by_C"]
        best = fit if fit["validation_accuracy"] > pixels["validation_accuracy"] else pixels
        row["pixels_logistic"] = best | {"validation_by_C": dict(sorted(merged.items(), key=lambda kv: float(kv[0])))}
        print(json.dumps(row["pixels_logistic"]), flush=True)
    row["seconds"] = row.get("seconds", 0) + time.perf_counter() - started
    kept = [r for r in done if r["part"] != "source"]
    RESULTS.write_text("".join(json.dumps(r) + "\n" for r in [*kept, row]))


def grid_edge(validation_by_c):
    """The next C to try when the best C is the grid's smallest or largest (within 1e-4 .. 1e3), else None."""
    grid = sorted(validation_by_c, key=float)
    best = max(grid, key=lambda c: validation_by_c[c])
    if best == grid[0] and float(best) / 10 >= 1e-4:
        return float(best) / 10
    if best == grid[-1] and float(best) * 10 <= 1e3:
        return float(best) * 10
    return None


def run_target(target, done, device):
    budgets, arms = TARGETS[target]
    images = splits(target)
    (x, y), (vx, vy), (tx, ty) = images["train"], images["validation"], images["test"]
    key = lambda r: (r.get("target"), r.get("arm"), r.get("budget"), r.get("stage"), r.get("lr"), r.get("seed"))  # noqa: E731
    finished = {key(r) for r in done}
    mae_features = None
    for budget in budgets:
        rows = text.label_budget(y.numpy(), None if budget == "all" else int(budget))
        unit = {"part": "target", "target": target, "arm": "pixels_logistic", "budget": budget, "stage": "final"}
        if key(unit) not in finished:
            append(
                {**unit, **logistic(flat(x[rows]), y[rows].numpy(), flat(vx), vy.numpy(), flat(tx), ty.numpy(), C_GRID)}
            )
        if target == "fashion":
            unit = {**unit, "arm": "probe_mae_course"}
            if key(unit) not in finished:
                if mae_features is None:
                    encoder = start_from("finetune_mae_course", 0)
                    mae_features = [mean_patch_features(encoder, p) for p in (x, vx, tx)]
                fx, fvx, ftx = mae_features
                append({**unit, **logistic(fx[rows], y[rows].numpy(), fvx, vy.numpy(), ftx, ty.numpy(), C_GRID)})
        for arm in arms:

            def one(lr, seed, stage):
                unit = {
                    "part": "target",
                    "target": target,
                    "arm": arm,
                    "budget": budget,
                    "stage": stage,
                    "lr": lr,
                    "seed": seed,
                }
                if key(unit) in finished:
                    return
                started = time.perf_counter()
                model, info = vision.train_early_stopped(
                    start_from(arm, seed).to(device),
                    x[rows],
                    y[rows],
                    vx,
                    vy,
                    lr=lr,
                    max_steps=MAX_STEPS[budget],
                    batch_size=BATCH,
                    eval_every=EVAL_EVERY,
                    patience=PATIENCE,
                    seed=seed,
                )
                result = {**unit, **info, "max_steps": MAX_STEPS[budget], "seconds": time.perf_counter() - started}
                if stage == "final":
                    result["test_accuracy"] = vision.accuracy(model, tx, ty)  # the one look at test
                append(result)
                done.append(result)
                finished.add(key(result))

            lrs = list(LRS)
            while True:  # the grid grows past an edge the chosen rate sits at, so the choice ends inside it
                for lr in lrs:
                    one(lr, 0, "search")
                searched = {r["lr"]: r["val_accuracy"] for r in done if key(r)[:4] == (target, arm, budget, "search")}
                chosen = choose_lr({lr: searched[lr] for lr in lrs})
                if chosen == lrs[0] and chosen / 2 >= LR_RANGE[0]:
                    lrs.insert(0, chosen / 2)
                elif chosen == lrs[-1] and chosen * 2 <= LR_RANGE[1]:
                    lrs.append(chosen * 2)
                else:
                    break
            stale = [r for r in done if key(r)[:4] == (target, arm, budget, "final") and r["lr"] != chosen]
            if stale:  # final runs at an older search's choice
                print(f"dropping {len(stale)} final run(s) at lr {stale[0]['lr']:g}: the search now chooses {chosen:g}")
                done[:] = [r for r in done if r not in stale]
                RESULTS.write_text("".join(json.dumps(r) + "\n" for r in done))
            for seed in SEEDS:
                one(chosen, seed, "final")


def table():
    """The README's tables from the results: per target, each arm's test accuracy, mean (min to max) over seeds, with
    its chosen learning rate (or C); the source task's line."""
    import numpy as np

    done = rows_done()
    lines = []
    for target, (budgets, arms) in TARGETS.items():
        lines += [f"\n{target}: test accuracy, mean (min to max over 3 seeds) [chosen lr or C]"]
        lines += ["| arm | " + " | ".join(budgets) + " |", "|---|" + "---:|" * len(budgets)]
        extra = ["probe_mae_course"] if target == "fashion" else []
        for arm in ["pixels_logistic", *extra, *arms]:
            cells = []
            for budget in budgets:
                final = [
                    r
                    for r in done
                    if (r.get("target"), r.get("arm"), r.get("budget"), r.get("stage"))
                    == (target, arm, budget, "final")
                ]
                scores = [r["test_accuracy"] for r in final]
                if "chosen_C" in final[0]:
                    cells.append(f"{scores[0]:.3f}, C {final[0]['chosen_C']:g}")
                else:
                    cells.append(
                        f"{np.mean(scores):.3f} ({min(scores):.3f} to {max(scores):.3f}), lr {final[0]['lr']:g}"
                    )
            lines.append(f"| `{arm}` | " + " | ".join(cells) + " |")
    source = [r for r in done if r["part"] == "source"][-1]
    pixels = source["pixels_logistic"]
    lines.append(
        f"\nsource: course_supervised {source['course_supervised']:.3f}, pixels_logistic {pixels['test_accuracy']:.4f} "
        f"(C {pixels['chosen_C']:g}; validation by C {pixels['validation_by_C']})"
    )
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--parts", nargs="+", choices=["digits", "fashion", "source"], default=["digits", "fashion", "source"]
    )
    parser.add_argument("--threads", type=int)
    parser.add_argument("--table", action="store_true", help="print the README's tables from the results and stop")
    args = parser.parse_args()
    if args.table:
        return table()
    device = tlcourse.setup(seed=0, profile="default")
    if args.threads:
        torch.set_num_threads(args.threads)
    RESULTS.parent.mkdir(exist_ok=True)
    for part in args.parts:
        done = rows_done()
        run_source(done) if part == "source" else run_target(part, done, device)


if __name__ == "__main__":
    main()
