"""Where a span may begin and end in Persian text, and what a well-formed span looks like.

The gold is a flat span layer that must convert to BIO tags, so every span has to sit on word boundaries
-- with Persian's ZWNJ/ZWJ, which joins parts of one word but not when it stands stray next to punctuation
-- and must not carry whitespace or half of a pair of quotation marks at its edges.  The resolver and the
validator both apply these rules, so they live here once.
"""

from __future__ import annotations

import unicodedata

from gold_tool.schema import AnnotationError

OPEN_MARKS = "«\"“‘"
CLOSE_MARKS = "»\"”’"

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


def paragraph_bounds(text: str, i: int) -> tuple[int, int]:
    """The line (title, abstract line, or paragraph) that contains offset i."""
    start = text.rfind("\n", 0, i) + 1
    end = text.find("\n", i)
    return start, (len(text) if end == -1 else end)


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


def check_span(text: str, start: int, end: int, label: str, where: str) -> None:
    """Raise AnnotationError unless text[start:end] is a well-formed span of this label."""
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
