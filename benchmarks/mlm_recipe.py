"""Which small MLM learns context on a 2-core CPU? Notebook 03's recipe (packed 128-token blocks, head at
masked positions, fresh masks every epoch) for one configuration, scored after every epoch on fixed masks of
the *validation* blocks, against the unigram and left-bigram count models. One configuration per process, one
row per seed appended to benchmarks/results/mlm_recipe.jsonl; a rerun skips the seeds already there.

Every row trains and is scored with one tokenizer, the course's shipped vocabulary (its sha256 is in the row). Rows
without `vocab_sha256` were measured before that fix, with a vocabulary trained afresh in each process and a second
one inside pretrain(), so their model and their yardsticks did not share a vocabulary: compare them with each other
only with care.

Run: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/mlm_recipe.py --arch roformer --lr 3e-3 --epochs 7 --seeds 0 1 2
"""

import argparse
import json
import time
from pathlib import Path

import tlcourse
from tlcourse.course.env import versions
from tlcourse.lessons.mlm_pretraining import pretraining_sizes, vocabulary_sha256
from tlcourse.tools import mlm

RESULTS = Path(__file__).parent / "results" / "mlm_recipe.jsonl"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", default="roformer", choices=["roformer", "bert"])
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--schedule", default="linear", choices=["linear", "wsd"])
    parser.add_argument("--precision", default="no", choices=["no", "bf16"], help="bf16: autocast (mixed precision)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--whole-word", action="store_true", help="whole-word masking (all pieces of a word at once)")
    args = parser.parse_args()
    for seed in args.seeds:
        run(args, seed)


def run(args, seed):
    tlcourse.setup(profile="default", seed=seed, threads=args.threads)
    sizes = {
        **pretraining_sizes(),
        "arch": args.arch,
        "lr": args.lr,
        "epochs": args.epochs,
        "hidden": args.hidden,
        "layers": args.layers,
        "vocab_size": args.vocab,
        "whole_word": args.whole_word,
        "schedule": args.schedule,
        "precision": args.precision,
    }
    tokenizer, blocks, _ = mlm.corpus_blocks(sizes)
    vocab = vocabulary_sha256(tokenizer)
    previous = [json.loads(line) for line in RESULTS.open()] if RESULTS.exists() else []
    if any(r["sizes"] == sizes and r.get("seed") == seed and r.get("vocab_sha256") == vocab for r in previous):
        print(f"seed {seed}: already in {RESULTS.name}, skipped")
        return
    special = tokenizer.all_special_ids
    masked = mlm.fixed_masks(blocks["validation"], tokenizer.mask_token_id, len(tokenizer), special)
    counts = mlm.CountModels(blocks["train"], len(tokenizer), special)
    uni_loss, uni_hit, bi_loss, bi_hit, kind, target = counts.evaluate(masked)
    frequent = counts.frequent_order[:100]
    yardsticks = {
        "unigram": mlm.mask_scores(uni_loss, uni_hit, kind, target, frequent),
        "bigram": mlm.mask_scores(bi_loss, bi_hit, kind, target, frequent),
    }
    started = time.perf_counter()
    curve = []

    def score(model):
        result = mlm.held_out(model, masked, frequent)
        result["train_seconds"] = time.perf_counter() - started  # includes earlier evaluations (a few s each)
        curve.append(result)
        print(
            {k: round(v, 3) for k, v in result.items() if k in ("mask_loss", "mask_accuracy", "train_seconds")},
            flush=True,
        )
        return {}

    model, trained_with, _, history, seconds = mlm.pretrain(
        sizes=sizes, seed=seed, eval_fn=score, tokenizer=tokenizer, progress=False
    )
    assert vocabulary_sha256(trained_with) == vocab  # the model is scored with the vocabulary it trained on
    train_tokens = blocks["train"].size * args.epochs
    train_seconds = sum(e["seconds"] for e in history.epochs)
    row = {
        "sizes": sizes,
        "seed": seed,
        "vocab_sha256": vocab,
        "versions": versions(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_seconds": train_seconds,
        "tokens_per_second": train_tokens / train_seconds,
        "yardsticks": yardsticks,
        "curve": curve,
        "final": curve[-1],
        "gain_over_unigram": yardsticks["unigram"]["mask_loss"] - curve[-1]["mask_loss"],
        "cpu_flags": sorted({f for f in open("/proc/cpuinfo").read().split() if f.startswith("avx512")})[:3],
    }
    print(
        json.dumps({k: row[k] for k in ("train_seconds", "tokens_per_second", "gain_over_unigram")}),
        "unigram",
        round(yardsticks["unigram"]["mask_loss"], 3),
        "bigram",
        round(yardsticks["bigram"]["mask_loss"], 3),
    )
    RESULTS.parent.mkdir(exist_ok=True)
    with open(RESULTS, "a") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
