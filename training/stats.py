"""Corpus statistics: what a corpus holds, and what is wrong with it, before anything trains on it.

The problem: the published corpora carry traps that only counting reveals (PEYMA repeats 374
sentences inside its splits and 16 more across them, a few token sequences are tagged two ways, ARMAN's
train folds are its test folds again), and sentence length decides ``max_length`` and batch shapes.
This module holds the counting: the :class:`ReadReport` that every reader attaches to its dataset,
duplicate/conflict detection, and :class:`CorpusStats` (sentences, tokens, entities per type, length
percentiles) with a human table and a JSON form for ``parstag data stats``.  It reads no files itself
(``data_commands.py`` does, through ``corpora.py``), so ``corpora`` can import it without a cycle.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parstag.inference.labels import ENTITY_TYPES, spans_from_tags

if TYPE_CHECKING:
    from datasets import Dataset


@dataclass
class ReadReport:
    """What one read found: sizes, the file's tag scheme, repairs, duplicates and conflicts."""

    path: str
    corpus: str
    format: str  # arman, peyma, conll, jsonl
    scheme: str  # the file's scheme (iob2, iob1, bioes); readers always output IOB2
    annotated_types: tuple[str, ...]
    sentences: int = 0
    tokens: int = 0
    duplicates: int = 0  # sentences equal (tokens and tags) to an earlier one
    conflicts: int = 0  # token sequences that occur with two or more different tag sequences
    conflict_ids: list[list[str]] = field(default_factory=list)  # per conflict, the first id of each variant
    repairs: int = 0
    repaired_lines: list[int] = field(default_factory=list)
    stripped_tokens: int = 0  # tokens that lost surrounding whitespace (PEYMA)


def corpus_report(dataset: Dataset) -> ReadReport | None:
    """The :class:`ReadReport` that a ``corpora.read_*`` attached, or None (e.g. lost in a concatenation)."""
    try:
        meta = json.loads(dataset.info.description or "")["parstag"]
        return ReadReport(**(meta | {"annotated_types": tuple(meta["annotated_types"])}))
    except (ValueError, KeyError, TypeError):
        return None


def count_duplicates(
    ids: Iterable[str], tokens: Iterable[Sequence[str]], tags: Iterable[Sequence[str]]
) -> tuple[int, list[list[str]]]:
    """``(duplicates, conflict groups)``.

    A duplicate is a sentence equal, tokens and tags, to an earlier one.  A conflict is a token sequence
    that occurs with two or more tag sequences; its group lists the first id of each variant.
    """
    seen: dict[tuple[str, ...], dict[tuple[str, ...], str]] = {}
    duplicates = 0
    for i, toks, tgs in zip(ids, tokens, tags):
        variants = seen.setdefault(tuple(toks), {})
        if tuple(tgs) in variants:
            duplicates += 1
        else:
            variants[tuple(tgs)] = i
    return duplicates, [list(v.values()) for v in seen.values() if len(v) > 1]


def percentile(sorted_values: Sequence[int], q: float) -> int:
    """Nearest-rank percentile (always a value that occurs); 0 for an empty sequence."""
    if not sorted_values:
        return 0
    return sorted_values[max(0, math.ceil(q / 100 * len(sorted_values)) - 1)]


@dataclass
class CorpusStats:
    name: str
    format: str
    scheme: str  # the input's tag scheme (iob2, iob1, bioes)
    sentences: int
    tokens: int
    entities: dict[str, int]  # per canonical type, only the annotated types (0 = annotated, none found)
    annotated_types: tuple[str, ...]
    duplicates: int
    conflicts: int
    length: dict[str, int]  # sentence length in tokens: p50, p90, p99, max
    single_token_sentences: int = 0
    repairs: int = 0
    stripped_tokens: int = 0
    conflict_ids: list[list[str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute_stats(
    name: str,
    ids: Sequence[str],
    tokens: Sequence[Sequence[str]],
    tags: Sequence[Sequence[str]],
    *,
    format: str = "",
    scheme: str = "iob2",
    annotated_types: Iterable[str] | None = None,
    repairs: int = 0,
    stripped_tokens: int = 0,
) -> CorpusStats:
    """Statistics of IOB2-tagged sentences (``annotated_types`` default: every type that occurs)."""
    counts: Counter[str] = Counter(etype for sent in tags for etype, _, _ in spans_from_tags(sent))
    types = set(counts) if annotated_types is None else set(annotated_types) | set(counts)
    lengths = sorted(len(t) for t in tokens)
    duplicates, groups = count_duplicates(ids, tokens, tags)
    return CorpusStats(
        name=name,
        format=format,
        scheme=scheme,
        sentences=len(lengths),
        tokens=sum(lengths),
        entities={t: counts[t] for t in (*ENTITY_TYPES, *sorted(types - set(ENTITY_TYPES))) if t in types},
        annotated_types=tuple(t for t in ENTITY_TYPES if t in types),
        duplicates=duplicates,
        conflicts=len(groups),
        length={f"p{q}": percentile(lengths, q) for q in (50, 90, 99)} | {"max": lengths[-1] if lengths else 0},
        single_token_sentences=sum(1 for n in lengths if n == 1),
        repairs=repairs,
        stripped_tokens=stripped_tokens,
        conflict_ids=groups[:20],
    )


def dataset_stats(dataset: Dataset, name: str | None = None) -> CorpusStats:
    """:func:`compute_stats` of a dataset made by ``corpora.read_*`` (its report adds format and repairs)."""
    report = corpus_report(dataset)
    return compute_stats(
        name or (Path(report.path).name if report else "dataset"),
        list(dataset["id"]),
        list(dataset["tokens"]),
        list(dataset["ner_tags"]),
        format=report.format if report else "",
        scheme=report.scheme if report else "iob2",
        annotated_types=report.annotated_types if report else None,
        repairs=report.repairs if report else 0,
        stripped_tokens=report.stripped_tokens if report else 0,
    )


_ARMAN_LINE = re.compile(r"\S+ (O|[BI]-(pers|org|loc|fac|pro|event))")
_PEYMA_LINE = re.compile(r".*\|(O|[BI]_[A-Z]+)")


def detect_format(path: str | Path, sample_lines: int = 5000) -> str:
    """``jsonl``, ``peyma``, ``arman`` or ``conll``, from the extension and the first lines.

    ARMAN needs one non-O ARMAN tag in the sample: an all-O two-column sample reads the same as CoNLL.
    """
    path = Path(path)
    if path.suffix.lower() in (".jsonl", ".json"):
        return "jsonl"
    with path.open("rb") as f:
        head = [line.decode("utf-8", "replace").strip("\r\n") for _, line in zip(range(sample_lines), f)]
    lines = [line for line in head if line.strip()]
    if lines and lines[0].lstrip().startswith("{"):
        return "jsonl"
    if lines and all(_PEYMA_LINE.fullmatch(line) for line in lines):
        return "peyma"
    if lines and all(_ARMAN_LINE.fullmatch(line) for line in lines) and any(not line.endswith(" O") for line in lines):
        return "arman"
    return "conll"


def total_of(stats: Sequence[CorpusStats], columns: Sequence[tuple[Sequence, Sequence, Sequence]]) -> CorpusStats:
    """Statistics over several files at once: duplicates then include repeats ACROSS files (leakage)."""
    ids = [i for c in columns for i in c[0]]
    tokens = [t for c in columns for t in c[1]]
    tags = [t for c in columns for t in c[2]]
    annotated = {t for s in stats for t in s.annotated_types}
    formats, schemes = {s.format for s in stats}, {s.scheme for s in stats}
    return compute_stats("total", ids, tokens, tags, format=formats.pop() if len(formats) == 1 else "mixed",
                         scheme=schemes.pop() if len(schemes) == 1 else "mixed",
                         annotated_types=annotated, repairs=sum(s.repairs for s in stats),
                         stripped_tokens=sum(s.stripped_tokens for s in stats))  # fmt: skip


def format_table(stats: Sequence[CorpusStats]) -> str:
    """One column per file; ``-`` marks an entity type the corpus does not annotate (not the same as 0)."""
    types = [t for t in ENTITY_TYPES if any(t in s.entities for s in stats)]
    types += sorted({t for s in stats for t in s.entities} - set(types))
    rows: list[tuple[str, list[str]]] = [
        ("format", [s.format or "?" for s in stats]),
        ("tag scheme", [s.scheme for s in stats]),
        ("sentences", [f"{s.sentences:,}" for s in stats]),
        ("tokens", [f"{s.tokens:,}" for s in stats]),
        ("entities", [f"{sum(s.entities.values()):,}" for s in stats]),
        *((f"  {t}", [f"{s.entities[t]:,}" if t in s.entities else "-" for s in stats]) for t in types),
        ("duplicate sentences", [f"{s.duplicates:,}" for s in stats]),
        ("conflicts (same tokens, other tags)", [f"{s.conflicts:,}" for s in stats]),
        ("single-token sentences", [f"{s.single_token_sentences:,}" for s in stats]),
        *((f"length {k}", [str(s.length[k]) for s in stats]) for k in ("p50", "p90", "p99", "max")),
    ]
    if any(s.repairs for s in stats):
        rows.append(("repaired tags", [f"{s.repairs:,}" for s in stats]))
    if any(s.stripped_tokens for s in stats):
        rows.append(("tokens stripped of spaces", [f"{s.stripped_tokens:,}" for s in stats]))
    head_width = max(len(label) for label, _ in rows)
    widths = [max(len(s.name), *(len(r[1][i]) for r in rows)) for i, s in enumerate(stats)]
    lines = [" " * head_width + "".join(f"  {s.name:>{w}}" for s, w in zip(stats, widths))]
    for label, values in rows:
        lines.append(f"{label:<{head_width}}" + "".join(f"  {v:>{w}}" for v, w in zip(values, widths)))
    return "\n".join(lines)
