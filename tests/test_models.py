import time
from pathlib import Path

import pytest

from tlcourse.course import models


def test_minilm_resolves_to_the_packaged_folder():
    folder = Path(models.resolve("minilm"))
    assert (folder / "config.json").exists() and (folder / "model.safetensors").exists()


def test_minilm_loads_as_a_6_layer_384_wide_bert():
    model = models.load("minilm")
    assert model.config.num_hidden_layers == 6 and model.config.hidden_size == 384
    assert 22_000_000 < models.count_parameters(model) < 23_500_000


def test_a_local_folder_resolves_to_itself(tmp_path):
    assert models.resolve(str(tmp_path)) == str(tmp_path)


def test_a_hub_id_offline_fails_at_once_with_the_fix(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    with pytest.raises(models.ModelNotAvailable, match="unset HF_HUB_OFFLINE"):
        models.load("no-such-org/no-such-model-for-tlcourse")
    assert time.perf_counter() - started < 2


def test_unknown_task_lists_the_tasks():
    with pytest.raises(ValueError, match="sequence-classification"):
        models.load("minilm", task="translation")


def test_course_checkpoints_are_kept_per_profile(monkeypatch, fresh_cache):
    monkeypatch.setenv("TLCOURSE_PROFILE", "smoke")
    smoke = models.save_dir("own-bert")
    monkeypatch.setenv("TLCOURSE_PROFILE", "default")
    assert smoke != models.save_dir("own-bert")
    smoke.mkdir(parents=True)
    monkeypatch.setenv("TLCOURSE_PROFILE", "smoke")
    assert models.resolve("own-bert") == str(smoke)
