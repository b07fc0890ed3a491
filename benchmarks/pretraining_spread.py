"""Pretraining is a random factor. Notebook 03's recipe (default profile, the course's shipped vocabulary) is run
with three pretraining seeds and once more under AVX2 kernels; each checkpoint is fine-tuned as notebook 04 does
(own_pretrained against scratch at 8 and 32 labels per class, LP-FT, notebook 04's epochs and its learning rates
from benchmarks/results/small_bert_lr.json), with 3 fine-tuning seeds. The label draw is resampled with each
fine-tuning seed and shared by both arms, so each own-minus-scratch difference is paired.

Notebook 03 shows the spread of the pretraining losses across these checkpoints and notebook 04 the spread of the
own-minus-scratch margin; `python -m tlcourse publish` reads the ranges from here.

Resumable: every pretraining and every fine-tuning is one line of benchmarks/results/pretraining_spread.jsonl, and
a rerun skips what is there (checkpoints are kept in <TLCOURSE_CACHE>/benchmarks/pretraining-spread/).
Run: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/pretraining_spread.py [--run seed1]   (about 8 minutes per run)
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "pretraining_spread.jsonl"
AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
RUNS = {"seed0": (0, {}), "seed1": (1, {}), "seed2": (2, {}), "seed0-avx2": (0, AVX2)}
BUDGETS = {8: 20, 32: 10}  # labels per class: notebook 04's epochs for the small BERTs
FINE_TUNING_SEEDS = [0, 1, 2]


def done():
    rows = [json.loads(line) for line in RESULTS.open()] if RESULTS.exists() else []
    return rows, {(r["run"], r["kind"], r.get("arm"), r.get("per_class"), r.get("seed")) for r in rows}


def append(row):
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a") as f:
        f.write(json.dumps(row) + "\n")
    print({k: v for k, v in row.items() if not isinstance(v, dict)}, flush=True)


def one_run(name):
    """Runs in a process whose kernel variables are already set: pretrain, then fine-tune both arms."""
    import time

    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    import tlcourse
    from tlcourse.course import data
    from tlcourse.course.config import cache_dir
    from tlcourse.lessons.mlm_pretraining import pretraining_sizes, vocabulary_sha256
    from tlcourse.tools import evaluate, mlm, text

    seed, _ = RUNS[name]
    tlcourse.setup(profile="default", seed=seed)
    _, finished = done()
    machine = {"cpu_capability": torch.backends.cpu.get_cpu_capability(), "torch": torch.__version__}
    sizes = pretraining_sizes()
    folder = cache_dir() / "benchmarks" / "pretraining-spread" / name
    if (name, "pretraining", None, None, None) not in finished:
        tokenizer, blocks, _ = mlm.corpus_blocks(sizes)
        special = tokenizer.all_special_ids
        test_masked = mlm.fixed_masks(blocks["test"], tokenizer.mask_token_id, len(tokenizer), special, seed=321)
        counts = mlm.CountModels(blocks["train"], len(tokenizer), special)
        uni_loss, uni_hit, bi_loss, bi_hit, kind, target = counts.evaluate(test_masked)
        frequent = counts.frequent_order[:100]
        model, trained_with, _, history, seconds = mlm.pretrain(
            folder, sizes, seed=seed, tokenizer=tokenizer, progress=False
        )
        assert vocabulary_sha256(trained_with) == vocabulary_sha256(tokenizer)  # one tokenizer, trained and scored
        final = mlm.held_out(model, test_masked, frequent)
        append(
            {
                "run": name,
                "kind": "pretraining",
                "seed": None,
                **machine,
                "pretraining_seed": seed,
                "epochs": sizes["epochs"],
                "vocab_sha256": vocabulary_sha256(tokenizer),
                "corpus_tokens": int(blocks["train"].size),
                "unigram_loss": float(uni_loss[kind == 1].mean()),
                "bigram_loss": float(bi_loss[kind == 1].mean()),
                "mask_loss_final": final["mask_loss"],
                "mask_accuracy_final": final["mask_accuracy"],
                "train_seconds": sum(e["seconds"] for e in history.epochs),
                "wall_seconds": seconds,
            }
        )
    tokenizer = AutoTokenizer.from_pretrained(folder)
    config = AutoModel.from_pretrained(folder).config
    topics = data.load("wiki_topics")
    names = topics["train"].features["label"].names
    test = text.classification_tokens(topics["test"], tokenizer, 32)
    chosen = json.loads((RESULTS.parent / "small_bert_lr.json").read_text())["chosen"]
    from transformers import DataCollatorWithPadding

    collate = DataCollatorWithPadding(tokenizer)
    for per_class, epochs in BUDGETS.items():
        for ft_seed in FINE_TUNING_SEEDS:
            for arm in ["scratch", "own_pretrained"]:
                run = name if arm == "own_pretrained" else f"scratch-{machine['cpu_capability']}"
                if (run, "fine-tuning", arm, per_class, ft_seed) in finished:
                    continue
                torch.manual_seed(ft_seed)  # scratch: the seed also draws the random weights
                encoder = (
                    AutoModel.from_pretrained(folder) if arm == "own_pretrained" else AutoModel.from_config(config)
                )
                rows = text.label_budget(topics["train"]["label"], per_class, seed=ft_seed)  # a new draw per seed
                lr = chosen[arm][str(per_class)]
                started = time.perf_counter()
                model, _ = text.fine_tune(
                    encoder,
                    tokenizer,
                    topics["train"].select(rows),
                    names,
                    max_length=32,
                    epochs=epochs,
                    lr_encoder=lr,
                    lr_head=lr,
                    seed=ft_seed,
                    plot=False,
                    progress=False,
                )
                logits, labels = evaluate.predict(model, test, collate)
                append(
                    {
                        "run": run,
                        "kind": "fine-tuning",
                        "arm": arm,
                        "per_class": per_class,
                        "seed": ft_seed,
                        **machine,
                        "lr": lr,
                        "epochs": epochs,
                        "accuracy": float(np.mean(logits.argmax(-1) == labels)),
                        "seconds": time.perf_counter() - started,
                    }
                )
                finished.add((run, "fine-tuning", arm, per_class, ft_seed))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", choices=sorted(RUNS), help="one run (default: every run, each in its own process)")
    args = parser.parse_args()
    if args.run:
        return one_run(args.run)
    for name, (_, variables) in RUNS.items():  # a process each: kernel variables are read when torch loads
        subprocess.run([sys.executable, __file__, "--run", name], env={**os.environ, **variables}, check=True)
    return None


if __name__ == "__main__":
    main()
