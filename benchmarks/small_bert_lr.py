"""Notebook 04's small-BERT arms: the fine-tuning learning rate for `scratch` and `own_pretrained`, chosen on the
validation split per label budget (mean validation accuracy over 3 seeds). Random weights and pretrained ones often
want different rates, so each method gets its own. The test split is not read here.

own_pretrained is notebook 03's checkpoint from the course cache (default profile); if it is missing it is built with
notebook 03's recipe (tlcourse.tools.mlm.pretrain, several minutes). Writes benchmarks/results/small_bert_lr.json, which
notebook 04 reads.

Run: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/small_bert_lr.py
"""

import json
import time
from pathlib import Path

import numpy as np
import torch
from transformers import AutoConfig, AutoModel, AutoTokenizer

import tlcourse
from tlcourse.course import data, models
from tlcourse.tools import mlm, text

RESULTS = Path(__file__).parent / "results" / "small_bert_lr.json"
LRS = [1e-3, 3e-3, 1e-2]  # 3e-4 lost everywhere in mlm_compute_curve.py; 3e-3, its top, won there
SEEDS = [0, 1, 2]
EPOCHS = {8: 20, 32: 10, 128: 4, "all": 2}  # notebook 04's epochs_small_bert (default profile)


def encoder(path, config, pretrained, seed):
    torch.manual_seed(seed)  # scratch: the seed also draws the random weights
    if pretrained:
        return AutoModel.from_pretrained(path)  # RoFormer has no pooler
    return AutoModel.from_config(config)


def main():
    tlcourse.setup(profile="default", seed=0)
    try:
        path = models.resolve(text.OWN_BERT)
    except models.ModelNotAvailable:
        print("building notebook 03's checkpoint with tlcourse.tools.mlm.pretrain ...", flush=True)
        mlm.pretrain(models.save_dir(text.OWN_BERT))
        path = models.resolve(text.OWN_BERT)
    tokenizer, config = AutoTokenizer.from_pretrained(path), AutoConfig.from_pretrained(path)
    topics = data.load("wiki_topics")
    names = topics["train"].features["label"].names
    results = {
        "lrs": LRS,
        "seeds": SEEDS,
        "epochs": {str(k): v for k, v in EPOCHS.items()},
        "chosen": {},
        "validation": {},
    }
    for method in ["scratch", "own_pretrained"]:
        for per_class, epochs in EPOCHS.items():
            rows = text.label_budget(topics["train"]["label"], None if per_class == "all" else per_class)
            train = topics["train"].select(rows)
            seeds = SEEDS if per_class in (8, 32) else SEEDS[:1]
            by_lr = {}
            for lr in LRS:
                started = time.perf_counter()
                scores = [
                    text.small_encoder_scores(
                        encoder(path, config, method == "own_pretrained", seed),
                        tokenizer,
                        train,
                        {"validation": topics["validation"]},
                        names,
                        lr=lr,
                        epochs=epochs,
                        seed=seed,
                    )["validation"]
                    for seed in seeds
                ]
                by_lr[lr] = float(np.mean(scores))
                print(
                    f"{method:15} {per_class!s:>4}/class lr {lr:g}: validation {by_lr[lr]:.3f} "
                    f"({len(seeds)} seeds, {time.perf_counter() - started:.0f} s)",
                    flush=True,
                )
            chosen = max(LRS, key=by_lr.get)
            results["chosen"].setdefault(method, {})[str(per_class)] = chosen
            results["validation"].setdefault(method, {})[str(per_class)] = {str(k): v for k, v in by_lr.items()}
            RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results["chosen"]))


if __name__ == "__main__":
    main()
