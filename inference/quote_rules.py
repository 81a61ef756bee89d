"""Rule-based quote annotation for Persian news: the baseline the model must beat, and the silver-data maker.

The problem.  Persian news reports speech in a handful of fixed shapes (data/quotes/GUIDELINES.md):
``X گفت: ...`` (a colon quote to the end of the paragraph), ``X گفت که ...`` and ``X اعلام کرد ...``
(the reported clause to the sentence end), ``X با بیان اینکه A، اظهار داشت: B`` (two quotes),
``به گفته X، A``, ``«A»، وی گفت``, headlines ``X: A``, first-person paragraphs continuing a colon quote, and a
naming verb whose complement is all in marks (``X Y را «A» توصیف کرد``).
The cue lexicon is small but its spellings are not (ي/ك, ``اظهار داشت``/``اظهارداشت``, ``گفت``/``گفـــت`` ...);
the lexicon and the one-for-one folds it is matched on are in ``quote_rule_lexicon.py``.  The rules run on
*length-preserving* folded copies of the text, so every match offset is an offset into the text they were
given.  A kashida that stretches a word cannot be folded away one character for one, so such kashidas are
taken out before the rules run and the spans they find are mapped back: every span is in offsets of the
original text.

``rule_role_spans(text)`` gives the flat role layer a tagger would; ``annotate_quotes(text)`` links it with
``quotes.link_quotes``; ``silver_records(articles)`` writes gold-format records (training data).
"""

from __future__ import annotations

import argparse
import json
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from heapq import merge
from pathlib import Path

from .quote_rule_lexicon import (_CLAUSE_OPENER, _COORD, _DEMONSTRATIVE, _FINITE, _FIRST_PERSON, _FOLD1, _FOLD1_G,
                                 _LEAD_PP, _NAMING_GAP, _NOT_CLAUSE, _NOT_SPEAKER_HEAD, _SENT_END, _ZW, BYLINE_RE,
                                 CUE_RE, LEAD, NAMING_RE, STOP, _clean, _head, _mark_regions, _unstretch, _verbal,
                                 _words)
from .quotes import ORG_HEADS, PERSON_HEADS, Quote, link_quotes, paragraph_bounds, quotes_to_record, trim_span
from .quotes import PRONOUNS as PRONOUN_WORDS


class _Article:
    """State of one article while its paragraphs are annotated in order."""

    def __init__(self, text: str, entities: list[dict]):
        self.text, self.f, self.g = text, text.translate(_FOLD1), text.translate(_FOLD1_G)
        self.regions = _mark_regions(self.f)
        self.out: list[dict] = []
        self.known: set[str] = set()  # names of earlier speakers (folded), to cut "X [object] را ... گفت"
        self.entities = [e for e in entities if e["type"] in ("PER", "ORG", "LOC")]

    def speaker_np(self, start: int, end: int) -> tuple[int, int] | None:
        """The subject NP of the clause ``f[start:end]`` that ends at a cue, tried chunk by chunk from the last
        comma back: it usually opens the chunk before the verb ("...، یک مقام کاخ سفید به سی‌ان‌ان گفت"), but
        that chunk may be adverbial ("وارسته با اشاره به ...، خاطرنشان کرد").  An apposition before a title
        chunk is taken with it ("«آنا کلی»، معاون سخنگوی کاخ سفید")."""
        f = self.f
        # Clause boundaries: commas, and "و" after a finite verb ("... بسته است و منابع مطلع اعلام کردند").
        cuts = sorted([start] + [i + 1 for i in range(start, end) if f[i] == "،"] +
                      [m.end() for m in _COORD.finditer(f, start, end)])
        bounds = list(zip(cuts, [c - 1 for c in cuts[1:]] + [end]))
        for k in range(len(bounds) - 1, -1, -1):
            np_ = self._np_at(*bounds[k])
            if np_ is None or (k > 0 and re.search(r"(?<!\w)را(?!\w)", f[np_[1]:bounds[k][1]])):
                continue  # a later chunk followed by "را" is part of an object list, not the subject
            if k > 0 and (_head(self.g[np_[0]:np_[1]].split()[0]) in PERSON_HEADS or k == 1):
                prev = self._np_at(*bounds[k - 1])
                if prev and not f[prev[1]:bounds[k - 1][1]].strip() and len(f[prev[0]:prev[1]].split()) <= 4:
                    return prev[0], np_[1]
            return np_
        return None

    def _np_at(self, start: int, end: int) -> tuple[int, int] | None:
        """The NP that opens ``f[start:end]`` (after connectives), ended by a preposition/adverb or the end;
        None if the chunk opens with a preposition or the NP runs into an object or a verb."""
        words, i = _words(self.g, start, end), 0
        lead = _LEAD_PP.match(self.g, start, end)  # "پیش از این X گفت", "در این مراسم همچنین X گفت"
        while i < len(words) and (words[i][2] in LEAD or (lead and words[i][1] <= lead.end())):
            i += 1
        if i >= len(words) or _head(words[i][2]) in STOP | _NOT_SPEAKER_HEAD or _verbal(words[i][2]):
            return None
        if words[i][2] in PRONOUN_WORDS:
            return words[i][0], words[i][1]  # a pronoun takes no modifiers: "وی ارائه خدمات ... را"
        j = i
        while j < len(words):
            w = words[j][2]
            if (w, words[j - 1][2]) == ("از", "یکی") or (w, words[j + 1:j + 2] and words[j + 1][2]) == ("در", "مجلس"):
                j += 1  # "یکی از منابع", "نماینده مردم بابلسر در مجلس شورای اسلامی"
                continue
            if "؟" in w or "?" in w:  # the end of a question put to the speaker
                return None
            if _verbal(w):  # an object or a verb: "روستا قانون ... را ... دانست و گفت"
                return self._known_prefix(words[i:j])
            if _head(w) in STOP:
                break
            j += 1
        known = self._known_prefix(words[i:j])
        if j == i or j - i > 16:
            return known
        if known and known[1] < words[j - 1][1]:
            nxt = next(w for s, _, w in words[i:j] if s > known[1])
            if _head(nxt) not in PERSON_HEADS and _head(nxt) not in ORG_HEADS:
                return known  # "نجف‌نژاد تمرکز نقدینگی ...": a known name, then its object
        return words[i][0], words[j - 1][1]

    def _known_prefix(self, words: list[tuple[int, int, str]]) -> tuple[int, int] | None:
        for n in range(min(4, len(words)), 0, -1):  # the longest earlier speaker's name the words open with
            if " ".join(w for _, _, w in words[:n]) in self.known:
                return words[0][0], words[n - 1][1]
        return None

    def _remember(self, s: int, e: int) -> None:
        words = []  # the name part of a speaker, and its last word (the surname)
        for _, _, w in _words(self.g, s, e):
            if _head(w) in PERSON_HEADS or _head(w) in ORG_HEADS or w in PRONOUN_WORDS or w in STOP:
                break
            words.append(w)
        if 0 < len(words) <= 4:
            self.known.update({" ".join(words), words[-1]})

    def add(self, label: str, s: int, e: int) -> None:
        s, e = trim_span(self.text, s, e, label)
        for ent in self.entities if label == "SPEAKER" else ():  # widen a speaker to the names it cuts
            s, e = (min(s, ent["start"]), max(e, ent["end"])) if ent["start"] < e and s < ent["end"] else (s, e)
        if s < e and not any(o["start"] < e and s < o["end"] for o in self.out):
            self.out.append({"label": label, "start": s, "end": e, "score": 1.0})
            if label == "SPEAKER":
                self._remember(s, e)

    def attribution(self, speaker, cue, quote) -> None:
        for label, span in (("SPEAKER", speaker), ("CUE", cue), ("QUOTE", quote)):
            if span and span[1] > span[0]:
                self.add(label, *span)

    def cues(self, start: int, end: int):
        """Cues in f[start:end]: outside marks (nested attributions, 2.4), whole words ("گفت‌وشنود" is none)."""
        g = self.g
        return (m for m in CUE_RE.finditer(self.f, start, end) if not self.inside(m.start())
                and g[m.start() - 1:m.start()] != _ZW != g[m.end():m.end() + 1])

    def namings(self, start: int, end: int):
        """Naming verbs in f[start:end] right after a closing mark, filtered like ``cues``."""
        g = self.g
        return (m for m in NAMING_RE.finditer(self.f, start, end) if not self.inside(m.start())
                and g[m.start() - 1:m.start()] != _ZW != g[m.end():m.end() + 1]
                and self.f[:m.start()].rstrip()[-1:] in ("»", '"', "”"))

    def naming(self, lo: int, cs: int, ce: int):
        """``X Y را «A» توصیف کرد`` (guidelines 2.2): (speaker, cue, quote) when the verb's complement is the
        marked region right before it, preceded by ``را`` (at most one word such as ``یک``/``بسیار`` between)
        and the subject stands in the clause ("کرملین این تماس را"), or alone in the comma chunk before it
        ("کرملین در بیانیه‌ای، این تماس را").  None otherwise: an unmarked or partly marked complement
        ("اطاعت از «اولی‌الامر»") is nominal, and with the subject elided ("ولی او را «...» خواند") the linker
        would take the object pronoun for the speaker."""
        f, close = self.f, len(self.f[:cs].rstrip()) - 1
        r = next((r for r in self.regions if r[1] == close), None)
        if r is None or r[0] - 1 < lo or any(o["start"] < ce and r[0] < o["end"] for o in self.out):
            return None
        words = _words(f, lo, r[0] - 1)
        k = max((i for i, (_, _, w) in enumerate(words) if w == "را"), default=None)
        if k is None or len(words) - k > 2 or (len(words) - k == 2 and words[-1][2] not in _NAMING_GAP) \
                or re.search(r"[،,.:؛!؟?«»\"“”]", f[words[k][1]:r[0] - 1]):
            return None
        ra = words[k][0]
        # The clause: after the last comma (outside marks), "finite verb + و" or connective before "را".
        cut = max([lo] + [i + 1 for i in range(lo, ra) if f[i] == "،" and not self.inside(i)] +
                  [m.end() for m in _COORD.finditer(f, lo, ra)])
        clause = _words(self.g, cut, ra)
        opener = max((i for i, (_, _, w) in enumerate(clause) if w in _CLAUSE_OPENER), default=-1)
        clause = clause[opener + 1:]
        lead = _LEAD_PP.match(self.g, clause[0][0], ra) if clause else None
        while clause and (clause[0][2] in LEAD or (lead and clause[0][1] <= lead.end())):
            clause = clause[1:]
        speaker = self._naming_subject(clause)
        if speaker is None and opener < 0 and cut > lo and (not clause[1:] or clause[0][2] in _DEMONSTRATIVE):
            speaker = self.speaker_np(lo, cut - 1)  # the subject in its own chunk, the object alone in this one
        return (speaker, (cs, ce), r) if speaker else None

    def _naming_subject(self, words: list[tuple[int, int, str]]) -> tuple[int, int] | None:
        """The subject at the head of ``words`` = subject + object (before ``را``): a pronoun, an earlier
        speaker's name, an NER name, or the words before a demonstrative that opens a short object (at most
        three words: in "داور اسپانیایی این دیدار قضاوت او را" the demonstrative is inside an ezafe chain)."""
        if len(words) < 2 or _head(words[0][2]) in STOP or any(_verbal(w) for _, _, w in words):
            return None  # the object alone (the subject elided), or not a subject at all
        if words[0][2] in PRONOUN_WORDS:
            return words[0][0], words[0][1]
        if known := self._known_prefix(words[:-1]):
            return known
        ent = next((e for e in self.entities if e["start"] == words[0][0] and e["end"] < words[-1][0]), None)
        if ent:
            return ent["start"], ent["end"]
        k = next((i for i in range(1, len(words)) if words[i][2] in _DEMONSTRATIVE), None)
        if k is not None and k <= 8 and len(words) - k <= 3 and not any(_head(w) in STOP for _, _, w in words[:k]):
            return words[0][0], words[k - 1][1]
        if words[0][2] in _DEMONSTRATIVE and len(words) > 2 and _head(words[1][2]) in PERSON_HEADS | ORG_HEADS:
            return words[0][0], words[1][1]  # "این خبرگزاری آغاز مذاکرات ... را"
        return None

    def inside(self, i: int) -> tuple[int, int] | None:  # the quotation-mark region holding i
        return next(((s, e) for s, e in self.regions if s <= i < e), None)

    def sentence_end(self, start: int, limit: int) -> int:
        """End of the sentence that holds ``start`` (at its terminator), outside quotation marks."""
        return next((m.start() for m in _SENT_END.finditer(self.f, start, limit) if not self.inside(m.start())), limit)

    def sentence_start(self, pos: int, floor: int) -> int:
        ends = [m.end() for m in _SENT_END.finditer(self.f, floor, pos) if not self.inside(m.start())]
        return ends[-1] if ends else floor

    def marked_at(self, qs: int):
        """The marked region opened at ``qs``, if it holds the whole content: followed by punctuation or the
        paragraph end, or itself a sentence ("گفت: «مبعلی» یکی از ..." is not a quote of «مبعلی»)."""
        r = self.inside(qs + 1) if self.f[qs:qs + 1] in "«\"“" else None
        tail = self.f[r[1] + 1:r[1] + 3].lstrip(" ") if r else ""
        return r if r and (self.f[r[1] - 1] in ".!؟?" or tail[:1] in ("", "\n", ".", "،", "!", "؟", ":")) else None

    def next_attribution(self, start: int, end: int, after: int = 1) -> int | None:
        """Start of the first sentence in f[start:end] that holds a new ``cue:`` attribution (3.2 b)."""
        starts = (self.sentence_start(m.start(), start) for m in self.cues(start, end)
                  if self.f[m.end():end].lstrip().startswith(":"))
        return next((s for s in starts if s >= start + after), None)

    def adverbial_end(self, after: int, se: int) -> int:
        """End of the clause of "با بیان اینکه X، ...": with a main cue after it, the comma that closes the
        clause right before the main cue, else the main cue; without one, the comma after a finite verb (3.5)."""
        f = self.f
        main = next((x for x in self.cues(after, se) if x.lastgroup == "verb"), None)
        if main:
            comma = f.rfind("،", after, main.start())
            if comma != -1:
                rest = [w for _, _, w in _words(f, comma + 1, main.start())]
                if len(rest) <= 3 or rest[0] in STOP:
                    return comma
            return main.start()
        for m in re.finditer("،", f[after:se]):
            word = f[after:after + m.start()].split()[-1:] or [""]
            if _FINITE.search(_clean(word[0])):
                return after + m.start()
        return se

    def paragraph(self, ps: int, pe: int, prev: int) -> int:
        """Annotate one line.  Returns (and ``prev`` is, for the line before) 2 if it ends inside a colon
        quote (a first-person continuation may follow, 3.4), 1 if it holds another quote, else 0."""
        f = self.f
        byline = BYLINE_RE.match(f, ps, pe)
        floor = byline.end() if byline else ps
        pos, state = floor, 0
        for m in merge(self.cues(floor, pe), self.namings(floor, pe), key=lambda m: m.start()):
            cs, ce, kind = m.start(), m.end(), m.lastgroup
            sent_start = max(self.sentence_start(cs, floor), pos)
            if cs < pos or f[sent_start:cs].split()[:1] in (["اگر"], ["چنانچه"], ["شاید"]):
                continue  # a hypothetical ("اگر ... گفت") reports no speech
            if kind == "naming":  # X Y را «A» توصیف کرد: the marked complement is a direct quote
                if found := self.naming(sent_start, cs, ce):
                    self.attribution(*found)
                    state, pos = max(state, 1), ce
                continue
            after = ce + len(f[ce:pe]) - len(f[ce:pe].lstrip())
            se = self.sentence_end(after, pe)
            speaker, q = None, None
            if kind == "verb" and not f.startswith(":", after) and self.next_attribution(ce, se + 1, 0) is not None:
                continue  # "در پاسخ به اینکه X اعلام کرده ...، گفت: A": framing of a question, not a quote
            if kind == "prep":  # به گفته X، A (the comma within 80 characters, or not this shape)
                if (comma := f.find("،", after, min(se, after + 80))) != -1:
                    speaker, q = self.speaker_np(after, comma), (comma + 1, se)
            elif kind == "adv":  # X با بیان اینکه A، ...
                speaker, q = self.speaker_np(sent_start, cs), (after, self.adverbial_end(after, se))
            elif f.startswith(":", after):  # X گفت: A (to the paragraph end or the next attribution)
                qs = after + 1 + len(f[after + 1:pe]) - len(f[after + 1:pe].lstrip())
                if (q := self.marked_at(qs)) is None:
                    nxt = self.next_attribution(qs, pe)
                    q, state = (qs, nxt or pe), 2 if nxt is None else 1
            elif ke := re.match(r"(?:که|این\s*که)\s+", f[after:pe]):  # X گفت که A
                q = self.marked_at(qs := after + ke.end()) or (qs, self.sentence_end(qs, pe))
            elif re.match(r"[.!]|$", f[after:pe]):  # «A»، وی گفت.
                regs = [r for r in self.regions if sent_start <= r[0] and r[1] <= cs and r[1] >= ps]
                if not regs or f[regs[-1][1]:cs].count(" ") > 8:
                    continue
                q = regs[-1]
                speaker = self.speaker_np(q[1] + 1, cs)
            elif not m.group().startswith("خبر"):  # X اعلام کرد A / X گفت، A: the clause after the verb (3.5)
                qs = after + 1 if f.startswith("،", after) else after
                qs += len(f[qs:pe]) - len(f[qs:pe].lstrip())
                nxt = re.match(r"[^\s،.:؛]+", f[qs:pe])
                if not nxt or (nxt.group(0) in _NOT_CLAUSE and qs == after) or f[qs:se].count(" ") < 3 or (
                        qs > after and re.search(r"(?<!\w)که(?!\w)", f[sent_start:cs])):
                    continue  # "پس از آن که X اعلام کرد، ...": a subordinate cue, its main clause follows
                q = (qs, se)  # ("از X خبر داد" is nominal: "خبر داد" needs که or a colon)
            if q is None or q[1] <= q[0]:
                continue
            if speaker is None and kind != "prep" and q[0] >= ce:
                speaker = self.speaker_np(sent_start, cs)
            self.attribution(speaker, (cs, ce), q)
            # An adverbial cue's quote ends before the main verb: keep scanning from there.
            state, pos = max(state, 1), q[1] if kind == "adv" else max(q[1], ce)
        return state or self.headline_or_continuation(floor, pe, prev)

    def headline_or_continuation(self, ps: int, pe: int, prev: int) -> int:
        f = self.f
        # Headline or subheading "X: A" (guidelines 4): a short NP, a colon, a clause.
        m = re.match(r"\s*([^:\n،.]{2,60}?)\s*:\s*(\S.*)$", f[ps:pe])
        if m and len(m.group(1).split()) <= 5 and len(m.group(2).split()) >= 2:
            sp, qs = self.speaker_np(ps + m.start(1), ps + m.end(1)), ps + m.start(2)
            if sp and sp[1] >= ps + m.end(1) - 1:
                self.attribution(sp, None, self.marked_at(qs) or (qs, pe))
                return 1
        body = f[ps:pe].strip()
        # After a quote, a paragraph that is only a quote in marks; after a colon quote, a first-person
        # continuation (3.4).  The linker gives both the previous speaker's entity.
        if body[:1] in ("«", '"', "“") and prev:
            q = self.marked_at(f.index(body[0], ps))
            if q and not f[q[1] + 1:pe].strip(" .،"):
                self.add("QUOTE", *q)
                return 1
        if prev == 2 and _FIRST_PERSON.search(f, ps, pe):
            self.add("QUOTE", ps, pe)
            return 2
        return 0


def rule_role_spans(text: str, entities: Iterable[dict] | None = None) -> list[dict]:
    """Role spans ``[{"label", "start", "end", "score"}]`` found by the rules, in text order.

    ``entities`` (NER spans) widen a speaker to cover a name it cuts; the rules work without them.
    Offsets are into ``text`` as given, stretching kashidas included.
    """
    entities = list(entities or [])
    plain, index = _unstretch(text)
    if index is not None:  # entities into the unstretched text (bisect: how many kept characters lie before)
        entities = [{**e, "start": bisect_left(index, e["start"]), "end": bisect_left(index, e["end"])}
                    for e in entities]
    art = _Article(plain, entities)
    pos, prev = 0, 0
    while pos <= len(plain):
        ps, pe = paragraph_bounds(plain, pos)
        prev = art.paragraph(ps, pe, prev) if plain[ps:pe].strip() else 0
        pos = pe + 1
    out = sorted(art.out, key=lambda r: (r["start"], r["end"]))
    if index is not None:  # back to the original: a span runs from its first character to its last one
        out = [{**r, "start": index[r["start"]], "end": index[r["end"] - 1] + 1} for r in out]
    return out


def annotate_quotes(text: str, entities: Iterable[dict] | None = None) -> list[Quote]:
    """Rule spans + ``link_quotes``: the rule baseline's linked quotes."""
    return link_quotes(text, rule_role_spans(text, entities := list(entities or [])), entities)


def article_text(article: dict) -> str:
    """``title + "\\n\\n" + abstract + "\\n\\n" + "\\n".join(paragraphs)``: the text the gold annotates."""
    return article["title"] + "\n\n" + article["abstract"] + "\n\n" + "\n".join(article["paragraphs"])


def silver_records(articles: Iterable[dict | tuple[str, dict] | str], *, source: str = "silver",
                   limit: int | None = None, entities_of=None) -> Iterator[dict]:
    """Rule-annotated gold-format records (``split`` "silver") of raw news dicts, ``(id, article)`` pairs or
    plain strings (PEYMA/ARMAN sentences); ``entities_of(text)`` may give NER spans.  Quote-less ones too."""
    for n, item in enumerate(articles):
        if limit is not None and n >= limit:
            return
        rid, item = item if isinstance(item, tuple) else (f"{source}-{n:05d}", item)
        text = item if isinstance(item, str) else article_text(item)
        ents = entities_of(text) if entities_of else None
        yield quotes_to_record(rid, source, "silver", text, annotate_quotes(text, ents))


def main(argv: list[str] | None = None) -> int:
    """``python -m parstag.inference.quote_rules ../shared/data/news/fars/fars-news-1.json --limit N``."""
    p = argparse.ArgumentParser(description="Write rule-annotated (silver) quote records as JSONL to stdout.")
    p.add_argument("files", nargs="+", type=Path, help="news JSON files (lists of articles)")
    p.add_argument("--limit", type=int, default=None, help="articles per file")
    p.add_argument("--exclude", nargs="*", type=Path, default=[],
                   help="JSONL records (the gold) whose articles to leave out (by text: some have two ids)")
    args = p.parse_args(argv)
    skip = {json.loads(line)["text"] for f in args.exclude for line in f.open(encoding="utf-8") if line.strip()}
    for path in args.files:  # ids as in the gold: fars-news-1.json -> fars-1-0012
        src, n = path.parent.name, path.stem.rsplit("-", 1)[-1]
        pairs = ((f"{src}-{n}-{i:04d}", a) for i, a in enumerate(json.loads(path.read_text(encoding="utf-8")))
                 if article_text(a) not in skip)
        for rec in silver_records(pairs, source=src, limit=args.limit):
            print(json.dumps(rec, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
