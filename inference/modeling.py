"""The parstag model: one BERT encoder, one token-classification head per task, and how it is stored.

NER and quote roles are tagged by the same encoder so that an article is encoded once.  The NER head is
called ``classifier`` (the name ``BertForTokenClassification`` uses) and its labels are the config's
``id2label``: a saved parstag model therefore also loads in ``transformers.pipeline(
"token-classification")``, which reads the NER head and ignores the quote head.  The quote head's labels
travel as ``config.quote_labels``; the normaliser settings and task list as ``config.parstag``.

Two kinds of partial supervision meet in one batch, and both are handled in the loss rather than in the
data: an example without quote annotation has all-ignored ``quote_labels`` and so contributes nothing to
the quote head; an example from a corpus that does not annotate some entity type (ARMAN has no DAT) has
those labels switched off in ``ner_allowed``, so "O" on a date is not taught as "not a date".

A model trained with ``model.rule_features`` (``config.rule_features``) also takes ``rule_ids``: the rule
annotator's quote-role tag of each piece (ids of ``config.quote_labels``), embedded by ``rule_embeddings`` and
added to the word embeddings (``"input"``, ``embed``) or to the hidden states the quote head reads
(``"head"``, ``quote_scores``); without ``rule_ids`` it runs on the text alone (``inference/rule_features.py``
says why).

Checkpoints are safetensors only; loading passes ``use_safetensors=True`` so a pickle is never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from transformers import AutoTokenizer, BertConfig, PreTrainedTokenizerBase
from transformers.modeling_outputs import ModelOutput
from transformers.models.bert.modeling_bert import BertModel, BertPreTrainedModel

from .labels import IGNORE_INDEX
from .rule_features import rule_feature_mode


@dataclass
class ParstagOutput(ModelOutput):
    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    quote_logits: torch.Tensor | None = None
    ner_loss: torch.Tensor | None = None
    quote_loss: torch.Tensor | None = None


def _token_loss(logits: torch.Tensor, labels: torch.Tensor, allowed: torch.Tensor | None = None) -> torch.Tensor:
    """Mean cross-entropy over labelled tokens; 0 (not NaN) when the batch has none for this head."""
    if allowed is not None:
        # Disallowed labels get the lowest finite logit, so softmax renormalises over the annotated ones.
        logits = logits.masked_fill(~allowed[:, None, :], torch.finfo(logits.dtype).min)
    flat_logits = logits.reshape(-1, logits.size(-1)).float()
    flat_labels = labels.reshape(-1)
    total = nn.functional.cross_entropy(flat_logits, flat_labels, ignore_index=IGNORE_INDEX, reduction="sum")
    count = (flat_labels != IGNORE_INDEX).sum().clamp(min=1)
    return total / count


class ParstagForTokenClassification(BertPreTrainedModel):
    """BERT encoder + NER head (``classifier``) + optional quote-role head (``quote_classifier``)."""

    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        dropout = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        quote_labels = getattr(config, "quote_labels", None) or []
        self.quote_classifier = nn.Linear(config.hidden_size, len(quote_labels)) if quote_labels else None
        self.rule_feature_mode = rule_feature_mode(config)
        if self.rule_feature_mode and not quote_labels:
            raise ValueError("config.rule_features needs config.quote_labels (the feature's tag set)")
        self.rule_embeddings = nn.Embedding(len(quote_labels), config.hidden_size) if self.rule_feature_mode else None
        self.post_init()
        if self.rule_embeddings is not None:
            # Zero at the start: the feature adds nothing until training finds it useful, so a pretrained
            # encoder starts from the embeddings it knows.
            nn.init.zeros_(self.rule_embeddings.weight)

    @property
    def quote_labels(self) -> list[str]:
        return list(getattr(self.config, "quote_labels", None) or [])

    def embed(self, input_ids: torch.Tensor, rule_ids: torch.Tensor | None = None) -> torch.Tensor | None:
        """Input embeddings with the rule features added, or None when there are none to add (then the
        encoder embeds ``input_ids`` itself)."""
        if rule_ids is None or self.rule_feature_mode != "input":
            return None
        return self.bert.embeddings.word_embeddings(input_ids) + self.rule_embeddings(rule_ids)

    def quote_scores(self, hidden: torch.Tensor, rule_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Quote-role logits of hidden states (any leading shape); ``rule_ids`` of the same positions are
        added to them first when the model takes its rule features at the head."""
        if rule_ids is not None and self.rule_feature_mode == "head":
            hidden = hidden + self.rule_embeddings(rule_ids)
        return self.quote_classifier(hidden)

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
               rule_ids: torch.Tensor | None = None, **kwargs) -> torch.Tensor:
        """The encoder's last hidden states (``kwargs``: position_ids, token_type_ids)."""
        embeds = self.embed(input_ids, rule_ids)
        if embeds is None:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, return_dict=True, **kwargs).last_hidden_state
        return self.bert(inputs_embeds=embeds, attention_mask=attention_mask, return_dict=True, **kwargs).last_hidden_state

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        quote_labels: torch.Tensor | None = None,
        ner_allowed: torch.Tensor | None = None,
        rule_ids: torch.Tensor | None = None,
        **kwargs,
    ) -> ParstagOutput:
        hidden = self.encode(input_ids, attention_mask, rule_ids, token_type_ids=token_type_ids)
        hidden = self.dropout(hidden)
        logits = self.classifier(hidden)
        quote_logits = self.quote_scores(hidden, rule_ids) if self.quote_classifier is not None else None

        ner_loss = quote_loss = loss = None
        if labels is not None:
            ner_loss = _token_loss(logits, labels, ner_allowed)
            loss = ner_loss
        if quote_labels is not None and quote_logits is not None:
            quote_loss = _token_loss(quote_logits, quote_labels)
            loss = quote_loss if loss is None else loss + quote_loss
        return ParstagOutput(
            loss=loss, logits=logits, quote_logits=quote_logits, ner_loss=ner_loss, quote_loss=quote_loss
        )


def load_tokenizer(path: str | Path) -> PreTrainedTokenizerBase:
    """A fast tokenizer from a directory or hub id, checked against its vocabulary file.

    transformers 5 silently ignores some ways of passing a vocabulary (``BertTokenizerFast(vocab_file=)``),
    which yields a tiny default vocabulary and nonsense pieces; the size check makes that loud.
    """
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    if not tokenizer.is_fast:
        raise ValueError(f"{path}: parstag needs a fast tokenizer (word_ids() for alignment)")
    vocab_file = Path(path) / "vocab.txt"
    if vocab_file.is_file():
        with vocab_file.open(encoding="utf-8") as f:
            expected = sum(1 for _ in f)
        if tokenizer.vocab_size != expected:
            raise ValueError(
                f"{path}: tokenizer loaded {tokenizer.vocab_size} entries but vocab.txt has {expected}"
            )
    return tokenizer


def load_model(path: str | Path, **kwargs) -> ParstagForTokenClassification:
    """A trained parstag model from a directory or hub id, weights from safetensors only."""
    return ParstagForTokenClassification.from_pretrained(str(path), use_safetensors=True, **kwargs)
