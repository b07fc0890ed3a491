"""tlcourse: the small package behind the course notebooks. Three folders, three kinds of code:

tlcourse/lessons/   code a notebook teaches, exported from its cells tagged `export` (generated: edit the notebook,
                    then `python -m tlcourse export`); later notebooks, benchmarks and tests import it from here.
tlcourse/tools/     the course's tools: the training loop (train), evaluation, plots, measurements (measure,
                    memory), and the text, vision and MLM pieces several notebooks share.
tlcourse/course/    the machinery: profiles and paths (config), the environment (env), datasets (data), checkpoints
                    (models), metrics and reports (report), agreement with the published run (reproduce), the
                    notebook runner, exercises' checks, student copies, the website, the doctor, the export of
                    lesson cells.

Entry points, kept thin: `python -m tlcourse ...` (__main__.py) and `python -m tlcourse.finetune` (the data-parallel
fine-tune script). Submodules are imported on first use, so that `tlcourse.setup()` can switch the Hugging Face
libraries to offline mode before they load.
"""

import importlib

from tlcourse.course.config import pick, profile
from tlcourse.course.env import setup

__version__ = "0.1.0"
__all__ = ["setup", "pick", "profile", "lessons", "tools", "course"]


def __getattr__(name):
    if name in ("lessons", "tools", "course"):
        return importlib.import_module(f"tlcourse.{name}")
    raise AttributeError(f"module 'tlcourse' has no attribute {name!r}")
