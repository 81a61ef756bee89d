"""Persian text into what the ParsBERT v1 vocabulary knows, with offsets back to the original.

The problem.  Real Persian text is written with several interchangeable code points, and the ParsBERT v1
WordPiece vocabulary (100,000 entries, ``do_lower_case``) knows only some of them.  A word that contains a
single character the vocabulary lacks becomes one ``[UNK]`` piece *as a whole*, so one Arabic kaf or one
ASCII digit erases the word.  Measured on the vocabulary and on PEYMA / ARMAN / Fars+Varzesh3 news
(bench/unk_rate.py, docs/unk-rate.md):

* Arabic ``ك`` is not in the vocabulary at all; Arabic ``ي`` and ``ى`` are, but in ~1.4k entries against
  ~47k for Persian ``ی``: folding them to ``ی``/``ک`` halves the pieces of the words that contain them.
  ``ة`` and ``ۀ`` (which the tokenizer would turn into the rare Kurdish ``ە``) give fewer pieces as ``ه``.
* ``ئ أ إ آ ؤ`` are left alone: the tokenizer's own accent stripping (NFD, drop marks) turns them into
  ``ي ا ا ا و``, which is exactly how the vocabulary was built (it holds ``ريیس``): mapping ``ئ`` to ``ی``
  ourselves *increases* the piece count by 28%.
* No ASCII digits: ``۰-۹`` (in ~1k entries each) is the digit set the vocabulary uses; ``٠-٩`` is rarer.
* No ``«`` ``»`` ``“`` ``”`` ``%`` ``_`` ``|`` ``﴾﴿``: they become ``"`` ``"`` ``"`` ``"`` ``٪`` ``-`` ``/`` ``()``.
* Kashida ``ـ`` is missing; Arabic harakat would be stripped by the tokenizer anyway; presentation forms
  (``ﻻ``, ``ﻣﺎ``, ``ﷲ``: pasted from PDFs) and full-width forms are unknown until NFKC-folded.
* ZWNJ: the tokenizer deletes it (it is a format character) and joins the halves, see ``NormalizerConfig``.

``Normalizer(text)`` returns the normalised text plus, for every normalised character, the span of the
original text it came from, so that entity offsets found on normalised text map back exactly, whether a
character was kept (1:1), expanded (``ﻻ`` -> ``لا``: both characters map to the one original character),
deleted (kashida, harakat, bidi controls: no normalised character maps to them) or collapsed (a run of
spaces, NBSPs and bidi marks -> one space that maps to the whole run).  ``normalize_word`` is the fast path
without the map, used on each word before the tokenizer; it gives the same text as ``Normalizer(word)``
with line breaks turned into spaces.

Everything is per-character table lookup: a small table of explicit mappings is built when a
``Normalizer`` is created; any other character is classified on first sight (``unicodedata``) and cached
in the same table, which ``str.translate`` then uses directly.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .letters import ARABIC_TO_PERSIAN

ZWNJ = "\u200c"

_ZWNJ_MODES = ("keep", "remove", "space")
_DIGIT_MODES = ("persian", "keep")

#: Increase when a change makes the same config normalise differently (a checkpoint stores it).
NORMALIZER_VERSION = 1


@dataclass(frozen=True)
class NormalizerConfig:
    """What the normaliser does.  Stored in a checkpoint as ``config.parstag["normalizer"]``.

    zwnj: what to do with ZERO WIDTH NON-JOINER (and the soft hyphen, which Persian sites use in its
        place).  ``"keep"`` (default) keeps one ZWNJ between two letters and drops it at word edges;
        ``"remove"`` deletes it; ``"space"`` turns it into a space.  ParsBERT v1's tokenizer deletes ZWNJ
        and joins the halves, and its vocabulary was built that way: on the 4,092 ARMAN test_fold1 words
        with an inner ZWNJ the joined form costs 1.13 pieces per word and is a single piece 90% of the
        time (``میشود``, ``ريیسجمهور``), against 2.04 pieces and 0% for ``"space"`` (``می`` ``شود``);
        on 39k such words of news text, 1.28 against 2.21.  ``"keep"`` and ``"remove"`` give the tokenizer
        the same input; ``"keep"`` also keeps the text readable (and ready for a ZWNJ-aware vocabulary)
        and its offsets 1:1.
    persian_letters: fold Arabic letter variants (``ي ى ك ة ۀ ە ھ ہ ٱ``) to the Persian letters.
    digits: ``"persian"`` maps ASCII and Arabic-Indic digits to ``۰-۹``; ``"keep"`` leaves them.
    punctuation: map punctuation the vocabulary lacks to its nearest known equivalent.
    remove_diacritics: delete kashida and Arabic combining marks (harakat, superscript alef, Quranic marks).
    compatibility_forms: NFKC-fold Arabic presentation forms, full-width/half-width/small forms, font
        variants and the Latin ligatures (``ﻻ`` -> ``لا``).
    keep_newlines: a run of white space that contains a line break becomes ``"\\n"`` (else one space),
        so that paragraph breaks survive normalisation.
    version: the normaliser's behaviour version (``NORMALIZER_VERSION``).
    """

    zwnj: str = "keep"
    persian_letters: bool = True
    digits: str = "persian"
    punctuation: bool = True
    remove_diacritics: bool = True
    compatibility_forms: bool = True
    keep_newlines: bool = True
    version: int = NORMALIZER_VERSION

    def __post_init__(self) -> None:
        if self.zwnj not in _ZWNJ_MODES:
            raise ValueError(f"NormalizerConfig.zwnj must be one of {_ZWNJ_MODES}, not {self.zwnj!r}")
        if self.digits not in _DIGIT_MODES:
            raise ValueError(f"NormalizerConfig.digits must be one of {_DIGIT_MODES}, not {self.digits!r}")
        for f in ("persian_letters", "punctuation", "remove_diacritics", "compatibility_forms", "keep_newlines"):
            if not isinstance(getattr(self, f), bool):
                raise TypeError(f"NormalizerConfig.{f} must be a bool, not {getattr(self, f)!r}")
        if not isinstance(self.version, int) or isinstance(self.version, bool) or self.version < 1:
            raise ValueError(f"NormalizerConfig.version must be a positive int, not {self.version!r}")
        if self.version > NORMALIZER_VERSION:
            raise ValueError(
                f"NormalizerConfig.version {self.version} is newer than this code ({NORMALIZER_VERSION}): "
                "upgrade parstag to use this checkpoint"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> NormalizerConfig:
        """Inverse of ``to_dict``; missing keys take their defaults, unknown keys are an error."""
        if d is None:
            return cls()
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(
                f"unknown NormalizerConfig key(s): {', '.join(map(repr, unknown))} (known: {', '.join(sorted(known))})"
            )
        return cls(**dict(d))


@dataclass(frozen=True)
class Normalized:
    """Normalised text and, per normalised character, the original span ``[starts[i], ends[i])``.

    Kept characters map to their own one-character span; the characters of an expansion (``ﻻ`` -> ``لا``)
    all map to the one original character; a collapsed white-space or ZWNJ run maps to the whole run.
    ``starts`` and ``ends`` are non-decreasing; consecutive characters either share a span (expansion)
    or do not overlap.  Deleted characters are covered by no span.
    """

    text: str
    starts: list[int]
    ends: list[int]

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Original ``(start, end)`` of the normalised slice ``text[start:end]``.

        The span runs from where the first character came from to where the last one did, so deleted
        characters inside the slice are included and those at its edges are not.  An empty slice maps
        to the empty span at the original position of ``text[start]`` (or after the last character).
        """
        n = len(self.text)
        if not (0 <= start <= end <= n):
            raise ValueError(f"span ({start}, {end}) is not inside the normalised text of length {n}")
        if start == end:
            pos = self.starts[start] if start < n else (self.ends[-1] if n else 0)
            return pos, pos
        return self.starts[start], self.ends[end - 1]


# ---------------------------------------------------------------------------------------------------------
# Tables.  Only the explicit, small ones are built at import; everything else is classified lazily.

# Arabic letter variants -> the Persian letters the vocabulary is built on: the table shared with the quote
# rules and the linker (letters.py), so that what the model sees and what the rules match agree.
_PERSIAN_LETTERS = ARABIC_TO_PERSIAN

# Punctuation the vocabulary lacks -> a character it has.  «» are the Persian quotation marks and
# the most frequent [UNK] source after digits and kaf; the vocabulary only has the ASCII quote.
_PUNCTUATION = {
    "\u00ab": '"',  # «
    "\u00bb": '"',  # »
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u201e": '"',  # „
    "\u201f": '"',  # ‟
    "\u301d": '"',  # 〝
    "\u301e": '"',  # 〞
    "\u2018": "'",  # ‘
    "\u2019": "'",  # ’
    "\u201a": "'",  # ‚
    "\u201b": "'",  # ‛
    "%": "\u066a",  # ٪ ARABIC PERCENT SIGN (the only percent sign in the vocabulary)
    "_": "-",  # ARMAN uses _ as a dash
    "|": "/",
    "\ufd3e": "(",  # ﴾ ORNATE PARENTHESES (around Quran verses in news text)
    "\ufd3f": ")",  # ﴿
}

_ZWNJ_LIKE = ("\u200c", "\u00ad")  # ZWNJ and SOFT HYPHEN (used in its place: measured in Fars news)

_KASHIDA = "\u0640"

# Ranges whose combining marks are Arabic-script diacritics (harakat, Quranic annotation signs).
_ARABIC_RANGES = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))

# Decomposition tags that NFKC folds when compatibility_forms is on.  <compat>, <super>, <sub>,
# <fraction>, <circle> are left alone (except for the Latin ligatures below): the vocabulary knows
# … ‼ ™ № ⅓ ⁴ ₂ and friends as they are.
_FOLD_TAGS = frozenset(("<isolated>", "<initial>", "<medial>", "<final>", "<wide>", "<narrow>", "<small>", "<font>"))
_LIGATURE_BLOCK = (0xFB00, 0xFB4F)  # Alphabetic Presentation Forms (ﬁ ﬂ, Hebrew forms)

# White space that counts as a line break (the rest of str.isspace() becomes a plain space).
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def _is_arabic(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _ARABIC_RANGES)


def _explicit_table(config: NormalizerConfig) -> dict[int, str | None]:
    table: dict[str, str | None] = {}
    if config.persian_letters:
        table.update(_PERSIAN_LETTERS)
    if config.digits == "persian":
        for d in range(10):
            table[chr(0x30 + d)] = chr(0x06F0 + d)  # ASCII
            table[chr(0x0660 + d)] = chr(0x06F0 + d)  # Arabic-Indic
    if config.punctuation:
        table.update(_PUNCTUATION)
    if config.remove_diacritics:
        table[_KASHIDA] = None
    zwnj_to = {"keep": ZWNJ, "remove": None, "space": " "}[config.zwnj]
    for ch in _ZWNJ_LIKE:
        table[ch] = zwnj_to
    return {ord(k): v for k, v in table.items()}


class _LazyTable(dict):
    """``{code point: replacement or None}``, filled on first sight; usable by ``str.translate``.

    Every value is already normalised (a fixed point), and the only white space a value contains is
    ``" "`` or ``"\\n"``, so the second pass only has to collapse those two and ZWNJ.
    """

    def __init__(self, config: NormalizerConfig):
        super().__init__(_explicit_table(config))
        self._config = config

    def __missing__(self, cp: int) -> str | None:
        value = self._classify(cp)
        self[cp] = value
        return value

    def _classify(self, cp: int) -> str | None:
        ch = chr(cp)
        if ch.isspace():
            return "\n" if ch in _LINE_BREAKS else " "
        cat = unicodedata.category(ch)
        # Controls, format characters (bidi marks LRM RLM ALM, embeddings LRE..PDF, isolates LRI..PDI,
        # ZWJ, ZWSP, BOM, word joiner), private use and lone surrogates: invisible, and the tokenizer
        # would delete them anyway.  ZWNJ and the soft hyphen are in the explicit table.
        if cat in ("Cc", "Cf", "Co", "Cs") or ch == "\ufffd":
            return None
        if cat == "Mn" and self._config.remove_diacritics and _is_arabic(cp):
            return None
        if self._config.compatibility_forms:
            decomposition = unicodedata.decomposition(ch)
            tag = decomposition.split(" ", 1)[0] if decomposition.startswith("<") else ""
            if tag in _FOLD_TAGS or (tag == "<compat>" and _LIGATURE_BLOCK[0] <= cp <= _LIGATURE_BLOCK[1]):
                folded = unicodedata.normalize("NFKC", ch)
                # Map each folded character through the table (ﻙ -> ك -> ک); NFKC is idempotent, so this
                # recursion is one level deep.  Edge spaces come from spacing marks (ﹰ = " ً"): drop them.
                out = "".join(self[ord(c)] or "" for c in folded).strip(" \n")
                return out or None
        return ch


_TABLES: dict[NormalizerConfig, _LazyTable] = {}
_TABLES_LOCK = threading.Lock()


def _table_for(config: NormalizerConfig) -> _LazyTable:
    # One lazily grown table per distinct config, shared by all Normalizers that use it.
    with _TABLES_LOCK:
        table = _TABLES.get(config)
        if table is None:
            table = _TABLES[config] = _LazyTable(config)
        return table


_ZWNJ_RUN = re.compile("\u200c{2,}")


class Normalizer:
    """``Normalizer(config)(text) -> Normalized``; ``normalize_word(word) -> str`` for the tokenizer."""

    def __init__(self, config: NormalizerConfig | None = None):
        self.config = config if config is not None else NormalizerConfig()
        self._table = _table_for(self.config)
        self._nl = "\n" if self.config.keep_newlines else " "

    def __repr__(self) -> str:
        return f"Normalizer({self.config!r})"

    def normalize_word(self, word: str) -> str:
        """The normalised word, without an offset map: what the tokenizer should see.

        Equal to ``self(word).text`` with line breaks as spaces.  Empty when nothing of the word is left
        (a lone bidi mark or kashida): such a word gets no piece.
        """
        w = word.translate(self._table)
        if " " in w or "\n" in w or ZWNJ in w:
            # After the table the only white space is " " and "\n".  A ZWNJ survives only between two
            # non-space characters, one per run.
            parts = w.split()
            if ZWNJ in w:
                parts = [_ZWNJ_RUN.sub(ZWNJ, p.strip(ZWNJ)) for p in parts]
            w = " ".join(p for p in parts if p)
        return w

    def __call__(self, text: str) -> Normalized:
        table = self._table
        out: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        # A pending white-space run / ZWNJ run: emitted (collapsed to one character that maps to the
        # whole run) only when a visible character follows, so that edges are stripped.
        ws_start = ws_end = -1
        ws_newline = False
        zw_start = zw_end = -1
        for i, ch in enumerate(text):
            rep = table[ord(ch)]
            if rep is None:
                continue
            for c in rep:
                if c == " " or c == "\n":
                    zw_start = -1  # a ZWNJ before a space is dropped
                    if ws_start < 0:
                        ws_start, ws_newline = i, c == "\n"
                    else:
                        ws_newline = ws_newline or c == "\n"
                    ws_end = i + 1
                elif c == ZWNJ:
                    if ws_start >= 0 or not out:
                        continue  # after a space or at the start: dropped
                    if zw_start < 0:
                        zw_start = i
                    zw_end = i + 1
                else:
                    if ws_start >= 0:
                        if out:
                            out.append(self._nl if ws_newline else " ")
                            starts.append(ws_start)
                            ends.append(ws_end)
                        ws_start = -1
                    if zw_start >= 0:
                        out.append(ZWNJ)
                        starts.append(zw_start)
                        ends.append(zw_end)
                        zw_start = -1
                    out.append(c)
                    starts.append(i)
                    ends.append(i + 1)
        return Normalized("".join(out), starts, ends)


__all__ = ["NORMALIZER_VERSION", "Normalized", "Normalizer", "NormalizerConfig", "ZWNJ"]
