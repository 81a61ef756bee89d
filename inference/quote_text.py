"""The character-level shape of Persian quotes and mentions, shared by the quote linker and the rules.

The problem.  Linking quotes (``quotes.py``), finding role spans by rule (``quote_rules.py``) and scoring them
(``training/quote_eval.py``) all need the same small answers about the text itself: which characters are
quotation marks and white space (ZWNJ and bidi marks included), where a paragraph or a sentence ends, how to
trim a span to its content, how to compare words across ي/ك and ZWNJ spellings, and whether a mention is a
pronoun, an anonymous source or a description (a title, "این سازمان") rather than a name.  These helpers know
nothing of the linker; keeping them here keeps one definition of each.

Offsets are always into the ORIGINAL text (``make_span``: ``text[start:end] == span["text"]``); ``fold`` gives
a comparison key only and is never used for offsets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Optional, TypedDict

from .letters import LETTER_FOLD


class Span(TypedDict):
    start: int
    end: int
    text: str


class EntityRef(Span):
    type: str


class Quote(TypedDict):
    quote: Span
    speaker: Optional[Span]
    cue: Optional[Span]
    speaker_entity: Optional[EntityRef]
    kind: str  # "direct" | "indirect"
    score: float


OPEN_MARKS = "«\"“‘"
CLOSE_MARKS = "»\"”’"
MARKS = OPEN_MARKS + CLOSE_MARKS
#: The mark that closes each opening mark (a straight quote closes itself).
MARK_PAIRS = {"«": "»", "“": "”", "‘": "’", '"': '"'}
_OPENER_OF = {close: open_ for open_, close in MARK_PAIRS.items()}
_SPACES = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + "\u200c\u200d\u200e\u200f\ufeff"
_FOLD = str.maketrans({**LETTER_FOLD, "\u200c": " ", "\u0640": None})  # kashida: a stretch, not a letter


def fold(s: str) -> str:
    """A comparison key (ي/ك folded, ZWNJ as space, spaces collapsed); never used for offsets."""
    return " ".join(s.translate(_FOLD).replace("\u064b", "").replace("\u064c", "").split())


def _first_words(words: str) -> frozenset[str]:
    # Compared with fold()ed words, where ZWNJ is a space: keep the first part ("دروازه‌بان" -> "دروازه").
    return frozenset(fold(w).split()[0] for w in words.split())


#: Personal pronouns used as speakers.
PRONOUNS = frozenset(fold(w) for w in "وی او ایشان آنها آنان آن‌ها".split())
#: Determiners that make a description anaphoric ("این مقام", "همین منبع").
ANAPHORIC = frozenset("این همین آن مذکور".split())
#: First words of an anonymous source; it refers to nobody.
ANONYMOUS = _first_words("یک یکی برخی بعضی منابع منبعی شماری عده‌ای عده کارشناسان ناظران گروهی فردی مقامی")
ANONYMOUS_HEADS = frozenset("منبع منابع".split())  #: after "این", still an anonymous source ("این منبع")
#: Heads of organisation names and descriptions.
ORG_HEADS = _first_words("""وزارت وزارتخانه سازمان باشگاه شرکت خبرگزاری دولت مجلس شورای شورا کمیته فدراسیون اداره
    بانک دانشگاه ستاد کمیسیون دفتر روزنامه نشریه پایگاه سایت وبسایت شبکه ارتش سپاه پلیس بنیاد انجمن حزب جبهه نهاد
    دادگاه قوه بیانیه اطلاعیه گزارش رسانه کاخ کنفدراسیون اتحادیه مرکز هیئت هیات تیم""")
#: Heads of descriptions of people (a title): such a speaker is a description, not a name.
PERSON_HEADS = _first_words("""رئیس رییس رئيس وزیر سرمربی مربی مدیر مدیرعامل مدیرکل سخنگو سخنگوی معاون نماینده
    استاندار فرماندار دبیر دبیرکل عضو مقام منبع کارشناس دادستان امام فرمانده سفیر نخست‌وزیر رئیس‌جمهور بازیکن هافبک
    مهاجم دروازه‌بان گلر مدافع ستاره کاپیتان سرپرست مشاور جانشین قائم‌مقام شهردار بخشدار دهیار رهبر آیت‌الله
    حجت‌الاسلام سردار سرلشکر سرتیپ دکتر مهندس آقای خانم مسئول مسئولان مسئولین کارشناسان مقامات وکیل قاضی پزشک استاد
    نویسنده خبرنگار تحلیلگر فرستاده دستیار همتای همسر پدر مادر برادر هموطن""")


def make_span(text: str, start: int, end: int) -> Span:  # the one way spans are built: text is always a slice
    return {"start": start, "end": end, "text": text[start:end]}


def paragraph_bounds(text: str, i: int) -> tuple[int, int]:
    """The line (title, abstract or paragraph: articles join them with "\\n") that contains offset i."""
    start = text.rfind("\n", 0, i) + 1
    end = text.find("\n", i)
    return start, (len(text) if end == -1 else end)


# "?" is left out: "در پاسخ به این سؤال که ...؟ گفت:" keeps its speaker before the question.
_SENTENCE_END = re.compile(r"[.!]+(?=[\s«»\"“”]|$|[^\W\d])|\n")


def crosses_sentence(text: str, start: int, end: int, skip: Sequence[tuple[int, int]] = ()) -> bool:
    """True if text[start:end], outside the ``skip`` ranges (quotes), holds a sentence end or line break."""
    pos = start
    for s, e in sorted(skip):
        if e <= pos or s >= end:
            continue
        if s > pos and _SENTENCE_END.search(text, pos, s):
            return True
        pos = max(pos, e)
    return pos < end and _SENTENCE_END.search(text, pos, end) is not None


def _overlap(a: dict, b: dict) -> int:
    return max(0, min(a["end"], b["end"]) - max(a["start"], b["start"]))


def trim_span(text: str, start: int, end: int, label: str) -> tuple[int, int]:
    """Strip from a span's edges white space, quotation marks whose partner is outside the span or that
    enclose all of it (``«X»`` -> ``X``; ``«X» Y`` stays), and on SPEAKER/CUE any other punctuation."""
    while True:
        s, e = _strip(text, start, end)
        sub = text[s:e]
        if label != "QUOTE" and (m := re.search(rf"[\w{MARKS}](?:.*[\w{MARKS}])?", sub, re.S)):
            s, e = s + m.start(), s + m.end()  # SPEAKER/CUE begin and end with a letter, digit or mark
            sub = text[s:e]
        if not sub:
            return s, s
        if sub[0] in OPEN_MARKS:
            close = sub.find(MARK_PAIRS[sub[0]], 1)
            s, e = (s + 1, e - 1) if close == len(sub) - 1 else (s + 1, e) if close == -1 else (s, e)
        if s < e and text[e - 1] in CLOSE_MARKS and _OPENER_OF[text[e - 1]] not in text[s:e - 1]:
            e -= 1
        if (s, e) == (start, end):
            return s, e
        start, end = s, e


def _strip(text: str, start: int, end: int) -> tuple[int, int]:  # white space and stray ZWNJ/bidi marks
    sub, ws = text[start:end], _SPACES
    return (start + len(sub) - len(sub.lstrip(ws)), start + len(sub.rstrip(ws))) if sub.strip(ws) else (start, start)


# A word that can be a Persian finite verb: a copula ("است", "نیست"), a third person ending ("-د", "-ند":
# "می‌کند", "کردند", "شد"), a perfect participle ("تجربه کرده", "صورت گرفته"), a first person plural
# ("-یم"), or a common past or present stem with a personal ending ("داشت", "گذاشت", "آمدم", "باشم",
# "بکنم"; not a present stem + "ی", which is mostly a noun: "بازسازی", "بررسی"). Loose on purpose (nouns
# end in -د too): it only has to tell a clause from a verbless phrase.
_PAST = "|".join("کرد شد بود آمد داد رسید دید کشید داشت گذاشت گفت رفت گرفت خواست ساخت یافت پذیرفت نوشت "
                 "شکست توانست دانست نشست".split())
_PRESENT = "|".join("باش کن شو ده رو گو گوی دار خواه توان آی گیر بین یاب رس ساز دان".split())
_VERB_END = re.compile(rf"(?:است|نیست|هست|د|ند|ده|ته|یم"
                       rf"|(?:{_PAST})(?:م|ی|یم|ید|ند)?|(?:{_PRESENT})(?:م|یم|ید|د|ند))$")
_LETTERS = re.compile(r"[^\W\d_]+")


def looks_like_clause(s: str) -> bool:
    """Whether ``s`` has a word that may be a finite verb.  An indirect quote is a reported *clause*
    (guidelines); ``وی بر ضرورت بازسازی آثار تاریخی بم تاکید کرد`` reports a topic, not content."""
    return any(_VERB_END.search(w) for w in _LETTERS.findall(fold(s)))


def is_pronoun(s: str) -> bool:
    return fold(s) in PRONOUNS


def _bare(s: str) -> list[str]:
    return [w.strip(MARKS + "()،,") for w in fold(s).split() if w.strip(MARKS + "()،,")]


def is_anonymous(s: str) -> bool:
    """"یک منبع آگاه", "منابع خبری", "کارشناسان", and "این منبع" (which refers back to such a source)."""
    w = _bare(s) or [""]
    return w[0] in ANONYMOUS or (len(w) > 1 and w[0] in ANAPHORIC and w[1] in ANONYMOUS_HEADS)


#: Closed-class words (adverbs, conjunctions, prepositions) that never make a speaker mention on their own. The
#: head sometimes tags a sentence-opening one SPEAKER ("هنوز ... یکی از منابع گفت که": the adverb, not the source).
NOT_MENTIONS = frozenset(fold("""هنوز همچنین همچنان اکنون حالا البته اما ولی سپس پس بنابراین قبلا قبلاً پیشتر اخیرا
    اخیراً نیز هم تاکنون ضمنا ضمناً اگرچه اگر چون زیرا چرا که و یا از به در با برای تا بر اینکه آنکه حتی فقط تنها
    باز دوباره مجددا مجدداً همینطور درباره سرانجام نهایتا نهایتاً ظاهرا ظاهراً قطعا قطعاً احتمالا احتمالاً معمولا
    معمولاً""").split())


def closed_class_only(s: str) -> bool:
    """True if every word of ``s`` is in ``NOT_MENTIONS``: such a tagged SPEAKER mentions nobody."""
    w = _bare(s)
    # fold() makes ZWNJ a space: "همین‌طور" is "همین طور" here, listed as "همینطور".
    return bool(w) and (all(x in NOT_MENTIONS for x in w) or "".join(w) in NOT_MENTIONS)


def description_type(s: str) -> str | None:
    """"PER"/"ORG" if the mention is a description (a title, "این سازمان"), None if it may be a name."""
    w = _bare(s) or [""]
    head = w[1] if w[0] in ANAPHORIC and len(w) > 1 else w[0]
    return "ORG" if head in ORG_HEADS else "PER" if head in PERSON_HEADS or w[0] in ANAPHORIC else None
