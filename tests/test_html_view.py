"""The article view: text round-trips exactly, everything is escaped, overlaps never crash or duplicate."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from parstag.inference.html_view import Mark, render_articles_html, render_marked_text

EVIL = 'گفت: «<script>alert(1)</script>» & "نقل" \'قول\'\nپاراگراف دوم <b>'


class _TextOf(HTMLParser):
    """Text content of the elements with a given class (article bodies), and every tag seen."""

    def __init__(self, cls: str):
        super().__init__(convert_charrefs=True)
        self.cls, self.depth, self.parts, self.tags = cls, 0, [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if self.depth:
            self.depth += 1
        elif self.cls in (dict(attrs).get("class") or "").split():
            self.depth = 1
            self.parts.append([])

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts[-1].append(data)


def bodies(page: str) -> list[str]:
    p = _TextOf("text")
    p.feed(page)
    return ["".join(parts) for parts in p.parts]


def strip_tags(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", fragment))


def result(text, entities=(), quotes=(), ident="a1"):
    return {"id": ident, "text": text, "sentences": [{"start": 0, "end": len(text)}],
            "entities": list(entities), "quotes": list(quotes)}


def ent(text, etype, start, end, score=0.9):
    return {"type": etype, "start": start, "end": end, "text": text[start:end], "score": score}


def test_escapes_and_round_trips_hostile_text():
    text = EVIL
    q_start, q_end = text.index("«"), text.index("»") + 1
    quotes = [{"quote": {"start": q_start, "end": q_end, "text": text[q_start:q_end]},
               "speaker": None, "cue": {"start": 0, "end": 3, "text": "گفت"},
               "speaker_entity": None, "kind": "direct", "score": 0.8}]
    entities = [ent(text, "<script>", text.index("<script>"), text.index("</script>")),
                ent(text, 'P"ER', text.index("نقل"), text.index("نقل") + 3)]
    page = render_articles_html([result(text, entities, quotes, ident="<x>")], title='<title> & "t"')
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;" in page
    assert bodies(page) == [text]
    assert strip_tags(render_marked_text(text, [])) == text


def test_nested_and_crossing_spans_render_once_with_labels():
    text = "ترامپ گفت که روبیو و لاوروف دیدار می کنند"
    r = result(text, [ent(text, "PER", 0, 5), ent(text, "PER", 13, 18), ent(text, "ORG", 15, 27)],
               [{"quote": {"start": 10, "end": len(text)}, "speaker": {"start": 0, "end": 5},
                 "cue": {"start": 6, "end": 9}, "speaker_entity": {"start": 0, "end": 5, "text": "ترامپ"},
                 "kind": "indirect", "score": 0.7}])
    page = render_articles_html([r], "t")
    assert bodies(page) == [text]
    # Every entity has exactly one fragment with the label position (class "last").
    assert page.count('class="ent t-PER first last"') + page.count('class="ent t-PER last"') == 2
    assert len(re.findall(r'class="ent t-ORG[^"]*\blast\b', page)) == 1
    assert len(re.findall(r'class="quote indirect first', page)) == 1
    assert 'data-speaker="ترامپ"' in page


def test_paragraphs_legend_and_self_contained():
    text = "بند اول\n\nبند دوم در تهران"
    page = render_articles_html([result(text, [ent(text, "LOC", 17, 22)])], "عنوان")
    assert bodies(page) == [text]
    assert 'dir="rtl"' in page and "white-space:pre-wrap" in page
    assert 'class="legend"' in page and ">LOC<" in page
    for external in ("<script", "<link", "http://", "https://", "@import", "url("):
        assert external not in page


def test_bad_offsets_are_clipped_or_dropped():
    text = "متن کوتاه"
    r = result(text, [ent(text, "PER", -3, 2), ent(text, "LOC", 5, 99), ent(text, "ORG", 4, 4),
                      ent(text, "ORG", 6, 2)])
    assert bodies(render_articles_html([r], "t")) == [text]


def test_empty_input():
    page = render_articles_html([], "هیچ")
    assert "<article" not in page and "<title>هیچ</title>" in page


spans = st.tuples(st.integers(-2, 25), st.integers(-2, 25), st.sampled_from(["ent", "quote", "speaker", "cue"]))


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet="اب پ\n<&\">'", max_size=20), raw=st.lists(spans, max_size=8))
def test_any_spans_round_trip_and_balance(text, raw):
    marks = [Mark(s, e, kind, kind) for s, e, kind in raw]
    out = render_marked_text(text, marks)
    assert strip_tags(out) == text
    assert out.count("<span") == out.count("</span>")
    # Spans are properly nested: a tag-stack walk never underflows.
    depth = 0
    for tag in re.findall(r"</?span", out):
        depth += 1 if tag == "<span" else -1
        assert depth >= 0
