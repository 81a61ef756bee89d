"""Turn one article's source annotation (exact substrings, no offsets) into a validated gold record.

Annotators write every quote, speaker, cue and entity as a literal copied from the article text
(``'HEAD ... TAIL'`` and ``'HEAD ...'`` for long quotes, ``occ``/``ctx`` to pick an occurrence).  This module
finds each literal, applies the fixed default rules for which occurrence is meant (the nearest one to the
quote, within its paragraph), fails loudly -- article id, quote number, field -- on a literal that is not
found or is ambiguous, and assembles the span layer and quote links of the record.
"""

from __future__ import annotations

import re

from gold_tool.schema import ENTITY_TYPES, KINDS, AnnotationError, parse_id, split_of
from gold_tool.spans import at_boundary, check_span, occurrences, paragraph_bounds
from gold_tool.validate import validate_record

ELLIPSIS = " ... "  # "HEAD ... TAIL" in a quote: from HEAD to the first TAIL after it
TO_END = " ..."  # "HEAD ..." in a quote: from HEAD to the end of HEAD's paragraph
QUOTE_KEYS = {"quote", "speaker", "cue", "entity", "type", "kind", "note"}
REQUIRED_QUOTE_KEYS = ("quote", "speaker", "cue", "entity", "kind")
REF_KEYS = {"text", "occ", "ctx"}


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



def _fold(s: str) -> str:
    """Loose form used only to suggest a fix when a literal is not found."""
    s = s.replace("ي", "ی").replace("ك", "ک").replace("ى", "ی").replace("\u200c", " ").replace("أ", "ا")
    return re.sub(r"\s+", " ", s)


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


def resolve_article(article_id: str, text: str, quotes: list, source_name: str = "", split: str | None = None) -> dict:
    """Resolve one article's source annotation into a gold record (validated).  ``split``: the record's split
    (default: what the id hashes to, ``split_of``)."""
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
        check_span(text, qs, qe, "QUOTE", _where(article_id, qi, "quote"))
        limits = (paragraph_bounds(text, qs)[0], paragraph_bounds(text, max(qs, qe - 1))[1])
        cue = None
        if q["cue"] is not None:
            cue = resolve_near(text, q["cue"], _where(article_id, qi, "cue"), (qs, qe), limits, [(qs, qe)])
            check_span(text, *cue, "CUE", _where(article_id, qi, "cue"))
        speaker = None
        if q["speaker"] is not None:
            anchor = cue if cue is not None else (qs, qe)
            blocked = [(qs, qe)] + ([cue] if cue else [])
            speaker = resolve_near(text, q["speaker"], _where(article_id, qi, "speaker"), anchor, limits, blocked)
            check_span(text, *speaker, "SPEAKER", _where(article_id, qi, "speaker"))
        entity = None
        if q["entity"] is not None:
            etype = q.get("type")
            if etype not in ENTITY_TYPES:
                raise AnnotationError(_where(article_id, qi, "type") + f" must be one of {ENTITY_TYPES} when "
                                      f"entity is given, got {etype!r}")
            anchor = speaker or cue or (qs, qe)
            es, ee = resolve_near(text, q["entity"], _where(article_id, qi, "entity"), anchor, (0, len(text)),
                                  [], inside=speaker)
            check_span(text, es, ee, "SPEAKER", _where(article_id, qi, "entity"))
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
    return build_record(article_id, source, text, resolved, split)


def build_record(article_id: str, source: str, text: str, resolved: list[dict], split: str | None = None) -> dict:
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
    record = {"id": article_id, "source": source, "split": split or split_of(article_id), "text": text,
              "spans": spans, "quotes": quotes}
    errors = validate_record(record)
    if errors:
        raise AnnotationError("\n".join(errors))
    return record
