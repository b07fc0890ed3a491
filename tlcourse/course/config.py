"""Profiles, paths and the one switch that sizes every notebook: TLCOURSE_PROFILE."""

import os
from pathlib import Path

PROFILES = ("smoke", "default", "full")


def profile():
    """The active profile: TLCOURSE_PROFILE, or 'default' when unset."""
    name = os.environ.get("TLCOURSE_PROFILE", "default").strip().lower() or "default"
    if name not in PROFILES:
        raise ValueError(f"TLCOURSE_PROFILE={name!r} is not a profile; use one of {', '.join(PROFILES)}")
    return name


def pick(smoke, default, full=None):
    """Choose a size by profile, e.g. epochs = pick(smoke=1, default=3, full=10).

    Writing all three values in the notebook keeps the sizes visible to the learner.
    `full` falls back to `default` when not given.
    """
    return {"smoke": smoke, "default": default, "full": default if full is None else full}[profile()]


def cache_dir():
    """Where prepared data and checkpoints live: TLCOURSE_CACHE, default ~/.cache/tlcourse."""
    path = Path(os.environ.get("TLCOURSE_CACHE", Path.home() / ".cache" / "tlcourse")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def repo_root():
    """The course checkout (the folder holding pyproject.toml and notebooks/).

    Found from the package location (editable install), else from the working directory upwards.
    """
    candidates = [Path(__file__).resolve().parents[2], *Path.cwd().resolve().parents, Path.cwd().resolve()]
    for folder in candidates:
        if (folder / "pyproject.toml").exists() and (folder / "notebooks").is_dir():
            return folder
    return Path.cwd().resolve()


def build_dir():
    """Where runs write reports, metrics and saved models: build/ at the repository root, whatever the working
    directory (a notebook runs in notebooks/).

    TLCOURSE_BUILD_DIR overrides it (`make test` writes its smoke-profile metrics to build/smoke/); a relative
    path is from the root. When the checkout cannot be written (a shared course folder on a JupyterHub) or there
    is no checkout (the package installed elsewhere), each user gets their own: <TLCOURSE_CACHE>/build.
    """
    chosen = Path(os.environ.get("TLCOURSE_BUILD_DIR", "build")).expanduser()
    if not chosen.is_absolute():
        root = repo_root()
        own_checkout = (root / "notebooks").is_dir() and os.access(root, os.W_OK)
        chosen = (root if own_checkout else cache_dir()) / chosen  # e.g. ~/.cache/tlcourse/build
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen
