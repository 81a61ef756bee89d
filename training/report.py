"""Evaluation reports as files: JSON for machines, Markdown for a README or PR, one HTML page for people.

``evaluate.evaluate_model`` produces one JSON-able dict; this module only presents it.  The HTML page is
self-contained (inline CSS, charts as inline SVG drawn here: no plotting library, nothing fetched) and
everything taken from a corpus or a model (tokens, ids, type names, paths) is escaped, since a token may
well be ``<script>``.  Files are written atomically (temporary file in the same directory, then
``os.replace``), so a reader never sees half a report.

A report is a list of sections; each is a (report key, markdown renderer, html renderer) triple in
``SECTIONS`` that skips itself when its key is empty, so quote evaluation can be added as one more entry.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from parstag.inference.html_view import Mark, legend_html, page, render_marked_text, style_rules, type_class, type_colour
from parstag.inference.fileio import write_text_atomic
from parstag.inference.labels import ENTITY_TYPES
from parstag.inference.segment import join_words

from .quote_report import html_quotes, md_quotes

# -- files ------------------------------------------------------------------------------------------------


def write_json(path: str | Path, obj) -> Path:
    return write_text_atomic(path, json.dumps(obj, ensure_ascii=False, indent=1) + "\n")


def conll_token(token: str) -> str:
    """A token as one whitespace-free column: inner spaces (PEYMA's lost ZWNJ) become ZWNJ, empty is ``_``."""
    return "\u200c".join(token.split()) or "_"


def write_conll(path: str | Path, tokens, gold, pred) -> Path:
    """``token gold pred`` per line, a blank line after each sentence (what conlleval reads)."""
    lines = []
    for toks, gs, ps in zip(tokens, gold, pred):
        lines += [f"{conll_token(t)} {g} {p}" for t, g, p in zip(toks, gs, ps)]
        lines.append("")
    return write_text_atomic(path, "\n".join(lines) + ("\n" if lines else ""))


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "data"


def iter_units(report: dict) -> Iterator[dict]:
    """Every scored (model, data) entry of a report, fold members included."""
    for entry in report.get("ner") or []:
        yield from entry["folds"] if entry["kind"] == "folds" else [entry]


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>&#~!])")

CONFUSION_NOTE = (
    "Where gold entities went. Rows: gold type. Columns: predicted type with exact boundaries; 'boundary': "
    "same type, other boundaries; 'missed': no overlapping prediction. Row 'no gold': predictions that "
    "overlap no gold entity."
)
SCORE_NOTE = "(an entity counts only with exact type and boundaries), in percent."


def md(text) -> str:
    """Markdown-escape corpus text (CommonMark backslash escapes; newlines become spaces)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def pct(x: float) -> str:
    return f"{100 * x:.2f}"


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def _span_list(tokens: Sequence[str], spans) -> str:
    return ", ".join(f"{t} «{' '.join(tokens[s:e])}»" for t, s, e in spans) or "none"


def _spread_cell(d: dict) -> str:
    return f"{pct(d['mean'])} ± {pct(d['std'])} ({pct(d['min'])}–{pct(d['max'])})"


_HEADERS = {"folds": ["type", "F1 mean ± std (min–max)", "precision (mean)", "recall (mean)", "support (mean)"],
            "single": ["type", "precision", "recall", "F1", "support"]}


def _score_rows(entry: dict) -> list[tuple[str, list[str]]]:
    """(label, cells) for a single unit's or a fold group's score table (headers in ``_HEADERS``)."""
    if entry["kind"] == "folds":
        s = entry["summary"]
        rows = [(t, m) for t, m in s["per_type"].items()] + [(f"{a} avg", s[a]) for a in ("micro", "macro")]
        return [(label, [_spread_cell(m["f1"]), pct(m["precision"]["mean"]), pct(m["recall"]["mean"]),
                         f"{m['support']['mean']:.0f}"]) for label, m in rows]  # fmt: skip
    s = entry["scores"]
    rows = list(s["per_type"].items()) + [(f"{a} avg", s[a]) for a in ("micro", "macro")]
    return [(label, [pct(m["precision"]), pct(m["recall"]), pct(m["f1"]), str(m["support"])]) for label, m in rows]


def ordered_types(types) -> list[str]:
    """Entity types in the canonical order, unknown ones after them alphabetically."""
    return sorted(set(types), key=lambda t: (ENTITY_TYPES.index(t) if t in ENTITY_TYPES else len(ENTITY_TYPES), t))


def summed_confusion(entries: Sequence[dict]) -> dict:
    """Confusion counts added over units (fold test sets are disjoint, so their counts add up)."""
    types = ordered_types(t for e in entries for t in e["confusion"]["types"])
    cols = [*types, "boundary", "missed"]
    matrix = {g: {c: sum(e["confusion"]["matrix"].get(g, {}).get(c, 0) for e in entries) for c in cols} for g in types}
    spurious = {t: sum(e["confusion"]["spurious"].get(t, 0) for e in entries) for t in types}
    return {"types": types, "columns": cols, "matrix": matrix, "spurious": spurious}


def _members(entry: dict) -> list[dict]:
    return entry["folds"] if entry["kind"] == "folds" else [entry]


def _title(entry: dict) -> str:
    n = len(entry.get("folds", []))
    return f"NER: {entry['name']}" + (f": {n} folds, each scored with its own model" if n else "")


def _facts(entry: dict) -> list[str]:
    facts = []
    for m in _members(entry):
        dropped = ", ".join(f"{t} {n}" for t, n in m["ignored_predictions"].items())
        facts.append(f"{m['name']}: model {m['model']}; {m['sentences']} sentences, {m['tokens']} tokens; "
                     f"annotated types {' '.join(m['annotated_types']) or 'none'}"
                     + (f"; predicted entities of other types set to O: {dropped}" if dropped else ""))  # fmt: skip
    return facts


# -- Markdown ---------------------------------------------------------------------------------------------


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(r) + " |" for r in [headers, ["---"] * len(headers), *rows]]


def _md_ner(report: dict) -> list[str]:
    out: list[str] = []
    for entry in report["ner"]:
        out += [f"## {md(_title(entry))}", ""] + [f"- {md(f)}" for f in _facts(entry)] + [""]
        if entry.get("protocol"):
            out += [md(entry["protocol"]), ""]
        out += _md_table(_HEADERS[entry["kind"]], [[md(label), *cells] for label, cells in _score_rows(entry)]) + [""]
        if entry["kind"] == "folds":
            out += _md_table(["fold", "micro P", "micro R", "micro F1"],
                             [[md(f["name"]), pct(f["scores"]["micro"]["precision"]),
                               pct(f["scores"]["micro"]["recall"]), pct(f["scores"]["micro"]["f1"])]
                              for f in entry["folds"]]) + [""]  # fmt: skip
        c = summed_confusion(_members(entry))
        out += [md(CONFUSION_NOTE), ""]
        rows = [[md(g), *(str(c["matrix"][g][col]) for col in c["columns"])] for g in c["types"]]
        rows.append(["no gold", *(str(c["spurious"].get(col, "")) for col in c["columns"])])
        out += _md_table(["gold \\ predicted", *map(md, c["columns"])], rows) + [""]
        errors = [(m["name"], e) for m in _members(entry) for e in m["errors"]]
        if errors:
            out += [f"Sample of sentences with errors ({len(errors)}):", ""]
            for name, e in errors:
                out += [f"- {md(e['id'])}: gold: {md(_span_list(e['tokens'], e['gold']))}; "
                        f"predicted: {md(_span_list(e['tokens'], e['pred']))}",
                        f"  > {md(' '.join(e['tokens']))}"]  # fmt: skip
            out.append("")
    return out


def _md_history(report: dict) -> list[str]:
    out = ["## Learning curves", ""]
    for h in report["history"]:
        evals = [r for r in h["records"] if isinstance(r.get("dev_f1"), (int, float))]
        best = max(evals, key=lambda r: r["dev_f1"], default=None)
        out.append(f"- {md(h['name'])}: {len(evals)} evaluations, last step {h['records'][-1].get('step')}"
                   + (f", best dev F1 {pct(best['dev_f1'])} at step {best.get('step')}" if best else ""))  # fmt: skip
    return out + ["", "(curves in report.html)", ""]


def render_markdown(report: dict) -> str:
    out = ["# parstag evaluation report", "",
           f"Model {md(report['model'])}, {md(report['created'])}. Scores: {md(report['scheme'])} {SCORE_NOTE}", ""]
    for _, to_md, _ in SECTIONS:
        out += to_md(report)
    return "\n".join(out).rstrip() + "\n"


# -- SVG charts -------------------------------------------------------------------------------------------


def svg_bars(rows: Sequence[tuple[str, float, float | None, float | None]], title: str) -> str:
    """Horizontal bars of values in [0, 1] (label, value, low, high); low/high draw a min-max whisker."""
    left, width, bar_h, top = 110, 360, 18, 26
    height = top + len(rows) * (bar_h + 6) + 24
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 70}" height="{height}" '
             f'role="img" aria-label="{esc(title)}" font-family="sans-serif" font-size="12">',
             f'<text x="4" y="16" font-weight="bold">{esc(title)}</text>']  # fmt: skip
    for k in range(0, 11, 2):
        x = left + width * k / 10
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 20}" stroke="#ddd"/>'
                     f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle" fill="#666">{k * 10}</text>')
    for i, (label, value, lo, hi) in enumerate(rows):
        y = top + i * (bar_h + 6)
        colour = type_colour(label) if " " not in label else "#9aa5b1"
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{esc(label)}</text>'
                     f'<rect x="{left}" y="{y}" width="{width * max(0.0, min(1.0, value)):.1f}" height="{bar_h}" '
                     f'fill="{colour}"><title>{esc(label)}: {pct(value)}</title></rect>')  # fmt: skip
        if lo is not None and hi is not None:
            x1, x2, ym = left + width * lo, left + width * hi, y + bar_h / 2
            parts.append(f'<path d="M{x1:.1f} {ym}H{x2:.1f}M{x1:.1f} {y + 4}V{y + bar_h - 4}M{x2:.1f} {y + 4}'
                         f'V{y + bar_h - 4}" stroke="#333" fill="none"/>')
        parts.append(f'<text x="{left + width + 6}" y="{y + 13}">{pct(value)}</text>')
    return "".join(parts) + "</svg>"


_LINE_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values (1, 2, 2.5 or 5 times a power of ten) covering [lo, hi]."""
    raw = (hi - lo) / max(1, n - 1) or 1.0
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [k * step for k in range(math.floor(lo / step), math.ceil(hi / step - 1e-9) + 1)]


def svg_lines(series: dict[str, list[tuple[float, float]]], title: str, xlabel: str,
              ylim: tuple[float, float] | None = None) -> str:  # fmt: skip
    """A line chart of (x, y) series with round-numbered axes and a legend in the title row."""
    series = {k: sorted(v) for k, v in series.items() if v}
    w, h, left, right, top, bottom = 460, 220, 50, 12, 26, 36
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'aria-label="{esc(title)}" font-family="sans-serif" font-size="11">'
             f'<text x="4" y="15" font-weight="bold" font-size="12">{esc(title)}</text>']  # fmt: skip
    points = [p for v in series.values() for p in v]
    if not points:
        return "".join(parts) + f'<text x="{left}" y="{h / 2}">no data</text></svg>'
    xt = nice_ticks(min(p[0] for p in points), max(p[0] for p in points))
    yt = nice_ticks(*(ylim or (min(0.0, *(p[1] for p in points)), max(p[1] for p in points))))
    (x0, x1), (y0, y1) = (xt[0], max(xt[-1], xt[0] + 1)), (yt[0], max(yt[-1], yt[0] + 1e-9))
    px = lambda x: left + (w - left - right) * (x - x0) / (x1 - x0)  # noqa: E731
    py = lambda y: h - bottom - (h - top - bottom) * (y - y0) / (y1 - y0)  # noqa: E731
    for yv in yt:
        parts.append(f'<line x1="{left}" y1="{py(yv):.1f}" x2="{w - right}" y2="{py(yv):.1f}" stroke="#eee"/>'
                     f'<text x="{left - 4}" y="{py(yv) + 4:.1f}" text-anchor="end" fill="#666">{yv:g}</text>')
    parts += [f'<text x="{px(xv):.1f}" y="{h - bottom + 14}" text-anchor="middle" fill="#666">{xv:g}</text>'
              for xv in xt]  # fmt: skip
    parts.append(f'<text x="{(left + w - right) / 2}" y="{h - 4}" text-anchor="middle">{esc(xlabel)}</text>')
    x_legend = w - right
    for i, (name, pts) in enumerate(reversed(series.items())):
        colour = _LINE_COLOURS[(len(series) - 1 - i) % len(_LINE_COLOURS)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>'
                     f'<text x="{x_legend}" y="15" text-anchor="end" fill="{colour}">&#9473; {esc(name)}</text>')
        if len(pts) == 1:  # a single evaluation draws no line
            parts.append(f'<circle cx="{px(pts[0][0]):.1f}" cy="{py(pts[0][1]):.1f}" r="2.5" fill="{colour}"/>')
        x_legend -= 7 * len(name) + 24
    return "".join(parts) + "</svg>"


def history_series(records: Sequence[dict], keys: Sequence[str]) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {k: [] for k in keys}
    for i, r in enumerate(records):
        x = r.get("step", i)
        for k in keys:
            v = r.get(k)
            if isinstance(v, (int, float)) and isinstance(x, (int, float)) and v == v:  # skip None and NaN
                out[k].append((float(x), float(v)))
    return out


# -- HTML -------------------------------------------------------------------------------------------------

REPORT_CSS = """
body{direction:ltr;text-align:left;max-width:72rem;line-height:1.5}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:right} th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
.note{background:#fff8e1;border-left:4px solid #e0a800;padding:.4rem .7rem;font-size:.85rem}
.err{border-top:1px solid #eee;padding:.3rem 0}
.err .sample{line-height:2.2;text-align:start}
.err .ent.bad{outline:2px solid #d62728}
.who{font-size:.75rem;color:#666}
"""


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_confusion(c: dict) -> str:
    def cell(n: int, total: int, good: bool) -> str:
        alpha = 0 if not total else min(1.0, n / total) * 0.6
        rgb = "44,160,44" if good else "214,39,40"
        return f'<span style="display:block;background:rgba({rgb},{alpha:.2f})">{n}</span>'

    rows = []
    for g in c["types"]:
        total = sum(c["matrix"][g].values())
        rows.append([esc(g)] + [cell(c["matrix"][g][col], total, col == g) for col in c["columns"]])
    spur_total = sum(c["spurious"].values())
    rows.append(["no gold"] + [cell(c["spurious"][col], spur_total, False) if col in c["spurious"] else ""
                               for col in c["columns"]])  # fmt: skip
    return _html_table(["gold \\ predicted", *c["columns"]], rows)


def _html_sentence(tokens: Sequence[str], spans, other) -> str:
    """The sentence right-to-left with ``spans`` highlighted; spans absent from ``other`` are outlined."""
    text, words = join_words(tokens)
    marks = [Mark(words[s][0], words[e - 1][1], "ent",
                  f"ent {type_class(t)}" + ("" if [t, s, e] in other else " bad"),
                  (("data-label", t),)) for t, s, e in spans]  # fmt: skip
    return f'<div class="sample" dir="rtl">{render_marked_text(text, marks)}</div>'


def _html_ner(report: dict) -> str:
    out = []
    for entry in report["ner"]:
        out.append(f"<h2>{esc(_title(entry))}</h2><ul>" + "".join(f"<li>{esc(f)}</li>" for f in _facts(entry))
                   + "</ul>")  # fmt: skip
        if entry.get("protocol"):
            out.append(f'<p class="note">{esc(entry["protocol"])}</p>')
        out.append(_html_table(_HEADERS[entry["kind"]], [[esc(label), *cells] for label, cells in _score_rows(entry)]))
        folds = entry["kind"] == "folds"
        s = entry["summary"] if folds else entry["scores"]
        rows = [*s["per_type"].items(), *((f"{a} avg", s[a]) for a in ("micro", "macro"))]
        bars = [(t, m["f1"]["mean"], m["f1"]["min"], m["f1"]["max"]) if folds else (t, m["f1"], None, None)
                for t, m in rows]  # fmt: skip
        out.append(svg_bars(bars, "F1 per type: mean over folds, whisker min–max" if folds else "F1 per type"))
        out.append(f"<p>{esc(CONFUSION_NOTE)}</p>{_html_confusion(summed_confusion(_members(entry)))}")
        errors = [(m["name"], e) for m in _members(entry) for e in m["errors"]]
        if errors:
            out.append(f"<h3>Sample of sentences with errors ({len(errors)})</h3>"
                       "<p>Each sentence twice: gold, then predicted; outlined spans are not in the other.</p>")
            for name, e in errors:
                out.append(f'<div class="err"><div class="who">{esc(name)} · {esc(e["id"])} · gold</div>'
                           f'{_html_sentence(e["tokens"], e["gold"], e["pred"])}'
                           f'<div class="who">predicted</div>{_html_sentence(e["tokens"], e["pred"], e["gold"])}</div>')
    return "".join(out)


def _html_history(report: dict) -> str:
    out = ["<h2>Learning curves</h2>"]
    for h in report["history"]:
        evals = [r for r in h["records"] if "dev_loss" in r or "dev_f1" in r]
        # The trainer logs train loss often and again, averaged, at each evaluation: plot the frequent one.
        logs = [r for r in h["records"] if r not in evals] or h["records"]
        loss = history_series(logs, ["train_loss"]) | history_series(evals, ["dev_loss"])
        out.append(f"<h3>{esc(h['name'])}</h3>" + svg_lines(loss, "loss", "step"))
        if (f1 := history_series(evals, ["dev_f1"]))["dev_f1"]:
            out.append(svg_lines(f1, "dev F1", "step", ylim=(0.0, 1.0)))
    return "".join(out)


def render_html(report: dict) -> str:
    types = ordered_types(t for u in iter_units(report) for t in [*u["confusion"]["types"], *u["annotated_types"]])
    head = (f"<h1>parstag evaluation report</h1><p>Model <code>{esc(report['model'])}</code>, "
            f"{esc(report['created'])}. Scores: {esc(report['scheme'])} {SCORE_NOTE}</p>{legend_html(types, roles=False)}")
    body = head + "".join(to_html(report) for _, _, to_html in SECTIONS)
    return page("parstag evaluation report", body, REPORT_CSS + style_rules(types), direction="ltr")


def _only_if(key: str, render, empty):
    return lambda report: render(report) if report.get(key) else empty


#: (report key, markdown renderer, html renderer).
SECTIONS = [
    ("ner", _only_if("ner", _md_ner, []), _only_if("ner", _html_ner, "")),
    ("quotes", _only_if("quotes", md_quotes, []), _only_if("quotes", html_quotes, "")),
    ("history", _only_if("history", _md_history, []), _only_if("history", _html_history, "")),
]
