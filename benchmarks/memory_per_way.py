"""Peak training memory of each way of training (notebook 06's section 1 and 3), one configuration per process.

Each configuration runs `python -m tlcourse.tools.memory WAY` in a fresh process (`memory.in_fresh_process`,
exactly as notebook 06 calls it): MiniLM with a mean-pool head adapted by notebook 06's `adapt(way)`, three
training steps (forward, backward, AdamW) on one batch of 16 rows x 32 tokens; the peak above the built model's
memory, and the account of it from the tensors (gradients, AdamW's moments, saved activations, short-lived
buffers). Configurations: head only, top 2 layers, full, LoRA in float32, and full under bf16 autocast; three
fresh processes each (the account is the same every time; the peak moves by a few MB). One JSON line per
(way, precision, repeat) in results/memory_per_way.jsonl, written as it comes; a rerun skips what is there.

    flock /tmp/heavy.lock env HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2 .venv/bin/python benchmarks/memory_per_way.py

About 3 minutes on the 2-core reference machine. Notebook 06 measures full fine-tuning live and reads the rest.
"""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "memory_per_way.jsonl"
CONFIGURATIONS = [(way, "no") for way in ("head_only", "top2", "full", "lora")] + [("full", "bf16")]
REPEATS = 3


def main():
    import torch

    from tlcourse.course import env
    from tlcourse.tools import memory

    rows = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()] if RESULTS.exists() else []
    finished = {(r["way"], r["precision"], r["repeat"]) for r in rows}
    for repeat in range(REPEATS):
        for way, precision in CONFIGURATIONS:
            if (way, precision, repeat) in finished:
                continue
            row = memory.in_fresh_process(way, precision=precision) | {
                "repeat": repeat,
                "cpu": env.cpu_model(),
                "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                "torch": torch.__version__,
            }
            with RESULTS.open("a") as out:
                out.write(json.dumps(row) + "\n")
            print(row, flush=True)


if __name__ == "__main__":
    main()
