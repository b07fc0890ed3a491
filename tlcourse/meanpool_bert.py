"""A BERT encoder, mean pooling and one linear layer as a transformers model: notebook 06's served model.

`save_for_serving` writes a course classifier (`tlcourse.text.MeanPoolClassifier`, LoRA merged) as a folder that
holds everything: config (with the label names), tokenizer, weights, and a copy of this file, so that plain
transformers loads it without the course or the base checkpoint:

    from transformers import pipeline
    classify = pipeline("text-classification", model=folder, trust_remote_code=True)

`trust_remote_code=True` runs this file from the folder: read it first, as with any model that ships code.
This file imports only torch and transformers, so that it works where it is copied.
"""
import torch
from transformers import BertConfig, BertModel, BertPreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput


class MeanPoolBertConfig(BertConfig):
    model_type = "meanpool-bert"  # not "bert": without trust_remote_code, loading fails instead of using a wrong head


class MeanPoolBertForSequenceClassification(BertPreTrainedModel):
    config_class = MeanPoolBertConfig
    base_model_prefix = "encoder"

    def __init__(self, config):
        super().__init__(config)
        self.encoder = BertModel(config, add_pooling_layer=False)
        self.head = torch.nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, **unused):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # mean over real tokens, then L2-normalise
        pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1), dim=-1)
        logits = self.head(pooled)
        loss = None if labels is None else torch.nn.functional.cross_entropy(logits, labels)
        return SequenceClassifierOutput(loss=loss, logits=logits)


def save_for_serving(classifier, tokenizer, label_names, folder):
    """Write `classifier` (an encoder with a BERT config in .encoder, a linear .head) to `folder`; returns the
    transformers model it saved. Merge a LoRA encoder first (`merge_and_unload`)."""
    settings = classifier.encoder.config.to_dict()
    for key in ("model_type", "architectures", "auto_map", "id2label", "label2id", "transformers_version"):
        settings.pop(key, None)
    config = MeanPoolBertConfig(**settings, id2label=dict(enumerate(label_names)),
                                label2id={name: i for i, name in enumerate(label_names)})
    MeanPoolBertConfig.register_for_auto_class()
    MeanPoolBertForSequenceClassification.register_for_auto_class("AutoModelForSequenceClassification")
    model = MeanPoolBertForSequenceClassification(config)
    model.load_state_dict(classifier.state_dict())  # same names: encoder.*, head.*
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model
