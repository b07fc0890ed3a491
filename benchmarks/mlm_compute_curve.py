"""What does pretraining compute buy downstream? Notebook 03's recipe pretrained for 2, 5, 10, 20 and 40 minutes
on this CPU, each checkpoint then fine-tuned on notebook 04's task at 32 labels per class (3 seeds), against the same
architecture from random weights (0 minutes).

One run serves every budget: a warm-up-stable-decay schedule (Hu et al. 2024, "MiniCPM"; Hagele et al. 2024): the
learning rate warms up, stays constant, and for a budget of T minutes a copy of the run branches off at 0.8 T and
decays linearly to 0 over the last 0.2 T, so each checkpoint has had T minutes of training with a finished
schedule. Minutes are turned into optimizer steps once, from the median step time measured at the start (so a
busy machine slows the run down but does not change its result). Fine-tuning: text.small_encoder_scores (notebook 04's LP-FT), its learning rate chosen per checkpoint on
the validation split (mean over the seeds), test accuracy reported at that rate only.

Run: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/mlm_compute_curve.py [--minutes 2 5 10 20 40]
Add a budget to an earlier run, on its scale of steps per minute:
     ... mlm_compute_curve.py --minutes 40 --add --steps-per-minute 349
Writes benchmarks/results/mlm_compute_curve.json (notebook 03 draws it).
"""

import argparse
import copy
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, DataCollatorForLanguageModeling

import tlcourse
from tlcourse.course import data
from tlcourse.lessons.mlm_pretraining import MaskedOnlyMLM, pretraining_sizes
from tlcourse.tools import mlm, text
from tlcourse.tools.train import parameter_groups

RESULTS = Path(__file__).parent / "results" / "mlm_compute_curve.json"
LRS = [3e-4, 1e-3, 3e-3]
SEEDS = [0, 1, 2]
PER_CLASS, EPOCHS = 32, 10


def batches(blocks, collator, batch_size, seed):
    """Endless shuffled batches with fresh masks, epoch after epoch."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(len(blocks))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield collator([{"input_ids": blocks[i]} for i in order[start : start + batch_size]])


def train_steps(net, optimizer, stream, steps, lr_at):
    """`steps` optimizer steps; lr_at(step) sets the rate. Returns the seconds each step took."""
    times = []
    for i in range(steps):
        started = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = lr_at(i)
        loss = net(**next(stream))["loss"]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        times.append(time.perf_counter() - started)
    return times


def downstream(encoder_folder, tokenizer, topics, names):
    from tlcourse.tools.text import label_budget

    train = topics["train"].select(label_budget(topics["train"]["label"], PER_CLASS))
    by_lr = {}
    for lr in LRS:
        runs = []
        for seed in SEEDS:
            torch.manual_seed(seed)
            encoder = AutoModel.from_pretrained(encoder_folder)  # RoFormer: no pooler
            runs.append(
                text.small_encoder_scores(
                    encoder,
                    tokenizer,
                    train,
                    {"validation": topics["validation"], "test": topics["test"]},
                    names,
                    lr=lr,
                    epochs=EPOCHS,
                    seed=seed,
                )
            )
        by_lr[lr] = runs
        print(f"   lr {lr:g}: validation {np.mean([r['validation'] for r in runs]):.3f}", flush=True)
    chosen = max(LRS, key=lambda lr: np.mean([r["validation"] for r in by_lr[lr]]))
    tests = [r["test"] for r in by_lr[chosen]]
    return {
        "lr": chosen,
        "validation": float(np.mean([r["validation"] for r in by_lr[chosen]])),
        "test_mean": float(np.mean(tests)),
        "test_sd": float(np.std(tests, ddof=1)),
        "test": tests,
        "validation_by_lr": {str(lr): float(np.mean([r["validation"] for r in runs])) for lr, runs in by_lr.items()},
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, nargs="+", default=[2, 5, 10, 20, 40])
    parser.add_argument("--warmup-steps", type=int, default=100)
    parser.add_argument("--add", action="store_true", help="keep the points already in the results file")
    parser.add_argument("--steps-per-minute", type=float, default=None, help="default: measured at the start")
    args = parser.parse_args()
    tlcourse.setup(profile="default", seed=0)
    sizes = pretraining_sizes()
    tokenizer, blocks, _ = mlm.corpus_blocks(sizes)
    special = tokenizer.all_special_ids
    masked = mlm.fixed_masks(blocks["validation"], tokenizer.mask_token_id, len(tokenizer), special)
    counts = mlm.CountModels(blocks["train"], len(tokenizer), special)
    frequent = counts.frequent_order[:100]
    topics = data.load("wiki_topics")
    names = topics["train"].features["label"].names
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    stream = batches(blocks["train"], collator, sizes["batch_size"], seed=0)
    torch.manual_seed(0)
    net = MaskedOnlyMLM(mlm.new_model(mlm.model_config(tokenizer, sizes)))
    optimizer = torch.optim.AdamW(parameter_groups(net, 0.01), lr=sizes["lr"])
    peak = sizes["lr"]
    results = {"sizes": sizes, "lrs": LRS, "seeds": SEEDS, "per_class": PER_CLASS, "epochs": EPOCHS, "points": []}
    uni_loss, uni_hit, _, _, kind, target = counts.evaluate(masked)
    results["unigram_mask_loss"] = mlm.mask_scores(uni_loss, uni_hit, kind, target, frequent)["mask_loss"]
    if args.add:
        results = json.loads(RESULTS.read_text())
        results["points"] = [p for p in results["points"] if p["minutes"] not in args.minutes]
    with tempfile.TemporaryDirectory() as folder:
        if not args.add:
            print("0 minutes (random weights)", flush=True)
            net.mlm.save_pretrained(folder)
            point = {
                "minutes": 0,
                "mask_loss": mlm.held_out(net.mlm, masked, frequent)["mask_loss"],
                **downstream(folder, tokenizer, topics, names),
            }
            results["points"].append(point)
        warm = lambda i, s0=0: peak * min(1.0, (s0 + i + 1) / args.warmup_steps)  # noqa: E731
        times = train_steps(net, optimizer, stream, 40, warm)  # these 40 steps count towards the first budget
        step_seconds = 60 / args.steps_per_minute if args.steps_per_minute else float(np.median(times[10:]))
        results["step_seconds"], steps = step_seconds, 40
        print(f"median step {1000 * step_seconds:.0f} ms: 1 minute = {60 / step_seconds:.0f} steps", flush=True)
        for minutes in sorted(args.minutes):
            total = round(minutes * 60 / step_seconds)
            stable_until = round(0.8 * total)
            train_steps(net, optimizer, stream, stable_until - steps, lambda i, s0=steps: warm(i, s0))
            steps = stable_until
            branch = copy.deepcopy(net)
            branch_optimizer = torch.optim.AdamW(parameter_groups(branch, 0.01), lr=peak)
            branch_optimizer.load_state_dict(optimizer.state_dict())
            decay_steps = total - stable_until
            train_steps(branch, branch_optimizer, stream, decay_steps, lambda i, n=decay_steps: peak * (1 - i / n))
            branch.mlm.save_pretrained(folder)
            scored = mlm.held_out(branch.mlm, masked, frequent)
            print(
                f"{minutes:g} minutes ({steps} stable + {decay_steps} decay steps): validation [MASK] loss "
                f"{scored['mask_loss']:.3f}",
                flush=True,
            )
            point = {
                "minutes": minutes,
                "stable_steps": steps,
                "decay_steps": decay_steps,
                "mask_loss": scored["mask_loss"],
                **downstream(folder, tokenizer, topics, names),
            }
            results["points"].append(point)
            results["points"].sort(key=lambda p: p["minutes"])
            print(json.dumps({k: point[k] for k in ("minutes", "mask_loss", "lr", "test_mean", "test_sd")}), flush=True)
            RESULTS.write_text(json.dumps(results, indent=1) + "\n")  # after each point: a partial run is kept


if __name__ == "__main__":
    main()
