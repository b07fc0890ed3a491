"""python -m tlcourse.tools.memory WAY: the memory one fine-tuning configuration needs, measured alone in this process.

Notebook 06 starts one process per configuration, so that no earlier model or freed buffer hides in the numbers:

    python -m tlcourse.tools.memory full          # or: head_only, top2, lora; --precision bf16; --rows 16 --length 32

It builds MiniLM with a mean-pool head, adapted as notebook 06's `adapt(way)` says (tlcourse.lessons.efficient_fine_tuning_and_scaling), then runs a few training
steps (forward, backward, AdamW) on one batch of rows x length tokens and prints one JSON line:

- peak_mb: on CPU, the process's peak resident memory (VmHWM) minus its resident memory once the model is built
  (Linux: the peak is reset through /proc/self/clear_refs); on a GPU, torch's peak counter minus what was allocated
  once the model was on the device;
- the account of that peak: gradients and optimizer state (from the tensors themselves), saved activations (the
  tensors autograd keeps for the backward pass, counted by `torch.autograd.graph.saved_tensors_hooks`), and the
  forward pass's temporary buffers (peak of an inference forward); weights_mb is what the baseline already holds.

glibc's malloc keeps freed memory for reuse, so resident memory would remember buffers long gone; MALLOC_MMAP_THRESHOLD_
(set when notebook 06 starts this module) makes it hand every large block back at once.
"""

import argparse
import json
import os
import subprocess
import sys

MB = 2**20


def storage_bytes(tensors, exclude=()):
    """Bytes of the distinct storages behind `tensors` (views share one), leaving out `exclude`'s storages."""
    seen = {t.untyped_storage().data_ptr() for t in exclude}
    total = 0
    for tensor in tensors:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in seen:
            seen.add(storage.data_ptr())
            total += storage.nbytes()
    return total


class Resident:
    """Peak memory of this process: on Linux its resident memory (VmRSS, VmHWM in /proc/self/status); on a
    GPU torch's counters; elsewhere (macOS, Windows) resident memory read at each `note()`, a lower bound."""

    def __init__(self, device):
        import psutil
        import torch

        self.torch, self.cuda, self.process = torch, device.type == "cuda", psutil.Process()
        self.exact = self.cuda or os.path.exists("/proc/self/clear_refs")
        self.highest = 0

    def _status(self, key):
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith(key + ":"))

    def start(self):
        """Forget the peak so far; return the current level in bytes."""
        if self.cuda:
            self.torch.cuda.empty_cache()
            self.torch.cuda.reset_peak_memory_stats()
            return self.torch.cuda.memory_allocated()
        _trim()
        if not self.exact:
            self.highest = self.process.memory_info().rss
            return self.highest
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # resets VmHWM to the current resident size
        return self._status("VmRSS")

    def note(self):
        """Where the peak cannot be read, read the current level now (call it where peaks happen)."""
        if not self.exact:
            self.highest = max(self.highest, self.process.memory_info().rss)

    def peak(self):
        if self.cuda:
            return self.torch.cuda.max_memory_allocated()
        return self._status("VmHWM") if self.exact else self.highest


def _trim():
    """Give freed heap memory back to the system (glibc), so the baseline is what is really in use."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def measure(way, rows=16, length=32, steps=3, precision="no", num_labels=11, checkpoint="minilm"):
    import torch
    import transformers
    from transformers import AutoModel

    import tlcourse
    from tlcourse.course import models
    from tlcourse.lessons.bert_text_classification import MeanPoolClassifier
    from tlcourse.lessons.efficient_fine_tuning_and_scaling import adapt

    transformers.logging.set_verbosity_error()
    device = tlcourse.setup(seed=0, verbose=False)
    torch.manual_seed(0)
    encoder = AutoModel.from_pretrained(models.resolve(checkpoint), add_pooling_layer=False)
    names = [str(i) for i in range(num_labels)]
    model = MeanPoolClassifier.from_encoder(adapt(encoder, way), names).to(device).train()  # dropout on
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-5)
    batch = {
        "input_ids": torch.randint(1000, 20000, (rows, length), device=device),
        "attention_mask": torch.ones(rows, length, dtype=torch.long, device=device),
        "labels": torch.randint(0, num_labels, (rows,), device=device),
    }
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
    resident = Resident(device)

    # the forward pass's temporaries: peak of an inference forward, nothing kept for backward (the first
    # forward also sets up kernels and thread pools once; that is not the model's, so it is left out)
    for _warm in (True, False):
        base = resident.start()
        with torch.no_grad(), autocast:
            model(**batch)
            resident.note()
        workspace = resident.peak() - base
    # the first backward and optimizer step also set up code once per process (autograd's engine, AdamW's
    # first call): run them on a 2-number stand-in, so that the baseline below holds them already
    stand_in = torch.nn.Parameter(torch.ones(2, device=device))
    stand_in.sum().backward()
    torch.optim.AdamW([stand_in]).step()

    saved = []

    def pack(tensor):
        saved.append(tensor)
        return tensor

    base = resident.start()
    for _step in range(steps):
        saved.clear()
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor), autocast:
            loss = model(**batch)["loss"]
        resident.note()
        activations = storage_bytes(saved, exclude=model.parameters())
        saved.clear()  # drop our references, so the backward pass frees them as usual
        loss.backward()
        resident.note()
        gradients = storage_bytes([p.grad for p in trainable if p.grad is not None])
        optimizer.step()
        resident.note()
        optimizer.zero_grad(set_to_none=True)
    peak = resident.peak() - base
    optimizer_bytes = storage_bytes(
        [v for state in optimizer.state.values() for v in state.values() if torch.is_tensor(v)]
    )
    with autocast:  # once more, to see what the optimizer step itself allocates for a moment
        model(**batch)["loss"].backward()
    start = resident.start()
    optimizer.step()
    resident.note()
    step_temporaries = resident.peak() - start
    result = {
        "way": way,
        "precision": precision,
        "rows": rows,
        "length": length,
        "device": device.type,
        "exact": resident.exact,
        "trainable_parameters": sum(p.numel() for p in trainable),
        "peak_mb": peak / MB,
        "weights_mb": storage_bytes(model.parameters()) / MB,
        "gradients_mb": gradients / MB,
        "optimizer_mb": optimizer_bytes / MB,
        "activations_mb": activations / MB,
        "forward_temporaries_mb": workspace / MB,
        "step_temporaries_mb": step_temporaries / MB,
    }
    # what is held at once, at the three moments a step can peak (the optimizer state lives throughout)
    moments = {
        "end of forward": ("activations_mb", "forward_temporaries_mb"),
        "backward": ("activations_mb", "gradients_mb"),  # upper bound: activations are freed as it goes
        "optimizer step": ("gradients_mb", "step_temporaries_mb"),
    }
    held = {moment: result["optimizer_mb"] + sum(result[k] for k in keys) for moment, keys in moments.items()}
    result["largest_moment"] = max(held, key=held.get)
    result["accounted_mb"] = held[result["largest_moment"]]
    return result


def in_fresh_process(way, precision="no", rows=16, length=32, steps=3, threads=None):
    """Run `measure` in a new Python process (glibc told to return large blocks at once); returns its dict.

    threads: the process's CPU threads (default: tlcourse's, the cores); 1 lets several processes measure side
    by side, one core each, without slowing one another down."""
    command = [
        sys.executable,
        "-m",
        "tlcourse.tools.memory",
        way,
        "--precision",
        precision,
        "--rows",
        str(rows),
        "--length",
        str(length),
        "--steps",
        str(steps),
    ]
    env = os.environ | {"MALLOC_MMAP_THRESHOLD_": "65536"} | ({"TLCOURSE_THREADS": str(threads)} if threads else {})
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command[1:])} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    from tlcourse.lessons.efficient_fine_tuning_and_scaling import WAYS

    parser = argparse.ArgumentParser(prog="python -m tlcourse.tools.memory", description=__doc__.split("\n")[0])
    parser.add_argument("way", choices=WAYS)
    parser.add_argument("--precision", choices=["no", "bf16"], default="no")
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--length", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--checkpoint", default="minilm")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.way, args.rows, args.length, args.steps, args.precision, checkpoint=args.checkpoint)))


if __name__ == "__main__":
    main()
