"""Corpus readers: ARMAN, PEYMA, generic CoNLL and our JSONL spans, all into one IOB2 vocabulary.

The problem: every Persian NER corpus spells its labels differently (ARMAN ``B-pers`` after one space,
PEYMA ``B_PER`` after the LAST ``|`` of a line, other CoNLL files in IOB1 or BIOES, our annotations as
character spans), and each annotates a different subset of entity types.  This module turns them all
into the same rows, ``id`` / ``tokens`` / ``ner_tags`` (IOB2 over ``labels.ENTITY_TYPES``) / ``corpus``,
and records which types each corpus *annotates*, so that a multi-corpus training run masks a type a
corpus never annotated instead of teaching it as ``O``.

Every ``read_*`` returns a ``datasets.Dataset`` whose ``info.description`` holds a :class:`ReadReport` as
JSON (:func:`corpus_report`), duplicate and conflicting sentences counted.  Malformed input raises
:class:`CorpusError` naming file and line; ``repair=True`` turns an entity that starts with ``I-`` into
a ``B-`` and a :class:`CorpusWarning`.  The tag-scheme machinery shared by all readers (and the error
classes, re-exported here) is in iob.py.  Where to download each corpus, and its pinned sums: download.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parstag.inference.labels import ENTITY_TYPES, OUTSIDE

from .iob import (  # noqa: F401  (CorpusWarning is re-exported: the error classes are importable from here)
    _LIST_LIMIT,
    CorpusError,
    CorpusNotFoundError,
    CorpusWarning,
    Row,
    _decoder,
    _finish,
    _read_lines,
    _sentences,
)
from .stats import ReadReport, corpus_report, count_duplicates  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from datasets import Dataset


@dataclass(frozen=True)
class CorpusInfo:
    """How to read a public corpus: its files, its tag spelling, the types it annotates."""

    name: str
    title: str
    column_sep: str  # between token and tag; a line is split at its LAST occurrence
    tag_sep: str  # between B/I and the type: ARMAN "-", PEYMA "_"
    type_map: Mapping[str, str]  # the corpus's type names -> canonical types (the one place they are written)
    splits: tuple[str, ...]  # file <split>.txt, or <split>_fold<k>.txt for each of ``folds``
    folds: tuple[int, ...] = ()  # () for plain train/dev/test corpora

    @property
    def annotated_types(self) -> tuple[str, ...]:
        """Canonical types the corpus annotates; the others are "not annotated", not "absent"."""
        return tuple(t for t in ENTITY_TYPES if t in set(self.type_map.values()))

    def split_file(self, split: str, fold: int | None = None) -> str:
        """File name (under ``<data_dir>/<name>/``) of a split: ``train.txt``, ``test_fold1.txt``."""
        if split not in self.splits:
            raise CorpusError(f"{self.name} has no split {split!r}; its splits are {list(self.splits)}")
        if self.folds and fold not in self.folds:
            raise CorpusError(f"{self.name} needs fold= one of {list(self.folds)} (got {fold!r})")
        if not self.folds and fold is not None:
            raise CorpusError(f"{self.name} has no folds (got fold={fold!r})")
        return f"{split}_fold{fold}.txt" if self.folds else f"{split}.txt"


CORPORA: dict[str, CorpusInfo] = {
    "arman": CorpusInfo(
        name="arman",
        title="ArmanPersoNERCorpus: news, 3 folds; train_foldK holds exactly the other two test folds",
        column_sep=" ", tag_sep="-",
        type_map={"pers": "PER", "org": "ORG", "loc": "LOC", "fac": "FAC", "pro": "PRO", "event": "EVE"},
        splits=("train", "test"), folds=(1, 2, 3),
    ),
    "peyma": CorpusInfo(
        name="peyma",
        title="PEYMA: news from 10 sites, train/dev/test",
        column_sep="|", tag_sep="_",
        type_map={t: t for t in ("PER", "ORG", "LOC", "DAT", "TIM", "MON", "PCT")},
        splits=("train", "dev", "test"),
    ),
}

#: Type names generic CoNLL / JSONL files use, matched case-insensitively (keys are upper case).
GENERIC_TYPE_MAP: dict[str, str | None] = {t: t for t in ENTITY_TYPES} | {
    "PERS": "PER", "PERSON": "PER", "ORGANIZATION": "ORG", "LOCATION": "LOC", "FACILITY": "FAC",
    "PRODUCT": "PRO", "EVENT": "EVE", "DATE": "DAT", "TIME": "TIM", "MONEY": "MON", "PERCENT": "PCT",
}  # fmt: skip


def _read_registered(path: str | os.PathLike, name: str, repair: bool, inner_space: str = " ") -> Dataset:
    path, info = Path(path), CORPORA[name]
    sep, stripped = info.column_sep, 0

    def split_line(line: str, no: int) -> tuple[str, str]:
        nonlocal stripped
        token, found, tag = line.rpartition(sep)
        if not found or (sep == " " and " " in token):
            got = f"got {len(line.split(sep))} fields" if found else f"no {sep!r} on the line"
            raise CorpusError(f"expected 'TOKEN{sep}TAG', {got}", path, no)
        stripped += token != token.strip()
        if not token.strip():
            raise CorpusError(f"empty token before {sep!r}", path, no)
        return token.strip().replace(" ", inner_space), tag

    rows = _sentences(path, split_line)
    decode = _decoder(path, info.type_map, "BI", info.tag_sep)
    return _finish(path, rows, decode, "iob2", repair, name, name, info.annotated_types, stripped_tokens=stripped)


def read_arman(path: str | os.PathLike, *, repair: bool = False) -> Dataset:
    """ARMAN: ``token tag`` separated by exactly one space, IOB2 with lowercase types."""
    return _read_registered(path, "arman", repair)


def read_peyma(path: str | os.PathLike, *, repair: bool = False) -> Dataset:
    """PEYMA: ``token|TAG`` split on the LAST ``|`` (the token may be ``|``), tags ``B_PER``/``I_PER``.

    Tokens lose surrounding whitespace: 25 PEYMA tokens carry a stray space (23 in train.txt), among
    them the two ``| |O`` lines of train.txt: the headline separator ``|`` ("آسوشیتدپرس | ...") plus a
    space, tagged O; dev and test write that same token ``||O``.  PEYMA turned ZWNJ into a space inside
    18k tokens (``می آورد``); a token is one word, so an inner space is put back as the ZWNJ it was.
    That matters: the tokenizer joins ZWNJ halves into pieces it knows (1.07 pieces a word) but splits
    on a space (2.04), and inference never sees such a space inside a word.
    """
    return _read_registered(path, "peyma", repair, inner_space="\u200c")


def read_conll(path: str | os.PathLike, *, token_col: int = 0, label_col: int = -1, delimiter: str | None = None,
               scheme: str = "auto", type_map: Mapping[str, str | None] | None = None, corpus: str | None = None,
               annotated_types: Iterable[str] | None = None, repair: bool = False) -> Dataset:  # fmt: skip
    """Column files: whitespace (or ``delimiter``) separated columns, the label in column ``label_col``.

    ``scheme``: "iob1", "iob2", "bioes" (BILOU's L-/U- read as E-/S-) or "auto" (BIOES if E-/S- occur,
    IOB1 if an entity starts with I-, else IOB2); the output is IOB2.  ``type_map`` maps the file's type
    names to canonical ones, None dropping a type to O (default :data:`GENERIC_TYPE_MAP`, any case).
    ``-DOCSTART-`` lines separate sentences; every line must have as many columns as the first one.
    ``annotated_types`` defaults to the types the file uses.
    """
    path = Path(path)
    if scheme not in ("auto", "iob1", "iob2", "bioes"):
        raise CorpusError(f"unknown tag scheme {scheme!r} (auto, iob1, iob2, bioes)", path)
    ncols: list[int] = []

    def split_line(line: str, no: int) -> tuple[str, str] | None:
        cols = line.split(delimiter)
        if cols[0] == "-DOCSTART-":
            return None
        ncols[:] = ncols or [len(cols)]
        if len(cols) != ncols[0]:
            raise CorpusError(f"expected {ncols[0]} columns (as on the first line), got {len(cols)}", path, no)
        if not -len(cols) <= min(token_col, label_col) <= max(token_col, label_col) < len(cols):
            raise CorpusError(f"columns {token_col}/{label_col} do not exist on a {len(cols)}-column line", path, no)
        return cols[token_col], cols[label_col]

    prefixes = "BIESLU" if scheme in ("auto", "bioes") else "BI"
    decode = _decoder(path, type_map or GENERIC_TYPE_MAP, prefixes, "-_", fold_case=not type_map)
    return _finish(path, _sentences(path, split_line), decode, scheme, repair, corpus or path.stem, "conll",
                   annotated_types)  # fmt: skip


def span_tags(words: Sequence[tuple[int, int]], spans: Iterable[tuple[int, int, str | None]],
              problem: Callable[[str, tuple[int, int, str | None]], None] | None = None) -> list[str]:
    """IOB2 tags of ``words`` (character ``(start, end)`` each) for character ``spans`` ``(start, end, type)``.

    Our annotations (:func:`read_jsonl_spans`) and the quote scorer (training/quote_eval.py) both turn
    character spans into word tags this one way: a span tags every word it shares a character with,
    ``B-type`` on the first and ``I-type`` on the rest; a span whose type is None (a dropped type: another
    label layer's span, such as an entity under a quote role) tags nothing and is not checked.
    Spans are applied in the order given (callers give text order).

    The two differ in what a bad span is, so ``problem(kind, span)`` decides: it is called, before the
    span is applied, for a span that covers no word (``"empty"``, then skipped), one that does not start
    and end on word boundaries (``"misaligned"``) and one with a word an earlier span already tagged
    (``"overlap"``); it may raise.  Annotations must be clean, so the reader raises (or, with repair,
    counts the widening).  Predictions may do all three, and a score must not fail on them: without
    ``problem`` a later span simply takes the words it shares with an earlier one.
    """
    tags = [OUTSIDE] * len(words)
    for span in spans:
        start, end, etype = span
        if etype is None:
            continue
        covered = [i for i, (ws, we) in enumerate(words) if ws < end and we > start]
        if problem is not None:
            if not covered:
                problem("empty", span)
                continue
            if (words[covered[0]][0], words[covered[-1]][1]) != (start, end):
                problem("misaligned", span)
            if any(tags[i] != OUTSIDE for i in covered):
                problem("overlap", span)
        for k, i in enumerate(covered):
            tags[i] = f"{'I' if k else 'B'}-{etype}"
    return tags


@dataclass(frozen=True)
class JsonlRecord:
    """One record of a JSONL span file, read and segmented once, tagged once per label layer."""

    line: int  # where the record is in its file
    id: str
    text: str
    words: list[tuple[int, int]]  # character (start, end) of each word of ``text``
    layers: tuple[list[str], ...]  # the words' IOB2 tags, one list per type map given
    widened: int = 0  # spans of the first layer widened to word boundaries (repair=True)

    @property
    def tokens(self) -> list[str]:
        return [self.text[s:e] for s, e in self.words]


def read_jsonl_records(path: str | os.PathLike, type_maps: Sequence[Mapping[str, str | None] | None], *,
                       tokenize: Callable[[str], Sequence[tuple[int, int]]] | None = None,
                       repair: bool = False) -> list[JsonlRecord]:  # fmt: skip
    """Our annotations (:func:`read_jsonl_spans`), the file read once and each record segmented once,
    tagged once per ``type_maps`` entry (a label layer: e.g. the entity types with the quote roles mapped
    to None, and the quote roles with the entity types mapped to None; a falsy map is
    :data:`GENERIC_TYPE_MAP`, any case).

    Records are checked as ``read_jsonl_spans(path, type_map=m)`` for each map in turn would check
    them, and fail the same way: a problem of the first layer (or of the record itself) raises where it
    occurs; one that only a later layer sees (two of its spans overlap) raises once every record has
    passed the layers before it.
    """
    path = Path(path)
    if tokenize is None:
        from parstag.inference.segment import tokenize_words as tokenize
    records: list[JsonlRecord] = []
    ids: dict[str, int] = {}
    deferred: list[CorpusError | None] = [None] * len(type_maps)
    for no, line in ((no, line) for no, line in enumerate(_read_lines(path), 1) if line.strip()):
        rec = _json_record(line, path, no)
        if rec["id"] in ids:
            raise CorpusError(f"duplicate id {rec['id']!r} (first on line {ids[rec['id']]})", path, no)
        ids[rec["id"]], text = no, rec["text"]
        words = list(tokenize(text))
        layers: list[list[str]] = []
        widened = 0
        for k, type_map in enumerate(type_maps):
            try:
                tags, n = _record_tags(text, rec["spans"], words, type_map or GENERIC_TYPE_MAP, not type_map,
                                       repair, path, no)  # fmt: skip
            except CorpusError as exc:
                if k == 0:
                    raise
                deferred[k], tags, n = deferred[k] or exc, [], 0
            layers.append(tags)
            widened = n if k == 0 else widened
        records.append(JsonlRecord(no, rec["id"], text, words, tuple(layers), widened))
    if not records:
        raise CorpusError("no records (empty file)", path)
    for exc in deferred:
        if exc is not None:
            raise exc
    return records


def read_jsonl_spans(path: str | os.PathLike, *, tokenize: Callable[[str], Sequence[tuple[int, int]]] | None = None,
                     type_map: Mapping[str, str | None] | None = None, corpus: str | None = None,
                     annotated_types: Iterable[str] | None = None, repair: bool = False) -> Dataset:  # fmt: skip
    """Our annotations: one ``{"id", "text", "spans": [{"start", "end", "label"}]}`` per line.

    Offsets index characters of ``text`` (end exclusive).  Words come from ``tokenize(text)`` (default
    ``parstag.inference.segment.tokenize_words``, the tagger's own segmentation), so a span must start
    and end on word boundaries; ``repair=True`` widens a misaligned span to the words it touches.
    Overlapping spans are an error (no nesting).  One record is one sequence; ids must be unique.
    """
    path = Path(path)
    records = read_jsonl_records(path, [type_map], tokenize=tokenize, repair=repair)
    rows: list[list[Row]] = [[(r.line, r.text[ws:we], tag) for (ws, we), tag in zip(r.words, r.layers[0])]
                             for r in records]  # fmt: skip
    widened = [r.line for r in records for _ in range(r.widened)]
    decode = _decoder(path, {t: t for t in ENTITY_TYPES}, "BI", "-")  # the tags built above are canonical
    return _finish(path, rows, decode, "iob2", False, corpus or path.stem, "jsonl", annotated_types,
                   [r.id for r in records], repairs=len(widened), repaired_lines=widened[:_LIST_LIMIT])  # fmt: skip


_SPAN_PROBLEMS = {"empty": "covers no word", "misaligned": "is not on word boundaries (repair=True widens it)",
                  "overlap": "overlaps another span"}  # fmt: skip


def _record_tags(text: str, spans: list[dict], words: list[tuple[int, int]], mapping: Mapping[str, str | None],
                 fold_case: bool, repair: bool, path: Path, no: int) -> tuple[list[str], int]:  # fmt: skip
    """The tags of one JSONL record, and how many of its spans were widened to word boundaries."""
    widened = 0

    def where(start: int, end: int) -> str:
        return f"span [{start}, {end}) {text[start:end]!r}"

    def typed() -> Iterator[tuple[int, int, str | None]]:
        # Lazily, in text order: a span's label is checked when span_tags reaches it, after the spans before it.
        for span in sorted(spans, key=lambda s: (s["start"], s["end"])):
            start, end, label = span["start"], span["end"], span["label"]
            name = label.upper() if fold_case else label
            if name not in mapping:
                known = "/".join(mapping)
                raise CorpusError(f"{where(start, end)}: unknown label {label!r} (known: {known})", path, no)
            yield start, end, mapping[name]

    def problem(kind: str, span: tuple[int, int, str | None]) -> None:
        nonlocal widened
        if kind == "misaligned" and repair:
            widened += 1
            return
        raise CorpusError(f"{where(span[0], span[1])} {_SPAN_PROBLEMS[kind]}", path, no)

    return span_tags(words, typed(), problem), widened


def _json_record(line: str, path: Path, no: int) -> dict[str, Any]:
    try:
        rec = json.loads(line)
        ok = isinstance(rec["id"], str) and rec["id"] and isinstance(rec["text"], str) and all(
            isinstance(s["label"], str) and type(s["start"]) is type(s["end"]) is int
            and 0 <= s["start"] < s["end"] <= len(rec["text"]) for s in rec["spans"])  # fmt: skip
    except json.JSONDecodeError as exc:
        raise CorpusError(f"invalid JSON ({exc.msg} at column {exc.colno})", path, no) from None
    except (KeyError, TypeError):
        ok = False
    if not ok:
        raise CorpusError('expected {"id": str, "text": str, "spans": [{"start": int, "end": int, "label": str}]} '
                          "with 0 <= start < end <= len(text)", path, no)  # fmt: skip
    return rec


READERS: dict[str, Callable[..., Dataset]] = {
    "arman": read_arman, "peyma": read_peyma, "conll": read_conll, "jsonl": read_jsonl_spans,
}  # fmt: skip

_REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir(name: str | None = None) -> Path:
    """``$PARSTAG_DATA``; else ``./data/corpora`` if it exists; else ``../shared/data`` next to the working
    directory or the repository if that exists; else ``./data/corpora`` (for the download to fill).

    With a corpus ``name``: the first of those roots that holds ``name/`` (so PEYMA read from ../shared and
    news downloaded into ./data/corpora are both found); the default root when none does."""
    if os.environ.get("PARSTAG_DATA"):
        return Path(os.environ["PARSTAG_DATA"]).expanduser()
    default = Path.cwd() / "data" / "corpora"
    shared = [p for p in (Path.cwd().parent / "shared" / "data", _REPO_ROOT.parent / "shared" / "data") if p.is_dir()]
    if name is not None:
        for root in [default, *shared]:
            if (root / name).is_dir():
                return root
    if not default.is_dir() and shared:
        return shared[0]
    return default


def load_corpus(name: str, split: str, fold: int | None = None, *, root: str | os.PathLike | None = None,
                repair: bool = False) -> Dataset:  # fmt: skip
    """A registered split: ``load_corpus("peyma", "train")``, ``load_corpus("arman", "test", fold=1)``."""
    if name not in CORPORA:
        raise CorpusError(f"unknown corpus {name!r}; known: {', '.join(CORPORA)}")
    path = Path(root if root is not None else data_dir(name)) / name / CORPORA[name].split_file(split, fold)
    if not path.is_file():
        raise CorpusNotFoundError(f"{name} {split}{f' fold {fold}' if fold else ''} is missing; run `parstag data "
                                  f"download {name} --to {path.parents[1]}` (or set PARSTAG_DATA)", path)  # fmt: skip
    return READERS[name](path, repair=repair)
