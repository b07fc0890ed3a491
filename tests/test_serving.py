"""Notebook 06's served folder: notebook 04's MeanPoolClassifier saved with its code. It loads as the model it is
where the class is defined (after the recipe cell ran), and with plain transformers elsewhere (trust_remote_code)."""

import subprocess
import sys

import pytest
import torch


def save_tiny_classifier(folder):
    from transformers import AutoTokenizer, BertConfig, BertModel

    from tlcourse.course.models import resolve
    from tlcourse.lessons.bert_text_classification import MeanPoolClassifier, MeanPoolConfig

    tokenizer = AutoTokenizer.from_pretrained(resolve("minilm"))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    classifier = MeanPoolClassifier.from_encoder(BertModel(config, add_pooling_layer=False), ["red", "green", "blue"])
    MeanPoolConfig.register_for_auto_class()  # as notebook 06 does: the folder carries the class's file
    MeanPoolClassifier.register_for_auto_class("AutoModelForSequenceClassification")
    classifier.eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return classifier, tokenizer


TEXTS = ["a short one", "a somewhat longer sentence, with padding for the other"]


@pytest.mark.slow
def test_served_folder_loads_as_the_model_it_is_where_the_recipe_ran(tmp_path):
    from transformers import AutoModelForSequenceClassification

    from tlcourse.course import runner

    classifier, tokenizer = save_tiny_classifier(tmp_path)
    namespace = runner.run_recipe("04_bert_text_classification")  # the recipe cell registers its class
    loaded = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()  # no trust_remote_code
    assert type(loaded).__name__ == "MeanPoolClassifier" and loaded.config.model_type == "meanpool-classifier"
    assert isinstance(loaded, namespace["MeanPoolClassifier"])  # the class the recipe cell defined
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        assert torch.allclose(loaded(**batch).logits, classifier(**batch).logits, atol=1e-6)
    assert loaded.config.id2label == {0: "red", 1: "green", 2: "blue"}


@pytest.mark.slow
def test_served_folder_is_self_contained(tmp_path):
    classifier, tokenizer = save_tiny_classifier(tmp_path / "served")
    assert (tmp_path / "served" / "bert_text_classification.py").exists()  # the class's code travels with it
    with torch.no_grad():
        expected = classifier(**tokenizer(TEXTS, padding=True, return_tensors="pt")).logits
    torch.save(expected, tmp_path / "expected.pt")
    folder = str(tmp_path / "served")
    code = f"""
import sys; sys.modules["tlcourse"] = None  # no course code from here on
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
try:
    AutoModelForSequenceClassification.from_pretrained({folder!r})
    raise SystemExit("loaded without trust_remote_code: a wrong class or a random head")
except ValueError as error:
    assert "trust_remote_code" in str(error), error
model = AutoModelForSequenceClassification.from_pretrained({folder!r}, trust_remote_code=True).eval()
tokenizer = AutoTokenizer.from_pretrained({folder!r})
with torch.no_grad():
    logits = model(**tokenizer({TEXTS!r}, padding=True, return_tensors="pt")).logits
assert model.config.id2label == {{0: "red", 1: "green", 2: "blue"}}, model.config.id2label
assert torch.allclose(logits, torch.load({str(tmp_path / "expected.pt")!r}), atol=1e-5), logits
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:] + done.stdout[-500:]
