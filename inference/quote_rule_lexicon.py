"""The quote rules' lexicon: the cues and the words that bound a speaker or a clause, across spellings.

The problem.  The rules (quote_rules.py) find speech by a small lexicon: reporting verbs (``گفت``, light
verbs such as ``اعلام کرد``/``اظهار داشت``), adverbial cues (``با بیان اینکه``), ``به گفته``, naming verbs
(``توصیف کرد``), and the words that end a subject NP or open a clause.  The lexicon is small but its spellings
are not: ي/ك, ``اظهار داشت``/``اظهارداشت``, ``می‌گوید``/``میگوید``/``می گوید``, ``تأکید``/``تاکید``,
``گفت``/``گفـــت``.  So the patterns are written in one spelling and matched on *length-preserving* folded
copies of the text (``_FOLD1``: letters.LETTER_FOLD, ZWNJ->space for cues; ``_FOLD1_G`` keeps ZWNJ in the word
for the noun phrases), so that every match offset is an offset into the text the rules were given.  A kashida
that stretches a word cannot be folded away one character for one: ``_unstretch`` takes such kashidas out
and keeps, for each character left, its index in the original.

The word lists are looked up on the units the rules read a folded text in, which are here too: its words
(``_words``, marks and brackets stripped) and the regions inside quotation marks (``_mark_regions``).
"""

from __future__ import annotations

import re

from .letters import LETTER_FOLD


# One character for one, so that offsets in the folded text are offsets in the original.  ZWNJ, NBSP, the
# bidi marks and a kashida that stretches no word (a dash: "دولت ـ ملت"; "هـ.ق") become spaces.
_FOLD1 = str.maketrans({**LETTER_FOLD, **dict.fromkeys("\u200c\u00a0\u200f\u200e\u0640", " ")})
_ZW = "\u200c"  # ZWNJ: a space to the cue patterns (f), part of the word to the noun phrases (g)
_FOLD1_G = {**_FOLD1, ord(_ZW): _ZW}
_MI = r"(?:ن?می\s*)"  # present prefix, ZWNJ/space/nothing


def _forms(past: str, present: str | None = None) -> str:
    """Third-person finite forms: past, perfect, present, negated ("گفته‌ام" in an interview is no cue)."""
    alts = [rf"{past}(?:ه\s*(?:است|اند|بود(?:ند)?))?(?:ند)?", rf"{past}ه(?!\s*(?:ام|ای|ایم|اید|شود|شد|شده|می)(?!\w))"]
    if present:
        alts.append(rf"{_MI}{present}(?:د|ند)")
    return r"(?:ن?(?:" + "|".join(alts) + "))"


_KARD, _DASHT, _SHOD = _forms("کرد", "کن"), _forms("داشت", "دار"), _forms("شد", "شو")
_DAD, _SAKHT = _forms("داد", "ده"), _forms("ساخت", "ساز")
_LIGHT = {  # light-verb cues by their verb; "\s*" because ZWNJ/space/nothing all occur (اظهارداشت)
    _KARD: r"تصریح اعلام تاکید خاطر\s*نشان عنوان بیان اظهار اضافه اذعان ابراز تشریح مطرح ادعا اعتراف یادآوری تکرار "
           r"تایید رد اعلان گلایه انتقاد توصیه پیش\s*بینی استدلال (?:ابراز|اظهار)\s*(?:امیدواری|تاسف) اظهار\s*نظر",
    _DASHT: "اظهار بیان ابراز اذعان عنوان اعلام", _SHOD: r"یاد\s*آور متذکر خاطر\s*نشان مدعی",
    _DAD: "ادامه هشدار توضیح پاسخ گزارش شرح خبر", _SAKHT: r"خاطر\s*نشان"}
_SIMPLE = [_forms("گفت", "گوی"), _forms("افزود", "افزای"), _forms("نوشت", "نویس"), "خواست(?:ند)?",
           r"(?:معتقد|مدعی)\s*(?:است|بود|هستند|بودند)", r"بر\s*این\s*باور\s*(?:است|بود|هستند)"]
_VERB = "|".join([rf"(?:{n.replace(' ', '|')})\s*{v}" for v, n in _LIGHT.items()] + _SIMPLE)
# Adverbial cues: the whole phrase with its complementiser (guidelines 4).
_ADVERBIAL = (r"(?:(?:با|ضمن)\s*|(?<=و\s))(?:بیان|تاکید|اشاره|تصریح|اعلام|یادآوری|اظهار|ابراز|عنوان|ذکر|اذعان"
              r"|یادآور\s*شدن)(?:\s+(?:بر|به))?(?:\s+این\s+(?:مطلب|نکته|موضوع))?\s+(?:این\s*که|که)")
_PREP = r"به\s+(?:گفته|نوشته|عقیده|اعتقاد|باور|ادعای)"
# "گفت‌وگو" (conversation) is not "گفت".
CUE_RE = re.compile(rf"(?<!\w)(?:(?P<adv>{_ADVERBIAL})|(?P<prep>{_PREP})|(?P<verb>{_VERB}))(?!\w)(?!\s?و\s?گو)")
# Naming verbs (guidelines 2.2, "marked complement"): "X Y را «A» توصیف کرد/خواند/نامید" quotes A only when the
# complement is the marked region right before the verb; "X Y را A توصیف کرد" (unmarked) is nominal.
NAMING_RE = re.compile(rf"(?<!\w)(?P<naming>توصیف\s*{_KARD}|{_forms('خواند', 'خوان')}|{_forms('نامید', 'نام')})(?!\w)")
_NAMING_GAP = frozenset("یک بسیار کاملا کاملاً واقعا واقعاً صرفا صرفاً تنها فقط".split())  # may stand between را and «
_DEMONSTRATIVE = frozenset("این آن همین همان چنین".split())  # opens the object: "کرملین [این تماس] را"
_CLAUSE_OPENER = frozenset("که ولی اما آنکه اینکه چون زیرا".split())  # a new clause starts after it
# A byline or source credit at the start of a paragraph: not a quote (guidelines 2.1).
BYLINE_RE = re.compile(r"\s*(?:(?:به|بنا\s*بر|بنابر|طبق)\s+(?:این\s+)?گزارش|به\s+نقل\s+از)[^،:\n]{0,120}[،:]|"
                       r"\s*(?:خبرگزاری\s+)?فارس\s*[:-]")  # used with .match(f, paragraph_start)
# Words (or ZWNJ heads: "سه‌شنبه") that end a subject NP: prepositions, adverbs, particles, time words.
STOP = frozenset("""با در به از برای طی ضمن درباره پیرامون هنگام روز امروز دیروز صبح عصر شب ظهر بامداد نیز همچنین هم که
را پس پیش بعد حین بار بارها اخیرا اخیراً قبلا قبلاً سپس اما ولی البته همزمان تا بر روی درخصوص درمورد شنبه یکشنبه دوشنبه
سه چهارشنبه پنجشنبه پنج جمعه امشب دیشب هفته ماه سال ساعت ابتدا پایان ادامه خطاب جمع نشست گفتگو مصاحبه همچنان""".split())
BAD_STOP = frozenset("را می نمی است بود شد کرد شده کرده داشت نداشت دارد ندارد دارند هست نیست باید اند شود کند "
                     "بودم بودیم هستم هستیم هستند نیستند بودند شدند کردند".split())  # object or clause, not subject
# Leading words of a clause that are not its subject (connectives, subordinators).
LEAD = frozenset("و اما ولی البته همچنین سپس آنکه اینکه وقتی هنگامی چنانکه چون زیرا همچنان اگرچه هرچند "
                 "حالا اکنون اینک امروز دیروز نیز".split())
_FIRST_PERSON = re.compile(r"(?<!\w)(?:ما|من|مان|مرا|ام|ایم|هستیم|هستم|داریم|دارم|نداریم|خواهیم|خواهم|بودیم|بودم|"
                           r"کردیم|کردم|شدیم|شدم|کنیم|کنم|باشیم|باشم)(?!\w)|(?<!\w)ن?می\s*\w+(?:یم|م)(?!\w)")
# A finite verb ends a clause: the comma after it closes an adverbial cue's clause; "و" after it starts one.
_FINITE, _COORD = re.compile(r"(?:است|نیست|هست|د|ند|شد|بود)$"), re.compile(r"(?:است|نیست|بود|شد|ند|اند)\s+و(?=\s)")
_LEAD_PP = re.compile(r"\s*(?:(?:پیش|پس|بعد)\s+از\s+(?:این|آن)(?:که|\s*که)?|در\s+(?:این|همین|آن)\s+\S+"
                      r"|در\s+(?:ادامه|پایان|ابتدا)|از\s+سوی\s+دیگر|در\s+عین\s+حال)(?=\s)")  # fronted, no comma
_NOT_CLAUSE = frozenset("و را تا به در از با برای".split())  # after a cue: not the start of its clause
# "?" does not end the clause of a cue: "در پاسخ به این سؤال که آیا ...؟ گفت: ..." (the answer's cue).
_SENT_END = re.compile(r"[.!]+(?=\s|$|[^\W\d])")  # "بزند.وی": a missing space still ends it
_NOT_SPEAKER_HEAD = frozenset("یادداشت منبع عکس گزارش ترجمه تهیه خبرنگار کد توضیح نکته پی‌نوشت".split())  # "X:"


def _mark_regions(text: str) -> list[tuple[int, int]]:
    """Content ranges inside quotation marks: «» nested, "" and “” paired; a mark opened after a colon and
    not closed in its paragraph may close in a later one (interview quotes, guidelines 3.3).  A « that is
    never closed encloses nothing: the pairs after it are regions of their own, not nested inside it."""
    out, pairs, stack = [], [], []
    for i, ch in enumerate(text):
        if ch == "«":
            stack.append(i)
        elif ch == "»" and stack:
            pairs.append((stack.pop(), i))
    # The stack pairs each » with the nearest open «, so a « left open at the end was never paired and
    # sits below every pair opened after it; counting nesting only among pairs keeps one forgotten »
    # (fars-1-0196) from swallowing every later quote of the article.
    end = -1
    for s, e in sorted(pairs):
        if e > end:  # not inside an earlier pair (pairs never cross)
            out.append((s + 1, e))
            end = e
    for op, cl in (('"', '"'), ("“", "”")):
        i = text.find(op)
        while i != -1:
            j = text.find(cl, i + 1)
            if j == -1:
                break
            nl = text.find("\n", i, j)
            if nl != -1 and not text[max(0, i - 3):i].rstrip().endswith(":"):
                i = text.find(op, nl)  # unpaired in its paragraph: restart on the next line
                continue
            out.append((i + 1, j))
            i = text.find(op, j + 1)
    return sorted(out)


_WORD = re.compile(r"[^\s،,؛;:]+")


def _words(text: str, s: int, e: int) -> list[tuple[int, int, str]]:
    """``(start, end, word without marks/brackets)`` of the words of text[s:e]; mark-only words dropped."""
    return [(m.start(), m.end(), w) for m in _WORD.finditer(text, s, e) if (w := _clean(m.group(0)))]


def _clean(w: str) -> str:
    return w.strip("«»\"“”()\u200c")


def _head(w: str) -> str:  # the part before a ZWNJ, as in the title lexicon ("رئیس‌جمهور" -> "رئیس")
    return w.split(_ZW)[0]


def _verbal(w: str) -> bool:  # "را", "است", "می‌کند", "شده‌اند": the phrase is an object or a clause
    return _head(w) in BAD_STOP


# A kashida run between two letters only stretches the word: "گفـــت" is "گفت", "اظهار داشـت" is "اظهار داشت".
# (The lookarounds exclude kashida itself, so that a run is taken whole or not at all.)
_STRETCH = re.compile(r"(?<=[^\W\d_\u0640])\u0640+(?=[^\W\d_\u0640])")


def _unstretch(text: str) -> tuple[str, list[int] | None]:
    """``text`` without its stretching kashidas, and the original index of each character left (None when
    nothing was taken out, so that such text takes exactly the path it took before kashidas were handled)."""
    if "\u0640" not in text:
        return text, None
    pieces, index, pos = [], [], 0
    for m in _STRETCH.finditer(text):
        pieces.append(text[pos:m.start()])
        index.extend(range(pos, m.start()))
        pos = m.end()
    if pos == 0:
        return text, None
    pieces.append(text[pos:])
    index.extend(range(pos, len(text)))
    return "".join(pieces), index
