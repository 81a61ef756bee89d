"""Corpora -> batches: which sentences, in which order, padded how.

* :func:`load_splits` reads every corpus of the config (registered splits through
  ``corpora.load_corpus``, or files through a named reader) and records per corpus which entity types it
  annotates, so that :func:`encode` can attach ``ner_allowed`` (types a corpus does not annotate are
  masked out of its loss, never taught as "O").  A corpus's training split is shaped as its config
  says: ``keep_unlabelled`` (a seeded share of the sentences without any span: silver data is mostly
  narration) and ``repeat`` (a small hand-annotated set beside large silver data).  With
  ``model.rule_features`` (input or head) each sentence also gets the rules' quote-role tags (``rule_tags``; a seeded
  ``rule_feature_dropout`` share of the training sentences blanked).
* :func:`encode` normalises each word (``Normalizer.normalize_word``), tokenises with
  ``is_split_into_words=True``, aligns word labels to pieces with ``alignment.align_labels`` and keeps
  each word's first-piece position for word-level scoring; rule tags become ``rule_ids`` on every piece
  (``alignment.align_features``).
* :class:`LengthGroupedBatchSampler` shuffles, cuts the permutation into mega-batches, sorts each by
  length and shuffles the resulting batches: little padding, still random.  Its order is a pure
  function of (seed, epoch), which is what makes a resumed run identical to an uninterrupted one.
* :class:`Collator` pads each batch to its own longest sequence (dynamic padding).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from parstag.inference.alignment import align_features, align_labels, first_piece_index
from parstag.inference.labels import ENTITY_TYPES, IGNORE_INDEX, OUTSIDE, QUOTE_ROLES, continuation_map, split_tag

if TYPE_CHECKING:
    from datasets import Dataset

    from .config import CorpusSpec, TrainConfig

#: Columns the model's forward receives; everything else stays on the host.
MODEL_KEYS = ("input_ids", "attention_mask", "labels", "quote_labels", "ner_allowed", "rule_ids")


@dataclass
class Part:
    """One corpus's share of a split, with the entity types that corpus annotates."""

    name: str
    dataset: Dataset
    annotated: tuple[str, ...]


@dataclass
class Splits:
    train: list[Part] = field(default_factory=list)
    dev: list[Part] = field(default_factory=list)
    test: list[Part] = field(default_factory=list)

    def types(self) -> list[str]:
        """Union of the annotated types, in ENTITY_TYPES order."""
        seen = {t for part in self.train + self.dev for t in part.annotated}
        return [t for t in ENTITY_TYPES if t in seen]


def _read(spec: CorpusSpec, split: str, fold: int | None, rule_features: bool = False) -> tuple[Dataset, tuple[str, ...]]:
    """One split of one corpus as a dataset of sentences, and the entity types it annotates; with
    ``rule_features`` a ``rule_tags`` column too (``_with_rule_tags``)."""
    from . import corpora

    if spec.reader is None:
        info = corpora.CORPORA.get(spec.name)
        ds = corpora.load_corpus(spec.name, split, fold=fold if info is not None and info.folds else None)
        annotated = tuple(spec.types) if spec.types else (info.annotated_types if info else ())
    else:
        if spec.reader not in corpora.READERS:
            raise ValueError(f"unknown reader {spec.reader!r} for corpus {spec.name!r}; known: {', '.join(corpora.READERS)}")
        path = Path(split.format(fold=fold) if fold is not None else split)
        if spec.reader == "jsonl":
            ds, found = _read_jsonl(path, spec, rule_features)
        else:
            kwargs: dict[str, Any] = {"corpus": spec.name} if spec.reader == "conll" else {}
            if spec.types and spec.reader == "conll":
                kwargs["annotated_types"] = spec.types
            ds = corpora.READERS[spec.reader](path, **kwargs)
            report = corpora.corpus_report(ds)
            found = report.annotated_types if report else ()
        annotated = tuple(spec.types) if spec.types else found
    if "corpus" in ds.column_names:
        ds = ds.remove_columns("corpus")
    if rule_features:
        ds = _with_rule_tags(ds)
    return ds.add_column("corpus", [spec.name] * len(ds)), annotated


def _read_jsonl(path: Path, spec: CorpusSpec, rule_features: bool = False) -> tuple[Dataset, tuple[str, ...]]:
    """Our JSONL span records; entity spans -> ``ner_tags``, SPEAKER/CUE/QUOTE spans -> ``quote_tags``;
    and the entity types the file annotates (``spec.types``, else those it uses, in ENTITY_TYPES order).

    The file is read and each record segmented once, with two label layers
    (``corpora.read_jsonl_records``): the entity types with the quote roles dropped, and the quote roles
    with the entity types dropped (same words, same span checks).  Records (whole articles) are cut into
    the sentences of ``segment.split_sentences``, the cut the tagger makes at inference, so that the model
    trains on the units it will see; a quote that runs on continues with I- in the next sentence (the
    linker joins the pieces again).
    """
    from datasets import Dataset

    from parstag.inference.rule_features import rule_word_tags
    from parstag.inference.segment import split_sentences

    from . import corpora

    generic = {k: v for key, v in corpora.GENERIC_TYPE_MAP.items() for k in (key, key.lower(), key.title())}
    entities = generic | dict.fromkeys(QUOTE_ROLES)
    roles = dict.fromkeys(generic) | {r: r for r in QUOTE_ROLES}
    records = corpora.read_jsonl_records(path, [entities, roles])
    keys = ("tokens", "ner_tags", "quote_tags") + (("rule_tags",) if rule_features else ())
    rows: dict[str, list] = {"id": [], **{k: [] for k in keys}}
    for rec in records:
        layers = (rec.tokens, *rec.layers)
        if rule_features:  # the rules read the whole article, as the tagger has them do
            layers += (rule_word_tags(rec.text, rec.words),)
        starts = [s for s, _ in rec.words]
        first = 0
        for _, end in split_sentences(rec.text):
            last = first
            while last < len(starts) and starts[last] < end:
                last += 1
            if last > first:
                rows["id"].append(f"{rec.id}#{len(rows['id'])}")
                for key, values in zip(keys, layers):
                    rows[key].append(values[first:last])
            first = last
    used = {tag[2:] for rec in records for tag in rec.layers[0] if tag != OUTSIDE}
    return Dataset.from_dict(rows), tuple(t for t in ENTITY_TYPES if t in (spec.types or used))


def _unlabelled(ds: Dataset) -> list[bool]:
    """Per sentence: no entity tag and no quote-role tag (O everywhere)."""
    cols = [c for c in ("ner_tags", "quote_tags") if c in ds.column_names]
    return [all(t == OUTSIDE for c in cols for t in (row[c] or ())) for row in ds.select_columns(cols)]


def _hide_rule_tags(ds: Dataset, share: float, seed: str) -> Dataset:
    """Blank the rule tags (all O) of a seeded ``share`` of the sentences: the model must also learn to
    tag without them (text only) and cannot trust them blindly.  After ``repeat``: copies differ."""
    rng = random.Random(seed)
    hide = [rng.random() < share for _ in range(len(ds))]
    tags = [[OUTSIDE] * len(t) if h else t for t, h in zip(ds["rule_tags"], hide)]
    return ds.remove_columns("rule_tags").add_column("rule_tags", tags)


def _sample_train(ds: Dataset, spec: CorpusSpec, seed: int) -> Dataset:
    """A corpus's training sentences as the config asks: ``keep_unlabelled`` of the sentences without any span
    (seeded, order kept), then the whole of it ``repeat`` times."""
    from datasets import concatenate_datasets

    if spec.keep_unlabelled < 1.0:
        rng = random.Random(f"{seed}:{spec.name}")  # a string seed: stable across processes and Python versions
        keep = [i for i, empty in enumerate(_unlabelled(ds)) if not empty or rng.random() < spec.keep_unlabelled]
        ds = ds.select(keep)
    return concatenate_datasets([ds] * spec.repeat) if spec.repeat > 1 else ds


def _with_rule_tags(ds: Dataset) -> Dataset:
    """Add ``rule_tags``: the rule annotator's quote roles on each sentence's words (``rule_features``).
    Article records (JSONL) come with tags of the whole article already; a corpus sentence is read alone."""
    if "rule_tags" in ds.column_names:
        return ds
    from parstag.inference.rule_features import sentence_rule_tags

    return ds.add_column("rule_tags", [sentence_rule_tags(words) for words in ds["tokens"]])


def load_splits(cfg: TrainConfig, fold: int | None = None, *, with_test: bool = False) -> Splits:
    """Train/dev(/test) parts of every configured corpus.  A corpus without a dev split gives
    ``data.dev_fraction`` of its train split (seeded) as dev.  Test is read only when asked.
    With ``model.rule_features`` every sentence gets its ``rule_tags``, and the training sentences a
    seeded ``rule_feature_dropout`` share of them blanked (all O): the corpus's own share, else the model's."""
    splits = Splits()
    features = cfg.model.rule_features != "none"
    for spec in cfg.data.corpora:
        if spec.train:
            train, annotated = _read(spec, spec.train, fold, features)
            dev = None
            if spec.dev:
                dev, _ = _read(spec, spec.dev, fold, features)
            elif cfg.data.dev_fraction > 0:
                parts = train.train_test_split(test_size=cfg.data.dev_fraction, seed=cfg.optim.seed, shuffle=True)
                train, dev = parts["train"], parts["test"]
            train = _sample_train(train, spec, cfg.optim.seed)
            hide = cfg.model.rule_feature_dropout if spec.rule_feature_dropout is None else spec.rule_feature_dropout
            if features and hide > 0:
                train = _hide_rule_tags(train, hide, f"{cfg.optim.seed}:{spec.name}:hide")
            splits.train.append(Part(spec.name, train, annotated))
            if dev is not None:
                splits.dev.append(Part(spec.name, dev, annotated))
        elif spec.dev:
            dev, annotated = _read(spec, spec.dev, fold, features)
            splits.dev.append(Part(spec.name, dev, annotated))
        if with_test and spec.test:
            test, annotated = _read(spec, spec.test, fold, features)
            splits.test.append(Part(spec.name, test, annotated))
    return splits


def make_normalizer(settings: dict):
    from parstag.inference.normalize import Normalizer, NormalizerConfig

    return Normalizer(NormalizerConfig.from_dict(dict(settings)))


def _ids(tags: Sequence[str], label2id: dict[str, int]) -> list[int]:
    """Tag strings -> ids; a tag of a type the model does not have becomes O."""
    outside = label2id[OUTSIDE]
    return [label2id.get(t, outside) for t in tags]


def encode(
    ds: Dataset,
    tokenizer,
    normalizer,
    label2id: dict[str, int],
    *,
    max_length: int,
    label_all_tokens: bool = False,
    allowed: Sequence[bool] | None = None,
    quote_label2id: dict[str, int] | None = None,
    train_ner: bool = True,
) -> Dataset:
    """Model inputs for every sentence of ``ds`` (which keeps its ``tokens``/``ner_tags`` for scoring).

    Adds ``input_ids``, ``labels`` (all ignored when ``train_ner`` is false), ``first_piece`` (-1 for a
    word without a piece in the window), ``length``; ``ner_allowed`` when ``allowed`` is given;
    ``quote_labels`` when ``quote_label2id`` is given (all ignored for sentences without ``quote_tags``);
    ``rule_ids`` (every piece, ids of ``quote_label2id``) when ``ds`` has ``rule_tags``.
    """
    ner_cont = continuation_map(list(label2id)) if label_all_tokens else None
    q_cont = continuation_map(list(quote_label2id)) if (label_all_tokens and quote_label2id) else None
    has_quotes = "quote_tags" in ds.column_names
    features = "rule_tags" in ds.column_names and quote_label2id is not None
    if features:
        f_cont = continuation_map(list(quote_label2id))
        f_out = quote_label2id[OUTSIDE]

    def fn(batch: dict[str, list]) -> dict[str, list]:
        words = [[normalizer.normalize_word(w) for w in tokens] for tokens in batch["tokens"]]
        enc = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length)
        out: dict[str, list] = {"input_ids": enc["input_ids"], "labels": [], "first_piece": [], "length": []}
        if quote_label2id is not None:
            out["quote_labels"] = []
        if features:
            out["rule_ids"] = []
        for i, tags in enumerate(batch["ner_tags"]):
            word_ids = enc.word_ids(i)
            n_words = len(tags)
            word_labels = _ids(tags, label2id) if train_ner else [IGNORE_INDEX] * n_words
            out["labels"].append(align_labels(word_ids, word_labels, label_all_tokens=label_all_tokens, continuation=ner_cont))
            out["first_piece"].append([-1 if p is None else p for p in first_piece_index(word_ids, n_words)])
            out["length"].append(len(word_ids))
            if quote_label2id is not None:
                qtags = batch["quote_tags"][i] if has_quotes else None
                q = _ids(qtags, quote_label2id) if qtags else [IGNORE_INDEX] * n_words
                out["quote_labels"].append(align_labels(word_ids, q, label_all_tokens=label_all_tokens, continuation=q_cont))
            if features:
                word_feats = [quote_label2id.get(t, f_out) for t in batch["rule_tags"][i]]
                out["rule_ids"].append(align_features(word_ids, word_feats, f_cont, f_out))
        if allowed is not None:
            out["ner_allowed"] = [list(allowed)] * len(batch["tokens"])
        return out

    return ds.map(fn, batched=True, batch_size=256, desc=None)


def allowed_mask(labels: Sequence[str], annotated: Sequence[str]) -> list[bool]:
    """``ner_allowed`` of a corpus: False for B-/I- of the types it does not annotate."""
    return [split_tag(label)[1] is None or split_tag(label)[1] in annotated for label in labels]


class LengthGroupedBatchSampler(torch.utils.data.Sampler):
    """Batches of indices: seeded shuffle, mega-batches of ``batch_size * mega_batches`` sorted by length,
    cut into batches, batch order shuffled.  Set ``.epoch`` before iterating; same (seed, epoch), same order.
    ``group=False`` gives plain shuffled batches, ``shuffle=False`` the corpus order."""

    def __init__(self, lengths: Sequence[int], batch_size: int, *, seed: int = 0, shuffle: bool = True,
                 group: bool = True, mega_batches: int = 50):  # fmt: skip
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.drop_last = False
        self.seed, self.shuffle, self.group, self.mega = seed, shuffle, group, mega_batches
        self.epoch = 0

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self):
        # seed + epoch, then randperm: without grouping this is exactly the order of accelerate's
        # SeedableRandomSampler, i.e. of the transformers Trainer with the same seed (bench/parity_trainer.py).
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        n, bs = len(self.lengths), self.batch_size
        order = torch.randperm(n, generator=g).tolist() if self.shuffle else list(range(n))
        if self.group:
            size = bs * self.mega
            order = [i for s in range(0, n, size) for i in sorted(order[s : s + size], key=lambda j: -self.lengths[j])]
        batches = [order[s : s + bs] for s in range(0, n, bs)]
        if self.group and self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]
        yield from batches


def eval_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Evaluation order: longest first, fixed (no randomness)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[s : s + batch_size] for s in range(0, len(order), batch_size)]


class Collator:
    """Pads a list of encoded examples to the batch's longest sequence; only model keys are kept."""

    def __init__(self, pad_id: int, pad_to_multiple_of: int | None = None, rule_outside: int = 0):
        self.pad_id = pad_id
        self.multiple = pad_to_multiple_of
        self.rule_outside = rule_outside  # the O id of rule features, on padding

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        width = max(len(f["input_ids"]) for f in features)
        if self.multiple:
            width = -(-width // self.multiple) * self.multiple

        def pad(key: str, value: int) -> torch.Tensor:
            return torch.tensor([f[key] + [value] * (width - len(f[key])) for f in features], dtype=torch.long)

        batch = {
            "input_ids": pad("input_ids", self.pad_id),
            "attention_mask": torch.tensor(
                [[1] * len(f["input_ids"]) + [0] * (width - len(f["input_ids"])) for f in features], dtype=torch.long
            ),
            "labels": pad("labels", IGNORE_INDEX),
        }
        if "quote_labels" in features[0]:
            batch["quote_labels"] = pad("quote_labels", IGNORE_INDEX)
        if "ner_allowed" in features[0]:
            batch["ner_allowed"] = torch.tensor([f["ner_allowed"] for f in features], dtype=torch.bool)
        if "rule_ids" in features[0]:
            batch["rule_ids"] = pad("rule_ids", self.rule_outside)
        return batch
