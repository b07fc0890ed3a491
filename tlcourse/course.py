"""python -m tlcourse course: prepare the data, run every notebook in place, write the course report."""
import os
import time
from pathlib import Path

from tlcourse import report
from tlcourse.config import build_dir, repo_root


def notebooks(names=()):
    folder = repo_root() / "notebooks"
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb")) + sorted((folder / "solutions").glob("[0-9][0-9]_*.ipynb"))
    if names:
        found = [nb for nb in found if any(n in nb.name for n in names)]
    return found


def execute(path, timeout):
    """Run one notebook top to bottom in a fresh python3 kernel; return (ok, seconds, the notebook)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    try:
        client.execute()
        ok = True
    except CellExecutionError as error:
        print(f"{error.ename}: {error.evalue}", end=" ")
        ok = False
    return ok, time.perf_counter() - started, notebook


def run(profile="default", names=(), timeout=1800):
    """Execute notebooks in place (a failed run is kept in build/failed/ instead). Returns True if all ran."""
    import nbformat

    from tlcourse import data

    os.environ["TLCOURSE_PROFILE"] = profile  # the kernels inherit it
    for name in data.DATASETS:
        print(f"preparing data: {name}", flush=True)
        data.prepare(name)
    selected = notebooks(names)
    all_ok = True
    for number, path in enumerate(selected, 1):
        stem = path.stem if path.parent.name != "solutions" else f"solutions/{path.stem}"
        print(f"[{number}/{len(selected)}] {stem} ...", end=" ", flush=True)
        ok, seconds, notebook = execute(path, timeout)
        if ok:
            nbformat.write(notebook, path)
        else:
            failed = build_dir() / "failed" / path.name
            failed.parent.mkdir(exist_ok=True)
            nbformat.write(notebook, failed)
            print(f"(the failed run is in {failed.relative_to(repo_root())})", end=" ")
        print(f"{'ok' if ok else 'FAILED'} in {seconds:.0f} s", flush=True)
        report.set_run(stem, seconds, "ok" if ok else "failed", profile)
        all_ok &= ok
    path = report.write_report()
    print()
    print(report.table())
    print(f"\nreport: {Path(path).relative_to(repo_root())}, metrics: build/metrics.json")
    return all_ok
