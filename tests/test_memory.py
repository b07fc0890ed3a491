"""Memory per configuration, measured in a fresh process, and the account of it."""

import os
import subprocess

import pytest
import torch

from tlcourse.tools import memory


def test_storage_bytes_counts_shared_storage_once_and_leaves_out_excluded():
    a = torch.zeros(1000)  # 4000 bytes
    view = a[:10]
    b = torch.zeros(10, dtype=torch.float64)  # 80 bytes
    weight = torch.nn.Parameter(torch.zeros(500))
    assert memory.storage_bytes([a, view, b]) == 4080
    assert memory.storage_bytes([a, weight, weight.t()], exclude=[weight]) == 4000


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="exact peaks need Linux")
@pytest.mark.slow
def test_fresh_process_peaks_are_accounted_for_and_lora_keeps_activations():
    full, lora = memory.in_fresh_process("full", rows=8), memory.in_fresh_process("lora", rows=8)
    assert full["exact"] and lora["exact"]
    for row in (full, lora):
        assert 0.8 <= row["accounted_mb"] / row["peak_mb"] <= 1.2, row
    # full fine-tuning holds a gradient and two AdamW moments per weight: 3 x 4 bytes x 22.6M
    assert full["gradients_mb"] + full["optimizer_mb"] == pytest.approx(3 * full["weights_mb"], rel=0.01)
    assert full["peak_mb"] > full["gradients_mb"] + full["optimizer_mb"]
    # LoRA: almost no gradients or optimizer state, but the backward pass still crosses every layer
    assert lora["gradients_mb"] + lora["optimizer_mb"] < 2
    assert 0.3 * full["activations_mb"] < lora["activations_mb"] < full["activations_mb"]
    # its peak: far below full fine-tuning's, and still at least the activations it keeps
    assert 0.8 * lora["activations_mb"] < lora["peak_mb"] < 0.9 * full["peak_mb"]


def test_a_fresh_process_gets_the_thread_count_asked_for(monkeypatch):
    seen = {}

    def fake_run(command, capture_output, text, env):
        seen.update(env)
        return subprocess.CompletedProcess(command, 0, stdout='{"way": "full"}\n', stderr="")

    monkeypatch.setattr(memory.subprocess, "run", fake_run)
    assert memory.in_fresh_process("full", threads=1) == {"way": "full"}
    assert seen["TLCOURSE_THREADS"] == "1" and seen["MALLOC_MMAP_THRESHOLD_"] == "65536"
