"""Notebook 04's small-BERT arms: the fine-tuning learning rate for `scratch`, `own_pretrained` and
`course_pretrained`, chosen on the validation split per label budget (mean validation accuracy over 3 seeds). Random
weights and pretrained ones often want different rates, so each method gets its own. The test split is not read here.

own_pretrained is notebook 03's checkpoint from the course cache (default profile); if it is missing it is built with
notebook 03's recipe (tlcourse.tools.mlm.pretrain, several minutes). course_pretrained is the course's shipped,
longer-pretrained checkpoint (`mlm-wiki-roformer`, made by benchmarks/course_checkpoints.py). Every method starts
from the same grid (LRS); while its best rate is the lowest or highest tried, the next rate on LADDER beyond it runs
too, so the choice ends inside the grid. Writes benchmarks/results/small_bert_lr.json after every rate (a rerun
keeps the rates it holds and runs only the missing ones), which notebook 04 reads.

Run: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/small_bert_lr.py [--methods course_pretrained]
"""

import argparse
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
LRS = [1e-3, 3e-3, 1e-2]  # where the search starts (3e-3, mlm_compute_curve.py's top, won there)
LADDER = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]  # the grid grows one rung past an edge its best rate sits at
SEEDS = [0, 1, 2]
EPOCHS = {8: 20, 32: 10, 128: 4, "all": 2}  # notebook 04's epochs_small_bert (default profile)


def encoder(path, config, pretrained, seed):
    torch.manual_seed(seed)  # scratch: the seed also draws the random weights
    if pretrained:
        return AutoModel.from_pretrained(path)  # RoFormer has no pooler
    return AutoModel.from_config(config)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--methods", nargs="+", default=["scratch", "own_pretrained", "course_pretrained"])
    args = parser.parse_args()
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
    if "course_pretrained" in args.methods:
        course_path = models.course_checkpoint("mlm-wiki-roformer")
        assert AutoTokenizer.from_pretrained(course_path).get_vocab() == tokenizer.get_vocab()  # one vocabulary
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"chosen": {}, "validation": {}}
    results |= {"lrs": LRS, "seeds": SEEDS, "epochs": {str(k): v for k, v in EPOCHS.items()}}
    for method in args.methods:
        for per_class, epochs in EPOCHS.items():
            rows = text.label_budget(topics["train"]["label"], None if per_class == "all" else per_class)
            train = topics["train"].select(rows)
            seeds = SEEDS if per_class in (8, 32) else SEEDS[:1]
            by_lr = {float(k): v for k, v in results["validation"].get(method, {}).get(str(per_class), {}).items()}
            lrs = sorted(set(LRS) | set(by_lr))
            while True:  # the grid grows past an edge the best rate sits at, along LADDER
                for lr in [lr for lr in lrs if lr not in by_lr]:
                    started = time.perf_counter()
                    scores = [
                        text.small_encoder_scores(
                            encoder(
                                course_path if method == "course_pretrained" else path,
                                config,
                                method != "scratch",
                                seed,
                            ),
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
                    results["validation"].setdefault(method, {})[str(per_class)] = {str(k): v for k, v in by_lr.items()}
                    RESULTS.write_text(json.dumps(results, indent=1) + "\n")  # resumable
                best = LADDER.index(max(lrs, key=by_lr.get))
                beyond = {LADDER.index(lrs[0]): best - 1, LADDER.index(lrs[-1]): best + 1}.get(best)
                if beyond is None or not 0 <= beyond < len(LADDER):
                    break
                lrs = sorted([*lrs, LADDER[beyond]])
            chosen = max(by_lr, key=by_lr.get)
            results["chosen"].setdefault(method, {})[str(per_class)] = chosen
            results["validation"].setdefault(method, {})[str(per_class)] = {str(k): v for k, v in by_lr.items()}
            RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results["chosen"]))


if __name__ == "__main__":
    main()
