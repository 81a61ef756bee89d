"""Which mention in the text is a quote's speaker: the linker's speaker finding (quotes.py links).

The problem.  The tagger's SPEAKER spans are not always the speaker, and a quote may have none: a
mention can be whom it was said to (``منابع آگاه به سی‌ان‌ان گفتند``), the outlet of a byline
(``به گزارش خبرگزاری فارس``), cut inside a name (``یک [مقام کاخ] سفید``) or started a word late (``یک
[منبع آگاه]``), or missing while the cue's subject is plainly there (a name the NER head found, a
pronoun, an anonymous source).  This module picks the speaker mention for one quote from the tagged
SPEAKER spans (``find_speaker``; the model's SPEAKERs made of closed-class words only are dropped
first, ``drop_non_mentions``), repairs its extent (``whole_entities``, ``with_determiner``), and falls
back to the cue's subject (``subject_of_cue``).  What the mention *refers to* (the named entity) is
quotes.py's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .quote_text import (ANAPHORIC, ANONYMOUS, ANONYMOUS_HEADS, MARKS, _SPACES, _bare, closed_class_only,
                         crosses_sentence, description_type, fold, is_pronoun, paragraph_bounds, trim_span)


def whole_entities(text: str, sp: dict, ents: list[dict]) -> dict:
    """A SPEAKER that ends (or starts) inside a name the NER head found takes the whole name:
    ``یک [مقام کاخ] سفید`` with the ORG ``کاخ سفید`` -> ``یک مقام کاخ سفید``.  A mention never cuts a name."""
    start, end = sp["start"], sp["end"]
    for e in ents:
        if e["start"] < end < e["end"]:
            end = e["end"]
        if e["start"] < start < e["end"]:
            start = e["start"]
    return sp if (start, end) == (sp["start"], sp["end"]) else {**sp, "start": start, "end": end,
                                                                "text": text[start:end]}


def with_determiner(text: str, sp: dict) -> dict:
    """A SPEAKER the tagger started one word late takes back its determiner: ``یک [مقام کاخ سفید]``,
    ``منابع [آگاه]``, ``این [منبع]``, ``یکی از [منابع]`` -- the word that says whether the source is
    anonymous or refers back."""
    ps, _ = paragraph_bounds(text, sp["start"])
    words = list(_WORD.finditer(text, max(ps, sp["start"] - 40), sp["start"]))

    def adjacent(k: int, end: int) -> bool:  # word k, then only space up to `end`
        return k >= 0 and not text[words[k].end():end].strip(_SPACES)

    n = len(words) - 1
    if not adjacent(n, sp["start"]):
        return sp
    start, det = None, fold(words[n].group())
    head = (_bare(sp["text"]) or [""])[0]
    # "این"/"همین" only before a title or a source ("این [منبع]", "این [مقام]"), not "در این [جلسه X]".
    if det in ANONYMOUS or (det in ANAPHORIC and (head in ANONYMOUS_HEADS or description_type(sp["text"]))):
        start = words[n].start()
    elif det == "از" and adjacent(n - 1, words[n].start()) and fold(words[n - 1].group()) == "یکی":
        start = words[n - 1].start()
    return sp if start is None else {**sp, "start": start, "text": text[start:sp["end"]]}


def _addressee(text: str, span: dict) -> bool:
    """``منابع آگاه به سی‌ان‌ان گفتند``: a mention right after ``به`` is whom it was said to, not who said it."""
    before = " " + fold(text[max(0, span["start"] - 6):span["start"]]).rstrip(MARKS + " ")
    return before.endswith(" به")


def drop_non_mentions(text: str, roles: Iterable[dict]) -> list[dict]:
    """The quote head's role spans less its SPEAKERs made of closed-class words only (``closed_class_only``).

    The head sometimes tags a sentence-opening adverb SPEAKER (``هنوز مشخص نیست ... اگرچه یکی از منابع گفت
    که``): that word mentions nobody, and without it the linker finds the cue's subject. Applied to the
    model's tags only (``Tagger``): the rule annotator's output, and so the silver data and the baseline, stay
    as they were measured.
    """
    def mentions_nobody(r: dict) -> bool:
        s, e = trim_span(text, int(r["start"]), int(r["end"]), "SPEAKER")  # as link_quotes reads it: "هنوز:"
        return closed_class_only(text[s:e])

    return [r for r in roles if not (r["label"] == "SPEAKER" and mentions_nobody(r))]


def find_speaker(text: str, q: dict, cue: dict | None, speakers: list[dict], quotes: list[dict]) -> dict | None:
    ps, pe = paragraph_bounds(text, q["start"])
    qspans = [(o["start"], o["end"]) for o in quotes]
    local = [s for s in speakers if ps <= s["start"] and s["end"] <= pe and not _addressee(text, s)
             and not _byline_source(text, s, ps) and not any(a <= s["start"] and s["end"] <= b for a, b in qspans)]
    anchor = cue or q

    def before(limit_end: int) -> dict | None:
        cands = [s for s in local if s["end"] <= limit_end and not crosses_sentence(text, s["end"], limit_end, qspans)]
        return max(cands, key=lambda s: s["end"]) if cands else None

    def after(limit_start: int, stop: int) -> dict | None:
        cands = [s for s in local if limit_start <= s["start"] and s["end"] <= stop
                 and not crosses_sentence(text, limit_start, s["start"], qspans)]
        return min(cands, key=lambda s: s["start"]) if cands else None

    if cue is not None and fold(cue["text"]).split()[:1] == ["به"]:  # به گفته X: the speaker follows
        stop = q["start"] if cue["end"] <= q["start"] else pe
        return after(cue["end"], stop) or before(cue["start"])
    found = before(anchor["start"])
    if found is None and cue is not None:
        # "«...»، گفت وی" / "گفت X:" -- a subject after the verb, before the quote or the sentence end.
        stop = q["start"] if cue["end"] <= q["start"] else pe
        found = after(cue["end"], stop)
    return found


# "به گزارش [گروه سیاسی] [خبرگزاری] X"، "به نقل از X": the words up to the mention, no punctuation between.
_BYLINE = re.compile(r"(?:گزارش|نقل از|گفتگو با|مصاحبه با)[^،,.:؛;!؟?\n«»]{0,40}$")
_WORD = re.compile(r"[^\s،,:؛;.!؟?«»()\"“”]+")


def _byline_source(text: str, span: dict, floor: int) -> bool:
    """A byline's source (``به گزارش خبرنگار اقتصادی خبرگزاری فارس، ...``, ``به نقل از ایسنا``) or a
    dateline (``خبرگزاری فارس: ...`` opening the abstract) names the outlet, not a speaker (guidelines:
    bylines are not quotes), whether the tagger marked it SPEAKER or the fallback found it."""
    if fold(span.get("text") or text[span["start"]:span["end"]]).startswith("خبرگزاری") \
            and text[span["end"]:span["end"] + 2].lstrip().startswith(":"):
        return True
    return bool(_BYLINE.search(fold(text[max(floor, span["start"] - 45):span["start"]])))


_CLAUSE_OPENERS = frozenset("که آنکه اینکه اگرچه چون اما ولی زیرا".split())


def _anonymous_source(text: str, words: list[re.Match], cue_start: int) -> list[dict]:
    """``منابع آگاه به سی‌ان‌ان گفتند``, ``یک منبع نزدیک به دولت گفت``: a source the NER head cannot name.
    The head word (``منبع``/``منابع``) must open the subject: first in the clause, or after a determiner
    (``یک``، ``یکی از``، ``برخی``، ``این``) or a clause opener (``که``، ``اگرچه``) -- ``تنها منبع مالی نشریات``
    and ``توسعه منابع`` are resources, not sources.  The mention runs to the addressee's ``به`` or the cue,
    at most four words; the determiner is added back later (``with_determiner``)."""
    for k, m in enumerate(words):
        if fold(m.group()) not in ANONYMOUS_HEADS | {"منبعی"}:
            continue
        before = fold(words[k - 1].group()) if k else ""
        opens = (not k or any(c in text[words[k - 1].end():m.start()] for c in "،,\n")
                 or before in ANONYMOUS or before in ANAPHORIC or before in _CLAUSE_OPENERS
                 or (before == "از" and k > 1 and fold(words[k - 2].group()) == "یکی"))
        if not opens:
            continue
        end = m.end()
        for w in words[k + 1:k + 4]:
            if fold(w.group()) == "به" or w.start() >= cue_start or "\n" in text[end:w.start()]:
                break
            end = w.end()
        return [{"start": m.start(), "end": end}]
    return []


def subject_of_cue(text: str, q: dict, cue: dict, ents: list[dict], quotes: list[dict]) -> dict | None:
    """A speaker the tagger missed: the cue's subject, i.e. the first name (PER/ORG from the NER head) or
    personal pronoun of the cue's clause (Persian is subject-first: ``وارسته با بیان اینکه ...، گفت``), or
    for ``به گفته`` the first one after the cue.  Only within the cue's sentence and outside quotes."""
    qspans = [(o["start"], o["end"]) for o in quotes]
    ps, _ = paragraph_bounds(text, cue["start"])
    after = fold(cue["text"]).split()[:1] == ["به"]
    lo, hi = (cue["end"], q["start"] if q["start"] >= cue["end"] else paragraph_bounds(text, cue["end"])[1]) \
        if after else (ps, cue["start"])
    inside = lambda s, e: any(a <= s and e <= b for a, b in qspans)  # noqa: E731
    cands = [e for e in ents if e["type"] in ("PER", "ORG") and lo <= e["start"] and e["end"] <= hi
             and not inside(e["start"], e["end"]) and (after or not _addressee(text, e))]
    words = list(_WORD.finditer(text, lo, hi))
    cands += [{"start": m.start(), "end": m.end()} for m in words
              if is_pronoun(m.group()) and not inside(m.start(), m.end())]
    if not after:
        cands += _anonymous_source(text, words, hi)
    near = cue["end"] if after else cue["start"]
    cands = [c for c in cands if not (crosses_sentence(text, near, c["start"], qspans) if after
                                      else crosses_sentence(text, c["end"], near, qspans))]
    if not cands:
        return None
    cands = [c for c in cands if not _byline_source(text, c, lo)]
    if not cands:
        return None
    best = min(cands, key=lambda c: c["start"])
    return {"start": best["start"], "end": best["end"], "text": text[best["start"]:best["end"]], "score": cue["score"]}
