"""tlcourse.measure: the cost side of a result: peak memory while something runs, size on disk."""
import io
import threading
import time
from contextlib import contextmanager


@contextmanager
def peak_memory(every=0.02):
    """Sample this process's resident memory while the block runs; yields a dict whose 'peak_mb' is the
    highest reading above the reading at the start (on a GPU, torch's own peak counter is exact).
    On CPU it is a lower bound: memory freed earlier and reused by the block does not show as growth."""
    import psutil
    import torch

    process, result, done = psutil.Process(), {"peak_mb": 0.0}, threading.Event()
    start = process.memory_info().rss
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()

    def sample():
        while not done.is_set():
            result["peak_mb"] = max(result["peak_mb"], (process.memory_info().rss - start) / 2 ** 20)
            time.sleep(every)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        done.set()
        sampler.join()
        if torch.cuda.is_available():
            result["peak_mb"] = torch.cuda.max_memory_allocated() / 2 ** 20


def size_on_disk_mb(model):
    """Bytes that torch.save writes for the model's state dict (works for quantized models too), in MiB."""
    import torch

    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes / 2 ** 20
