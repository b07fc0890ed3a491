"""Tokens per second of MLM pretraining, before and after notebook 03's two speed-ups, same model and data:

  padded  + full head  : one paragraph per row, truncated at 128, padded to the batch's longest (the old recipe)
  packed  + full head  : paragraphs concatenated and cut into full 128-token blocks (no padding)
  packed  + masked head: the vocabulary projection only at the 15% of positions that are scored
  (and the same with bf16 autocast, which is fast only where the CPU computes bf16 natively: AVX-512-BF16, AMX)

Counted tokens are real (non-padding) tokens; time is the median step (forward, backward, AdamW) after warm-up,
batches of 32 rows, masks from DataCollatorForLanguageModeling made before the clock. Results appended to
benchmarks/results/mlm_speed.jsonl.

Run: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/mlm_speed.py [--arch roformer bert]
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from transformers import DataCollatorForLanguageModeling

import tlcourse
from tlcourse.lessons.mlm_pretraining import MaskedOnlyMLM, pretraining_sizes
from tlcourse.tools import mlm

RESULTS = Path(__file__).parent / "results" / "mlm_speed.jsonl"


def median_step_seconds(step, batches, warmup=3):
    times = []
    for i, batch in enumerate(batches):
        started = time.perf_counter()
        step(batch)
        if i >= warmup:
            times.append(time.perf_counter() - started)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", nargs="+", default=["roformer", "bert"])
    parser.add_argument("--steps", type=int, default=15)
    args = parser.parse_args()
    tlcourse.setup(profile="default", seed=0)
    sizes = pretraining_sizes()
    tokenizer, blocks, _ = mlm.corpus_blocks(sizes)
    from tlcourse.course import data

    paragraphs = tokenizer(
        list(data.load("wiki_corpus")["train"]["text"]), truncation=True, max_length=sizes["block_size"]
    )["input_ids"]
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    rng = np.random.default_rng(0)
    padded = [
        collator([{"input_ids": paragraphs[i]} for i in rng.choice(len(paragraphs), 32, replace=False)])
        for _ in range(args.steps)
    ]
    packed = [
        collator([{"input_ids": blocks["train"][i]} for i in rng.choice(len(blocks["train"]), 32, replace=False)])
        for _ in range(args.steps)
    ]
    cases = [
        (arch, name, batches, masked_head, sizes["hidden"], sizes["layers"])
        for arch in args.arch
        for name, batches, masked_head in [
            ("padded + full head", padded, False),
            ("packed + full head", packed, False),
            ("packed + masked head", packed, True),
        ]
    ]
    cases += [
        ("roformer", "packed + masked head", packed, True, 192, 2),  # what a wider or deeper model costs
        ("roformer", "packed + masked head", packed, True, 128, 4),
        ("roformer", "packed + masked head, bf16 autocast", packed, True, sizes["hidden"], sizes["layers"]),
    ]
    for arch, name, batches, masked_head, hidden, layers in cases:
        torch.manual_seed(0)
        model = mlm.new_model(mlm.model_config(tokenizer, {**sizes, "arch": arch, "hidden": hidden, "layers": layers}))
        net = MaskedOnlyMLM(model) if masked_head else model
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

        def step(batch):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled="bf16" in name):
                loss = net(**batch)["loss"]
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()

        seconds = median_step_seconds(step, batches)
        real = float(np.mean([int((b["input_ids"] != tokenizer.pad_token_id).sum()) for b in batches]))
        computed = float(np.mean([b["input_ids"].numel() for b in batches]))
        row = {
            "arch": arch,
            "hidden": hidden,
            "layers": layers,
            "recipe": name,
            "step_seconds": seconds,
            "tokens_per_second": real / seconds,
            "padding_share": 1 - real / computed,
            "threads": torch.get_num_threads(),
        }
        print(json.dumps(row), flush=True)
        with open(RESULTS, "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
