from tlcourse.course import data
from tlcourse.lessons.mlm_pretraining import train_tokenizer
from tlcourse.tools import text

NAMES = [str(i) for i in range(11)]  # wiki_topics: 11 topics, labels 0-10


def test_tokenizer_adds_cls_and_sep_and_splits_rare_words():
    texts = data.load("wiki_corpus")["train"]["text"][:200]
    tokenizer = train_tokenizer(texts, vocab_size=1000)
    assert len(tokenizer) == 1000
    encoded = tokenizer("the history of physics", return_special_tokens_mask=True)
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    assert encoded["special_tokens_mask"][0] == 1 and sum(encoded["special_tokens_mask"]) == 2
    assert any(t.startswith("##") for t in tokenizer.tokenize("antidisestablishmentarianism"))


def test_tokenize_truncates_and_keeps_asked_columns():
    topics = data.load("wiki_topics")["validation"].select(range(20))
    tokenizer = train_tokenizer(topics["text"], vocab_size=300)
    tokens = text.tokenize(topics, tokenizer, max_length=32, keep=("label",))
    assert set(tokens.column_names) == {"input_ids", "attention_mask", "special_tokens_mask", "label"}
    assert max(len(ids) for ids in tokens["input_ids"]) == 32


def test_label_budget_is_nested_and_balanced():
    import numpy as np

    labels = np.repeat([0, 1, 2], [50, 20, 9])
    small, large = text.label_budget(labels, 5), text.label_budget(labels, 8)
    assert np.bincount(labels[small]).tolist() == [5, 5, 5]
    assert np.bincount(labels[large]).tolist() == [8, 8, 8]
    assert set(small) <= set(large)
    assert len(text.label_budget(labels, None)) == len(labels)
    assert np.bincount(labels[text.label_budget(labels, 10)]).tolist() == [10, 10, 9]  # a class with fewer: all of it


def test_mean_pool_ignores_padding_and_normalises():
    import torch

    from tlcourse.lessons.bert_text_classification import mean_pool

    hidden = torch.tensor([[[1.0, 0.0], [3.0, 4.0], [100.0, 100.0]]])
    pooled = mean_pool(hidden, torch.tensor([[1, 1, 0]]))  # mean of the first two = (2, 2)
    assert torch.allclose(pooled, torch.tensor([[2.0, 2.0]]) / 8**0.5)


def tiny_encoder_and_tokenizer():
    import torch
    from transformers import BertConfig, BertModel

    topics = data.load("wiki_topics")["train"]
    tokenizer = train_tokenizer(topics["text"][:200], vocab_size=400, max_length=32)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=1,
        intermediate_size=64,
        max_position_embeddings=32,
        pad_token_id=tokenizer.pad_token_id,
    )
    return BertModel(config, add_pooling_layer=False), tokenizer, topics


def test_fine_tune_starts_from_the_probe_and_trains():
    import numpy as np
    import torch
    from transformers import DataCollatorWithPadding

    from tlcourse.tools import evaluate

    encoder, tokenizer, topics = tiny_encoder_and_tokenizer()
    train = topics.select(text.label_budget(topics["label"], 3))
    features = text.embed(encoder, tokenizer, train["text"], max_length=32)
    probe = text.linear_probe(features, train["label"])
    model = text.classifier_from_probe(encoder, probe, NAMES)
    tokens = text.classification_tokens(train, tokenizer, max_length=32)
    logits, labels = evaluate.predict(model, tokens, DataCollatorWithPadding(tokenizer))
    assert np.allclose(logits, probe.decision_function(features), atol=1e-4)  # LP-FT starts as the probe

    before = [p.detach().clone() for p in encoder.parameters()]
    tuned, history = text.fine_tune(
        encoder, tokenizer, train, NAMES, probe=probe, max_length=32, epochs=2, plot=False, progress=False
    )
    assert len(history.epochs) == 2 and np.isfinite(history.last["train_loss"])
    assert any(not torch.equal(a, b) for a, b in zip(before, tuned.encoder.parameters()))


def test_fine_tune_refuses_a_budget_missing_a_class():
    import pytest

    encoder, tokenizer, topics = tiny_encoder_and_tokenizer()
    train = topics.filter(lambda row: row["label"] < 5).select(range(30))
    with pytest.raises(ValueError, match="needs examples"):
        text.fine_tune(encoder, tokenizer, train, NAMES, max_length=32, epochs=1, plot=False, progress=False)


def test_a_binary_head_starts_as_the_probe():
    """scikit-learn keeps one row of coefficients for two classes; copied into both rows of a 2-logit head it
    would make the logits equal (probability 0.5 everywhere). The head must give the probe's probabilities."""
    import numpy as np
    import torch
    from transformers import DataCollatorWithPadding

    from tlcourse.tools import evaluate

    encoder, tokenizer, topics = tiny_encoder_and_tokenizer()
    two = topics.filter(lambda row: row["label"] in (3, 7)).select(range(40))
    two = two.map(lambda row: {"label": int(row["label"] == 7)})
    features = text.embed(encoder, tokenizer, two["text"], max_length=32)
    probe = text.linear_probe(features, two["label"])
    model = text.classifier_from_probe(encoder, probe, ["three", "seven"])
    logits, _ = evaluate.predict(
        model, text.classification_tokens(two, tokenizer, 32), DataCollatorWithPadding(tokenizer)
    )
    probabilities = torch.softmax(torch.as_tensor(logits), -1).numpy()
    assert np.allclose(probabilities, probe.predict_proba(features), atol=1e-4)
    assert np.allclose(logits[:, 1] - logits[:, 0], probe.decision_function(features), atol=1e-4)
    assert not np.allclose(probabilities, 0.5, atol=1e-3)  # what the broadcasting copy gave


def test_cached_embeddings_compute_once_per_model_length_and_texts(tmp_path, monkeypatch):
    import numpy as np

    monkeypatch.setenv("TLCOURSE_BUILD_DIR", str(tmp_path / "build"))
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights")
    calls = []

    def compute(texts):
        calls.append(list(texts))
        return np.arange(len(texts) * 2, dtype=np.float64).reshape(-1, 2) + len(calls)

    first = text.cached_embeddings(model, ["a", "b"], 16, compute)
    again = text.cached_embeddings(model, ("a", "b"), 16, compute)
    assert len(calls) == 1 and first.dtype == np.float32 and np.array_equal(first, again)
    text.cached_embeddings(model, ["a", "b"], 32, compute)  # another length
    text.cached_embeddings(model, ["b", "a"], 16, compute)  # other texts (order counts)
    assert len(calls) == 3
    fresh = text.cached_embeddings(model, ["a", "b"], 16, compute, refresh=True)  # computed, and kept
    assert len(calls) == 4 and not np.array_equal(fresh, first)
    assert np.array_equal(text.cached_embeddings(model, ["a", "b"], 16, compute), fresh) and len(calls) == 4
    (model / "model.safetensors").write_bytes(b"other weights")  # a changed model is another key
    text.cached_embeddings(model, ["a", "b"], 16, compute)
    assert len(calls) == 5
    assert not list((tmp_path / "build" / "embeddings").glob("*partial*"))
