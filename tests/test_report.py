"""Report writers: atomic files, CoNLL output, escaping, self-contained HTML, well-formed SVG."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from parstag.training import report as rep
from parstag.training.evaluate import evaluate_model

FIXTURES = Path(__file__).parent / "fixtures"


def _factory(model_dir):
    # Tags every word of every sentence as its own PER entity: right, wrong, boundary and spurious at once.
    return lambda sentences: [["B-PER"] * len(s) for s in sentences]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    run = tmp_path_factory.mktemp("run")
    # As the trainer writes it: frequent train-loss entries, and evaluation entries.
    logs = [{"step": s, "epoch": s / 10, "train_loss": 2 / s, "lr": 1e-5} for s in range(1, 12)]
    evals = [{"step": s, "epoch": s / 10, "train_loss": 2 / s, "dev_loss": 2.5 / s, "dev_f1": 1 - 1 / s}
             for s in (1, 2, 5, 10)]  # fmt: skip
    (run / "history.json").write_text(json.dumps(sorted(logs + evals, key=lambda r: r["step"])))
    ev = evaluate_model(str(run / "model"), [str(FIXTURES / "eval_small.conll")], predictor_factory=_factory)
    return ev.report


def test_atomic_write_replaces_and_cleans_up(tmp_path):
    target = tmp_path / "a.txt"
    rep.write_text_atomic(target, "old")
    rep.write_text_atomic(target, "نو")
    assert target.read_text("utf-8") == "نو"
    with pytest.raises(TypeError):
        rep.write_text_atomic(target, 123)  # fails mid-write: the old file stays, no temp file is left
    assert target.read_text("utf-8") == "نو" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_conll_one_column_per_field(tmp_path):
    path = rep.write_conll(tmp_path / "p.conll", [["می آورد", " ", "x"], ["y"]], [["O", "O", "B-PER"], ["O"]],
                           [["O", "O", "O"], ["B-LOC"]])  # fmt: skip
    assert path.read_text("utf-8") == "می\u200cآورد O O\n_ O O\nx B-PER O\n\ny O B-LOC\n\n"


def test_markdown(report):
    md = rep.render_markdown(report)
    assert md.startswith("# parstag evaluation report")
    assert "| type | precision | recall | F1 | support |" in md
    assert "| PER | " in md and "| no gold |" in md and "\\<script\\>" in md
    assert "## Learning curves" in md and "4 evaluations, last step 11, best dev F1 90.00 at step 10" in md
    assert "quote" not in md.lower()


def test_html_escaped_and_self_contained(report):
    page = rep.render_html(report)
    assert "<script" not in page and "&lt;script&gt;" in page
    # Nothing fetched: the only URL allowed is the SVG namespace, which is a name, not a request.
    for external in ("<link", "https://", "@import", "url(", "src=", "<img", "<iframe"):
        assert external not in page
    assert page.replace('xmlns="http://www.w3.org/2000/svg"', "").count("http://") == 0
    assert page.count("<svg") == 3  # F1 bars, loss curve, dev F1 curve
    assert 'dir="rtl"' in page and "Where gold entities went" in page


def test_svgs_are_well_formed_and_escaped():
    bars = rep.svg_bars([("<PER>", 0.5, 0.4, 0.7), ("micro avg", 1.2, None, None)], 'a & "b"')
    lines = rep.svg_lines({"train<loss>": [(1, 2.0), (2, 1.0)], "dev": [(2, 1.5)], "none": []}, "t&", "step")
    empty = rep.svg_lines({}, "nothing", "step")
    for svg in (bars, lines, empty):
        ET.fromstring(svg)  # raises on malformed XML or unescaped text
    assert "&lt;PER&gt;" in bars and ">none<" not in lines and "no data" in empty


def test_sections_are_pluggable(report, monkeypatch):
    # The quote evaluation will add itself as one more SECTIONS entry keyed on report["quotes"].
    extra = ("quotes", lambda r: ["## Quotes", ""] if r.get("quotes") else [],
             lambda r: "<h2>Quotes</h2>" if r.get("quotes") else "")
    monkeypatch.setattr(rep, "SECTIONS", [*rep.SECTIONS, extra])
    assert "## Quotes" not in rep.render_markdown(report)
    assert "## Quotes" in rep.render_markdown({**report, "quotes": {"x": 1}})
    assert "<h2>Quotes</h2>" in rep.render_html({**report, "quotes": {"x": 1}})
