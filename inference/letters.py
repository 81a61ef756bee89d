"""The one table of Arabic letter variants that Persian text folds to Persian letters.

The problem.  Persian news mixes Arabic and Persian code points for the same letter (``ي``/``ی``,
``ك``/``ک``, ``ة``/``ه`` ...), and three places fold them: the model's normaliser (normalize.py), the
quote rules' length-preserving copies of the text (quote_rules.py), and the linker's comparison key
(quotes.py).  When each wrote its own table they drifted apart (one folded ``ٱ``, another did not).
Here the letter mapping is written once; each user builds its own table from it, adding only what is
its own business (ZWNJ, white space, punctuation, digits).

Every mapping is one letter to one letter, so a table built from these alone keeps offsets valid.
"""

from __future__ import annotations

#: Arabic letter variants -> the Persian letters ParsBERT's vocabulary is built on (measured in
#: normalize.py's module docstring).  The normaliser applies exactly this table.
ARABIC_TO_PERSIAN: dict[str, str] = {
    "\u064a": "\u06cc",  # ي ARABIC YEH -> ی
    "\u0649": "\u06cc",  # ى ALEF MAKSURA -> ی
    "\u0643": "\u06a9",  # ك ARABIC KAF -> ک (absent from the vocabulary)
    "\u06aa": "\u06a9",  # ڪ SWASH KAF -> ک
    "\u0629": "\u0647",  # ة TEH MARBUTA -> ه (Persian spelling; fewer pieces measured)
    "\u06c3": "\u0647",  # ۃ TEH MARBUTA GOAL -> ه
    "\u06c0": "\u0647",  # ۀ HEH WITH YEH ABOVE -> ه (else the tokenizer makes it the Kurdish ە)
    "\u06c2": "\u0647",  # ۂ HEH GOAL WITH HAMZA ABOVE -> ه
    "\u06d5": "\u0647",  # ە AE -> ه
    "\u06be": "\u0647",  # ھ HEH DOACHASHMEE -> ه
    "\u06c1": "\u0647",  # ہ HEH GOAL -> ه
    "\u0671": "\u0627",  # ٱ ALEF WASLA -> ا (the tokenizer would keep it: no decomposition)
}

#: Alef with hamza -> bare alef, for matching words only (``تأکید`` = ``تاکید``).  The normaliser leaves
#: them alone: the tokenizer's own accent stripping already turns them into ``ا`` (normalize.py).
HAMZA_ALEF: dict[str, str] = {
    "\u0623": "\u0627",  # أ ALEF WITH HAMZA ABOVE -> ا
    "\u0625": "\u0627",  # إ ALEF WITH HAMZA BELOW -> ا
}

#: Everything a text is folded with before words are compared or matched (quote rules, linker).
LETTER_FOLD: dict[str, str] = {**ARABIC_TO_PERSIAN, **HAMZA_ALEF}

__all__ = ["ARABIC_TO_PERSIAN", "HAMZA_ALEF", "LETTER_FOLD"]
