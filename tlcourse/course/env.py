"""tlcourse.setup(): seed, threads, device, profile and offline mode in one call."""

import math
import os
import random
import socket
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from tlcourse.course.config import profile as active_profile


def hub_address():
    """(host, port) of the Hugging Face hub this machine uses: HF_ENDPOINT (a mirror) or huggingface.co."""
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    return url.hostname, url.port or (80 if url.scheme == "http" else 443)


def hub_reachable(timeout=1.5):
    """True when the hub (or the mirror in HF_ENDPOINT) answers within `timeout` seconds (DNS included)."""
    result = []

    def probe():
        try:
            socket.create_connection(hub_address(), timeout=timeout).close()
            result.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result)


def set_offline():
    """Switch the Hugging Face libraries to offline mode, also when they are already imported."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    hub = sys.modules.get("huggingface_hub.constants")
    if hub is not None:
        hub.HF_HUB_OFFLINE = True


def quiet_library_progress_bars():
    """No 'Loading weights' bars from the libraries: notebook output keeps what the lesson shows."""
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] = "1"
    if "transformers" in sys.modules:
        sys.modules["transformers"].utils.logging.disable_progress_bar()
    if "datasets" in sys.modules:
        sys.modules["datasets"].disable_progress_bars()


def is_offline():
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def pick_device():
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed=0):
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def cgroup_cpu_limit(root=Path("/sys/fs/cgroup")):
    """The CPU quota of this process's container in cores (cgroup v2 cpu.max or v1 cfs files), or None."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 else None
    except (OSError, ValueError):
        return None


def usable_cpus():
    """The CPUs this process may use: TLCOURSE_THREADS if set, else its CPU affinity capped by a container's
    quota. Not os.cpu_count(): on a shared server that is every core of the host."""
    if os.environ.get("TLCOURSE_THREADS", "").strip():
        threads = int(os.environ["TLCOURSE_THREADS"])
        if threads < 1:
            raise ValueError(f"TLCOURSE_THREADS={threads}: use 1 or more")
        return threads
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = cgroup_cpu_limit()
    return max(1, min(cpus, math.floor(quota))) if quota else cpus


def setup(profile=None, seed=0, threads=None, verbose=True):
    """Prepare a notebook: profile, offline mode, seeds, CPU threads, device. Returns the device.

    profile: 'smoke' | 'default' | 'full'; None reads TLCOURSE_PROFILE (default 'default').
    threads: torch CPU threads; None uses usable_cpus(): TLCOURSE_THREADS, or the cores this process may use.
    """
    if profile is not None:
        os.environ["TLCOURSE_PROFILE"] = profile
    profile = active_profile()
    if not is_offline() and not hub_reachable():
        set_offline()  # no network: fail fast instead of retrying the hub for 30-50 s
    quiet_library_progress_bars()
    import torch

    seed_everything(seed)
    threads = usable_cpus() if threads is None else threads
    torch.set_num_threads(threads)
    device = pick_device()
    if verbose:
        print(
            f"tlcourse: profile={profile} seed={seed} device={device.type} threads={threads} "
            f"hub={'offline' if is_offline() else 'online'} torch={torch.__version__}"
        )
    return device


RECORDED_PACKAGES = ("torch", "transformers", "tokenizers", "datasets", "accelerate", "peft", "sentence-transformers")


def cpu_model():
    """The CPU's model name (/proc/cpuinfo on Linux, platform.processor() elsewhere)."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions():
    """What ran: Python, the libraries that compute the course's numbers, threads, torch's CPU kernels, the CPU.
    Every report and benchmark row carries this, so a number that moved can be traced to a version or a CPU."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    import torch

    found = {}
    for name in RECORDED_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return {
        "python": platform.python_version(),
        **found,
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu": cpu_model(),
        "kernel_variables": {
            k: os.environ[k] for k in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA") if k in os.environ
        },
    }
