"""tlcourse: the small helper package shared by the course notebooks.

Submodules (data, models, train, evaluate, plot, report, check) are imported on first use, so that
`tlcourse.setup()` can switch the Hugging Face libraries to offline mode before they load.
"""
import importlib

from tlcourse.config import pick, profile
from tlcourse.env import setup

__version__ = "0.1.0"
__all__ = ["setup", "pick", "profile", "data", "models", "train", "evaluate", "plot", "report", "check"]

_SUBMODULES = {"config", "data", "models", "train", "evaluate", "plot", "report", "check", "doctor", "course", "env"}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"tlcourse.{name}")
    raise AttributeError(f"module 'tlcourse' has no attribute {name!r}")
