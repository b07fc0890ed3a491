"""Notebook 06's served folder loads with plain transformers, without the course, and predicts the same."""
import subprocess
import sys

import pytest
import torch


def test_served_folder_is_self_contained(tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertConfig, BertModel

    from tlcourse.meanpool_bert import save_for_serving
    from tlcourse.models import resolve
    from tlcourse.text import MeanPoolClassifier

    tokenizer = AutoTokenizer.from_pretrained(resolve("minilm"))
    torch.manual_seed(0)
    encoder = BertModel(BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                   intermediate_size=64), add_pooling_layer=False)
    classifier = MeanPoolClassifier(encoder, 3).eval()
    save_for_serving(classifier, tokenizer, ["red", "green", "blue"], tmp_path)
    texts = ["a short one", "a somewhat longer sentence, with padding for the other"]
    with torch.no_grad():
        expected = classifier(**tokenizer(texts, padding=True, return_tensors="pt"))["logits"]
    torch.save(expected, tmp_path.parent / "expected.pt")

    code = f"""
import sys; sys.modules["tlcourse"] = None
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
model = AutoModelForSequenceClassification.from_pretrained({str(tmp_path)!r}, trust_remote_code=True).eval()
tokenizer = AutoTokenizer.from_pretrained({str(tmp_path)!r})
with torch.no_grad():
    logits = model(**tokenizer({texts!r}, padding=True, return_tensors="pt")).logits
assert model.config.id2label == {{0: "red", 1: "green", 2: "blue"}}, model.config.id2label
assert torch.allclose(logits, torch.load({str(tmp_path.parent / "expected.pt")!r}), atol=1e-5), logits
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]

    # without trust_remote_code it refuses instead of loading a BERT with a random head
    with pytest.raises(ValueError, match="trust_remote_code"):
        AutoModelForSequenceClassification.from_pretrained(tmp_path)
