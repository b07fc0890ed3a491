"""The command-line fine-tune: one process and two data-parallel processes (gloo, CPU) reach the same result."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ARGS = ["-m", "tlcourse.finetune", "--per-class", "4", "--epochs", "1", "--batch-size", "4", "--test-per-class", "5",
        "--no-dropout"]


def run(launcher, output):
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    done = subprocess.run([*launcher, *ARGS, "--output", str(output)], capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((output / "metrics.json").read_text())


def test_two_processes_match_one(tmp_path):
    accelerate = Path(sys.executable).parent / "accelerate"
    if not accelerate.exists():
        pytest.fail("accelerate's launcher is missing from the environment: pip install accelerate")
    one = run([sys.executable], tmp_path / "one")
    two = run([str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
               "--mixed_precision", "no", "--dynamo_backend", "no"], tmp_path / "two")
    assert (one["processes"], two["processes"]) == (1, 2)
    assert one["train_examples"] == two["train_examples"] == 44 and one["test_examples"] == 55  # 11 batches of 4
    assert abs(one["test_loss"] - two["test_loss"]) < 1e-3  # same global batch, gradients averaged: same path
    assert abs(one["test_accuracy"] - two["test_accuracy"]) <= 1 / 55
    assert (tmp_path / "two" / "model.safetensors").exists()


def test_batch_size_must_divide_by_processes(monkeypatch):
    from tlcourse import finetune

    class TwoProcesses:
        num_processes, is_main_process = 2, True

    monkeypatch.setattr("accelerate.PartialState", lambda **kwargs: TwoProcesses())
    with pytest.raises(SystemExit, match="must divide"):
        finetune.main(["--batch-size", "15"])
