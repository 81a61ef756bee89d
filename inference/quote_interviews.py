"""Question-and-answer interviews: which paragraphs are the interviewee's answers, and who he is.

The problem.  In a printed interview (``فارس: <question>؟`` / ``<answer>``, ``-<question>؟``, ``*<question>``)
no cue names the speaker of an answer, so the linker (``quotes.link_quotes``) would drop each answer as
content nobody is said to have said.  Guidelines 7 (data/quotes/GUIDELINES.md): the questions are not
quotes; each answer paragraph is one direct quote of the interviewee, SPEAKER and CUE null, its entity the
interviewee's nearest earlier mention.  This module finds the answers and the questions from the head's
QUOTE pieces and the paragraph shapes, and the interviewee from the NER entities; the linker does the rest.
"""

from __future__ import annotations

import re

from .quote_text import _strip, fold

#: What opens a question in a printed interview besides a question mark: a bullet or a dash.
_QUESTION_BULLETS = "*•-–"
#: Share of a paragraph the head must tag QUOTE for it to count as an answer when recognising an interview,
#: and, once the article is one, for an answer paragraph (the head often tags only some sentences of an
#: answer).  Chosen on the interviews of the train split (docs/training.md).
_INTERVIEW_SHARE, _ANSWER_SHARE = 0.3, 0.1


def interview_answers(text: str, pieces: list[dict], attributions: list[dict],
                      ) -> tuple[dict[tuple[int, int], list[float]], set[tuple[int, int]]]:
    """The answer paragraphs of a question-and-answer interview, (start, end) -> the scores of the QUOTE
    pieces in it, and its question paragraphs, whose pieces are no quote (both empty: no interview).
    ``attributions``: the CUE and SPEAKER spans.  Guidelines 7: the questions are not
    quotes; each answer paragraph is a direct quote with no SPEAKER and no CUE, of the interviewee.  No cue
    marks them, so the linker dropped them as content nobody is said to have said; the head does tag them.

    A question ends with a question mark or opens with a bullet or dash.  An answer names nobody: no CUE or
    SPEAKER in it, not a question.  A labelled answer (`مسی: ...`: a SPEAKER opening the paragraph, then a
    colon) is linked as any `X: Y` quote, with its speaker, but counts as an answer here.  An article is an
    interview when at least two paragraphs ending with a question mark are each followed by an answer
    (at least ``_INTERVIEW_SHARE`` of it tagged QUOTE) or a labelled answer.  From the first such question
    on, a paragraph after a question, an untagged paragraph (a question without a mark) or an answer is an
    answer if it is shaped like one and at least ``_ANSWER_SHARE`` of it is tagged; and every question is
    dropped.  A bullet alone does not make an interview: Fars opens section headings with `*` too."""
    pars = [(a, b) for m in re.finditer(r"[^\n]+", text) for a, b in [_strip(text, m.start(), m.end())] if a < b]

    def tagged(par: tuple[int, int]) -> float:  # share of the paragraph inside QUOTE pieces
        return sum(max(0, min(par[1], p["end"]) - max(par[0], p["start"])) for p in pieces) / (par[1] - par[0])

    def marked_question(par: tuple[int, int]) -> bool:
        return text[par[0]:par[1]].rstrip(" .\u200c").endswith(("?", "؟"))

    def question(par: tuple[int, int]) -> bool:
        return text[par[0]] in _QUESTION_BULLETS or marked_question(par)

    def names_nobody(par: tuple[int, int]) -> bool:
        return not question(par) and not any(par[0] <= r["start"] < par[1] for r in attributions)

    def labelled(par: tuple[int, int]) -> bool:
        return not question(par) and any(r["start"] <= par[0] + 1 and par[0] <= r["start"]
                                         and text[r["end"]:r["end"] + 2].lstrip()[:1] == ":" for r in attributions)

    firsts = [i for i in range(1, len(pars)) if marked_question(pars[i - 1]) and (
        labelled(pars[i]) or (names_nobody(pars[i]) and tagged(pars[i]) >= _INTERVIEW_SHARE))]
    if len(firsts) < 2:
        return {}, set()
    answers: dict[tuple[int, int], list[float]] = {}
    questions = {pars[firsts[0] - 1]}
    answered: set[tuple[int, int]] = set()
    for prev, par in zip(pars[firsts[0] - 1:], pars[firsts[0]:]):
        after = prev in answered or question(prev) or tagged(prev) < 0.5
        if labelled(par):
            answered.add(par)
        elif after and names_nobody(par) and tagged(par) >= _ANSWER_SHARE:
            answered.add(par)
            answers[par] = [p["score"] for p in pieces if par[0] <= p["start"] and p["end"] <= par[1]] or \
                [p["score"] for p in pieces if p["start"] < par[1] and par[0] < p["end"]]  # pieces over its edges
        elif question(par):
            questions.add(par)  # never a quote, though the head may tag it
    return answers, questions


def interviewee(text: str, ents: list[dict], before: int) -> list[dict]:
    """The interviewee's mentions before ``before``: the one person named in the title, else the person
    named most often (ties: the first named).  Names are grouped by their last word (the surname)."""
    def surname(e: dict) -> str:
        return (fold(text[e["start"]:e["end"]]).split() or [""])[-1]

    groups: dict[str, list[dict]] = {}
    for e in ents:
        if e["type"] == "PER" and e["end"] <= before:
            groups.setdefault(surname(e), []).append(e)
    title_end = text.find("\n") if "\n" in text else len(text)
    in_title = {k for k, g in groups.items() if any(e["end"] <= title_end for e in g)}
    if len(in_title) == 1:
        return groups[in_title.pop()]
    return max(groups.values(), key=lambda g: (len(g), -g[0]["start"])) if groups else []
