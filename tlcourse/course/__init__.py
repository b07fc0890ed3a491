"""tlcourse.course: the machinery that runs the course, ordinary hand-written and unit-tested Python.

config (profiles, paths), env (setup: seeds, threads, offline mode), data (datasets, checksums), models
(checkpoints: MiniLM, the course's own), report (metrics, build/report.md), reproduce (the published run and
whether this run agrees with it), runner (`make course`: every notebook
in a fresh kernel), exercises (the checks behind the exercises), student (student copies, grading), book (the
website), doctor (the installation check), export (lesson cells to tlcourse/lessons/).
Imported on first use: `from tlcourse.course import data` or `tlcourse.course.data`.
"""

import importlib

__all__ = [
    "config",
    "env",
    "data",
    "models",
    "report",
    "reproduce",
    "runner",
    "exercises",
    "student",
    "book",
    "doctor",
    "export",
]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
