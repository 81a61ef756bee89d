"""Tiny parstag models for the inference tests (random or hand-set weights, real ParsBERT tokenizer)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import BertConfig

from parstag.inference.labels import ENTITY_TYPES, QUOTE_ROLES, bio_labels
from parstag.inference.modeling import ParstagForTokenClassification, load_tokenizer

ROOT = Path(__file__).resolve().parents[1]
TOKENIZER_DIR = ROOT / "data" / "tokenizers" / "parsbert-v1"


def tokenizer():
    return load_tokenizer(TOKENIZER_DIR)


def tiny_config(quotes: bool = False, max_length: int = 128, **overrides) -> BertConfig:
    labels = bio_labels(ENTITY_TYPES)
    kwargs = dict(
        vocab_size=100_000, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512,
        id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)},
    )
    kwargs.update(overrides)
    config = BertConfig(**kwargs)
    config.parstag = {"normalizer": {}, "tasks": ["ner", "quotes"] if quotes else ["ner"], "max_length": max_length}
    if quotes:
        config.quote_labels = bio_labels(QUOTE_ROLES)
    return config


def random_model(seed: int = 0, **kw) -> ParstagForTokenClassification:
    torch.manual_seed(seed)
    return ParstagForTokenClassification(tiny_config(**kw)).eval()


def planted_model(b_token: int, i_token: int, etype: str = "PER", **kw) -> ParstagForTokenClassification:
    """A model whose output for a piece depends on that piece alone: ``b_token`` -> B-etype,
    ``i_token`` -> I-etype, every other piece -> O, whatever the context or position.

    Attention and feed-forward outputs are zeroed, so each layer is LayerNorm(x): the hidden state is
    the normalised word embedding.  Dimension 0 (1) of the embedding is large only for b_token (i_token)
    and the classifier reads exactly those dimensions.
    """
    model = random_model(**kw)
    labels = model.config.id2label
    index = {v: k for k, v in labels.items()}
    with torch.no_grad():
        emb = model.bert.embeddings
        emb.position_embeddings.weight.zero_()
        emb.token_type_embeddings.weight.zero_()
        emb.word_embeddings.weight[:, :2] = 0.0
        emb.word_embeddings.weight[b_token, 0] = 10.0
        emb.word_embeddings.weight[i_token, 1] = 10.0
        for layer in model.bert.encoder.layer:
            for lin in (layer.attention.output.dense, layer.output.dense):
                lin.weight.zero_()
                lin.bias.zero_()
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        model.classifier.weight[index[f"B-{etype}"], 0] = 1.0
        model.classifier.bias[index[f"B-{etype}"]] = -2.5
        model.classifier.weight[index[f"I-{etype}"], 1] = 1.0
        model.classifier.bias[index[f"I-{etype}"]] = -2.5
    return model


def save(model, directory: Path) -> Path:
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer().save_pretrained(directory)
    return directory


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run one intra-op thread: on a busy 2-core machine, two OpenMP threads per tiny op
    spend most of their time waiting for each other (measured: 6.4 s against 0.05 s for one call)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
