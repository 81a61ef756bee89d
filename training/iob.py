"""From rows of (token, raw tag) to checked IOB2 sentences: the machinery every corpus reader shares.

The problem: corpus files write the same thing many ways (IOB1, IOB2, BIOES or BILOU; ``B-`` or ``B_``;
their own type names) and get it wrong in the same few ways (an entity that starts with ``I-``, a BIOES
entity never closed, a file that is not UTF-8), and every reader must turn its rows into the same IOB2
rows, the same :class:`ReadReport` (sizes, scheme, duplicates, conflicts, repairs) and the same one-line
:class:`CorpusError` naming file and line.  This module does that once: the file's lines
(:func:`_read_lines`), rows grouped into sentences (:func:`_sentences`), raw tags decoded to (prefix,
canonical type) (:func:`_decoder`), the scheme detected and converted to IOB2 with optional repair
(:func:`_to_iob2`), and the ``datasets.Dataset`` with its report (:func:`_finish`).  What a format looks
like (columns, separators, type names, the registry of public corpora) is ``corpora.py``'s business; it
re-exports the error classes, so ``parstag.training.corpora.CorpusError`` stays the name to catch.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parstag.inference.labels import ENTITY_TYPES, OUTSIDE

from .stats import ReadReport, count_duplicates

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
