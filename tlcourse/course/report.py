"""tlcourse.course.report: what each notebook measured, in build/metrics.json, and the course report."""

import json
import math

from tlcourse.course.config import build_dir, profile


def metrics_path():
    return build_dir() / "metrics.json"


def environment_path():
    return build_dir() / "environment.json"


def read_environment():
    path = environment_path()
    return json.loads(path.read_text()) if path.exists() else {}


def record_environment():
    """build/environment.json: what ran this course run (tlcourse.course.env.versions)."""
    from tlcourse.course.env import versions

    environment = versions()
    environment_path().write_text(json.dumps(environment, indent=2, sort_keys=True) + "\n")
    return environment


def read():
    path = metrics_path()
    return json.loads(path.read_text()) if path.exists() else {}


def write(all_metrics):
    path = metrics_path()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(all_metrics, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def record(notebook, metrics):
    """Merge flat metrics such as {'accuracy/tfidf/8': 0.54} into build/metrics.json under `notebook`.

    notebook: the notebook's stem ('04_bert_text_classification') or its path. Values are finite numbers, or
    strings for fingerprints such as a vocabulary's sha256.
    """
    stem = str(notebook).rsplit("/", 1)[-1].removesuffix(".ipynb")
    for key, value in metrics.items():
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not isinstance(key, str) or not (number or isinstance(value, str)):
            raise ValueError(f"metric {key!r}={value!r}: keys are strings, values finite numbers (or strings)")
    all_metrics = read()
    entry = all_metrics.setdefault(stem, {})
    entry["profile"] = profile()
    entry.setdefault("metrics", {}).update({k: v if isinstance(v, str) else float(v) for k, v in metrics.items()})
    write(all_metrics)
    return entry


def forget(notebook):
    """Drop a notebook's recorded metrics and run (before it runs again)."""
    all_metrics = read()
    if all_metrics.pop(str(notebook).removesuffix(".ipynb"), None) is not None:
        write(all_metrics)


def set_run(notebook, wall_seconds, status, run_profile):
    """Used by the course command: how long a notebook took and whether it ran to the end."""
    all_metrics = read()
    entry = all_metrics.setdefault(notebook, {})
    entry.update({"wall_seconds": round(wall_seconds, 1), "status": status, "profile": run_profile})
    entry.setdefault("metrics", {})
    write(all_metrics)


def table(all_metrics=None):
    """A markdown table: one row per notebook, with status, time and a few of its metrics."""
    all_metrics = read() if all_metrics is None else all_metrics
    lines = ["| notebook | profile | status | seconds | metrics |", "|---|---|---|---:|---|"]
    for stem, entry in sorted(all_metrics.items()):
        shown = ", ".join(f"{k}={_value(v)}" for k, v in list(entry.get("metrics", {}).items())[:6])
        more = len(entry.get("metrics", {})) - 6
        shown += f" (+{more} more)" if more > 0 else ""
        status = str(entry.get("status", "")).replace("|", "/")  # a failure's reason may hold a pipe
        lines.append(f"| {stem} | {entry.get('profile', '')} | {status} | {entry.get('wall_seconds', '')} | {shown} |")
    return "\n".join(lines)


def _value(v):
    return v[:16] if isinstance(v, str) else f"{v:.4g}"


def write_report(reproduction=None):
    """build/report.md: what ran, the table, whether this run agrees with the published one, every metric."""
    all_metrics = read()
    parts = ["# Course report", "", table(all_metrics), ""]
    if environment_path().exists():
        environment = json.loads(environment_path().read_text())
        parts += ["## What ran", "", ", ".join(f"{k} {v}" for k, v in environment.items()), ""]
    if reproduction is not None:
        from tlcourse.course import reproduce

        parts += ["## Does this run agree with the published one?", "", reproduce.table(reproduction), ""]
    for stem, entry in sorted(all_metrics.items()):
        if entry.get("metrics"):
            parts += [f"## {stem}", "", "| metric | value |", "|---|---:|"]
            parts += [f"| {k} | {_value(v)} |" for k, v in sorted(entry["metrics"].items())] + [""]
    path = build_dir() / "report.md"
    path.write_text("\n".join(parts))
    return path
