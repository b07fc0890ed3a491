import json

import pytest

from tlcourse.course import config, report


@pytest.fixture
def build(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "repo_root", lambda: tmp_path)
    (tmp_path / "notebooks").mkdir()  # a checkout: build/ goes beside notebooks/
    monkeypatch.delenv("TLCOURSE_BUILD_DIR", raising=False)
    monkeypatch.setenv("TLCOURSE_PROFILE", "smoke")
    return tmp_path / "build"


def test_record_merges_flat_metrics_per_notebook(build, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path.parent)
    report.record("04_bert_text_classification", {"accuracy/tfidf/8": 0.5})
    report.record("notebooks/04_bert_text_classification.ipynb", {"accuracy/tfidf/32": 0.75})
    report.set_run("04_bert_text_classification", 12.34, "ok", "smoke")
    saved = json.loads((build / "metrics.json").read_text())
    assert saved == {
        "04_bert_text_classification": {
            "profile": "smoke",
            "wall_seconds": 12.3,
            "status": "ok",
            "metrics": {"accuracy/tfidf/8": 0.5, "accuracy/tfidf/32": 0.75},
        }
    }


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True, None, [0.5]])
def test_record_refuses_what_is_not_a_finite_number(build, value):
    with pytest.raises(ValueError, match="finite numbers"):
        report.record("01_x", {"loss": value})


def test_record_keeps_a_fingerprint_as_text(build):
    report.record("03_x", {"vocab_sha256": "385ca35a", "loss": 2})
    assert report.read()["03_x"]["metrics"] == {"vocab_sha256": "385ca35a", "loss": 2.0}
    assert "vocab_sha256" in report.write_report().read_text()


def test_report_lists_every_notebook(build):
    report.record("01_a", {"m": 1.0})
    report.set_run("02_b", 3.0, "failed", "default")
    text = report.write_report().read_text()
    assert "| 01_a | smoke |" in text and "| 02_b | default | failed | 3.0 |" in text and "| m | 1 |" in text
