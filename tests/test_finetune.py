"""The command-line fine-tune: one process and two data-parallel processes (gloo, CPU) reach the same result."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ARGS = [
    "-m",
    "tlcourse.finetune",
    "--per-class",
    "4",
    "--epochs",
    "1",
    "--batch-size",
    "4",
    "--test-per-class",
    "5",
    "--no-dropout",
    "--threads",
    "1",
    "--float64",
]


def run(launcher, output, extra=()):
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [*launcher, *ARGS, *extra, "--output", str(output)], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((output / "metrics.json").read_text())


@pytest.mark.slow
def test_two_processes_match_one(tmp_path):
    accelerate = Path(sys.executable).parent / "accelerate"
    if not accelerate.exists():
        pytest.fail("accelerate's launcher is missing from the environment: pip install accelerate")
    one = run([sys.executable], tmp_path / "one")
    two = run(
        [
            str(accelerate),
            "launch",
            "--multi_gpu",
            "--num_processes",
            "2",
            "--num_machines",
            "1",
            "--mixed_precision",
            "no",
            "--dynamo_backend",
            "no",
        ],
        tmp_path / "two",
    )
    assert (one["processes"], two["processes"]) == (1, 2)
    assert one["train_examples"] == two["train_examples"] == 44 and one["test_examples"] == 55  # 11 batches of 4
    assert abs(one["test_loss"] - two["test_loss"]) < 1e-3  # same global batch, gradients averaged: same path
    assert abs(one["test_accuracy"] - two["test_accuracy"]) <= 1 / 55
    from tlcourse.tools.measure import max_weight_difference

    assert max_weight_difference(tmp_path / "one", tmp_path / "two") <= 1e-5  # float64: rounding cannot hide a bug
    # the comparison can fail: a different global batch (4 -> 8) is a different run
    other = run([sys.executable], tmp_path / "other", extra=["--batch-size", "8"])
    assert other["train_examples"] == 44
    assert max_weight_difference(tmp_path / "one", tmp_path / "other") > 1e-4


def test_weight_difference_sees_a_changed_weight(tmp_path):
    import torch
    from safetensors.torch import save_file

    from tlcourse.tools.measure import max_weight_difference

    weights = {"a": torch.zeros(3), "b": torch.ones(2, 2)}
    for name, change in [("x", 0.0), ("y", 0.5)]:
        (tmp_path / name).mkdir()
        save_file(
            weights | {"b": weights["b"] + torch.tensor([[0.0, 0.0], [0.0, change]])},
            tmp_path / name / "model.safetensors",
        )
    assert max_weight_difference(tmp_path / "x", tmp_path / "y") == 0.5
    save_file({"a": torch.zeros(3)}, tmp_path / "y" / "model.safetensors")
    with pytest.raises(ValueError, match="different weights"):
        max_weight_difference(tmp_path / "x", tmp_path / "y")


def test_adapt_trains_what_it_says():
    from transformers import BertConfig, BertModel

    from tlcourse.lessons.efficient_fine_tuning_and_scaling import adapt

    def trainable(way):
        encoder = BertModel(
            BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=4, num_attention_heads=2, intermediate_size=32),
            add_pooling_layer=False,
        )
        return {name for name, p in adapt(encoder, way).named_parameters() if p.requires_grad}

    assert trainable("head_only") == set()
    top2 = trainable("top2")
    assert top2 and all(name.startswith(("encoder.layer.2.", "encoder.layer.3.")) for name in top2)
    assert len(trainable("full")) > len(top2)
    lora = trainable("lora")
    assert lora and all("lora_" in name for name in lora) and any("query" in n for n in lora)
    with pytest.raises(ValueError, match="way must be one of"):
        adapt(None, "everything")


def test_batch_size_must_divide_by_processes(monkeypatch):
    from tlcourse import finetune

    class TwoProcesses:
        num_processes, is_main_process = 2, True

    monkeypatch.setattr("accelerate.PartialState", lambda **kwargs: TwoProcesses())
    with pytest.raises(SystemExit, match="must divide"):
        finetune.main(["--batch-size", "15"])
