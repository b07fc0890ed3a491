"""The course runner survives a failed notebook: it reports it, keeps its partial run, and goes on."""

import json
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from tlcourse import __main__
from tlcourse.course import config, data, runner


def write_notebook(path, *sources):
    cells = [nbformat.v4.new_code_cell(s, id=f"c{i}") for i, s in enumerate(sources)]  # ids c0, c1, ...
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def course_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "repo_root", lambda: tmp_path)
    monkeypatch.setenv("TLCOURSE_BUILD_DIR", "build")  # recorded, so that teardown restores what was there
    monkeypatch.delenv("TLCOURSE_BUILD_DIR")  # run() may set it (build/smoke): not past this test
    monkeypatch.setenv("TLCOURSE_PROFILE", "smoke")
    monkeypatch.setattr(data, "DATASETS", {})  # nothing to prepare
    folder = tmp_path / "notebooks"
    folder.mkdir()
    return folder


def test_a_dead_kernel_is_reported_and_the_next_notebook_still_runs(course_folder, monkeypatch, capsys):
    dies = write_notebook(
        course_folder / "01_dies.ipynb",
        "print('before')",
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
        "print('never')",
    )
    works = write_notebook(course_folder / "02_works.ipynb", "print(6 * 7)")
    monkeypatch.setattr(runner, "notebooks", lambda names=(): [dies, works])

    status = __main__.main(["course", "--profile", "default", "--timeout", "60"])

    out = capsys.readouterr()
    assert status == 1
    assert "Traceback" not in out.out + out.err
    assert "01_dies ... FAILED" in out.out and "the kernel died: killed by SIGKILL" in out.out
    assert "02_works ... ok" in out.out
    partial = nbformat.read(course_folder.parent / "build" / "failed" / "01_dies.ipynb", as_version=4)
    assert partial.cells[0].outputs[0]["text"] == "before\n" and partial.cells[2].outputs == []
    assert nbformat.read(works, as_version=4).cells[0].outputs[0]["text"] == "42\n"  # written in place
    assert nbformat.read(dies, as_version=4).cells[0].outputs == []  # the source notebook is left as it was
    report = (course_folder.parent / "build" / "report.md").read_text()
    assert (
        "| 01_dies | default | FAILED: cell c1: the kernel died" in report and "| 02_works | default | ok |" in report
    )
    metrics = json.loads((course_folder.parent / "build" / "metrics.json").read_text())
    assert metrics["02_works"]["status"] == "ok" and metrics["01_dies"]["status"].startswith("FAILED")


def test_an_error_and_a_timeout_are_failures_with_their_reason(course_folder):
    error = write_notebook(course_folder / "01_error.ipynb", "1 / 0")
    slow = write_notebook(course_folder / "02_slow.ipynb", "import time\ntime.sleep(60)")
    failures = runner.run_notebooks([error, slow], "smoke", timeout=3)
    assert failures == {
        "01_error": "cell c0: ZeroDivisionError: division by zero",
        "02_slow": "cell c0: a cell ran longer than the 3 s timeout",
    }


def test_a_smoke_run_leaves_the_notebooks_and_the_default_report_alone(course_folder, monkeypatch):
    works = write_notebook(course_folder / "01_works.ipynb", "print('smoke')")
    monkeypatch.setattr(runner, "notebooks", lambda names=(): [works])
    assert __main__.main(["course", "--profile", "smoke"]) == 0
    smoke = course_folder.parent / "build" / "smoke"
    assert nbformat.read(smoke / "executed" / "01_works.ipynb", as_version=4).cells[0].outputs[0]["text"] == "smoke\n"
    assert nbformat.read(works, as_version=4).cells[0].outputs == []
    assert "| 01_works | smoke | ok |" in (smoke / "report.md").read_text()
    assert not (course_folder.parent / "build" / "report.md").exists()


RUNNER = """
import sys
from pathlib import Path
from tlcourse import __main__
from tlcourse.course import config, runner, data
folder = Path(sys.argv[1])
config.repo_root = lambda: folder.parent
data.DATASETS = {}
runner.notebooks = lambda names=(): sorted(folder.glob("*.ipynb"))
sys.exit(__main__.main(["course", "--profile", "default"]))
"""


def test_an_interrupted_run_says_so_writes_the_report_and_stops(course_folder):
    # nbclient answers SIGINT/SIGTERM by shutting the kernel down and then reports "Kernel died":
    # the course runner must call that an interruption, not a dead kernel, and stop cleanly
    started = course_folder / "started"
    write_notebook(
        course_folder / "01_slow.ipynb", "x = 1", f"open({str(started)!r}, 'w').close()\nimport time\ntime.sleep(60)"
    )
    write_notebook(course_folder / "02_next.ipynb", "x = 1")
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(course_folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:  # wait until the kernel is in cell 1
        time.sleep(0.2)
    assert started.exists(), "the notebook never started"
    runner.send_signal(signal.SIGTERM)
    out, err = runner.communicate(timeout=60)
    assert runner.returncode == 1
    assert "Traceback" not in out + err and "AssertionError" not in out + err
    assert "01_slow ... FAILED" in out and "cell c1: interrupted: the runner got SIGINT or SIGTERM" in out
    assert "02_next" not in out
    assert (
        "| 01_slow | default | FAILED: cell c1: interrupted"
        in (course_folder.parent / "build" / "report.md").read_text()
    )


def test_ctrl_c_while_preparing_data_still_writes_the_report(course_folder, monkeypatch):
    def interrupted(name):
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "DATASETS", {"some_data": None})
    monkeypatch.setattr(data, "prepare", interrupted)
    assert __main__.main(["course", "--profile", "default"]) == 130
    assert (course_folder.parent / "build" / "report.md").exists()
    assert (course_folder.parent / "build" / "metrics.json").exists()


def test_a_rerun_drops_the_metrics_an_older_run_recorded(course_folder):
    from tlcourse.course import report

    report.record("01_rerun", {"drift_batches_flagged": 5.0})  # from an older version of the notebook
    notebook = write_notebook(course_folder / "01_rerun.ipynb", "print('this version records nothing')")
    assert runner.run_notebooks([notebook], "smoke", timeout=60) == {}
    assert not report.read()["01_rerun"].get("metrics") and report.read()["01_rerun"]["status"] == "ok"


def test_a_notebook_whose_dataset_is_missing_is_skipped_with_the_fix(course_folder, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(data, "DATASETS", {"fashion_mnist": None})
    monkeypatch.setattr(data, "available", lambda name: False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    needs = write_notebook(course_folder / "01_needs.ipynb", "raise SystemExit('must not run')")
    notebook = nbformat.read(needs, as_version=4)
    notebook.metadata["tlcourse"] = {"requires": ["fashion_mnist"]}
    nbformat.write(notebook, needs)
    works = write_notebook(course_folder / "02_works.ipynb", "print(6 * 7)")
    assert runner.run_notebooks([needs, works], "smoke", timeout=60) == {}  # skipped is not failed
    out = capsys.readouterr().out
    assert f"01_needs ... skipped: fashion_mnist is not available (fix: {data.fix('fashion_mnist')})" in out
    assert "02_works ... ok" in out
    from tlcourse.course import report

    assert report.read()["01_needs"]["status"].startswith("skipped: fashion_mnist is not available")


def test_a_notebooks_time_ends_with_its_last_cell_not_its_kernels_shutdown(course_folder):
    slow_exit = write_notebook(
        course_folder / "01_slow_exit.ipynb", "import atexit, time\natexit.register(time.sleep, 4)", "print('done')"
    )
    started = time.perf_counter()
    reason, seconds, notebook = runner.execute(slow_exit, timeout=60, log=course_folder / "kernel.log")
    waited = time.perf_counter() - started
    assert reason is None and notebook.cells[1].outputs[0]["text"] == "done\n"
    assert waited - seconds > 2  # the kernel's slow exit (cut short by the client after a while) is not counted
