"""python -m tlcourse course: prepare the data, run every notebook, write the course report.

A notebook that fails (an error in a cell, a cell past the timeout, a kernel that dies) is reported as
FAILED with the reason, its partial run is kept in build/failed/, and the next notebook still runs;
build/report.md and build/metrics.json are written whatever happened.
"""

import os
import signal
import time
from pathlib import Path

from tlcourse.course import report, reproduce
from tlcourse.course.config import build_dir, repo_root


def notebooks(names=()):
    folder = repo_root() / "notebooks"
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb")) + sorted((folder / "solutions").glob("[0-9][0-9]_*.ipynb"))
    if names:
        found = [nb for nb in found if any(n in nb.name for n in names)]
    return found


def recipe_source(name):
    """The recipe of notebooks/<name>.ipynb: its code cells tagged `recipe`, which must follow one another (a recipe
    too long for one readable cell is split over consecutive cells), joined. Benchmarks and tests run it as it is."""
    import nbformat

    notebook = nbformat.read(repo_root() / "notebooks" / f"{name}.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    marked = [i for i, cell in enumerate(code) if "recipe" in cell.get("metadata", {}).get("tags", [])]
    if not marked:
        raise ValueError(f"{name} should have a cell tagged recipe, has 0")
    if marked != list(range(marked[0], marked[-1] + 1)):
        raise ValueError(f"{name}: its cells tagged recipe must follow one another, with no other code cell between")
    return "\n\n\n".join(code[i].source for i in marked)


def run_recipe(name, seed=0):
    """For a benchmark: set up (seed, threads, offline), quiet transformers' logging, and run notebook `name`'s recipe
    cell exactly as it is. Returns the names the cell defined."""
    import transformers

    from tlcourse.course.env import setup

    setup(seed=seed, verbose=False)
    transformers.logging.set_verbosity_error()
    namespace = {}
    exec(recipe_source(name), namespace)
    return namespace


def requirements(path):
    """The datasets a notebook needs, from its metadata {"tlcourse": {"requires": [...]}}."""
    import nbformat

    return nbformat.read(path, as_version=4).metadata.get("tlcourse", {}).get("requires", [])


def skip_reason(path):
    """Why a notebook cannot run here (a dataset it needs is missing, with the fix), or None."""
    from tlcourse.course import data

    missing = data.unavailable(requirements(path))
    return "; ".join(f"{name} is not available (fix: {data.fix(name)})" for name in missing) or None


INTERRUPTED = "interrupted: the runner got SIGINT or SIGTERM (Ctrl-C, a time limit) and shut the kernel down"


def _exit_reason(process):
    """How a dead kernel process ended, in words (None if unknown)."""
    if process is None or process.poll() is None:
        return None
    code = process.returncode
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}" + (" (out of memory, or another process killed it)" if name == "SIGKILL" else "")
    return f"exit status {code}"


def execute(path, timeout, log):
    """Run one notebook top to bottom in a fresh python3 kernel; its own stdout and stderr go to `log`.

    Returns (reason, seconds, notebook): reason is None when every cell ran, else why the run stopped; seconds run
    from the kernel's start to the last cell's result; the notebook holds the outputs of the cells that ran.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebook = nbformat.read(path, as_version=4)
    running = {"cell": None, "process": None}  # and "done": when the last cell finished

    def on_start(**_):  # keep the kernel's process, to tell later how it ended
        running["process"] = getattr(client.km.provisioner, "process", None)

    def on_cell(cell, cell_index, **_):  # named by its id, which stays when cells are added or moved
        running["cell"] = cell.get("id", cell_index)

    def on_done(**_):  # a notebook's time ends with its last cell's result: the kernel's shutdown is nobody's wait
        running["done"] = time.perf_counter()

    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        on_notebook_start=on_start,
        on_cell_execute=on_cell,
        on_cell_executed=on_done,
    )
    started = time.perf_counter()
    reason = None
    try:
        with open(log, "w") as output:
            client.execute(stdout=output, stderr=output)
    except CellExecutionError as error:
        reason = f"{error.ename}: {error.evalue}".strip().splitlines()[0][:300]
    except CellTimeoutError:
        reason = f"a cell ran longer than the {timeout} s timeout"
    except DeadKernelError:
        time.sleep(0.5)  # let the process be reaped
        how = _exit_reason(running["process"])
        reason = "the kernel died" + (f": {how}" if how else "")
    except Exception as error:  # e.g. nbclient's second clean-up after an interrupt (AssertionError)
        reason = f"the run stopped: {type(error).__name__}: {error}"
    finally:
        process = running["process"]
        if process is not None and process.poll() is None:  # never leave a kernel running behind us
            process.kill()
    # On SIGINT/SIGTERM nbclient shuts the kernel down itself, then reports "Kernel died": say what happened
    if getattr(client, "_async_cleanup_kernel_future", None) is not None:
        reason = INTERRUPTED
    if reason and running["cell"] is not None:
        reason = f"cell {running['cell']}: {reason}"
    return reason, running.get("done", time.perf_counter()) - started, notebook


WIDGET = "application/vnd.jupyter.widget-view+json"


def tidy(notebook):
    """What a reader of the saved page should not see: progress-bar widgets. A saved widget shows the text it was
    created with ("0%| | 0/1288"), not the bar it ended as, and their state is not worth storing; the bars were
    for the run. Returns how many outputs were dropped. `make course` applies it to every run it saves."""
    dropped = 0
    for cell in notebook.cells:
        kept = [o for o in cell.get("outputs", []) if WIDGET not in o.get("data", {})]
        dropped += len(cell.get("outputs", [])) - len(kept)
        if "outputs" in cell:
            cell["outputs"] = kept
    notebook.metadata.pop("widgets", None)
    return dropped


def run_notebooks(paths, profile, timeout):
    """Execute each notebook and record its run. The default profile's runs are written in place (they are
    the outputs the course is read with); other profiles' go to build/<profile>/executed/; a failed run
    is kept in build/failed/. Returns {stem: reason} for the notebooks that failed (empty when all ran).
    """
    import nbformat

    failures = {}
    for number, path in enumerate(paths, 1):
        stem = path.stem if path.parent.name != "solutions" else f"solutions/{path.stem}"
        print(f"[{number}/{len(paths)}] {stem} ...", end=" ", flush=True)
        log = build_dir() / "logs" / f"{stem}.log"  # the kernel's own messages (warnings, crashes)
        log.parent.mkdir(parents=True, exist_ok=True)
        _stop_on_sigterm()  # nbclient resets the handler after each notebook
        report.forget(stem)  # the metrics shown after this run are this run's, none left from an older one
        skipped = skip_reason(path)
        if skipped:
            print(f"skipped: {skipped}", flush=True)
            report.set_run(stem, 0.0, f"skipped: {skipped}", profile)
            continue
        try:
            reason, seconds, notebook = execute(path, timeout, log)
        except KeyboardInterrupt:  # outside nbclient's own handler (or on Windows): the same as its interrupt
            reason, seconds, notebook = INTERRUPTED, 0.0, nbformat.read(path, as_version=4)
        failed = build_dir() / "failed" / f"{stem}.ipynb"
        tidy(notebook)
        if reason is None:
            written = path if profile == "default" else build_dir() / "executed" / f"{stem}.ipynb"
            written.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, written)
            failed.unlink(missing_ok=True)  # an earlier failure of this notebook is over
            print(f"ok in {seconds:.0f} s", flush=True)
        else:
            failed.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, failed)
            failures[stem] = reason
            print(
                f"FAILED in {seconds:.0f} s: {reason}\n    partial run kept in {_shown(failed)}, "
                f"kernel log in {_shown(log)}",
                flush=True,
            )
        report.set_run(stem, seconds, "ok" if reason is None else f"FAILED: {reason}", profile)
        if reason and reason.endswith(INTERRUPTED):
            print("the run was interrupted: the remaining notebooks are not run", flush=True)
            break
    return failures


def run(profile="default", names=(), timeout=1800):
    """Prepare the data, execute the notebooks, write the report. Returns True if every notebook ran."""
    from tlcourse.course import data

    os.environ["TLCOURSE_PROFILE"] = profile  # the kernels inherit it
    if profile != "default":  # keep the default profile's metrics apart: build/smoke/, build/full/
        os.environ.setdefault("TLCOURSE_BUILD_DIR", f"build/{profile}")
    failures, previous_handler = {}, signal.getsignal(signal.SIGTERM)
    try:
        _stop_on_sigterm()
        data.prepare_all(out=lambda line: print(f"data {line}", flush=True))  # a missing one skips its notebooks
        report.record_environment()  # versions, threads, CPU: build/environment.json and the report
        failures = run_notebooks(notebooks(names), profile, timeout)
    finally:  # also after Ctrl-C or SIGTERM: what ran so far is reported
        if previous_handler is not None:
            _stop_on_sigterm(previous_handler)
        report.write(report.read())  # metrics.json exists even when no notebook ran
        comparison = reproduce.write(environment=report.read_environment())  # build/reproduction.json
        path = report.write_report(comparison)
        print()
        print(report.table())
        print()
        print(reproduce.table(comparison).split("\n")[0])
        print(
            f"\nreport: {_shown(path)}, metrics: {_shown(report.metrics_path())}, "
            f"agreement with the published run: {_shown(build_dir() / 'reproduction.json')}"
        )
    if failures:
        print(f"\n{len(failures)} notebook(s) FAILED:")
        for stem, reason in failures.items():
            print(f"  {stem}: {reason}")
    return not failures


def _interrupt(*_):
    raise KeyboardInterrupt


def _stop_on_sigterm(handler=_interrupt):
    """SIGTERM (a time limit, `kill`) stops the run like Ctrl-C does, so the report is still written.
    With another handler: put that one back."""
    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        pass


def _shown(path):
    path = Path(path)
    return path.relative_to(repo_root()) if path.is_relative_to(repo_root()) else path
