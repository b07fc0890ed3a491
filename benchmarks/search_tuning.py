"""Notebook 07's search settings per query type, chosen on the validation split: BM25's k1 and b, and BM25's weight
in the fusion with MiniLM.

The collection: wiki_topics' validation paragraphs with 3 sentences or more, each with one sentence taken out (the
recipe's inverse cloze task, seed 0, read from the notebook). Two query types, query i answered by document i:
"sentence" (the sentence taken out) and "title" (the article's title). For each type: BM25 (notebook 07's
`bm25_rankings`, English stop words) over every (k1, b) of the grid, scored by MRR over the top 100, the best kept
(ties: the first in grid order); then the weighted reciprocal-rank fusion (`weighted_fusion`) of that BM25 with MiniLM
(128 tokens) over the weights 0, 0.1, ..., 1, the best kept the same way. BM25 with its usual defaults (k1 1.5,
b 0.75) and MiniLM alone are scored beside them. The test split is not read. Results in
results/search_tuning.json, which notebook 07 reads; the notebook re-scores BM25 at the chosen setting on the same
queries and checks the file's number (BM25 is deterministic).

Resumable: a query type already in the results file is skipped.

    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2 .venv/bin/python benchmarks/search_tuning.py      # about a minute on 2 cores
"""

import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "search_tuning.json"
GRID = [(k1, b) for k1 in (0.6, 0.9, 1.2, 1.5, 2.0, 3.0) for b in (0.3, 0.5, 0.75, 0.9)]
WEIGHTS = [float(round(w, 1)) for w in np.arange(0.0, 1.01, 0.1)]
SEARCH_LENGTH = 128  # tokens of a document (and a query) MiniLM reads, as in notebook 07


def main():
    from sentence_transformers import SentenceTransformer

    from tlcourse.course import data, env, models, runner
    from tlcourse.lessons.applications_search import bm25_rankings, weighted_fusion
    from tlcourse.tools import evaluate

    recipe = runner.run_recipe("07_applications_search")  # the inverse cloze task exactly as the notebook has it
    validation = data.load("wiki_topics")["validation"]
    queries, documents, used = recipe["inverse_cloze_pairs"](list(validation["text"]), seed=0)
    query_sets = {"sentence": queries, "title": [validation["title"][i] for i in used]}
    answer = np.arange(len(queries))
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.update(
        {
            "validation_queries": len(queries),
            "grid": [list(s) for s in GRID],
            "weights": WEIGHTS,
            "selection": "MRR over the top 100 on the validation queries; ties: the first in grid order",
        }
    )
    by_type = results.setdefault("by_type", {})
    minilm = SentenceTransformer(str(models.minilm_path()))
    minilm.max_seq_length = SEARCH_LENGTH

    def encode(texts):
        return minilm.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True)

    document_vectors = None
    for kind, texts in query_sets.items():
        if kind in by_type:
            print(f"{kind}: done before, skipped", flush=True)
            continue
        started = time.perf_counter()
        if document_vectors is None:
            document_vectors = encode(documents)
        dense = evaluate.top_k(encode(texts), document_vectors, k=100)
        lexical = {s: bm25_rankings(documents, texts, *s) for s in GRID}
        bm25_mrr = {s: evaluate.retrieval_scores(lexical[s], answer)["mrr"] for s in GRID}
        k1, b = max(GRID, key=bm25_mrr.get)
        fused = {w: weighted_fusion(lexical[k1, b], dense, w) for w in WEIGHTS}
        fusion_mrr = {w: evaluate.retrieval_scores(fused[w], answer)["mrr"] for w in WEIGHTS}
        w = max(WEIGHTS, key=fusion_mrr.get)
        by_type[kind] = {
            "chosen": {"k1": k1, "b": b, "w": w},
            "scores": {
                "bm25": evaluate.retrieval_scores(lexical[1.5, 0.75], answer),
                "bm25_tuned": evaluate.retrieval_scores(lexical[k1, b], answer),
                "minilm": evaluate.retrieval_scores(dense, answer),
                "hybrid_tuned": evaluate.retrieval_scores(fused[w], answer),
            },
            "bm25_mrr_by_k1_b": [[k1_, b_, bm25_mrr[k1_, b_]] for k1_, b_ in GRID],
            "fusion_mrr_by_weight": [[w_, fusion_mrr[w_]] for w_ in WEIGHTS],
            "seconds": round(time.perf_counter() - started, 1),
        }
        results["environment"] = env.versions()
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")  # each query type as it is done
        print(kind, by_type[kind]["chosen"], {m: round(s["mrr"], 4) for m, s in by_type[kind]["scores"].items()})
    print("->", RESULTS.relative_to(ROOT))


if __name__ == "__main__":
    main()
