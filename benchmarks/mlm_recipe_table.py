"""The MLM recipe table with seeds: benchmarks/results/mlm_recipe.jsonl's rows measured with the shipped vocabulary,
grouped by configuration, as the Markdown table benchmarks/README.md shows (mean, and min to max over seeds).

Run: .venv/bin/python benchmarks/mlm_recipe_table.py
"""

import json
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "mlm_recipe.jsonl"
NAMES = {"roformer": "rotary (RoFormer)", "bert": "learned absolute (BERT)"}


def seeded_rows(path=RESULTS):
    """{(arch, lr, schedule, precision, epochs): [row per seed]} for the rows with vocab_sha256 (one vocabulary)."""
    groups = {}
    for row in map(json.loads, path.open()):
        if row.get("vocab_sha256"):
            s = row["sizes"]
            groups.setdefault((s["arch"], s["lr"], s["schedule"], s["precision"], s["epochs"]), []).append(row)
    return groups


def table(groups):
    lines = [
        "| position encoding | lr | schedule | epochs | seeds | validation loss at [MASK]: mean (min to max) "
        "| below the unigram | below the left-bigram |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for (arch, lr, schedule, precision, epochs), rows in sorted(
        groups.items(), key=lambda g: (g[0][0] != "roformer", g[0][1])
    ):
        loss = np.array([r["final"]["mask_loss"] for r in rows])
        unigram = rows[0]["yardsticks"]["unigram"]["mask_loss"]
        bigram = rows[0]["yardsticks"]["bigram"]["mask_loss"]
        lines.append(
            f"| {NAMES[arch]}{', bf16' if precision == 'bf16' else ''} | {lr:g} | {schedule} | {epochs} | {len(rows)} "
            f"| {loss.mean():.3f} ({loss.min():.3f} to {loss.max():.3f}) | {unigram - loss.mean():+.2f} "
            f"| {bigram - loss.mean():+.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    groups = seeded_rows()
    print(table(groups))
    first = next(iter(groups.values()))[0]["yardsticks"]
    print(
        f"\nYardsticks on the same validation masks: unigram {first['unigram']['mask_loss']:.3f}, "
        f"left-bigram {first['bigram']['mask_loss']:.3f} nats per [MASK] token."
    )
