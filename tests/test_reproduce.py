"""Does my run agree? The published run, its ranges, the comparison and the one source for run times."""

import json

import pytest

from tlcourse.course import config, env, report, reproduce

ROOT = config.repo_root()
WHAT_RAN = ("python", *env.RECORDED_PACKAGES, "threads", "cpu_capability", "cpu")  # what every report records


def published_fixture():
    return {
        "profile": "default",
        "environment": {
            "cpu_capability": "AVX512",
            "torch": "2.13.0+cpu",
            "transformers": "5.24.0",
            "cpu": "x",
            "threads": 2,
        },
        "notebooks": {
            "03_mlm_pretraining": {
                "wall_seconds": 300.0,
                "code_sha256": reproduce.notebook_code_sha256(ROOT / "notebooks" / "03_mlm_pretraining.ipynb"),
                "metrics": {
                    "mask_loss_final": {"published": 4.8, "low": 4.6, "high": 5.0},
                    "vocab_sha256": {"published": "abc", "low": "abc", "high": "abc"},
                },
            },
            "04_bert_text_classification": {
                "wall_seconds": 400.0,
                "code_sha256": "0" * 64,
                "metrics": {"finetune_minus_probe/32": {"published": 0.05, "low": 0.02, "high": 0.08}},
            },
        },
    }


def test_compare_flags_what_falls_outside_with_a_reason_and_marks_what_did_not_run():
    published = published_fixture()
    ran = {"03_mlm_pretraining": {"profile": "default", "metrics": {"mask_loss_final": 5.3, "vocab_sha256": "abc"}}}
    same = dict(published["environment"])
    result = reproduce.compare(ran, same, published)
    loss = result["03_mlm_pretraining"]["mask_loss_final"]
    assert loss["within"] is False and loss["this_run"] == 5.3 and loss["published"] == 4.8
    assert "same code, versions and CPU kind" in loss["look_at"]
    assert result["03_mlm_pretraining"]["vocab_sha256"]["within"] is True
    assert result["04_bert_text_classification"]["finetune_minus_probe/32"]["within"] is None  # not run
    other_cpu = reproduce.compare(ran, {**same, "cpu_capability": "AVX2"}, published)
    assert "another CPU kind" in other_cpu["03_mlm_pretraining"]["mask_loss_final"]["look_at"]
    newer = reproduce.compare(ran, {**same, "transformers": "5.30.0"}, published)
    assert "transformers 5.30.0" in newer["03_mlm_pretraining"]["mask_loss_final"]["look_at"]
    ran["03_mlm_pretraining"]["metrics"]["mask_loss_final"] = 4.9
    assert reproduce.compare(ran, same, published)["03_mlm_pretraining"]["mask_loss_final"]["within"] is True
    table = reproduce.table(reproduce.compare(ran, same, published))
    assert table.startswith("2 of 2 headline metrics") and "not run" in table


def test_a_margin_is_derived_from_its_two_metrics_and_a_smoke_run_is_not_compared():
    published = published_fixture()
    ran = {
        "04_bert_text_classification": {
            "profile": "default",
            "metrics": {"accuracy/minilm_finetune/32": 0.88, "accuracy/minilm_probe/32": 0.80},
        }
    }
    row = reproduce.compare(ran, {}, published)["04_bert_text_classification"]["finetune_minus_probe/32"]
    assert row["this_run"] == pytest.approx(0.08) and row["within"] is True
    assert "changed notebook" in reproduce.why_outside(
        "04_bert_text_classification", published, published["environment"]
    )
    # a changed notebook is named before another CPU kind: it is the likelier cause
    assert "changed notebook" in reproduce.why_outside(
        "04_bert_text_classification", published, {**published["environment"], "cpu_capability": "AVX2"}
    )
    ran["04_bert_text_classification"]["profile"] = "smoke"
    assert (
        reproduce.compare(ran, {}, published)["04_bert_text_classification"]["finetune_minus_probe/32"]["within"]
        is None
    )


def test_spread_ranges_pair_each_checkpoint_with_scratch_on_the_same_kernels(tmp_path):
    rows = [
        {"run": "seed0", "kind": "pretraining", "mask_loss_final": 4.9, "mask_accuracy_final": 0.24},
        {"run": "seed1", "kind": "pretraining", "mask_loss_final": 4.7, "mask_accuracy_final": 0.26},
    ]
    for seed in (0, 1):
        rows.append(
            {
                "run": "scratch-AVX2",
                "kind": "fine-tuning",
                "arm": "scratch",
                "per_class": 8,
                "seed": seed,
                "cpu_capability": "AVX2",
                "accuracy": 0.40,
            }
        )
        for run, accuracy in (("seed0", 0.45), ("seed1", 0.38)):
            rows.append(
                {
                    "run": run,
                    "kind": "fine-tuning",
                    "arm": "own_pretrained",
                    "per_class": 8,
                    "seed": seed,
                    "cpu_capability": "AVX2",
                    "accuracy": accuracy,
                }
            )
    path = tmp_path / "spread.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    spreads = reproduce.spread_ranges(path)
    assert spreads["mask_loss_final"] == (4.7, 4.9)
    assert spreads["own_minus_scratch/8"] == pytest.approx((-0.02, 0.05))


def test_publish_refuses_a_run_that_did_not_finish(tmp_path):
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"03_mlm_pretraining": {"status": "FAILED: x", "profile": "default"}}))
    with pytest.raises(ValueError, match="finished default-profile"):
        reproduce.publish(metrics, tmp_path / "environment.json", tmp_path / "published.json")
    assert not (tmp_path / "published.json").exists()


def test_the_published_run_covers_the_headlines_each_inside_its_own_range():
    published = reproduce.read_published()
    metrics = [(stem, name, row) for stem, n in published["notebooks"].items() for name, row in n["metrics"].items()]
    assert len(metrics) >= 20
    names = {f"{stem[:2]}:{name}" for stem, name, _ in metrics}
    for required in (
        "03:corpus_tokens",
        "03:vocab_sha256",
        "03:unigram_loss",
        "03:bigram_loss",
        "03:mask_loss_final",
        "04:own_minus_scratch/8",
        "04:own_minus_scratch/32",
    ):
        assert required in names
    for stem, name, row in metrics:
        if isinstance(row["published"], str):
            assert row["low"] == row["high"] == row["published"], name
        else:
            assert row["low"] <= row["published"] <= row["high"], (stem, name)
    for key in WHAT_RAN:
        assert key in published["environment"], key


def test_run_times_have_one_source():
    table = reproduce.run_time_table()
    start, end = reproduce.RUN_TIME_MARKERS
    for name in ("README.md", "docs/teaching.md"):
        text = (ROOT / name).read_text()
        assert f"{start}\n{table}\n{end}" in text, f"{name}: run `python -m tlcourse publish` to rewrite its table"
    published = reproduce.read_published()
    total = sum(e["wall_seconds"] for e in published["notebooks"].values())
    allowed = sum(seconds for *_, seconds in reproduce.ALLOWANCES)
    assert abs(allowed - 25 * 60) <= 15  # DEVELOPERS.md: "25 minutes in all"
    assert f"| all | {allowed} s | {total:.0f} s |" in table


def test_the_report_lists_what_ran(tmp_path, monkeypatch):
    monkeypatch.setenv("TLCOURSE_BUILD_DIR", str(tmp_path))
    environment = report.record_environment()
    for key in WHAT_RAN:
        assert environment[key], key
    text = report.write_report({}).read_text()
    assert "## What ran" in text and f"transformers {environment['transformers']}" in text
