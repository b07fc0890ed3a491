"""tlcourse.tools.train.fit: the course's one training loop, built on accelerate.

The same loop runs on a CPU, one GPU, or several GPUs/machines under `accelerate launch`.
It shuffles with a seeded sampler, warms the learning rate up linearly then decays it, clips
gradients, evaluates and checkpoints at every epoch end, and with resume=True continues an
interrupted run from its last checkpoint (ending with the same weights as an uninterrupted run).
"""

import json
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader


@dataclass
class History:
    """What fit measured: one dict per epoch, and the training loss every `log_every` steps."""

    epochs: list = field(default_factory=list)
    steps: list = field(default_factory=list)

    @property
    def last(self):
        return self.epochs[-1] if self.epochs else {}

    def to_json(self):
        return {"epochs": self.epochs, "steps": self.steps}


def parameter_groups(model, weight_decay):
    """No weight decay on biases and LayerNorm weights, as in BERT."""
    decay, no_decay = [], []
    for _name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (no_decay if parameter.ndim < 2 else decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def model_loss(model, batch, loss_fn):
    outputs = model(**batch)
    loss = loss_fn(outputs, batch) if loss_fn else outputs["loss"]
    return outputs, loss


@torch.no_grad()
def evaluate_loss(model, loader, accelerator, loss_fn=None):
    """Mean loss per example and accuracy over labels != -100 (classes, or masked tokens for MLM)."""
    model.eval()
    loss_sum, examples, correct, counted = 0.0, 0, 0, 0
    for batch in loader:
        outputs, loss = model_loss(model, batch, loss_fn)
        size = len(next(iter(batch.values())))
        loss_sum += accelerator.gather_for_metrics(loss.detach().repeat(size)).sum().item()
        examples += accelerator.gather_for_metrics(torch.tensor([size], device=loss.device)).sum().item()
        labels = batch.get("labels")
        if labels is not None and "logits" in outputs:
            predictions = outputs["logits"].argmax(-1)
            keep = labels != -100
            correct += accelerator.reduce((predictions[keep] == labels[keep]).sum(), "sum").item()
            counted += accelerator.reduce(keep.sum(), "sum").item()
    model.train()
    result = {"eval_loss": loss_sum / max(examples, 1)}
    if counted:
        result["eval_accuracy"] = correct / counted
    return result


def last_checkpoint(output_dir):
    found = sorted(Path(output_dir).glob("epoch_*/history.json"), key=lambda p: int(p.parent.name.split("_")[1]))
    return found[-1].parent if found else None


def fit(
    model,
    train_data,
    eval_data=None,
    *,
    epochs=1,
    batch_size=32,
    lr=5e-5,
    weight_decay=0.01,
    warmup_ratio=0.1,
    max_grad_norm=1.0,
    collate_fn=None,
    optimizer=None,
    loss_fn=None,
    gradient_accumulation_steps=1,
    mixed_precision="no",
    output_dir=None,
    resume=False,
    seed=0,
    eval_batch_size=None,
    eval_fn=None,
    schedule="linear",
    log_every=10,
    progress=True,
    plot=True,
):
    """Train `model` on `train_data` (a map-style dataset of dicts, or any Dataset with `collate_fn`).

    The model is called as model(**batch) and must return a `loss` (or pass loss_fn(outputs, batch)).
    optimizer: default AdamW over parameter_groups(model, weight_decay) at `lr`.
    output_dir: where a checkpoint is written at each epoch end; resume=True continues from the last one.
    eval_fn: called with the model at each epoch end; the dict it returns is added to that epoch's record.
    schedule: "linear" (warm up, then decay to 0) or "wsd" (warm up, stay at `lr`, decay over the last 20%).
    Returns a History; the model is trained in place.
    """
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState
    from accelerate.utils import DataLoaderConfiguration, set_seed
    from transformers import get_linear_schedule_with_warmup, get_wsd_schedule

    from tlcourse.tools.plot import LivePlot

    AcceleratorState._reset_state()  # accelerate keeps one global state: let each fit pick its own precision
    accelerator = Accelerator(
        gradient_accumulation_steps=gradient_accumulation_steps,
        mixed_precision=mixed_precision,
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True, data_seed=seed),
    )
    set_seed(seed)
    train_loader = DataLoader(train_data, batch_size=batch_size, shuffle=True, collate_fn=collate_fn)
    eval_loader = (
        None
        if eval_data is None
        else DataLoader(eval_data, batch_size=eval_batch_size or 2 * batch_size, collate_fn=collate_fn)
    )
    optimizer = optimizer or torch.optim.AdamW(parameter_groups(model, weight_decay), lr=lr)
    # the schedule counts optimizer steps of one process; accelerate steps it once per process
    total_steps = epochs * math.ceil(len(train_loader) / gradient_accumulation_steps)
    if schedule == "linear":
        scheduler = get_linear_schedule_with_warmup(optimizer, int(warmup_ratio * total_steps), total_steps)
    elif schedule == "wsd":
        scheduler = get_wsd_schedule(
            optimizer, int(warmup_ratio * total_steps), int(0.2 * total_steps), total_steps, decay_type="linear"
        )
    else:
        raise ValueError(f"schedule must be 'linear' or 'wsd', not {schedule!r}")
    model, optimizer, train_loader, scheduler = accelerator.prepare(model, optimizer, train_loader, scheduler)
    if eval_loader is not None:
        eval_loader = accelerator.prepare(eval_loader)

    history, start_epoch = History(), 0
    if resume and output_dir and last_checkpoint(output_dir):
        checkpoint = last_checkpoint(output_dir)
        accelerator.load_state(checkpoint)
        saved = json.loads((checkpoint / "history.json").read_text())
        history = History(saved["epochs"], saved["steps"])
        start_epoch = len(history.epochs)
        accelerator.print(f"fit: resumed from {checkpoint.name} ({start_epoch}/{epochs} epochs done)")

    live = LivePlot(
        enabled=plot and accelerator.is_main_process, save_to=Path(output_dir) / "curves.png" if output_dir else None
    )
    step = start_epoch * len(train_loader)
    bar = _progress_bar(
        total=epochs * len(train_loader),
        initial=start_epoch * len(train_loader),
        disable=not progress or not accelerator.is_local_main_process,
    )
    model.train()
    for epoch in range(start_epoch, epochs):
        train_loader.set_epoch(epoch)  # seeded, reproducible order per epoch
        started, loss_sum, batches = time.perf_counter(), 0.0, 0
        for batch in train_loader:
            with accelerator.accumulate(model):
                _, loss = model_loss(model, batch, loss_fn)
                accelerator.backward(loss)
                if accelerator.sync_gradients and max_grad_norm:
                    accelerator.clip_grad_norm_(model.parameters(), max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            loss_value = loss.item()
            loss_sum, batches, step = loss_sum + loss_value, batches + 1, step + 1
            if step % log_every == 0:
                history.steps.append({"step": step, "loss": loss_value, "lr": scheduler.get_last_lr()[0]})
                live.update(history)
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{loss_value:.3f}")
        record = {
            "epoch": epoch + 1,
            "train_loss": loss_sum / max(batches, 1),
            "seconds": time.perf_counter() - started,
        }
        if eval_loader is not None:
            record.update(evaluate_loss(model, eval_loader, accelerator, loss_fn))
        if eval_fn is not None:
            record.update(eval_fn(accelerator.unwrap_model(model)))
        history.epochs.append(record)
        live.update(history, force=True)
        if output_dir:
            _save_checkpoint(accelerator, Path(output_dir), epoch + 1, history)
    bar.close()
    live.close(history)
    accelerator.wait_for_everyone()
    return history


def _progress_bar(**kwargs):
    from tqdm.auto import tqdm

    return tqdm(unit="step", dynamic_ncols=True, **kwargs)


def _tied_weights_saved_once(record):
    # tied weights (an MLM head's projection is the token embedding) are one tensor, stored once; load_state
    # restores both names (tests/test_train.py resumes a tied model), so accelerate's notice is noise here
    return "Removed shared tensor" not in record.getMessage()


def _save_checkpoint(accelerator, output_dir, epoch, history):
    """Model, optimizer, scheduler and RNG states (safetensors) plus the history; older epochs removed."""
    import logging

    folder = output_dir / f"epoch_{epoch}"
    notices = logging.getLogger("accelerate.utils.other")
    notices.addFilter(_tied_weights_saved_once)
    try:
        accelerator.save_state(folder)
    finally:
        notices.removeFilter(_tied_weights_saved_once)
    if accelerator.is_main_process:
        (folder / "history.json").write_text(json.dumps(history.to_json()))  # written last: marks it complete
        for old in output_dir.glob("epoch_*"):
            if old != folder:
                shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
