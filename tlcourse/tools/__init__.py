"""tlcourse.tools: what the notebooks use to train, measure and show, written once.

train (fit: the course loop, with progress bar, live plot, checkpoints and resume), evaluate (predictions,
scores, confusion), plot (live and summary figures), measure (timings with warm-up and medians; weights compared), memory
(peak memory of one configuration per process), text (tokenizers, embeddings, the text
classifier's loops), vision (image tensors, patches, the small ViTs), mlm (masking, yardsticks, pretraining).
Imported on first use: `from tlcourse.tools import train` or `tlcourse.tools.train`.
"""

import importlib

__all__ = ["train", "evaluate", "plot", "measure", "memory", "text", "vision", "mlm"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
