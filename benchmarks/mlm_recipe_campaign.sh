#!/usr/bin/env bash
# The MLM recipe table of notebook 03, re-run with the shipped vocabulary and 3 seeds per configuration (issue 27's
# one campaign). Resumable: mlm_recipe.py skips a seed already in results/mlm_recipe.jsonl with the same sizes and
# vocabulary, so run this again after an interruption. About 6 minutes per seed on a 2-core CPU; run it alone.
# Order: the chosen recipe, learned positions at two rates, then the learning-rate, schedule and precision choices.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export HF_HUB_OFFLINE=1
run() { "$PY" benchmarks/mlm_recipe.py --epochs 7 --seeds 0 1 2 "$@"; }
run --arch roformer --lr 3e-3 --schedule wsd
run --arch bert --lr 3e-3 --schedule wsd
run --arch bert --lr 1e-3 --schedule wsd
run --arch roformer --lr 2e-3 --schedule wsd
run --arch roformer --lr 5e-3 --schedule wsd
run --arch roformer --lr 3e-3 --schedule linear
run --arch roformer --lr 3e-3 --schedule wsd --precision bf16
