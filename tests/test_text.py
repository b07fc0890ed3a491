from tlcourse import data, text


def test_tokenizer_adds_cls_and_sep_and_splits_rare_words():
    texts = data.load("wiki_corpus")["train"]["text"][:200]
    tokenizer = text.train_tokenizer(texts, vocab_size=1000)
    assert len(tokenizer) == 1000
    encoded = tokenizer("the history of physics", return_special_tokens_mask=True)
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    assert encoded["special_tokens_mask"][0] == 1 and sum(encoded["special_tokens_mask"]) == 2
    assert any(t.startswith("##") for t in tokenizer.tokenize("antidisestablishmentarianism"))


def test_tokenize_truncates_and_keeps_asked_columns():
    topics = data.load("wiki_topics")["validation"].select(range(20))
    tokenizer = text.train_tokenizer(topics["text"], vocab_size=300)
    tokens = text.tokenize(topics, tokenizer, max_length=32, keep=("label",))
    assert set(tokens.column_names) == {"input_ids", "attention_mask", "special_tokens_mask", "label"}
    assert max(len(ids) for ids in tokens["input_ids"]) == 32


def test_small_bert_config_matches_the_tokenizer():
    tokenizer = text.train_tokenizer(["a b c d e f"] * 5, vocab_size=50)
    config = text.small_bert_config(tokenizer, layers=1, hidden=64, heads=1, max_length=16)
    assert config.vocab_size == len(tokenizer) and config.pad_token_id == tokenizer.pad_token_id
    assert config.intermediate_size == 256


def test_pretrain_mlm_saves_a_checkpoint_that_loads_back(tmp_path):
    from transformers import AutoTokenizer, BertForMaskedLM

    sizes = dict(corpus_size=64, vocab_size=500, layers=1, hidden=64, epochs=1, batch_size=16, lr=1e-3, max_length=64)
    model, tokenizer, history, seconds = text.pretrain_mlm(tmp_path / "own", sizes)
    assert len(history.epochs) == 1 and seconds > 0
    reloaded = BertForMaskedLM.from_pretrained(tmp_path / "own")
    assert reloaded.config.vocab_size == 500
    assert AutoTokenizer.from_pretrained(tmp_path / "own").mask_token == "[MASK]"
