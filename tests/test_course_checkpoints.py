"""The course's shipped checkpoints: every file verified by sha256 on load, each with its card, and the script that
made them still makes them (a short version of each, same code path)."""

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch
from transformers import AutoModelForImageClassification, AutoModelForMaskedLM, AutoTokenizer

from tlcourse.course import data, models
from tlcourse.course.config import repo_root

SHIPPED = {
    "mlm-wiki-roformer": AutoModelForMaskedLM,
    "vit-fashion-supervised": AutoModelForImageClassification,
    "vit-fashion-mae75": AutoModelForImageClassification,
}
CARD_KEYS = {"what", "command", "recipe", "train_seconds", "machine", "metrics", "data", "licence"}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_checkpoint_verifies_loads_and_has_a_card(name):
    folder = models.course_checkpoint(name)
    assert set(data.read_manifest()["checkpoints"][name]) >= {"model.safetensors", "config.json", "card.json"}
    model = SHIPPED[name].from_pretrained(folder)
    assert all(p.dtype == torch.float32 and torch.isfinite(p).all() for p in model.parameters())
    card = json.loads((folder / "card.json").read_text())
    assert CARD_KEYS <= set(card), CARD_KEYS - set(card)
    assert card["train_seconds"] > 60 and card["command"].startswith("HF_HUB_OFFLINE=1")
    if name.startswith("mlm"):
        assert "CC BY-SA" in card["licence"]
        assert card["metrics"]["validation_mask_loss"] < card["metrics"]["validation_unigram_mask_loss"] - 1
        from tlcourse.tools import mlm

        default_sizes = {"corpus_size": None, "vocab_size": 8000, "block_size": 128}  # whatever the test profile
        shipped_vocab = mlm.course_tokenizer(default_sizes).get_vocab()
        assert AutoTokenizer.from_pretrained(folder).get_vocab() == shipped_vocab


def test_repository_grows_by_at_most_20_mb():
    total = sum(f.stat().st_size for f in models.course_checkpoints_dir().rglob("*") if f.is_file())
    assert total <= 20e6, total


def test_a_changed_file_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "checkpoints"
    shutil.copytree(models.course_checkpoints_dir() / "vit-fashion-supervised", copy / "vit-fashion-supervised")
    monkeypatch.setattr(models, "course_checkpoints_dir", lambda: copy)
    assert models.course_checkpoint("vit-fashion-supervised") == copy / "vit-fashion-supervised"
    weights = copy / "vit-fashion-supervised" / "model.safetensors"
    raw = bytearray(weights.read_bytes())
    raw[-1] ^= 1
    weights.write_bytes(bytes(raw))
    with pytest.raises(data.DataIntegrityError, match="sha256"):
        models.course_checkpoint("vit-fashion-supervised")
    with pytest.raises(models.ModelNotAvailable, match="no course checkpoint named"):
        models.course_checkpoint("no-such-checkpoint")


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind,name", [("mlm", "mlm-wiki-roformer"), ("vit", "vit-fashion-supervised"), ("mae", "vit-fashion-mae75")]
)
def test_the_script_recreates_a_short_version(kind, name, tmp_path):
    manifest = data.manifest_path().read_text()
    command = [sys.executable, "benchmarks/course_checkpoints.py", kind, "--steps", "4", "--every", "2"]
    command += ["--out", str(tmp_path / "out"), "--work", str(tmp_path / "work")]
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, cwd=repo_root(), env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert data.manifest_path().read_text() == manifest  # a test run registers nothing
    made = tmp_path / "out" / name
    SHIPPED[name].from_pretrained(made)
    card = json.loads((made / "card.json").read_text())
    assert card["recipe"]["steps"] == 4 and CARD_KEYS <= set(card)

    def config(folder):
        return json.loads((folder / "config.json").read_text()) | {"transformers_version": None}

    assert config(made) == config(models.course_checkpoint(name))  # the same architecture as shipped
    # a rerun resumes from the finished state: nothing is trained again
    again = subprocess.run(command, cwd=repo_root(), env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "resuming at step 4 of 4" in again.stdout, again.stdout[-2000:]
