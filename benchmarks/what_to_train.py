"""What to train, over 3 seeds: notebook 06's section 1 table (head only, top 2 layers, full, LoRA), and full
fine-tuning under bf16 autocast (its section 3).

Each way of training MiniLM, as notebook 06's `train_and_score` runs it: `adapt(encoder, way)` and the encoder
rate `ENCODER_LR[way]` (tlcourse.lessons.efficient_fine_tuning_and_scaling), LP-FT with the course loop
(`tools.text.fine_tune`: the head starts from a linear probe on frozen mean-pooled features, head rate 1e-3),
the default profile's settings (32 labelled paragraphs per topic, 4 epochs, batch 16, max_length 32). The seed
sets what a run draws: LoRA's initial A matrices, the data order and dropout; the training paragraphs and the
probe are the same in every seed. Each run is scored once on wiki_topics' whole test split and keeps which test
paragraphs it got right (`right`, a string of 0 and 1), so that ways can be compared paired, paragraph by
paragraph. One JSON line per (way, precision, seed) in results/what_to_train.jsonl, written as it comes; a rerun
skips what is there. bf16 runs only where a bf16 training step is less than 2x as slow as a float32 one (the
notebook's rule: where bf16 is emulated the slowdown is the result).

    flock /tmp/heavy.lock env HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2 .venv/bin/python benchmarks/what_to_train.py
    .venv/bin/python benchmarks/what_to_train.py --table     # the table from the results, nothing trained

About 10 minutes on the 2-core reference machine. Notebook 06 trains LoRA at seed 0 live and reads the rest.
"""

import argparse
import json
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "what_to_train.jsonl"
SETTINGS = {"per_class": 32, "epochs": 4, "max_length": 32, "batch_size": 16, "lr_head": 1e-3}
SEEDS = (0, 1, 2)
UNITS = [(way, "no") for way in ("head_only", "top2", "full", "lora")] + [("full", "bf16")]


def done():
    if not RESULTS.exists():
        return set()
    rows = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]
    return {(r["way"], r["precision"], r["seed"]) for r in rows}


def bf16_step_ratio(model, batch):
    """Median bf16 step time over float32's (one batch, forward, backward, AdamW)."""
    import torch

    from tlcourse.tools import measure

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)

    def step(dtype):
        with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = model(**batch)["loss"]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    fp32 = measure.median_seconds(lambda: step(None), repeats=3, warmup=1)
    return measure.median_seconds(lambda: step(torch.bfloat16), repeats=3, warmup=1) / fp32


def main(seeds):
    import warnings

    import numpy as np
    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer, DataCollatorWithPadding

    import tlcourse
    from tlcourse.course import data, env, models
    from tlcourse.lessons.efficient_fine_tuning_and_scaling import ENCODER_LR, adapt
    from tlcourse.tools import evaluate, text

    transformers.logging.set_verbosity_error()
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")  # a notice peft triggers
    device = tlcourse.setup(seed=0)
    topics = data.load("wiki_topics")
    names = topics["train"].features["label"].names
    train = topics["train"].select(text.label_budget(topics["train"]["label"], SETTINGS["per_class"]))
    test = topics["test"]
    model_path = models.resolve("minilm")
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    collate = DataCollatorWithPadding(tokenizer)
    max_length = SETTINGS["max_length"]
    train_tokens = text.classification_tokens(train, tokenizer, max_length)
    test_tokens = text.classification_tokens(test, tokenizer, max_length)
    probe = text.linear_probe(
        text.embed(AutoModel.from_pretrained(model_path), tokenizer, train["text"], max_length), train["label"]
    )

    def encoder(way, seed):
        torch.manual_seed(seed)  # LoRA's A matrices start random
        return adapt(AutoModel.from_pretrained(model_path, add_pooling_layer=False), way)

    batch = collate([train_tokens[i] for i in range(SETTINGS["batch_size"])])
    ratio = bf16_step_ratio(text.classifier_from_probe(encoder("full", 0), probe, names), batch)
    print(f"bf16 step / float32 step: {ratio:.2f}", flush=True)
    finished = done()
    for seed in seeds:
        for way, precision in UNITS:
            if (way, precision, seed) in finished:
                continue
            if precision == "bf16" and ratio >= 2:
                print(f"bf16 is emulated here ({ratio:.1f}x float32's step): not run", flush=True)
                continue
            started = time.perf_counter()
            model, _ = text.fine_tune(
                encoder(way, seed),
                tokenizer,
                train,
                names,
                probe,
                max_length=max_length,
                epochs=SETTINGS["epochs"],
                batch_size=SETTINGS["batch_size"],
                lr_encoder=ENCODER_LR[way],
                lr_head=SETTINGS["lr_head"],
                seed=seed,
                mixed_precision=precision,
                plot=False,
                progress=False,
            )
            seconds = time.perf_counter() - started
            logits, labels = evaluate.predict(model, test_tokens, collate)
            right = logits.argmax(-1) == labels
            row = {
                "way": way,
                "precision": precision,
                "seed": seed,
                "accuracy": float(np.mean(right)),
                "trainable_parameters": models.count_parameters(model, trainable_only=True),
                "train_seconds": seconds,
                "bf16_step_vs_fp32": ratio,
                "test_paragraphs": len(labels),
                "right": "".join("1" if r else "0" for r in right),
                **SETTINGS,
                "device": device.type,
                "threads": torch.get_num_threads(),
                "cpu": env.cpu_model(),
                "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                "torch": torch.__version__,
                "python": platform.python_version(),
            }
            with RESULTS.open("a") as out:
                out.write(json.dumps(row) + "\n")
            print({k: v for k, v in row.items() if k != "right"}, flush=True)


def table():
    """Per way: test accuracy over the seeds, and the paired difference from full fine-tuning (same precision
    for full: float32), as notebook 06 shows it."""
    import numpy as np
    import pandas as pd

    from tlcourse.tools import evaluate

    rows = pd.read_json(RESULTS, lines=True, dtype={"right": str})  # digits, not a number
    right = {
        key: np.stack([np.array(list(r), dtype=int) for r in group.sort_values("seed")["right"]])
        for key, group in rows.groupby(["way", "precision"])
    }
    full = right[("full", "no")]
    out = []
    for (way, precision), group in rows.groupby(["way", "precision"], sort=False):
        runs = right[(way, precision)]
        gap, low, high = evaluate.paired_bootstrap(runs.mean(0), full.mean(0))
        per_seed = runs.mean(1) - full.mean(1)
        out.append(
            {
                "way": way,
                "precision": precision,
                "seeds": len(group),
                "accuracy": group.accuracy.mean(),
                "sd": group.accuracy.std(),
                "min": group.accuracy.min(),
                "max": group.accuracy.max(),
                "minus_full": gap,
                "low": low,
                "high": high,
                "per_seed_min": per_seed.min(),
                "per_seed_max": per_seed.max(),
                "train_seconds": group.train_seconds.median(),
                "trainable": int(group.trainable_parameters.iloc[0]),
            }
        )
    print(pd.DataFrame(out).round(4).to_string(index=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--table", action="store_true", help="print the table from the results; train nothing")
    args = parser.parse_args()
    table() if args.table else main(args.seeds)
