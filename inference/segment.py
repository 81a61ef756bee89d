"""Sentences and words of raw Persian news text, as character offsets into that text.

The tagger never changes the text it tags: it splits the ORIGINAL article into sentences and words
here, normalises each word on its own (``Normalizer.normalize_word``) and feeds the words to the
tokenizer, so an entity's offsets are the offsets of its first and last word, exact by construction.
This module therefore only ever returns ``(start, end)`` pairs, and it must split text the way the
training corpora were split, so that inference words look like training words (measured: a PEYMA train /
ARMAN token, tokenised again, is one word 99.95% / 99.99% of the time; tests/test_segment.py).  PEYMA and
ARMAN put every punctuation mark in its own token
(``«`` ``»`` ``،`` ``.`` ``:`` ``(``), keep ZWNJ words whole (``نخست‌وزیر``), keep numbers with their
separators whole (``1.5``, ``13:00``, ``1347-1340``, ``3093/518``) and keep e-mail addresses and domains
(``Entekhab.ir``) whole; so do we.  PEYMA also keeps the honorifics ``(ع)`` ``(ره)`` ``(ص)`` whole (ARMAN
mirrors their brackets), and so do we.  We split hyphenated words (``روبیو-لاوروف`` is two people).

Words (``tokenize_words``):
* white space separates words and belongs to none; invisible format characters (ZWNJ, ZWJ, bidi marks,
  soft hyphen) are kept inside a word and trimmed from its edges;
* a word is a run of letters, digits, combining marks and in-word format characters, so ``می‌روم``,
  ``علیـــرضا`` and ``FCPها`` are one word each;
* these are single words too: URLs (``https://...``, ``www...``; trailing punctuation is not part of
  them), e-mail addresses, lower-case domain names (``Entekhab.ir``), numbers with inner ``. , ٫ ٬ / : -``
  between digits (``۱۲.۵``, ``3,000``, ``١٢٫٥``, ``۱۴۰۲/۰۷/۲۹``), dotted initials (``U.S.``, ``N.P.T``),
  Persian dotted abbreviations (``ق.ظ``, ``ه.ش``, ``آ.اس``, ARMAN's ``بی‌.‌بی‌.‌سی``), and runs of two or
  more dots (``...``, as in both corpora);
* every other character (punctuation, symbols) is a word of its own, and so is each emoji, with its
  variation selector, skin tone, keycap or ZWJ sequence.

Sentences (``split_sentences``) end after ``.`` ``!`` ``?`` ``؟`` ``۔`` (with any further stops and the
closing quotes/brackets that follow: ``شود.»`` ends with the ``»``), and at every line break.  A ``.``
does not end a sentence inside a number, URL, e-mail or abbreviation (those are single words), nor after
a single letter that is a Latin capital (``J. K. Rowling``), part of a chain of dotted letters
(``پ. ک. ک``) or followed by a digit (``ص. ۱۲``), nor after a few Latin abbreviations (``Dr.``), nor
after a list number that opens the sentence (``۱. ...``, ``سه. ...``).  A
missing space does not prevent a split (``است.باتوجه``: 488 times in the Fars/Varzesh3 sample).
An ellipsis does not end a sentence: in Persian news ``و ...`` means "etc." and the sentence goes on;
Persian has no letter case to tell a new sentence, so we split after an ellipsis only before a Latin
capital.  ``:`` never ends a sentence (``گفت: «...»`` stays one sentence), and a stop followed (after its
closers) by ``،`` ``,`` ``؛`` ``;`` ``:`` did not end one (``«چرا؟»، او پرسید``).  Sentences inside a
quotation are split like any others; a ``!`` or ``؟`` that closes a quoted exclamation in mid-sentence
(``گفت «بس است!» و رفت``) does split it: without letter case nothing tells it from a new sentence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

# Character classes of the scanner.
_SPACE, _JOIN, _WORD, _SYMBOL, _OTHER = range(5)

_TERMINATORS = frozenset(".!?؟۔‼⁉⁈⁇")
_ELLIPSIS_CHARS = frozenset(".…")
# Closers that follow a stop even across spaces on the same line (unambiguous) ...
_CLOSERS = frozenset("»)]}”’›〉」』")
# ... and those that are closers only when glued to the stop (else they open the next sentence).
_GLUED_CLOSERS = frozenset("\"'")
# A stop (with its closers) followed by one of these did not end the sentence.
_CONTINUERS = frozenset("،,؛;:")
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_LATIN_ABBREVIATIONS = frozenset(
    "dr mr mrs ms prof st jr sr inc ltd co corp vs vol fig gen gov sen rep col lt sgt capt".split()
)

# Persian number words that open list items ("سه. هنگام بازگشت ...": seen in Fars news).
_LIST_WORDS = frozenset(
    "یک دو سه چهار پنج شش هفت هشت نه ده اول دوم سوم چهارم پنجم ششم هفتم هشتم نهم دهم".split()
)

_AR = "\u0621-\u063a\u0641-\u064a\u0671-\u06d3\u06d5\u06fa-\u06fc\u06ff"  # Arabic-script letters
_AR_LETTER = f"[{_AR}]"

# Tried at the start of each word, in this order.
_SPECIAL = re.compile(
    "|".join(
        (
            # honorifics after a name, one token in PEYMA: (ع) (ص) (ره) (عج)
            r"(?P<honorific>\((?:ع|ص|س|ره|عج|رض|قده)\))",
            # numbers with inner separators; not glued to a Latin letter (4G, 12kg stay one word)
            r"(?P<num>(?>\d+(?:[.,\u066b\u066c/:\-]\d+)*))(?![A-Za-z\ufe0e\ufe0f\u20e3])",
            # dotted initials: U.S. e.g. N.P.T
            r"(?P<init>[A-Za-z](?:\.[A-Za-z])+\.?)(?![A-Za-z0-9])",
            # lower-case domains: Entekhab.ir cms.medu.ir
            r"(?P<domain>[A-Za-z0-9][A-Za-z0-9\-]*(?:\.[a-z0-9][a-z0-9\-]*)+)(?![A-Za-z0-9])",
            # Persian dotted abbreviations: ق.ظ ه.ش آ.اس, and ARMAN's بی‌.‌بی‌.‌سی (ZWNJ before each dot);
            # a final dot belongs to the abbreviation, as in U.S. (it does not end the sentence)
            rf"(?P<abbr>{_AR_LETTER}(?:\u200c?\.\u200c?{_AR_LETTER}{{1,3}})+"
            rf"|{_AR_LETTER}{{2,3}}(?:\u200c\.\u200c?{_AR_LETTER}{{1,3}})+)\.?(?!{_AR_LETTER})",
            r"(?P<dots>\.{2,})",
        )
    )
)
# Found anywhere (even glued to a Persian word: نشانيwww.emediadb.ir), before scanning.
_ATOMIC = re.compile(
    r"(?:https?://|ftp://|www\.)[^\s«»\"<>\u200c\u200f\u200e]+"
    r"|(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?؟،؛»\"')]}>"


@lru_cache(maxsize=4096)
def _char_class(ch: str) -> int:
    if ch.isspace():
        return _SPACE
    cat = unicodedata.category(ch)
    if cat in ("Cf", "Cc"):
        return _JOIN
    if cat[0] in "LNM":
        return _WORD
    if cat == "So" or cat == "Cn":
        return _SYMBOL  # emoji and other pictographs (Cn: newer than this Python's Unicode tables)
    return _OTHER


def _emoji_end(text: str, i: int, end: int) -> int:
    """End of the emoji cluster that starts at ``i`` (a symbol character)."""
    cp = ord(text[i])
    i += 1
    if 0x1F1E6 <= cp <= 0x1F1FF and i < end and 0x1F1E6 <= ord(text[i]) <= 0x1F1FF:
        return i + 1  # a flag: two regional indicators
    while i < end:
        c = ord(text[i])
        if 0xFE00 <= c <= 0xFE0F or 0x1F3FB <= c <= 0x1F3FF or c == 0x20E3 or 0xE0020 <= c <= 0xE007F:
            i += 1  # variation selector, skin tone, keycap, tag sequence
        elif c == 0x200D and i + 1 < end and _char_class(text[i + 1]) == _SYMBOL:
            i += 2  # ZWJ sequence
        else:
            break
    return i


def _trim_url(text: str, s: int, e: int) -> int:
    while e > s and text[e - 1] in _URL_TRAILING:
        if text[e - 1] == ")" and text.count("(", s, e) > text.count(")", s, e - 1):
            break  # a balanced parenthesis belongs to the URL (wikipedia links)
        e -= 1
    return e


def tokenize_words(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Absolute ``(start, end)`` of the words of ``text[start:end]`` (see the module docstring)."""
    n = len(text)
    if end is None:
        end = n
    if not (0 <= start <= end <= n):
        raise ValueError(f"bad range ({start}, {end}) for a text of length {n}")
    if start or end != n:
        # Exactly the words of the slice, as if it were the whole text (no look-behind past its start).
        return [(s + start, e + start) for s, e in _words(text[start:end])]
    return _words(text)


def join_words(words: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """A sentence given only as words (a corpus row) as text: ``" ".join(words)`` and each word's
    ``(start, end)`` in it."""
    spans, pos = [], 0
    for w in words:
        spans.append((pos, pos + len(w)))
        pos += len(w) + 1
    return " ".join(words), spans


def _words(text: str) -> list[tuple[int, int]]:
    start, end = 0, len(text)
    atomic = []
    for m in _ATOMIC.finditer(text):
        e = _trim_url(text, m.start(), m.end())
        if e > m.start():
            atomic.append((m.start(), e))
    atomic.append((end, end))  # sentinel
    next_atomic = 0

    words: list[tuple[int, int]] = []
    i = start
    while i < end:
        if i == atomic[next_atomic][0]:
            s, e = atomic[next_atomic]
            words.append((s, e))
            next_atomic += 1
            i = e
            continue
        limit = atomic[next_atomic][0]  # no word may run into the next URL/e-mail
        ch = text[i]
        cls = _char_class(ch)
        if cls == _SPACE or cls == _JOIN:
            i += 1
            continue
        m = _SPECIAL.match(text, i, limit)
        if m is not None:
            words.append((i, m.end()))
            i = m.end()
            continue
        if cls == _WORD:
            j = i + 1
            last = j  # end of the last word character: trailing format characters are not part of it
            while j < limit:
                c = _char_class(text[j])
                if c == _WORD:
                    j += 1
                    last = j
                elif c == _JOIN:
                    j += 1
                else:
                    break
            words.append((i, last))
            i = last
        elif cls == _SYMBOL:
            j = min(_emoji_end(text, i, limit), limit)
            words.append((i, j))
            i = j
        else:
            words.append((i, i + 1))
            i += 1
    return words


def _is_single_letter(text: str, span: tuple[int, int]) -> bool:
    s, e = span
    return e - s == 1 and text[s].isalpha()


def _ends_sentence(text: str, words: list[tuple[int, int]], k: int, first: int) -> bool:
    """Whether the stop word ``words[k]`` ends its sentence, which began with ``words[first]``."""
    s, e = words[k]
    w = text[s:e]
    nxt = words[k + 1] if k + 1 < len(words) else None
    if w[0] in _ELLIPSIS_CHARS and (e - s > 1 or w == "…"):
        # Ellipsis: the sentence goes on, unless a Latin capital follows.
        return nxt is not None and "A" <= text[nxt[0]] <= "Z"
    if w != ".":
        return True  # ! ? ؟ ۔ ...
    if k == first:
        return True
    prev = words[k - 1]
    p = text[prev[0] : prev[1]]
    if k - 1 == first and (p.isdigit() or p in _LIST_WORDS):
        return False  # a list number: "۱. ..." "سه. ..."
    if prev[1] != s:
        return True  # a dot after a space: not an abbreviation
    if p.lower() in _LATIN_ABBREVIATIONS:
        return False
    if _is_single_letter(text, prev):
        if "A" <= p <= "Z":
            return False  # an initial: J. K. Rowling
        if nxt is not None and (_is_single_letter(text, nxt) or text[nxt[0]].isdigit()):
            return False  # پ. ک. ک / ص. ۱۲
        if k >= 3 and text[words[k - 2][0] : words[k - 2][1]] == "." and _is_single_letter(text, words[k - 3]):
            return False  # the last letter of a chain: پ. ک. ک.
    return True


def _line_break_between(text: str, a: int, b: int) -> bool:
    return any(c in _LINE_BREAKS for c in text[a:b])


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, stripped of surrounding space (see module docstring)."""
    words = tokenize_words(text)
    sentences: list[tuple[int, int]] = []
    n = len(words)
    first = 0
    k = 0
    while k < n:
        s, e = words[k]
        boundary = False
        if text[s] in _TERMINATORS or text[s] == "…":
            if _ends_sentence(text, words, k, first):
                boundary = True
                # Take the further stops and the closing quotes/brackets that follow.
                while k + 1 < n:
                    ns, ne = words[k + 1]
                    c = text[ns:ne]
                    gap = text[words[k][1] : ns]  # only white space and invisible format characters
                    if any(ch in _LINE_BREAKS for ch in gap):
                        break
                    if ne - ns == 1 and (c in _TERMINATORS or c in _CLOSERS):
                        k += 1
                    elif c in _GLUED_CLOSERS and not any(ch.isspace() for ch in gap):
                        k += 1
                    else:
                        break
                if k + 1 < n and text[words[k + 1][0] : words[k + 1][1]] in _CONTINUERS:
                    boundary = False  # «چرا؟»، او پرسید: a comma after the quote goes on
        if not boundary and k + 1 < n and _line_break_between(text, words[k][1], words[k + 1][0]):
            boundary = True
        if boundary or k + 1 == n:
            sentences.append((words[first][0], words[k][1]))
            first = k + 1
        k += 1
    return sentences


__all__ = ["split_sentences", "tokenize_words"]
