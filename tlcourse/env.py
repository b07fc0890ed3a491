"""tlcourse.setup(): seed, threads, device, profile and offline mode in one call."""
import os
import random
import socket
import sys
import threading

import numpy as np

from tlcourse.config import profile as active_profile

HUB_HOST = ("huggingface.co", 443)


def hub_reachable(timeout=1.5):
    """True when huggingface.co answers on port 443 within `timeout` seconds (DNS included)."""
    result = []

    def probe():
        try:
            socket.create_connection(HUB_HOST, timeout=timeout).close()
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


def setup(profile=None, seed=0, threads=None, verbose=True):
    """Prepare a notebook: profile, offline mode, seeds, CPU threads, device. Returns the device.

    profile: 'smoke' | 'default' | 'full'; None reads TLCOURSE_PROFILE (default 'default').
    threads: torch CPU threads; None uses every core the process may use.
    """
    if profile is not None:
        os.environ["TLCOURSE_PROFILE"] = profile
    profile = active_profile()
    if not is_offline() and not hub_reachable():
        set_offline()  # no network: fail fast instead of retrying the hub for 30-50 s
    quiet_library_progress_bars()
    import torch

    seed_everything(seed)
    if threads is None:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(threads)
    device = pick_device()
    if verbose:
        print(f"tlcourse: profile={profile} seed={seed} device={device.type} threads={threads} "
              f"hub={'offline' if is_offline() else 'online'} torch={torch.__version__}")
    return device
