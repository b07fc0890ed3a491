"""tlcourse.text: the text pieces notebooks 03 and 04 share: a WordPiece tokenizer trained on our corpus,
tokenized datasets, a small BERT config, and notebook 04's classification recipe (mean pooling, LP-FT)."""
import torch

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
OWN_BERT = "own-bert-mlm"  # the cache name of the BERT pretrained in notebook 03 (per profile; tlcourse.mlm builds it)


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


# ------------------------------------------------------------------ notebook 03: classification by transfer
def label_budget(labels, per_class, seed=0):
    """Indices of `per_class` examples of each label (all of them for None), sorted.

    The picks are nested: the 8 per class are the first 8 of the 32, so budgets differ only in size."""
    import numpy as np

    labels, rng = np.asarray(labels), np.random.default_rng(seed)
    picked = [rng.permutation(np.flatnonzero(labels == label))[:per_class] for label in np.unique(labels)]
    return np.sort(np.concatenate(picked))


def mean_pool(hidden_states, attention_mask):
    """Average of the token vectors, padding left out, L2-normalised: how all-MiniLM-L6-v2 was trained."""
    mask = attention_mask.unsqueeze(-1).to(hidden_states.dtype)
    pooled = (hidden_states * mask).sum(1) / mask.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(pooled, dim=-1)


def embed(encoder, tokenizer, texts, max_length=32, batch_size=64):
    """Frozen sentence embeddings (numpy, one row per text) from a transformers encoder."""
    import numpy as np

    encoder.eval()
    rows = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(list(texts[start:start + batch_size]), truncation=True, max_length=max_length,
                              padding=True, return_tensors="pt").to(encoder.device)
            hidden = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
            rows.append(mean_pool(hidden, batch["attention_mask"]).float().cpu().numpy())
    return np.concatenate(rows)


class MeanPoolClassifier(torch.nn.Module):
    """A pretrained encoder, mean pooling, one linear layer: logits for `num_labels` classes."""

    def __init__(self, encoder, num_labels):
        super().__init__()
        self.encoder = encoder
        self.head = torch.nn.Linear(encoder.config.hidden_size, num_labels)

    def forward(self, input_ids, attention_mask, labels=None, **unused):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits = self.head(mean_pool(hidden, attention_mask))
        loss = None if labels is None else torch.nn.functional.cross_entropy(logits, labels)
        return {"loss": loss, "logits": logits}


def classification_tokens(dataset, tokenizer, max_length=32):
    """input_ids, attention_mask and label per text (truncated, not padded: the collator pads each batch)."""
    def encode(batch):
        return tokenizer(batch["text"], truncation=True, max_length=max_length)

    return dataset.map(encode, batched=True, remove_columns=[c for c in dataset.column_names if c != "label"])


def linear_probe(features, labels, C=10.0):
    """Logistic regression on frozen features: the linear probe."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=3000).fit(features, labels)


def start_head_from_probe(head, probe):
    """Copy a fitted logistic regression into a torch.nn.Linear head: the model then starts as the probe."""
    if list(probe.classes_) != list(range(head.out_features)):
        raise ValueError(f"the probe saw classes {list(probe.classes_)}; "
                         f"every one of the {head.out_features} needs examples")
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(probe.coef_))
        head.bias.copy_(torch.as_tensor(probe.intercept_))


def fine_tune(encoder, tokenizer, train, num_labels, probe=None, *, max_length=32, epochs=4, batch_size=16,
              lr_encoder=1e-4, lr_head=1e-3, seed=0, **fit_kwargs):
    """Notebook 04's recipe, LP-FT: fit a linear probe on frozen mean-pooled features, start the head from it,
    then fine-tune everything, the head at a 10x higher learning rate. `train` has text and label columns.
    Returns (MeanPoolClassifier, History)."""
    from transformers import DataCollatorWithPadding

    from tlcourse.train import fit

    if probe is None:
        probe = linear_probe(embed(encoder, tokenizer, train["text"], max_length), train["label"])
    torch.manual_seed(seed)
    model = MeanPoolClassifier(encoder, num_labels).to(encoder.dtype)  # the head in the encoder's precision
    start_head_from_probe(model.head, probe)
    optimizer = torch.optim.AdamW([{"params": model.encoder.parameters(), "lr": lr_encoder},
                                   {"params": model.head.parameters(), "lr": lr_head}], weight_decay=0.01)
    history = fit(model, classification_tokens(train, tokenizer, max_length), epochs=epochs, batch_size=batch_size,
                  optimizer=optimizer, collate_fn=DataCollatorWithPadding(tokenizer), seed=seed, **fit_kwargs)
    return model, history


def small_encoder_scores(encoder, tokenizer, train, evaluations, num_labels, *, lr, epochs, max_length=32, seed=0):
    """Notebook 04's small-BERT arm in one call: LP-FT with `lr` for the encoder and the head (text.fine_tune),
    then accuracy on each dataset of `evaluations` ({name: dataset with text and label}). Returns {name: accuracy}."""
    from transformers import DataCollatorWithPadding

    from tlcourse import evaluate

    model, _ = fine_tune(encoder, tokenizer, train, num_labels, max_length=max_length, epochs=epochs, lr_encoder=lr,
                         lr_head=lr, seed=seed, plot=False, progress=False)
    collate = DataCollatorWithPadding(tokenizer)
    accuracies = {}
    for name, rows in evaluations.items():
        logits, labels = evaluate.predict(model, classification_tokens(rows, tokenizer, max_length), collate)
        accuracies[name] = float((logits.argmax(-1) == labels).mean())
    return accuracies
