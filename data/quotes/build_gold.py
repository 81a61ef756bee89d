#!/usr/bin/env python
"""Resolve the quote-attribution source annotations into gold JSONL, and validate them.

Source annotations live in ``data/quotes/annotations/*.yaml`` (one file per batch; format in
data/quotes/GUIDELINES.md, section "Source format").  Nobody writes character offsets by hand: every span
is given as an exact substring of the article text, and this script finds it, applying fixed default rules
for which occurrence is meant (nearest to the quote) and failing loudly -- article id, quote number and
field -- on a substring that is not found or is ambiguous.

Usage (from the repository root)::

    python data/quotes/build_gold.py                     # resolve, validate, write gold/dev.jsonl + gold/test.jsonl
    python data/quotes/build_gold.py --check             # resolve + validate; fail if gold/*.jsonl is not up to date
    python data/quotes/build_gold.py --text fars-1-0012  # print an article's text, paragraph-numbered (to copy from)
    python data/quotes/build_gold.py --show fars-1-0012  # print the resolved annotation inline (to review it)
    python data/quotes/build_gold.py --diff OLD_GOLD_DIR # count span/link changes against an earlier gold snapshot
    python data/quotes/build_gold.py --write-readme-counts   # refresh the counts block in data/quotes/README.md

The article text is ``title + "\\n\\n" + abstract + "\\n\\n" + "\\n".join(paragraphs)``, exactly as scraped
(no normalisation: Arabic ي/ك, missing or present ZWNJ, ASCII digits all stay).  See ``article_text``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ANNOTATION_DIR = HERE / "annotations"
GOLD_DIR = HERE / "gold"
README = HERE / "README.md"
SPLITS = ("dev", "test")
LABELS = ("QUOTE", "SPEAKER", "CUE")
KINDS = ("direct", "indirect")
SOURCES = {"fars": "fars-news-{n}.json", "varzesh3": "varzesh3-{n}.json"}
# Same list and order as parstag.inference.labels.ENTITY_TYPES (tests/test_quote_gold.py checks this);
# copied so that this script runs without the package installed.
ENTITY_TYPES = ("PER", "ORG", "LOC", "FAC", "PRO", "EVE", "DAT", "TIM", "MON", "PCT")
ID_RE = re.compile(r"^(fars|varzesh3)-(\d+)-(\d{4})$")
ELLIPSIS = " ... "  # "HEAD ... TAIL" in a quote: from HEAD to the first TAIL after it
TO_END = " ..."  # "HEAD ..." in a quote: from HEAD to the end of HEAD's paragraph
OPEN_MARKS = "«\"“‘"
CLOSE_MARKS = "»\"”’"
QUOTE_KEYS = {"quote", "speaker", "cue", "entity", "type", "kind", "note"}
REQUIRED_QUOTE_KEYS = ("quote", "speaker", "cue", "entity", "kind")
ARTICLE_KEYS = {"id", "quotes", "note"}
REF_KEYS = {"text", "occ", "ctx"}


class AnnotationError(ValueError):
    """A source annotation that cannot be resolved or breaks a rule; the message says where."""


# ---------------------------------------------------------------------------------------------- text


def news_dir_default() -> Path:
    """``$PARSTAG_DATA/news`` if set, else ``<repo>/../shared/data/news``."""
    env = os.environ.get("PARSTAG_DATA")
    if env and (Path(env) / "news").is_dir():
        return Path(env) / "news"
    return ROOT.parent / "shared" / "data" / "news"


def article_text(article: dict) -> str:
    """The text that is annotated: title, abstract and paragraphs, unchanged.

    ``title + "\\n\\n" + abstract + "\\n\\n" + "\\n".join(paragraphs)``.  Blocks are always present, even when
    empty, so that the formula never depends on the content.
    """
    return article["title"] + "\n\n" + article["abstract"] + "\n\n" + "\n".join(article["paragraphs"])


def parse_id(article_id: str) -> tuple[str, int, int]:
    m = ID_RE.match(article_id)
    if not m:
        raise AnnotationError(f"{article_id!r}: article id must look like fars-1-0012 or varzesh3-3-0045")
    return m.group(1), int(m.group(2)), int(m.group(3))


class News:
    """Lazy access to the raw articles by id (``fars-1-0012`` = fars-news-1.json, list index 12)."""

    def __init__(self, news_dir: Path):
        self.news_dir = Path(news_dir)
        self._files: dict[tuple[str, int], list[dict]] = {}

    def available(self) -> bool:
        return self.news_dir.is_dir()

    def article(self, article_id: str) -> dict:
        source, n, index = parse_id(article_id)
        key = (source, n)
        if key not in self._files:
            path = self.news_dir / source / SOURCES[source].format(n=n)
            if not path.is_file():
                raise AnnotationError(f"{article_id}: no such news file {path}")
            with open(path, encoding="utf-8") as f:
                self._files[key] = json.load(f)
        articles = self._files[key]
        if not 0 <= index < len(articles):
            raise AnnotationError(f"{article_id}: index {index} out of range (file has {len(articles)} articles)")
        return articles[index]

    def text(self, article_id: str) -> str:
        return article_text(self.article(article_id))


def split_of(article_id: str) -> str:
    """dev or test, from a hash of the id: stable, needs no coordination between annotators."""
    return SPLITS[hashlib.sha1(article_id.encode("utf-8")).digest()[0] % 2]


ZERO_WIDTH = "\u200c\u200d"


def is_word_char(ch: str) -> bool:
    """Letters, digits, combining marks, ZWNJ/ZWJ: characters that can continue a word."""
    return ch.isalnum() or unicodedata.category(ch).startswith("M") or ch in ZERO_WIDTH


def _in_word(text: str, i: int) -> bool:
    """text[i] belongs to a word: a letter/digit/mark, or a ZWNJ/ZWJ with a letter on both sides.

    A stray ZWNJ next to punctuation or space (``گفت‌:``, ``افزود:‌امارات``) joins nothing, so a word
    boundary lies on both sides of it.
    """
    ch = text[i]
    if ch in ZERO_WIDTH:
        return (0 < i < len(text) - 1 and is_word_char(text[i - 1]) and text[i - 1] not in ZERO_WIDTH
                and is_word_char(text[i + 1]) and text[i + 1] not in ZERO_WIDTH)
    return is_word_char(ch)


def at_boundary(text: str, i: int) -> bool:
    """True if position i is not inside a word (a span may start or end there)."""
    if i <= 0 or i >= len(text):
        return True
    return not (_in_word(text, i - 1) and _in_word(text, i))


def occurrences(text: str, s: str) -> list[int]:
    """Start offsets of word-bounded occurrences of s in text."""
    out, i = [], text.find(s)
    while i != -1:
        if at_boundary(text, i) and at_boundary(text, i + len(s)):
            out.append(i)
        i = text.find(s, i + 1)
    return out


def _fold(s: str) -> str:
    """Loose form used only to suggest a fix when a literal is not found."""
    s = s.replace("ي", "ی").replace("ك", "ک").replace("ى", "ی").replace("\u200c", " ").replace("أ", "ا")
    return re.sub(r"\s+", " ", s)


def paragraph_bounds(text: str, i: int) -> tuple[int, int]:
    """The line (title, abstract line, or paragraph) that contains offset i."""
    start = text.rfind("\n", 0, i) + 1
    end = text.find("\n", i)
    return start, (len(text) if end == -1 else end)


# ------------------------------------------------------------------------------------------ resolving


def _where(article_id: str, qi: int | None, field: str) -> str:
    return f"{article_id}: quote #{qi}: {field}" if qi is not None else f"{article_id}: {field}"


def _ref(value, where: str) -> tuple[str, int | None, str | None]:
    """A reference is a string, or {text, occ} (1-based occurrence in the whole text), or {text, ctx}."""
    if isinstance(value, str):
        text, occ, ctx = value, None, None
    elif isinstance(value, dict):
        unknown = set(value) - REF_KEYS
        if unknown:
            raise AnnotationError(f"{where}: unknown keys {sorted(unknown)} (allowed: text, occ, ctx)")
        text, occ, ctx = value.get("text"), value.get("occ"), value.get("ctx")
        if occ is not None and ctx is not None:
            raise AnnotationError(f"{where}: give occ or ctx, not both")
        if occ is not None and (not isinstance(occ, int) or isinstance(occ, bool) or occ < 1):
            raise AnnotationError(f"{where}: occ must be a positive integer (1 = first occurrence)")
        if ctx is not None and not isinstance(ctx, str):
            raise AnnotationError(f"{where}: ctx must be a string")
    else:
        raise AnnotationError(f"{where}: expected a string or a mapping, got {type(value).__name__}")
    if not isinstance(text, str) or not text.strip():
        raise AnnotationError(f"{where}: empty text")
    if text != text.strip():
        raise AnnotationError(f"{where}: leading/trailing whitespace in {text!r}")
    return text, occ, ctx


def _not_found(text: str, s: str, where: str) -> AnnotationError:
    hint = ""
    if s in text:
        hint = " (it occurs only inside longer words: extend it to whole words)"
    else:
        folded, ftext = _fold(s), _fold(text)
        j = ftext.find(folded)
        if j != -1:
            hint = " (a variant differing in ي/ك/ZWNJ/spacing exists; copy the text exactly from --text)"
    return AnnotationError(f"{where}: {s!r} not found as whole words in the article text{hint}")


def _find_all(text: str, s: str, where: str) -> list[int]:
    occ = occurrences(text, s)
    if not occ:
        raise _not_found(text, s, where)
    return occ


def _pick_occ(text: str, s: str, occ: int, where: str) -> int:
    found = _find_all(text, s, where)
    if occ > len(found):
        raise AnnotationError(f"{where}: occ {occ} but {s!r} occurs only {len(found)} time(s)")
    return found[occ - 1]


def _nearest(cands: list[int], length: int, anchor_start: int, anchor_end: int, limits: tuple[int, int],
             blocked: list[tuple[int, int]]) -> int | None:
    """Nearest candidate ending at or before anchor_start; else nearest starting at or after anchor_end.

    Only candidates inside ``limits`` and not overlapping a ``blocked`` span count.
    """

    def ok(c: int) -> bool:
        e = c + length
        if c < limits[0] or e > limits[1]:
            return False
        return all(e <= bs or c >= be for bs, be in blocked)

    before = [c for c in cands if c + length <= anchor_start and ok(c)]
    if before:
        return max(before)
    after = [c for c in cands if c >= anchor_end and ok(c)]
    return min(after) if after else None


def resolve_near(text: str, value, where: str, anchor: tuple[int, int], limits: tuple[int, int],
                 blocked: list[tuple[int, int]], inside: tuple[int, int] | None = None) -> tuple[int, int]:
    """Resolve a speaker/cue/entity reference.

    Default occurrence: one inside ``inside`` if given and present; else the nearest one before the anchor
    within ``limits``; else the nearest after the anchor within ``limits``.  ``occ`` overrides (absolute,
    1-based); ``ctx`` is a longer literal that contains the text exactly once; of its occurrences in the
    quote's paragraph(s), the one closest to the anchor (touching or containing it if any) is used.
    """
    s, occ, ctx = _ref(value, where)
    if occ is not None:
        start = _pick_occ(text, s, occ, where)
        return start, start + len(s)
    if ctx is not None:
        inner = occurrences(ctx, s)
        if len(inner) != 1:
            raise AnnotationError(f"{where}: {s!r} must occur exactly once (as whole words) inside ctx {ctx!r}")
        cands = [c for c in _find_all(text, ctx, where + " ctx") if limits[0] <= c and c + len(ctx) <= limits[1]]

        def gap(c: int) -> int:  # 0 when the ctx overlaps or touches the anchor (it may contain the cue)
            return max(0, anchor[0] - (c + len(ctx)), c - anchor[1])

        c = min(cands, key=lambda c: (gap(c), c)) if cands else None
        if c is None:
            raise AnnotationError(f"{where}: ctx {ctx!r} not found within {limits} (its paragraph); use occ")
        start = c + inner[0]
        if not (at_boundary(text, start) and at_boundary(text, start + len(s))):
            raise AnnotationError(f"{where}: {s!r} inside ctx is part of a longer word")
        return start, start + len(s)
    cands = _find_all(text, s, where)
    if inside is not None:
        within = [c for c in cands if inside[0] <= c and c + len(s) <= inside[1]]
        if within:
            return within[0], within[0] + len(s)
    c = _nearest(cands, len(s), anchor[0], anchor[1], limits, blocked)
    if c is None:
        raise AnnotationError(
            f"{where}: {s!r} occurs {len(cands)} time(s) but not in the paragraph of the quote outside the "
            f"other spans; add occ: N or ctx: '...'"
        )
    return c, c + len(s)


def resolve_quote(text: str, value, where: str) -> tuple[int, int]:
    """A quote is a literal, 'HEAD ... TAIL' (HEAD to the first TAIL after it) or 'HEAD ...' (to the end of
    HEAD's paragraph, trailing whitespace dropped).  HEAD (or the literal) must be unique, or carry occ."""
    s, occ, ctx = _ref(value, where)
    if ctx is not None:
        raise AnnotationError(f"{where}: ctx is not supported for quotes; use occ")
    literal = occurrences(text, s)
    if literal or (ELLIPSIS not in s and not s.endswith(TO_END)):
        if occ is not None:
            start = _pick_occ(text, s, occ, where)
        else:
            found = _find_all(text, s, where)
            if len(found) > 1:
                raise AnnotationError(f"{where}: {s!r} is ambiguous ({len(found)} occurrences at {found}); "
                                      f"add occ: N (1-based)")
            start = found[0]
        return start, start + len(s)
    if s.endswith(TO_END) and ELLIPSIS not in s:
        head, tail = s[: -len(TO_END)].strip(), None
    else:
        head, tail = (part.strip() for part in s.split(ELLIPSIS, 1))
        if ELLIPSIS in tail:
            raise AnnotationError(f"{where}: more than one ' ... ' in {s!r}")
    if not head:
        raise AnnotationError(f"{where}: empty head before ' ... ' in {s!r}")
    if occ is not None:
        start = _pick_occ(text, head, occ, where + " head")
    else:
        found = _find_all(text, head, where + " head")
        if len(found) > 1:
            raise AnnotationError(f"{where}: head {head!r} is ambiguous ({len(found)} occurrences at {found}); "
                                  f"add occ: N or more words")
        start = found[0]
    if tail is None:
        end = paragraph_bounds(text, start)[1]
        while end > start and text[end - 1].isspace():
            end -= 1
        return start, end
    if not tail:
        raise AnnotationError(f"{where}: empty tail after ' ... ' in {s!r}")
    tails = [t for t in occurrences(text, tail) if t >= start + len(head)]
    if not tails:
        raise AnnotationError(f"{where}: tail {tail!r} not found (as whole words) after head {head!r}")
    return start, tails[0] + len(tail)


PAIRS = {"«": "»", '"': '"', "“": "”", "‘": "’"}


def _matching(s: str, i: int) -> int:
    """Index of the mark closing the one at s[i] (nesting counted for «» and “”), or -1."""
    op, cl = s[i], PAIRS[s[i]]
    if op == cl:
        return s.find(cl, i + 1)
    depth = 0
    for j in range(i, len(s)):
        if s[j] == op:
            depth += 1
        elif s[j] == cl:
            depth -= 1
            if depth == 0:
                return j
    return -1


def _edge_marks_error(s: str) -> str | None:
    """Quotation marks at a span's edges must be matched inside the span and must not enclose all of it.

    ``«X» Y`` and ``X «Y» Z`` are fine; ``«X»`` (marks enclose the span: leave them out), ``«X`` and ``X»``
    (a mark whose partner is outside the span) are not.  Unmatched marks inside a span are tolerated (the
    scraped text has some).
    """
    if s[0] in PAIRS:
        j = _matching(s, 0)
        if j == -1:
            return f"starts with {s[0]!r} whose closing mark is outside the span"
        if j == len(s) - 1:
            return "is enclosed in quotation marks; the marks are not part of the span"
    if s[-1] in CLOSE_MARKS:
        opener = {v: k for k, v in PAIRS.items() if k != v}.get(s[-1], s[-1])
        if opener not in s[:-1]:
            return f"ends with {s[-1]!r} whose opening mark is outside the span"
    return None


def _check_span(text: str, start: int, end: int, label: str, where: str) -> None:
    if not (0 <= start < end <= len(text)):
        raise AnnotationError(f"{where}: offsets ({start}, {end}) out of range or empty")
    s = text[start:end]
    if s != s.strip() or s[0] in ZERO_WIDTH or s[-1] in ZERO_WIDTH:
        raise AnnotationError(f"{where}: span {s!r} has leading/trailing whitespace or ZWNJ")
    if not (at_boundary(text, start) and at_boundary(text, end)):
        raise AnnotationError(f"{where}: span {s!r} cuts a word (boundary inside a word)")
    if label in ("SPEAKER", "CUE"):
        ok = lambda ch: is_word_char(ch) or ch in OPEN_MARKS or ch in CLOSE_MARKS
        if not (ok(s[0]) and ok(s[-1])):
            raise AnnotationError(f"{where}: {label} span {s!r} must begin and end with a letter or digit "
                                  f"(or a quotation mark of a name inside it)")
    problem = _edge_marks_error(s)
    if problem:
        raise AnnotationError(f"{where}: {label} {s if len(s) < 40 else s[:18] + ' … ' + s[-18:]!r} {problem}")


def resolve_article(article_id: str, text: str, quotes: list, source_name: str = "") -> dict:
    """Resolve one article's source annotation into a gold record (validated)."""
    source, _, _ = parse_id(article_id)
    if not isinstance(quotes, list):
        raise AnnotationError(f"{article_id}: quotes must be a list (use [] for an article with no quotes)")
    resolved = []
    for qi, q in enumerate(quotes, 1):
        if not isinstance(q, dict):
            raise AnnotationError(_where(article_id, qi, "entry") + " must be a mapping")
        unknown = set(q) - QUOTE_KEYS
        if unknown:
            raise AnnotationError(_where(article_id, qi, f"unknown keys {sorted(unknown)}"))
        for key in REQUIRED_QUOTE_KEYS:
            if key not in q:
                raise AnnotationError(_where(article_id, qi, f"missing key {key!r} (write {key}: null if none)"))
        if q["quote"] is None:
            raise AnnotationError(_where(article_id, qi, "quote") + " must not be null")
        if q["kind"] not in KINDS:
            raise AnnotationError(_where(article_id, qi, "kind") + f" must be one of {KINDS}, got {q['kind']!r}")
        qs, qe = resolve_quote(text, q["quote"], _where(article_id, qi, "quote"))
        _check_span(text, qs, qe, "QUOTE", _where(article_id, qi, "quote"))
        limits = (paragraph_bounds(text, qs)[0], paragraph_bounds(text, max(qs, qe - 1))[1])
        cue = None
        if q["cue"] is not None:
            cue = resolve_near(text, q["cue"], _where(article_id, qi, "cue"), (qs, qe), limits, [(qs, qe)])
            _check_span(text, *cue, "CUE", _where(article_id, qi, "cue"))
        speaker = None
        if q["speaker"] is not None:
            anchor = cue if cue is not None else (qs, qe)
            blocked = [(qs, qe)] + ([cue] if cue else [])
            speaker = resolve_near(text, q["speaker"], _where(article_id, qi, "speaker"), anchor, limits, blocked)
            _check_span(text, *speaker, "SPEAKER", _where(article_id, qi, "speaker"))
        entity = None
        if q["entity"] is not None:
            etype = q.get("type")
            if etype not in ENTITY_TYPES:
                raise AnnotationError(_where(article_id, qi, "type") + f" must be one of {ENTITY_TYPES} when "
                                      f"entity is given, got {etype!r}")
            anchor = speaker or cue or (qs, qe)
            es, ee = resolve_near(text, q["entity"], _where(article_id, qi, "entity"), anchor, (0, len(text)),
                                  [], inside=speaker)
            _check_span(text, es, ee, "SPEAKER", _where(article_id, qi, "entity"))
            entity = {"start": es, "end": ee, "text": text[es:ee], "type": etype}
        elif q.get("type") is not None:
            raise AnnotationError(_where(article_id, qi, "type") + " given but entity is null")
        parts = [("quote", (qs, qe)), ("speaker", speaker), ("cue", cue)]
        parts = [(n, p) for n, p in parts if p is not None]
        for i in range(len(parts)):
            for j in range(i + 1, len(parts)):
                (n1, (a1, b1)), (n2, (a2, b2)) = parts[i], parts[j]
                if a1 < b2 and a2 < b1:
                    raise AnnotationError(_where(article_id, qi, f"{n1} and {n2} overlap"))
        resolved.append({"quote": (qs, qe), "speaker": speaker, "cue": cue, "entity": entity, "kind": q["kind"]})
    return build_record(article_id, source, text, resolved)


def build_record(article_id: str, source: str, text: str, resolved: list[dict]) -> dict:
    labelled: dict[tuple[int, int], str] = {}
    for r in resolved:
        for key, label in (("quote", "QUOTE"), ("speaker", "SPEAKER"), ("cue", "CUE")):
            if r[key] is None:
                continue
            if r[key] in labelled and labelled[r[key]] != label:
                raise AnnotationError(f"{article_id}: span {text[r[key][0]:r[key][1]]!r} is both "
                                      f"{labelled[r[key]]} and {label}")
            if label == "QUOTE" and r[key] in labelled:
                raise AnnotationError(f"{article_id}: the same QUOTE span {text[r[key][0]:r[key][1]][:40]!r} is "
                                      f"annotated twice")
            labelled[r[key]] = label
    order = sorted(labelled)
    ids = {}
    spans = []
    for n, (s, e) in enumerate(order, 1):
        ids[(s, e)] = f"s{n}"
        spans.append({"id": f"s{n}", "start": s, "end": e, "label": labelled[(s, e)], "text": text[s:e]})
    quotes = []
    for r in sorted(resolved, key=lambda r: r["quote"]):
        quotes.append({
            "quote": ids[r["quote"]],
            "speaker": ids[r["speaker"]] if r["speaker"] else None,
            "cue": ids[r["cue"]] if r["cue"] else None,
            "entity": r["entity"],
            "kind": r["kind"],
        })
    record = {"id": article_id, "source": source, "split": split_of(article_id), "text": text,
              "spans": spans, "quotes": quotes}
    errors = validate_record(record)
    if errors:
        raise AnnotationError("\n".join(errors))
    return record


# ----------------------------------------------------------------------------------------- validating


def validate_record(rec: dict) -> list[str]:
    """Every rule a gold record must satisfy; returns the list of violations (empty = valid).

    Used by the builder and by tests/test_quote_gold.py on the written files.
    """
    errs: list[str] = []
    rid = rec.get("id", "?")
    try:
        source, _, _ = parse_id(rid)
    except AnnotationError as exc:
        return [str(exc)]
    if rec.get("source") != source:
        errs.append(f"{rid}: source {rec.get('source')!r} does not match the id")
    if rec.get("split") != split_of(rid):
        errs.append(f"{rid}: split {rec.get('split')!r}, the id hashes to {split_of(rid)!r}")
    text = rec.get("text")
    if not isinstance(text, str) or not text:
        return errs + [f"{rid}: missing text"]
    by_id = {}
    for sp in rec.get("spans", []):
        sid = sp.get("id")
        if sid in by_id:
            errs.append(f"{rid}: duplicate span id {sid}")
        by_id[sid] = sp
        s, e, label = sp.get("start"), sp.get("end"), sp.get("label")
        if label not in LABELS:
            errs.append(f"{rid}: {sid}: label {label!r} not in {LABELS}")
        if not (isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= len(text)):
            errs.append(f"{rid}: {sid}: bad offsets ({s}, {e})")
            continue
        if text[s:e] != sp.get("text"):
            errs.append(f"{rid}: {sid}: text[{s}:{e}] = {text[s:e]!r} != {sp.get('text')!r}")
        try:
            _check_span(text, s, e, label, f"{rid}: {sid}")
        except AnnotationError as exc:
            errs.append(str(exc))
    ordered = sorted(by_id.values(), key=lambda sp: (sp.get("start", 0), sp.get("end", 0)))
    for a, b in zip(ordered, ordered[1:]):
        if b.get("start", 0) < a.get("end", 0):
            errs.append(f"{rid}: spans {a.get('id')} and {b.get('id')} overlap (the span layer must be flat)")
    used = set()
    quote_spans = set()
    for qi, q in enumerate(rec.get("quotes", []), 1):
        qid = q.get("quote")
        if qid not in by_id or by_id[qid]["label"] != "QUOTE":
            errs.append(f"{rid}: quote #{qi}: quote {qid!r} is not a QUOTE span")
        if qid in quote_spans:
            errs.append(f"{rid}: quote #{qi}: QUOTE span {qid} used by two quotes")
        quote_spans.add(qid)
        for key, label in (("speaker", "SPEAKER"), ("cue", "CUE")):
            v = q.get(key)
            if v is not None and (v not in by_id or by_id[v]["label"] != label):
                errs.append(f"{rid}: quote #{qi}: {key} {v!r} is not a {label} span")
        used.update(v for v in (qid, q.get("speaker"), q.get("cue")) if v is not None)
        if q.get("kind") not in KINDS:
            errs.append(f"{rid}: quote #{qi}: kind {q.get('kind')!r} not in {KINDS}")
        ent = q.get("entity")
        if ent is not None:
            es, ee = ent.get("start"), ent.get("end")
            if not (isinstance(es, int) and isinstance(ee, int) and 0 <= es < ee <= len(text)):
                errs.append(f"{rid}: quote #{qi}: entity has bad offsets ({es}, {ee})")
            elif text[es:ee] != ent.get("text"):
                errs.append(f"{rid}: quote #{qi}: entity text mismatch {text[es:ee]!r} != {ent.get('text')!r}")
            elif not (at_boundary(text, es) and at_boundary(text, ee)):
                errs.append(f"{rid}: quote #{qi}: entity {ent.get('text')!r} cuts a word")
            if ent.get("type") not in ENTITY_TYPES:
                errs.append(f"{rid}: quote #{qi}: entity type {ent.get('type')!r} not in {ENTITY_TYPES}")
    unused = set(by_id) - used
    if unused:
        errs.append(f"{rid}: spans {sorted(unused)} belong to no quote")
    return errs


# ------------------------------------------------------------------------------------------ batches


def load_yaml(path: Path):
    import yaml  # pyyaml is a project dependency

    with open(path, encoding="utf-8") as f:
        try:
            return yaml.safe_load(f)
        except yaml.YAMLError as exc:
            raise AnnotationError(f"{path.name}: not valid YAML (wrap every string in single quotes): {exc}")


def load_batches(annotation_dir: Path = ANNOTATION_DIR) -> list[tuple[str, dict]]:
    """All (batch file name, article entry) pairs, in file order."""
    out = []
    files = sorted(annotation_dir.glob("*.yaml")) + sorted(annotation_dir.glob("*.yml"))
    for path in files:
        doc = load_yaml(path)
        if not isinstance(doc, dict) or not isinstance(doc.get("articles"), list):
            raise AnnotationError(f"{path.name}: top level must be a mapping with an 'articles' list")
        for key in ("batch", "annotator"):
            if not doc.get(key):
                raise AnnotationError(f"{path.name}: missing top-level {key!r}")
        for art in doc["articles"]:
            if not isinstance(art, dict) or "id" not in art or "quotes" not in art:
                raise AnnotationError(f"{path.name}: every article needs 'id' and 'quotes' (got {art!r:.80})")
            unknown = set(art) - ARTICLE_KEYS
            if unknown:
                raise AnnotationError(f"{path.name}: {art['id']}: unknown keys {sorted(unknown)}")
            out.append((path.name, art))
    return out


def build_all(news: News, annotation_dir: Path = ANNOTATION_DIR) -> list[dict]:
    """Resolve every batch; collects all errors before failing."""
    records, errors = [], []
    seen: dict[str, str] = {}
    links: dict[str, str] = {}
    texts: dict[str, str] = {}
    for fname, art in load_batches(annotation_dir):
        aid = art["id"]
        if aid in seen:
            errors.append(f"{fname}: {aid} already annotated in {seen[aid]}")
            continue
        seen[aid] = fname
        try:
            raw = news.article(aid)
            text = article_text(raw)
            for other in (links.get(raw.get("link", "")), texts.get(text)):
                if other:
                    raise AnnotationError(f"{aid}: the same article as {other} (duplicate in the raw data); "
                                          f"annotate only one of them")
            links[raw.get("link", "")] = aid
            texts[text] = aid
            records.append(resolve_article(aid, text, art["quotes"], fname))
        except AnnotationError as exc:
            errors.append(f"{fname}: {exc}")
    if errors:
        raise AnnotationError(f"{len(errors)} error(s):\n" + "\n".join(errors))
    records.sort(key=lambda r: r["id"])
    return records


def counts(records: list[dict]) -> dict:
    """The figures reported in data/quotes/README.md (and asserted by tests/test_quote_gold.py)."""

    def one(recs):
        qs = [q for r in recs for q in r["quotes"]]
        labels = Counter(sp["label"] for r in recs for sp in r["spans"])
        return {
            "articles": len(recs),
            "articles_fars": sum(r["source"] == "fars" for r in recs),
            "articles_varzesh3": sum(r["source"] == "varzesh3" for r in recs),
            "articles_without_quotes": sum(not r["quotes"] for r in recs),
            "quotes": len(qs),
            "direct": sum(q["kind"] == "direct" for q in qs),
            "indirect": sum(q["kind"] == "indirect" for q in qs),
            "speaker_null": sum(q["speaker"] is None for q in qs),
            "cue_null": sum(q["cue"] is None for q in qs),
            "entity_null": sum(q["entity"] is None for q in qs),
            "spans_QUOTE": labels["QUOTE"],
            "spans_SPEAKER": labels["SPEAKER"],
            "spans_CUE": labels["CUE"],
        }

    out = {"all": one(records)}
    for split in SPLITS:
        out[split] = one([r for r in records if r["split"] == split])
    return out


def read_gold(gold_dir: Path = GOLD_DIR) -> list[dict]:
    recs = []
    for split in SPLITS:
        path = Path(gold_dir) / f"{split}.jsonl"
        if path.is_file():
            with open(path, encoding="utf-8") as f:
                recs += [json.loads(line) for line in f if line.strip()]
    return recs


def gold_lines(records: list[dict], split: str) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records if r["split"] == split)


def write_gold(records: list[dict], gold_dir: Path = GOLD_DIR) -> None:
    gold_dir.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        (gold_dir / f"{split}.jsonl").write_text(gold_lines(records, split), encoding="utf-8")


COUNTS_BEGIN = "<!-- counts:begin (written by build_gold.py --write-readme-counts; checked by tests) -->"
COUNTS_END = "<!-- counts:end -->"


def readme_counts(readme: Path = README) -> dict:
    text = readme.read_text(encoding="utf-8")
    i, j = text.find(COUNTS_BEGIN), text.find(COUNTS_END)
    if i == -1 or j == -1:
        raise AnnotationError(f"{readme}: counts markers not found")
    block = text[i + len(COUNTS_BEGIN):j].strip().removeprefix("```json").removesuffix("```")
    return json.loads(block)


def write_readme_counts(c: dict, readme: Path = README) -> None:
    text = readme.read_text(encoding="utf-8")
    i, j = text.find(COUNTS_BEGIN), text.find(COUNTS_END)
    if i == -1 or j == -1:
        raise AnnotationError(f"{readme}: counts markers not found")
    block = "\n```json\n" + json.dumps(c, indent=1) + "\n```\n"
    readme.write_text(text[: i + len(COUNTS_BEGIN)] + block + text[j:], encoding="utf-8")


# ------------------------------------------------------------------------------------- review helpers


def show(record: dict) -> str:
    """The text with spans marked: [Qn ...], {Sn ...}, <Cn ...>, and a table of links."""
    text = record["text"]
    marks = {"QUOTE": ("[", "]"), "SPEAKER": ("{", "}"), "CUE": ("<", ">")}
    qnum = {q["quote"]: n for n, q in enumerate(record["quotes"], 1)}
    inserts = []
    for sp in record["spans"]:
        o, c = marks[sp["label"]]
        tag = sp["id"] + (f"=Q{qnum[sp['id']]}" if sp["id"] in qnum else "")
        inserts.append((sp["start"], 1, f"{o}{tag} "))
        inserts.append((sp["end"], 0, f" {c}"))
    out, pos = [], 0
    for at, _, s in sorted(inserts, key=lambda t: (t[0], t[1])):
        out.append(text[pos:at])
        out.append(s)
        pos = at
    out.append(text[pos:])
    lines = ["".join(out), "", f"{record['id']} ({record['split']}): {len(record['quotes'])} quote(s)"]
    by_id = {sp["id"]: sp for sp in record["spans"]}
    for n, q in enumerate(record["quotes"], 1):
        sp = by_id[q["speaker"]]["text"] if q["speaker"] else None
        cue = by_id[q["cue"]]["text"] if q["cue"] else None
        ent = f"{q['entity']['text']}/{q['entity']['type']}@{q['entity']['start']}" if q["entity"] else None
        qt = by_id[q["quote"]]["text"]
        qt = qt if len(qt) < 50 else qt[:22] + " … " + qt[-22:]
        lines.append(f"  Q{n} {q['kind']:8} speaker={sp} cue={cue} entity={ent} | {qt}")
    return "\n".join(lines)


def diff(old: list[dict], new: list[dict]) -> dict:
    """Changes between two gold snapshots: spans added/removed/changed, quote links changed."""
    o = {r["id"]: r for r in old}
    n = {r["id"]: r for r in new}
    res = Counter()
    for aid in sorted(set(o) | set(n)):
        a, b = o.get(aid), n.get(aid)
        sa = {(s["start"], s["end"], s["label"]) for s in a["spans"]} if a else set()
        sb = {(s["start"], s["end"], s["label"]) for s in b["spans"]} if b else set()
        removed, added = sa - sb, sb - sa
        changed = 0
        for r in sorted(removed):
            m = next((x for x in sorted(added) if x[2] == r[2] and x[0] < r[1] and r[0] < x[1]), None)
            if m:
                added.discard(m)
                changed += 1
        res["spans_changed"] += changed
        res["spans_removed"] += len(removed) - changed
        res["spans_added"] += len(added)

        def links(rec):
            if not rec:
                return {}
            by = {s["id"]: (s["start"], s["end"]) for s in rec["spans"]}
            return {by[q["quote"]]: (by.get(q["speaker"]), by.get(q["cue"]),
                                     (q["entity"]["start"], q["entity"]["end"], q["entity"]["type"])
                                     if q["entity"] else None, q["kind"]) for q in rec["quotes"]}

        la, lb = links(a), links(b)
        for key in set(la) & set(lb):
            fa, fb = la[key], lb[key]
            res["speaker_links_changed"] += fa[0] != fb[0]
            res["cue_links_changed"] += fa[1] != fb[1]
            res["entities_changed"] += fa[2] != fb[2]
            res["kinds_changed"] += fa[3] != fb[3]
    res["total"] = sum(v for k, v in res.items())
    return dict(res)


# Reporting verbs and phrases that usually mark an attribution (both ي/ی and ك/ک spellings); --lint lists
# those that fall outside every span, for the annotator to check by eye (many are rightly unannotated).
CUE_HINT = re.compile(
    r"(?<![\w\u200c])(گفت|می ?گوید|افزود|اظهار ?داشت|اظهار كرد|اظهار کرد|تصريح|تصریح|اعلام|تأكيد|تاكيد|تأکید|"
    r"تاکید|خاطر ?نشان|ادامه داد|هشدار|نوشت|معتقد|به گفته|به نقل از|بيان|بیان|عنوان كرد|عنوان کرد|رد كرد|"
    r"رد کرد|خبر داد|يادآور|یادآور)(?![\w\u200c])"
)


def lint(record: dict) -> list[str]:
    """Cue-like words outside every span, with 30 characters of context each side."""
    text, out = record["text"], []
    covered = [(sp["start"], sp["end"]) for sp in record["spans"]]
    for m in CUE_HINT.finditer(text):
        if any(s <= m.start() < e for s, e in covered):
            continue
        out.append(f"  @{m.start()}: ...{text[max(0, m.start() - 30):m.end() + 30]}...".replace("\n", " / "))
    return out


def numbered_text(text: str) -> str:
    return "\n".join(f"[{i}] {line}" for i, line in enumerate(text.split("\n")))


# ---------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--news-dir", type=Path, default=None, help="default: $PARSTAG_DATA/news or ../shared/data/news")
    p.add_argument("--annotations", type=Path, default=ANNOTATION_DIR)
    p.add_argument("--gold-dir", type=Path, default=GOLD_DIR)
    p.add_argument("--check", action="store_true", help="do not write; fail if the gold files are out of date")
    p.add_argument("--text", metavar="ID", help="print the article text (lines numbered) and exit")
    p.add_argument("--show", metavar="ID", nargs="+", help="print resolved annotations of these articles")
    p.add_argument("--lint", action="store_true", help="list cue-like words outside every span (to check by eye)")
    p.add_argument("--diff", metavar="OLD_GOLD_DIR", type=Path, help="count changes against an older gold dir")
    p.add_argument("--write-readme-counts", action="store_true", help="refresh the counts block in README.md")
    args = p.parse_args(argv)
    news = News(args.news_dir or news_dir_default())
    try:
        if args.text:
            print(numbered_text(news.text(args.text)))
            print(f"\n(split: {split_of(args.text)})")
            return 0
        records = build_all(news, args.annotations)
    except AnnotationError as exc:
        print(f"build_gold: {exc}", file=sys.stderr)
        return 1
    if args.show:
        by = {r["id"]: r for r in records}
        for aid in args.show:
            print(show(by[aid]) if aid in by else f"{aid}: not annotated")
            print("-" * 80)
        return 0
    if args.lint:
        for r in records:
            hits = lint(r)
            if hits:
                print(f"{r['id']}: {len(hits)} cue-like word(s) outside spans")
                print("\n".join(hits))
        return 0
    c = counts(records)
    if args.diff:
        print(json.dumps(diff(read_gold(args.diff), records), indent=1))
        return 0
    if args.check:
        stale = [s for s in SPLITS if not (args.gold_dir / f"{s}.jsonl").is_file()
                 or (args.gold_dir / f"{s}.jsonl").read_text(encoding="utf-8") != gold_lines(records, s)]
        if stale:
            print(f"build_gold: gold files out of date: {stale}; run build_gold.py", file=sys.stderr)
            return 1
    else:
        write_gold(records, args.gold_dir)
    if args.write_readme_counts:
        write_readme_counts(c)
    for split in ("all",) + SPLITS:
        x = c[split]
        print(f"{split:5} articles {x['articles']:3} (fars {x['articles_fars']}, varzesh3 {x['articles_varzesh3']}, "
              f"no quotes {x['articles_without_quotes']})  quotes {x['quotes']:4} (direct {x['direct']}, "
              f"indirect {x['indirect']})  speaker null {x['speaker_null']}  cue null {x['cue_null']}  "
              f"entity null {x['entity_null']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
