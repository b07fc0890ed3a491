"""How notebook 07 adapts MiniLM to the Wikipedia paragraphs for search: learning rate and number of pairs,
chosen on the validation split.

The recipe cell (read from the notebook, run as it is) fine-tunes MiniLM on inverse-cloze pairs from wiki_topics'
training paragraphs with in-batch negatives. Each run is scored by the inverse cloze task on the validation
paragraphs (one sentence out as the query, the rest of every paragraph as the collection): recall@1, recall@5 and
MRR over the top 100, as notebook 07 scores them. First the learning rate at 512 pairs, three seeds each (seed:
which pairs, and their order), chosen by the mean MRR over the seeds (one seed's differences are within the spread
between seeds); the largest rate, clearly worse, at one seed. Then more pairs at the chosen rate (what the full
profile uses). Then the notebook's live setting (the default profile's 512 pairs at the chosen rate, with the
recipe's held-out check made smaller, as notebook 07 calls it) over three seeds, so that the notebook can put its
run beside them, and a shorter run (128 pairs: four optimizer steps) the same way; these runs also record the
recipe's own held-out check (its MRR before and after). A run at the live setting replaces an earlier run of the same
rate, pairs and seed made without the check (training does not depend on the check, so its scores should repeat).
The test split is not read.

Resumable: the runs already in the results file are kept and not run again; the file is written after each run.

    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2 .venv/bin/python benchmarks/retrieval_adapt.py   # about 25 minutes on 2 cores
"""

import json
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "retrieval_adapt.json"
RATES = [1e-5, 2e-5, 5e-5, 1e-4]
SEEDS = [0, 1, 2]
TOO_HIGH = 2e-4  # one seed: far below the others, and below the model as installed
PAIRS = 512
MORE_PAIRS = [1024, 2048]
# notebook 07's default profile: adapt_pairs, and its held-out check (check_pairs, check_pool)
NOTEBOOK_PAIRS, NOTEBOOK_CHECK = 512, (64, 256)
SHORT_PAIRS = 128  # four optimizer steps


def main():
    from tlcourse.course import data, env, models, runner
    from tlcourse.tools import evaluate

    namespace = runner.run_recipe("07_applications_search")  # the recipe exactly as the notebook has it
    topics = data.load("wiki_topics")
    queries, documents, _ = namespace["inverse_cloze_pairs"](list(topics["validation"]["text"]), seed=0)
    train_paragraphs = list(topics["train"]["text"])
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    runs = results.get("runs", [])

    def same(row, lr, pairs, seed):
        return row["lr"] == lr and row["pairs"] == pairs and row["seed"] == seed

    def done(lr, pairs, seed, check=None):
        return any(
            same(r, lr, pairs, seed) and (check is None or (r.get("check_pairs"), r.get("check_pool")) == check)
            for r in runs
        )

    def save(**fields):
        results.update(fields, validation_queries=len(queries), runs=runs)
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")

    def score(model):
        model.max_seq_length = 128
        found = evaluate.top_k(
            model.encode(queries, normalize_embeddings=True), model.encode(documents, normalize_embeddings=True), k=100
        )
        return evaluate.retrieval_scores(found, np.arange(len(queries)))

    if not done(None, 0, None):
        model = namespace["SentenceTransformer"](str(models.minilm_path()))
        runs.insert(0, {"lr": None, "pairs": 0, "seed": None, "seconds": 0.0, **score(model)})
        save()
        print(runs[0], flush=True)

    def run(lr, pairs, seed, check=None):
        if done(lr, pairs, seed, check):
            return
        held_out = {"held_out": check[0], "pool": check[1]} if check else {}
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            model, held = namespace["adapt_retriever"](
                train_paragraphs, models.minilm_path(), folder, pairs=pairs, lr=lr, seed=seed, **held_out
            )
            seconds = time.perf_counter() - start
        row = {"lr": lr, "pairs": pairs, "seed": seed, "seconds": round(seconds, 1), **score(model)}
        if check:  # the recipe's own held-out check, as the notebook runs it
            row |= {"check_pairs": check[0], "check_pool": check[1]}
            row |= {"check_mrr_start": held["mrr_start"], "check_mrr_adapted": held["mrr_adapted"]}
            row["environment"] = env.versions()
        earlier = [i for i, r in enumerate(runs) if same(r, lr, pairs, seed)]
        if earlier:  # the same run made without the check: replaced, its scores kept beside for comparison
            row["scores_before_rerun"] = {k: runs[earlier[0]][k] for k in ("recall_at_1", "recall_at_5", "mrr")}
            runs[earlier[0]] = row
        else:
            runs.append(row)
        save()
        print(row, flush=True)

    for lr in RATES:
        for seed in SEEDS:
            run(lr, PAIRS, seed)
    run(TOO_HIGH, PAIRS, 0)

    def choose():
        by_rate = {lr: [r["mrr"] for r in runs if r["lr"] == lr and r["pairs"] == PAIRS] for lr in RATES}
        summary = {
            str(lr): {"mean_mrr": float(np.mean(m)), "sd_mrr": float(np.std(m, ddof=1))} for lr, m in by_rate.items()
        }
        best = max(RATES, key=lambda lr: np.mean(by_rate[lr]))
        save(chosen_lr=best, selection="mean MRR over seeds 0-2 at 512 pairs", by_rate=summary)
        return best

    best = choose()
    for pairs in MORE_PAIRS:
        run(best, pairs, 0)
    for pairs in (NOTEBOOK_PAIRS, SHORT_PAIRS):
        for seed in SEEDS:
            run(best, pairs, seed, check=NOTEBOOK_CHECK)
    if choose() != best:  # the reruns at the live setting changed the choice: run again to follow it
        print("the reruns changed the chosen rate to", results["chosen_lr"], "; run again")
    print("chosen lr", results["chosen_lr"], "->", RESULTS.relative_to(ROOT))


if __name__ == "__main__":
    main()
