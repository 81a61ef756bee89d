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
a ``B-`` and a :class:`CorpusWarning`.  Where to download each corpus, and its pinned sums: download.py.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parstag.inference.labels import ENTITY_TYPES, OUTSIDE

from .stats import ReadReport, corpus_report, count_duplicates  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from datasets import Dataset

Tag = tuple[str, "str | None"]  # (prefix B/I/E/S/O, canonical type or None)
Row = tuple[int, str, str]  # (line number, token, raw tag as written in the file)
_LIST_LIMIT = 20  # reports list only the first few line numbers / ids of each kind


class CorpusError(ValueError):
    """A corpus file that cannot be read as promised; ``str()`` is one line: ``path:line: message``."""

    def __init__(self, message: str, path: str | os.PathLike | None = None, line: int | None = None):
        self.message, self.path, self.line = message, None if path is None else str(path), line
        where = "" if path is None else f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


class CorpusNotFoundError(CorpusError):
    """A registered split that is not on disk; the message says how to download it."""


class CorpusWarning(UserWarning):
    """Input was repaired, and reading went on."""


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


def _dataset(ids: list[str], tokens: list[list[str]], tags: list[list[str]], report: ReadReport) -> Dataset:
    from datasets import Dataset, DatasetInfo, Features, List, Value

    strings = List(Value("string"))
    features = Features({"id": Value("string"), "tokens": strings, "ner_tags": strings, "corpus": Value("string")})
    info = DatasetInfo(description=json.dumps({"parstag": asdict(report)}, ensure_ascii=False), features=features)
    data = {"id": ids, "tokens": tokens, "ner_tags": tags, "corpus": [report.corpus] * len(ids)}
    return Dataset.from_dict(data, info=info)


def _read_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorpusError("no such file", path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CorpusError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", path, line) from None
    # split("\n"), not splitlines(): that one also breaks at U+2028, U+0085 ... which may sit inside tokens.
    return [line.rstrip("\r") for line in text.removeprefix("\ufeff").split("\n")]


def _sentences(path: Path, split_line: Callable[[str, int], tuple[str, str] | None]) -> list[list[Row]]:
    """Rows grouped into sentences; blank lines (and lines ``split_line`` maps to None) separate them."""
    out: list[list[Row]] = [[]]
    for no, line in enumerate(_read_lines(path), 1):
        pair = split_line(line, no) if line.strip() else None
        if pair is not None:
            out[-1].append((no, *pair))
        elif out[-1]:
            out.append([])
    out = [s for s in out if s]
    if not out:
        raise CorpusError("no sentences (empty file)", path)
    return out


def _decoder(path: Path, type_map: Mapping[str, str | None], prefixes: str, seps: str,
             fold_case: bool = False) -> Callable[[str, int], Tag]:  # fmt: skip
    """raw tag -> (prefix, canonical type); a type that ``type_map`` maps to None becomes O."""
    pattern = re.compile(rf"([{prefixes}])[{re.escape(seps)}](.+)")

    def decode(raw: str, no: int) -> Tag:
        if raw == OUTSIDE:
            return OUTSIDE, None
        m = pattern.fullmatch(raw)
        name = m and (m.group(2).upper() if fold_case else m.group(2))
        if not m or name not in type_map:
            known = "/".join(sorted(k for k, v in type_map.items() if v))
            raise CorpusError(f"unknown tag {raw!r} (expected O or {'/'.join(prefixes)}{seps[0]}{{{known}}})", path, no)
        etype = type_map[name]
        return (OUTSIDE, None) if etype is None else ({"L": "E", "U": "S"}.get(m.group(1), m.group(1)), etype)

    return decode


def _continues(prev: Tag, tag: Tag) -> bool:
    return prev[0] in ("B", "I") and prev[1] == tag[1]


def _detect_scheme(decoded: list[list[Tag]]) -> str:
    """BIOES if E-/S- occur; IOB1 if some entity starts with I-; else IOB2 (IOB1 without that is IOB2)."""
    if any(p in ("E", "S") for sent in decoded for p, _ in sent):
        return "bioes"
    if any(t[0] == "I" and not _continues(p, t) for s in decoded for p, t in zip([(OUTSIDE, None)] + s, s)):
        return "iob1"
    return "iob2"


def _to_iob2(sent: list[Tag], rows: list[Row], scheme: str, repair: bool, path: Path, report: ReadReport) -> list[str]:
    def problem(no: int, message: str) -> None:
        if not repair:
            raise CorpusError(f"{message} (repair=True / --repair fixes it)", path, no)
        report.repairs += 1
        if len(report.repaired_lines) < _LIST_LIMIT:
            report.repaired_lines.append(no)

    out: list[str] = []
    prev: Tag = (OUTSIDE, None)
    prev_row: Row | None = None
    for tag, row in zip([*sent, (OUTSIDE, None)], [*rows, None]):  # the sentinel closes the last entity
        closes = tag[0] in ("I", "E") and tag[1] == prev[1]
        if scheme == "bioes" and prev_row and prev[0] in ("B", "I") and not closes:
            problem(prev_row[0], f"BIOES entity {prev_row[2]!r} is not closed by E-")
        if row is None:
            break
        if tag[0] in ("I", "E") and not _continues(prev, tag):
            if scheme != "iob1":  # IOB1 starts entities with I-: converting that is no repair
                problem(row[0], f"{row[2]!r} after {repr(prev_row[2]) if prev_row else 'sentence start'}: "
                                "an entity must start with B-")  # fmt: skip
            tag = ("B", tag[1])
        out.append(OUTSIDE if tag[1] is None else f"{'B' if tag[0] in ('B', 'S') else 'I'}-{tag[1]}")
        prev, prev_row = tag, row
    return out


def _finish(path: Path, rows: list[list[Row]], decode: Callable[[str, int], Tag], scheme: str, repair: bool,
            corpus: str, fmt: str, annotated: Iterable[str] | None, ids: list[str] | None = None,
            **extra: Any) -> Dataset:  # fmt: skip
    decoded = [[decode(tag, no) for no, _, tag in sent] for sent in rows]
    scheme = _detect_scheme(decoded) if scheme == "auto" else scheme
    if annotated is None:  # a generic file annotates the types it uses, unless told otherwise
        annotated = {t for sent in decoded for _, t in sent if t}
    if set(annotated) - set(ENTITY_TYPES):
        raise CorpusError(f"annotated_types {sorted(set(annotated) - set(ENTITY_TYPES))} not in {ENTITY_TYPES}", path)
    report = ReadReport(str(path), corpus, fmt, scheme, tuple(t for t in ENTITY_TYPES if t in annotated), **extra)
    # Default id "corpus/stem:LINE": unique, and it says where in its file the sentence starts.
    ids = ids or [f"{corpus}/{path.stem}:{r[0][0]}" for r in rows]
    tokens = [[tok for _, tok, _ in r] for r in rows]
    tags = [_to_iob2(d, r, scheme, repair, path, report) for r, d in zip(rows, decoded)]
    report.sentences, report.tokens = len(rows), sum(map(len, rows))
    report.duplicates, groups = count_duplicates(ids, tokens, tags)
    report.conflicts, report.conflict_ids = len(groups), groups[:_LIST_LIMIT]
    if report.repairs:
        warnings.warn(f"{path}: repaired {report.repairs} tag(s) or span(s), first at line {report.repaired_lines[0]}",
                      CorpusWarning, stacklevel=3)  # fmt: skip
    return _dataset(ids, tokens, tags, report)


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
    ``B-type`` on the first and ``I-type`` on the rest; a type of None tags nothing (a dropped type).
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
        covered = [i for i, (ws, we) in enumerate(words) if ws < end and we > start]
        if problem is not None:
            if not covered:
                problem("empty", span)
                continue
            if (words[covered[0]][0], words[covered[-1]][1]) != (start, end):
                problem("misaligned", span)
            if any(tags[i] != OUTSIDE for i in covered):
                problem("overlap", span)
        if etype is not None:
            for k, i in enumerate(covered):
                tags[i] = f"{'I' if k else 'B'}-{etype}"
    return tags


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
    if tokenize is None:
        from parstag.inference.segment import tokenize_words as tokenize
    mapping = type_map or GENERIC_TYPE_MAP
    rows: list[list[Row]] = []
    ids: dict[str, int] = {}
    widened: list[int] = []
    for no, line in ((no, line) for no, line in enumerate(_read_lines(path), 1) if line.strip()):
        rec = _json_record(line, path, no)
        if rec["id"] in ids:
            raise CorpusError(f"duplicate id {rec['id']!r} (first on line {ids[rec['id']]})", path, no)
        ids[rec["id"]], text = no, rec["text"]
        words = list(tokenize(text))
        tags, n_widened = _record_tags(text, rec["spans"], words, mapping, not type_map, repair, path, no)
        widened += [no] * n_widened
        rows.append([(no, text[ws:we], tag) for (ws, we), tag in zip(words, tags)])
    if not rows:
        raise CorpusError("no records (empty file)", path)
    decode = _decoder(path, {t: t for t in ENTITY_TYPES}, "BI", "-")  # the tags built above are canonical
    return _finish(path, rows, decode, "iob2", False, corpus or path.stem, "jsonl", annotated_types, list(ids),
                   repairs=len(widened), repaired_lines=widened[:_LIST_LIMIT])  # fmt: skip


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
