"""tlcourse.course.reproduce: does my run agree with the published one?

tlcourse/published.json (package data) holds the published run: what ran it (versions, CPU), each notebook's run
time, and for each headline metric its published value and the range [low, high] that a run of the committed code
may land in, with the reason for that range. Only the maintainers' command `python -m tlcourse publish` writes it,
from a real `make course` (build/metrics.json); a learner's `make course` reads it and writes
build/reproduction.json: {notebook: {metric: {"published", "low", "high", "this_run", "within"}}}.
"""

import hashlib
import json
import math
from pathlib import Path

from tlcourse.course import config, report

PUBLISHED = Path(__file__).parents[1] / "published.json"
SPREAD = "benchmarks/results/pretraining_spread.jsonl"

# The headline metrics and the width of their range. Each rule is (kind, width, why):
#   exact      deterministic given the shipped data and vocabulary: published ± width (float summation order)
#   below      an error that must stay small whatever the machine: [0, width]
#   tolerance  one training run: published ± width (chosen from the seeds' spread this metric's notebook shows)
#   seeds      a mean over seeds: published ± max(width, 3 x the standard deviation the run recorded beside it)
#   spread     run-dependent through the pretraining run: [min, max] over benchmarks/pretraining_spread.py's
#              checkpoints, widened by width on each side
HEADLINES = {
    "01_loss_functions_and_gradients": {
        "loss/after_correct_step": ("exact", 1e-6, "fixed tensors, float64"),
        "loss/after_article_step": ("exact", 1e-6, "fixed tensors, float64"),
        "loss/mlm_article_bce": ("exact", 1e-6, "fixed tensors"),
        "max_error/softmax_grad": ("below", 1e-10, "float64 rounding"),
        "max_error/bce_finite_differences": ("below", 1e-6, "central differences, float64"),
    },
    "02_transformer_by_hand": {
        "max_abs_diff/encoder": ("below", 1e-4, "float32 rounding over six layers"),
        "max_abs_diff/self_attention": ("below", 1e-5, "float32 rounding"),
        "max_abs_diff/rotary": ("below", 1e-5, "float32 rounding"),
    },
    "03_mlm_pretraining": {
        "corpus_tokens": ("exact", 0, "the shipped vocabulary"),
        "vocab_sha256": ("exact", 0, "the shipped vocabulary"),
        "unigram_loss": ("exact", 1e-4, "counts over the shipped vocabulary's blocks"),
        "bigram_loss": ("exact", 1e-4, "counts over the shipped vocabulary's blocks"),
        "mask_loss_final": ("spread", 0.05, "pretraining seeds and CPU kernels"),
        "mask_accuracy_final": ("spread", 0.01, "pretraining seeds and CPU kernels"),
    },
    "04_bert_text_classification": {
        "accuracy/tfidf/32": ("exact", 0.002, "deterministic solver"),
        "accuracy/tfidf/all": ("exact", 0.002, "deterministic solver"),
        "accuracy/minilm_probe/32": ("tolerance", 0.01, "frozen encoder; kernels move the last digits"),
        "accuracy/minilm_finetune/32": ("tolerance", 0.03, "one fine-tuning run"),
        "finetune_minus_probe/32": ("tolerance", 0.03, "one fine-tuning run"),
        "own_minus_scratch/8": ("spread", 0.02, "pretraining seeds, label draws, CPU kernels"),
        "own_minus_scratch/32": ("spread", 0.02, "pretraining seeds, label draws, CPU kernels"),
        "course_minus_scratch/32": ("tolerance", 0.03, "3 paired seeds of the shipped checkpoint"),
    },
    "05_vit_image_transfer": {
        "source_accuracy/supervised": ("tolerance", 0.03, "one pretraining run"),
        "mae_reconstruction_loss": ("tolerance", 0.01, "one pretraining run"),
        "accuracy/finetune/10": ("exact", 1e-6, "read from benchmarks/results/vit_transfer_final.jsonl"),
        "accuracy/scratch/10": ("exact", 1e-6, "read from benchmarks/results/vit_transfer_final.jsonl"),
        "finetune_minus_scratch/10": ("exact", 1e-6, "read from benchmarks/results/vit_transfer_final.jsonl"),
        "accuracy_live/finetune/10": ("tolerance", 0.04, "one run from this run's own checkpoint"),
        "source_accuracy/course_supervised": ("exact", 0.002, "the shipped checkpoint; kernels move the last digits"),
        "accuracy/pixels_logistic/10": ("exact", 0.003, "deterministic solver"),
        "transfer_minus_pixels/digits/10": ("exact", 1e-6, "read from benchmarks/results/vit_course_transfer.jsonl"),
    },
    "06_efficient_fine_tuning_and_scaling": {
        "accuracy/lora": ("tolerance", 0.02, "one fine-tuning run"),
        "accuracy_minus_full/top2": ("exact", 1e-6, "read from benchmarks/results/what_to_train.jsonl"),
        "accumulation_grad_max_diff": ("below", 1e-6, "float32 rounding"),
        "ddp_max_weight_diff": ("below", 1e-5, "float32 rounding across processes"),
        "drift_false_alarm_rate": ("below", 0.05, "the alarm is set for 1%"),
    },
    "07_applications_search": {
        "mrr/bm25": ("exact", 1e-4, "deterministic"),
        "mrr/minilm": ("tolerance", 0.005, "frozen encoder; kernels move the last digits"),
        "mrr/minilm_adapted": ("tolerance", 0.02, "one adaptation run"),
        "zero_shot_accuracy": ("tolerance", 0.005, "frozen encoder"),
    },
    "08_applications_monitoring_and_recommendation": {
        "ann_recall_at_10": ("tolerance", 0.02, "random vectors, seeded"),
        "ndcg_at_10/co_reads": ("tolerance", 0.01, "seeded simulation"),
        "cold_start_on_topic_share/minilm": ("tolerance", 0.01, "frozen encoder"),
        "monitor_false_alarm_rate": ("below", 0.05, "the alarm is set for 1%"),
    },
}

# Margins a summary quotes, computed from two recorded metrics when the notebook does not record them itself.
DERIVED = {
    "finetune_minus_probe/32": ("accuracy/minilm_finetune/32", "accuracy/minilm_probe/32"),
    "finetune_minus_scratch/10": ("accuracy/finetune/10", "accuracy/scratch/10"),
    "lora_minus_full": ("accuracy/lora", "accuracy/full"),
}

# The allowance of each notebook group on the reference machine (the developers' guide), in seconds.
ALLOWANCES = [
    ("00 + 01", ("00_", "01_"), 30),
    ("02", ("02_",), 90),
    ("03", ("03_",), 240),
    ("04", ("04_",), 300),
    ("05", ("05_",), 360),
    ("06", ("06_",), 240),
    ("07 + 08", ("07_", "08_"), 210),
    ("solutions", ("solutions/",), 40),
]


def headline_values(stem, metrics):
    """The headline metrics of one notebook from its recorded metrics, margins derived where needed."""
    values = {}
    for name in HEADLINES.get(stem, {}):
        if name in metrics:
            values[name] = metrics[name]
        elif name in DERIVED and all(part in metrics for part in DERIVED[name]):
            first, second = DERIVED[name]
            values[name] = metrics[first] - metrics[second]
    return values


def spread_values(path=None):
    """{metric: [one value per checkpoint]} over the checkpoints of benchmarks/pretraining_spread.py: notebook 03's losses and
    notebook 04's own-minus-scratch margins (mean over fine-tuning seeds, paired by seed and label draw)."""
    path = Path(path or config.repo_root() / SPREAD)
    rows = [json.loads(line) for line in path.open()] if path.exists() else []
    per_metric = {}
    for row in rows:
        if row["kind"] == "pretraining":
            for name in ("mask_loss_final", "mask_accuracy_final"):
                per_metric.setdefault(name, []).append(row[name])
    for run in {r["run"] for r in rows if r["kind"] == "pretraining"}:
        for per_class in sorted({r["per_class"] for r in rows if r["kind"] == "fine-tuning"}):
            own = {
                r["seed"]: r
                for r in rows
                if r.get("arm") == "own_pretrained" and r["run"] == run and r["per_class"] == per_class
            }
            capability = next(iter(own.values()))["cpu_capability"] if own else None
            scratch = {
                r["seed"]: r["accuracy"]
                for r in rows
                if r.get("arm") == "scratch" and r["per_class"] == per_class and r["cpu_capability"] == capability
            }
            paired = [own[s]["accuracy"] - scratch[s] for s in own if s in scratch]
            if paired:
                per_metric.setdefault(f"own_minus_scratch/{per_class}", []).append(sum(paired) / len(paired))
    return per_metric


def spread_ranges(path=None):
    """{metric: (min, max)} over the checkpoints of benchmarks/pretraining_spread.py (see spread_values)."""
    return {name: (min(v), max(v)) for name, v in spread_values(path).items()}


def value_range(stem, name, value, metrics, spreads):
    """(low, high, basis) for one headline metric of the published run."""
    kind, width, why = HEADLINES[stem][name]
    if kind == "exact":
        return (
            (value, value, f"deterministic ({why})")
            if isinstance(value, str)
            else (value - width, value + width, f"deterministic ({why})")
        )
    if kind == "below":
        return 0.0, width, f"an error bound ({why})"
    if kind == "seeds":
        sd = metrics.get(name.replace("accuracy/", "accuracy_sd/", 1), 0.0)
        half = max(width, 3 * sd)
        return value - half, value + half, f"±{half:.3f}: max({width}, 3 sd over seeds) ({why})"
    if kind == "spread":
        if name not in spreads:
            raise ValueError(f"{name}: no rows in {SPREAD}; run benchmarks/pretraining_spread.py first")
        low, high = spreads[name]
        return (
            min(low, value) - width,
            max(high, value) + width,
            f"{SPREAD}: {low:.3f} to {high:.3f}, ±{width} ({why})",
        )
    return value - width, value + width, f"±{width} ({why})"


def notebook_code_sha256(path):
    """A fingerprint of a notebook's code cells: it changes when the code does, not when outputs or prose do."""
    cells = json.loads(Path(path).read_text())["cells"]
    code = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return hashlib.sha256(code.encode()).hexdigest()


def publish(metrics_file=None, environment_file=None, out=PUBLISHED):
    """Maintainers: write tlcourse/published.json from a finished default-profile `make course`."""
    all_metrics = json.loads(Path(metrics_file).read_text()) if metrics_file else report.read()
    environment_path = Path(environment_file) if environment_file else report.environment_path()
    problems = [
        f"{stem}: {e.get('status')} ({e.get('profile')})"
        for stem, e in all_metrics.items()
        if e.get("status") != "ok" or e.get("profile") != "default"
    ]
    missing = [stem for stem in HEADLINES if stem not in all_metrics]
    if problems or missing or not environment_path.exists():
        raise ValueError(
            "publish needs a finished default-profile `make course` of every notebook; "
            f"not ok: {problems}, not run: {missing}, environment recorded: {environment_path.exists()}"
        )
    spreads = spread_ranges()
    notebooks = {}
    for stem, entry in sorted(all_metrics.items()):
        metrics = entry.get("metrics", {})
        headline = {}
        for name, value in headline_values(stem, metrics).items():
            low, high, basis = value_range(stem, name, value, metrics, spreads)
            headline[name] = {"published": value, "low": low, "high": high, "basis": basis}
        notebook_file = config.repo_root() / "notebooks" / f"{stem}.ipynb"
        notebooks[stem] = {
            "wall_seconds": entry["wall_seconds"],
            "code_sha256": notebook_code_sha256(notebook_file),
            "metrics": headline,
        }
    published = {"environment": json.loads(environment_path.read_text()), "profile": "default", "notebooks": notebooks}
    Path(out).write_text(json.dumps(published, indent=1, sort_keys=True) + "\n")
    return published


def read_published(path=PUBLISHED):
    return json.loads(Path(path).read_text())


def why_outside(stem, published, environment):
    """One line: the first difference between this run and the published one that could explain a miss, the
    likeliest first (a changed notebook, then the CPU kind, then a library version)."""
    was = published["environment"]
    notebook_file = config.repo_root() / "notebooks" / f"{stem}.ipynb"
    if notebook_file.exists() and notebook_code_sha256(notebook_file) != published["notebooks"][stem]["code_sha256"]:
        return "a changed notebook (its code differs from the published run's)"
    if environment.get("cpu_capability") != was.get("cpu_capability"):
        return f"another CPU kind ({environment.get('cpu_capability')}; published: {was.get('cpu_capability')})"
    changed = [
        f"{k} {environment.get(k)} (published {was.get(k)})"
        for k in ("torch", "transformers", "tokenizers", "datasets", "accelerate", "peft", "sentence-transformers")
        if environment.get(k) != was.get(k)
    ]
    if changed:
        return "another library version: " + ", ".join(changed)
    return "same code, versions and CPU kind: look at this notebook's outputs"


def compare(all_metrics=None, environment=None, published=None):
    """{notebook: {metric: {published, low, high, this_run, within}}} for every published headline metric;
    this_run and within are None when the notebook has not run (or did not record the metric)."""
    all_metrics = report.read() if all_metrics is None else all_metrics
    if published is None and not PUBLISHED.exists():
        return {}  # no published run yet (a maintainer's checkout before the first `python -m tlcourse publish`)
    published = read_published() if published is None else published
    result = {}
    for stem, entry in published["notebooks"].items():
        ran = all_metrics.get(stem, {})
        values = headline_values(stem, ran.get("metrics", {})) if ran.get("profile") == published["profile"] else {}
        rows = {}
        for name, row in entry["metrics"].items():
            value = values.get(name)
            if value is None:
                within = None
            elif isinstance(value, str):
                within = value == row["published"]
            else:
                within = math.isfinite(value) and row["low"] <= value <= row["high"]
            rows[name] = {k: row[k] for k in ("published", "low", "high")} | {"this_run": value, "within": within}
            if within is False:
                rows[name]["look_at"] = why_outside(stem, published, environment or {})
        result[stem] = rows
    return result


def write(all_metrics=None, environment=None):
    """build/reproduction.json from this run's metrics; returns the comparison."""
    comparison = compare(all_metrics, environment)
    path = config.build_dir() / "reproduction.json"
    path.write_text(json.dumps(comparison, indent=1, sort_keys=True) + "\n")
    return comparison


def _shown(value):
    return "" if value is None else value[:12] if isinstance(value, str) else f"{value:.4g}"


def table(comparison):
    """Markdown: one line per headline metric; the ones outside their range first, with what to look at."""
    rows = [(stem, name, row) for stem, metrics in comparison.items() for name, row in metrics.items()]
    if not rows:
        return "No published run to compare with (tlcourse/published.json is missing)."
    checked = [r for r in rows if r[2]["within"] is not None]
    outside = [r for r in checked if not r[2]["within"]]
    lines = [
        f"{len(checked) - len(outside)} of {len(checked)} headline metrics of this run lie within the range of "
        f"the published run ({len(rows) - len(checked)} not run).",
        "",
        "| notebook | metric | this run | published | range | within | look at |",
        "|---|---|---:|---:|---|---|---|",
    ]
    for stem, name, row in sorted(rows, key=lambda r: (r[2]["within"] is not False, r[0], r[1])):
        mark = {True: "yes", False: "**NO**", None: "not run"}[row["within"]]
        span = "" if isinstance(row["published"], str) else f"{row['low']:.4g} to {row['high']:.4g}"
        lines.append(
            f"| {stem[:2]} | {name} | {_shown(row['this_run'])} | {_shown(row['published'])} | {span} | "
            f"{mark} | {row.get('look_at', '')} |"
        )
    return "\n".join(lines)


def run_time_table(published=None):
    """Markdown: each notebook group's allowance on the reference machine and its time in the published run."""
    published = read_published() if published is None else published
    env = published["environment"]
    lines = [
        f"| notebooks | allowance (reference: 2 cores with AVX-512) | published run ({env['cpu']}, "
        f"{env['cpu_capability']}, {env['threads']} threads) |",
        "|---|---:|---:|",
    ]
    for label, prefixes, allowance in ALLOWANCES:
        seconds = sum(e["wall_seconds"] for stem, e in published["notebooks"].items() if stem.startswith(prefixes))
        lines.append(f"| {label} | {allowance} s | {seconds:.0f} s |")
    total = sum(e["wall_seconds"] for e in published["notebooks"].values())
    lines.append(f"| all | {sum(a for *_, a in ALLOWANCES)} s | {total:.0f} s |")
    return "\n".join(lines)


RUN_TIME_MARKERS = ("<!-- run-times: written by `python -m tlcourse publish` -->", "<!-- /run-times -->")


def update_run_time_blocks(files=("README.md", "docs/teaching.md")):
    """Rewrite the run-time block (between RUN_TIME_MARKERS) of each file from tlcourse/published.json."""
    start, end = RUN_TIME_MARKERS
    for name in files:
        path = config.repo_root() / name
        text = path.read_text()
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        path.write_text(f"{before}{start}\n{run_time_table()}\n{end}{after}")
