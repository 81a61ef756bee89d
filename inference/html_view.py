"""Tagged articles as one self-contained, right-to-left HTML page.

The tagger's output is character offsets into the original article; a reader needs to see them on the
text: entities highlighted by type with a label badge (as displaCy does), quotes shaded and underlined
with the name of their speaker, the speaker and the cue verb marked.  Spans can nest (an entity inside
a quote, a speaker that is also an entity) and, from a model, can overlap without nesting; the page
must show all of them without losing, duplicating or reordering a single character of the article.

So the text is walked once over the sorted span boundaries (``render_marked_text``): an element that
has to close while others opened inside it are still running closes them, and those are reopened
right after as continuation fragments.  Badges and speaker labels are CSS generated content
(``attr(data-label)``), not text nodes, so the text content of an article's body is exactly its text.
Everything that comes from an article or a model is escaped; the page has no scripts and loads nothing.
"""

from __future__ import annotations

import colorsys
import hashlib
import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .labels import ENTITY_TYPES

# Fixed colours for the canonical types (light enough for black text on top); others get a hashed hue.
TYPE_COLOURS: dict[str, str] = {
    "PER": "#aa9cfc", "ORG": "#7aecec", "LOC": "#ff9561", "FAC": "#9cc9cc", "PRO": "#bfeeb7",
    "EVE": "#ffeb80", "DAT": "#bfe1d9", "TIM": "#e4e7d2", "MON": "#e4e7a2", "PCT": "#c887fb",
}

# Nesting order when several spans start at one offset and end together: quote outermost.
_KIND_RANK = {"quote": 0, "speaker": 1, "cue": 2, "ent": 3}


def type_colour(etype: str) -> str:
    """The highlight colour of an entity type: fixed for ENTITY_TYPES, a stable pastel otherwise."""
    if etype in TYPE_COLOURS:
        return TYPE_COLOURS[etype]
    hue = int(hashlib.sha1(etype.encode("utf-8")).hexdigest()[:4], 16) / 0xFFFF
    r, g, b = colorsys.hls_to_rgb(hue, 0.8, 0.7)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def type_class(etype: str) -> str:
    # A type name is model data: keep class names to a safe alphabet, colour by the class.
    return "t-" + "".join(c if c.isascii() and c.isalnum() else "_" for c in etype)


@dataclass(frozen=True)
class Mark:
    """One span to draw: ``kind`` is ent/quote/speaker/cue; ``attrs`` become escaped HTML attributes."""

    start: int
    end: int
    kind: str
    classes: str
    attrs: tuple[tuple[str, str], ...] = ()


def _open_tag(mark: Mark, first: bool, last: bool) -> str:
    classes = mark.classes + (" first" if first else "") + (" last" if last else "")
    attrs = "".join(f' {name}="{html.escape(value, quote=True)}"' for name, value in mark.attrs)
    return f'<span class="{html.escape(classes, quote=True)}"{attrs}>'


def render_marked_text(text: str, marks: Iterable[Mark]) -> str:
    """``text`` escaped, with each mark wrapped in ``<span>`` fragments; text content is ``text`` exactly.

    Marks are clipped to the text; empty or inverted ones are dropped, identical ones drawn once.  A mark
    split into fragments by an overlap has class ``first`` on its first fragment and ``last`` on its last
    (where the CSS puts labels), so each label shows once.
    """
    n = len(text)
    seen: set = set()
    clean: list[Mark] = []
    for m in marks:
        start, end = max(0, int(m.start)), min(n, int(m.end))
        key = (start, end, m.kind, m.classes, m.attrs)
        if start < end and key not in seen:
            seen.add(key)
            clean.append(Mark(start, end, m.kind, m.classes, m.attrs))
    # Longer marks first at one offset, so that they enclose the shorter ones and need no splitting.
    clean.sort(key=lambda m: (m.start, -m.end, _KIND_RANK.get(m.kind, 9)))
    cuts = sorted({0, n} | {m.start for m in clean} | {m.end for m in clean})

    out: list[str] = []
    stack: list[Mark] = []  # open marks, innermost last

    def push(m: Mark, first: bool) -> None:
        # A fragment ends at its mark's end unless an enclosing mark ends first and forces a close.
        last = all(m.end <= outer.end for outer in stack)
        out.append(_open_tag(m, first=first, last=last))
        stack.append(m)

    pending = 0
    for a, b in zip(cuts, cuts[1:]):
        # Close everything that ends at a; marks opened inside it that go on are closed and reopened.
        ending = [i for i, m in enumerate(stack) if m.end <= a]
        if ending:
            low = ending[0]
            reopen = [m for m in stack[low:] if m.end > a]
            out.extend("</span>" for _ in stack[low:])
            del stack[low:]
            for m in reopen:
                push(m, first=False)
        while pending < len(clean) and clean[pending].start <= a:
            push(clean[pending], first=True)
            pending += 1
        out.append(html.escape(text[a:b], quote=False))
    out.extend("</span>" for _ in stack)
    return "".join(out)


def _span_text(text: str, span: Mapping | None) -> str:
    if not span:
        return ""
    if span.get("text"):
        return str(span["text"])
    return text[int(span.get("start", 0)) : int(span.get("end", 0))]


def article_marks(result: Mapping) -> list[Mark]:
    """The marks of one tagged article: its entities, quotes, speakers and cues."""
    text = result.get("text", "")
    marks: list[Mark] = []
    for ent in result.get("entities") or []:
        if "start" not in ent or "end" not in ent:
            continue
        etype = str(ent.get("type", "?"))
        score = ent.get("score")
        title = etype if score is None else f"{etype} {float(score):.2f}"
        marks.append(Mark(ent["start"], ent["end"], "ent", f"ent {type_class(etype)}",
                          (("data-label", etype), ("title", title))))
    for q in result.get("quotes") or []:
        quote = q.get("quote") or {}
        if "start" not in quote:
            continue
        speaker = q.get("speaker_entity") or q.get("speaker")
        who = _span_text(text, speaker) or "?"
        kind = str(q.get("kind", "quote"))
        score = q.get("score")
        title = f"{kind} quote; speaker: {who}" + ("" if score is None else f"; score {float(score):.2f}")
        style = "indirect" if kind == "indirect" else "direct"
        marks.append(Mark(quote["start"], quote["end"], "quote", f"quote {style}",
                          (("data-speaker", who), ("title", title))))
        for role in ("speaker", "cue"):
            span = q.get(role)
            if span and "start" in span:
                marks.append(Mark(span["start"], span["end"], role, role, (("title", role),)))
    return marks


STYLE = """
body{font-family:"Vazirmatn","Noto Naskh Arabic","Noto Sans Arabic","DejaVu Sans",Tahoma,sans-serif;
 margin:1.5rem auto;max-width:60rem;padding:0 1rem;color:#222;background:#fff;line-height:2.3}
h1{font-size:1.4rem;margin:.2rem 0} h2{font-size:1.1rem;margin:.6rem 0 .2rem;direction:ltr;text-align:left}
.legend{direction:ltr;text-align:left;font-size:.8rem;line-height:2;margin-bottom:1rem}
.legend span{margin-right:.5rem}
article{border-top:1px solid #ccc;padding-top:.5rem;margin-top:1rem}
.meta{direction:ltr;text-align:left;font-size:.75rem;color:#666}
.text{white-space:pre-wrap;font-size:1.05rem}
.ent{padding:.1em .15em;border-radius:.3em;box-decoration-break:clone;-webkit-box-decoration-break:clone}
.ent.last::after{content:attr(data-label);font:bold .6em sans-serif;direction:ltr;unicode-bidi:isolate;
 vertical-align:middle;margin-inline-start:.35em;padding:0 .25em;border-radius:.25em;background:#fff9;color:#333}
.quote{background:#fff6d5;border-bottom:2px solid #d9a400}
.quote.indirect{background:#f1f6ff;border-bottom:2px dashed #4a78c2}
.quote.first::before{content:attr(data-speaker) ":";font-size:.7em;font-weight:bold;color:#7a5a00;
 background:#ffe9a8;border-radius:.25em;padding:0 .3em;margin-inline-end:.3em;unicode-bidi:isolate}
.quote.indirect.first::before{color:#264f91;background:#d8e6ff}
.speaker{border-bottom:3px double #b5179e}
.cue{font-weight:bold;color:#0a6a2a;border-bottom:2px dotted #0a6a2a}
.quotes{font-size:.85rem;line-height:1.7;color:#444}
.sample{white-space:pre-wrap}
"""


def style_rules(types: Iterable[str]) -> str:
    """CSS colouring rules for the given entity types."""
    return "".join(f".{type_class(t)}{{background:{type_colour(t)}}}" for t in types)


def legend_html(types: Sequence[str], roles: bool = True) -> str:
    """The legend: one coloured badge per entity type, then (``roles``) the quote roles."""
    parts = [f'<span class="ent {type_class(t)}">{html.escape(t)}</span>' for t in types]
    if roles:
        parts += ['<span class="quote">direct quote</span>', '<span class="quote indirect">indirect quote</span>',
                  '<span class="speaker">speaker</span>', '<span class="cue">cue</span>']
    return '<div class="legend">' + " ".join(parts) + "</div>"


def _quote_list(result: Mapping) -> str:
    text = result.get("text", "")
    items = []
    for q in result.get("quotes") or []:
        who = _span_text(text, q.get("speaker_entity") or q.get("speaker")) or "?"
        cue = _span_text(text, q.get("cue"))
        quote = _span_text(text, q.get("quote"))
        quote = quote if len(quote) <= 90 else quote[:90] + "…"
        items.append(f"<li><strong>{html.escape(who)}</strong> ({html.escape(cue or '–')}, "
                     f"{html.escape(str(q.get('kind', '')))}): {html.escape(quote)}</li>")
    return f'<ul class="quotes">{"".join(items)}</ul>' if items else ""


def render_article(result: Mapping) -> str:
    """One ``<article>``: heading, counts, the marked text (class ``text``) and a list of its quotes."""
    text = str(result.get("text", ""))
    ident = html.escape(str(result.get("id", "")))
    meta = (f'{len(result.get("sentences") or [])} sentences, {len(result.get("entities") or [])} entities, '
            f'{len(result.get("quotes") or [])} quotes')
    body = render_marked_text(text, article_marks(result))
    return (f'<article id="article-{ident}"><h2>{ident}</h2><div class="meta">{meta}</div>'
            f'<div class="text" dir="rtl">{body}</div>{_quote_list(result)}</article>')


def page(title: str, body: str, extra_css: str = "", direction: str = "rtl") -> str:
    """A complete self-contained HTML document around ``body`` (already HTML), right-to-left by default."""
    direction = "ltr" if direction == "ltr" else "rtl"
    return (
        f'<!DOCTYPE html>\n<html lang="fa" dir="{direction}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}{extra_css}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def render_articles_html(results: list[dict], title: str) -> str:
    """The page for a list of tagged articles (the tagger's JSONL records), with a legend of types."""
    seen = {str(e.get("type", "?")) for r in results for e in (r.get("entities") or [])}
    types = [t for t in ENTITY_TYPES if t in seen] + sorted(seen - set(ENTITY_TYPES))
    header = f'<h1 dir="auto">{html.escape(title)}</h1>' + legend_html(types or list(ENTITY_TYPES))
    body = header + "\n".join(render_article(r) for r in results)
    return page(title, body, style_rules(set(types) | set(ENTITY_TYPES)))
