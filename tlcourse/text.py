"""tlcourse.text: the text pieces notebooks 02 and 03 share: a WordPiece tokenizer trained on our corpus,
tokenized datasets, a small BERT config, and notebook 02's pretraining recipe as one function."""
import time

from tlcourse.config import pick

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
OWN_BERT = "own-bert-mlm"  # the cache name of the BERT pretrained in notebook 02 (per profile)


def train_tokenizer(texts, vocab_size=8000, max_length=128):
    """Train an uncased WordPiece vocabulary on `texts` and wrap it as a transformers tokenizer."""
    from tokenizers import BertWordPieceTokenizer
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    wordpiece = BertWordPieceTokenizer(lowercase=True)
    wordpiece.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS,
                                  show_progress=False)
    cls, sep = wordpiece.token_to_id("[CLS]"), wordpiece.token_to_id("[SEP]")
    wordpiece.post_processor = TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                  special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return PreTrainedTokenizerFast(tokenizer_object=wordpiece._tokenizer, model_max_length=max_length,
                                   unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
                                   mask_token="[MASK]")


def tokenize(dataset, tokenizer, max_length=128, keep=()):
    """input_ids (+ attention_mask, special_tokens_mask) per text, truncated; other columns dropped but `keep`."""
    def encode(batch):
        return tokenizer(batch["text"], truncation=True, max_length=max_length, return_special_tokens_mask=True)

    drop = [c for c in dataset.column_names if c not in keep]
    return dataset.map(encode, batched=True, remove_columns=drop)


def small_bert_config(tokenizer, layers=2, hidden=128, heads=2, max_length=128):
    from transformers import BertConfig

    return BertConfig(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                      num_attention_heads=heads, intermediate_size=4 * hidden, max_position_embeddings=max_length,
                      pad_token_id=tokenizer.pad_token_id)


def pretraining_sizes():
    """Notebook 02's knobs per profile (notebook 03 rebuilds the checkpoint with the same ones)."""
    return dict(corpus_size=pick(smoke=300, default=None, full=None), vocab_size=pick(smoke=2000, default=8000),
                layers=pick(smoke=2, default=2, full=4), hidden=pick(smoke=64, default=128, full=256),
                epochs=pick(smoke=1, default=2, full=10), batch_size=32, lr=1e-3, max_length=128)


def pretrain_mlm(save_to, sizes=None, seed=0):
    """Notebook 02's recipe in one call: tokenizer, small BERT, MLM pretraining with fit, save_pretrained."""
    import torch
    from transformers import BertForMaskedLM, DataCollatorForLanguageModeling

    from tlcourse import data
    from tlcourse.train import fit

    sizes = sizes or pretraining_sizes()
    corpus = data.load("wiki_corpus")
    train = corpus["train"] if sizes["corpus_size"] is None else corpus["train"].select(range(sizes["corpus_size"]))
    tokenizer = train_tokenizer(train["text"], sizes["vocab_size"], sizes["max_length"])
    train_tokens = tokenize(train, tokenizer, sizes["max_length"])
    torch.manual_seed(seed)
    model = BertForMaskedLM(small_bert_config(tokenizer, sizes["layers"], sizes["hidden"], sizes["hidden"] // 64 or 1,
                                              sizes["max_length"]))
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    started = time.perf_counter()
    history = fit(model, train_tokens, None, collate_fn=collator, epochs=sizes["epochs"],
                  batch_size=sizes["batch_size"], lr=sizes["lr"], seed=seed, plot=False)
    model.save_pretrained(save_to)
    tokenizer.save_pretrained(save_to)
    return model, tokenizer, history, time.perf_counter() - started
