"""tlcourse.tools.measure: the cost side of a result: time, size on disk, low-precision speed (memory: tlcourse.tools.memory)."""

import io
import statistics
import time


def median_seconds(function, repeats=5, warmup=1, device=None):
    """Median wall time of `function()` over `repeats` calls, after `warmup` untimed calls.

    device: a CUDA or MPS device is synchronised around each call (its kernels run asynchronously).
    """
    import torch

    kind = None if device is None else torch.device(device).type
    sync = {"cuda": lambda: torch.cuda.synchronize(device), "mps": lambda: torch.mps.synchronize()}.get(
        kind, lambda: None
    )
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        sync()
        started = time.perf_counter()
        function()
        sync()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def autocast_speedup(dtype, device="cpu", shape=(512, 384, 1536), repeats=5):
    """How many times faster a matrix product runs under autocast to `dtype` than in float32.

    The default shape is one MiniLM feed-forward layer on a batch of 16 x 32 tokens. Above 1: the hardware
    computes in that precision natively (AVX-512 BF16 or AMX on a CPU, tensor cores on a GPU); far below 1:
    it emulates it, and low precision only costs time there.
    """
    import torch

    rows, inner, outer = shape
    a, b = torch.randn(rows, inner, device=device), torch.randn(inner, outer, device=device)
    device_type = torch.device(device).type

    def product(enabled):
        with torch.autocast(device_type, dtype=dtype, enabled=enabled):
            return a @ b

    fp32 = median_seconds(lambda: product(False), repeats, device=device)
    low = median_seconds(lambda: product(True), repeats, device=device)
    return fp32 / low


def size_on_disk_mb(model):
    """Bytes that torch.save writes for the model's state dict (works for quantized models too), in MiB."""
    import torch

    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes / 2**20


def max_weight_difference(folder_a, folder_b):
    """Largest absolute difference between the weights two runs saved (model.safetensors in each folder)."""
    from pathlib import Path

    from safetensors.torch import load_file

    a, b = load_file(Path(folder_a) / "model.safetensors"), load_file(Path(folder_b) / "model.safetensors")
    if a.keys() != b.keys():
        raise ValueError(f"the two folders hold different weights: {sorted(a.keys() ^ b.keys())[:5]}")
    return max((a[name].float() - b[name].float()).abs().max().item() for name in a)
