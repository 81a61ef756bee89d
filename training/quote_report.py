"""Quote attribution in ``parstag evaluate``: model and rule baseline side by side on quote gold data.

``--data data/quotes/gold/dev.jsonl`` (records ``{"id", "text", "spans", "quotes", ...}``) is not NER
data: the gold annotates quotes, speakers and cues, no entities, so no NER table is made for it.
Instead the model's ``Tagger`` runs over each record's text (the linker uses its entities to name
speakers), its ``quotes`` are scored with ``quote_eval.score_quotes``, and the rule annotator
(``quote_eval.rule_baseline``) is scored on the same records::

    report["quotes"] = {"model": scores, "baseline": scores, "model_has_quote_head": bool, "data": path, ...}

A model without a quote head predicts no quotes; its scores are then all zero and the report says so
rather than presenting the zeros as a result (the model is not even run over the texts).

``evaluate.evaluate_model`` calls ``split_quote_specs`` and ``evaluate_quotes``; ``report.SECTIONS``
holds ``md_quotes`` and ``html_quotes``.  ``report`` is imported lazily (it imports this module).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

NO_HEAD = "The model has no quote head; only the rule baseline is scored."
NO_NER = "NER is not scored on this data: the quote gold annotates quotes, speakers and cues, not entities."


def is_quote_data(spec: str, fmt: str | None = None) -> bool:
    """A file (``.jsonl``/``.json`` or JSON lines) whose first record carries ``"quotes"``."""
    path = Path(spec)
    if fmt not in (None, "jsonl") or not path.is_file():
        return False
    try:
        with path.open(encoding="utf-8") as f:
            first = next((line for line in f if line.strip()), "")
        record = json.loads(first) if first.lstrip().startswith("{") else None
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(record, dict) and "quotes" in record and "text" in record


def split_quote_specs(specs: Sequence[str], fmt: str | None = None) -> tuple[list[str], list[str]]:
    """(NER data specs, quote gold files), each in the order given."""
    quotes = [s for s in dict.fromkeys(specs) if is_quote_data(s, fmt)]
    return [s for s in specs if s not in quotes], quotes


def predict_quotes(model_dir: str, records: Sequence[dict], *, device: str = "auto", batch_size: int = 32,
                   max_length: int | None = None, quote_min_score: float | None = None,
                   own_quote_min_score: float | None = None,
                   ) -> tuple[bool, dict[str, list[dict]], int, dict]:  # fmt: skip
    """(model has a quote head, record id -> predicted quotes, number of predicted entities, the quote score
    thresholds used: ``{"quote_min_score", "own_quote_min_score"}``).  The thresholds: the tagger's (None:
    the model's own settings)."""
    from parstag.inference.tagger import Tagger

    kwargs = {"max_length": max_length} if max_length else {}
    tagger = Tagger.from_pretrained(model_dir, device=device, batch_size=batch_size, quote_min_score=quote_min_score,
                                    own_quote_min_score=own_quote_min_score, **kwargs)  # fmt: skip
    used = {"quote_min_score": tagger.quote_min_score, "own_quote_min_score": tagger.own_quote_min_score}
    if tagger.predictor.quote_labels is None:
        return False, {}, 0, used
    predicted, entities = {}, 0
    for result in tagger.stream({"id": r["id"], "text": r["text"]} for r in records):
        predicted[result["id"]] = result["quotes"]
        entities += len(result["entities"])
    return True, predicted, entities, used


def evaluate_quotes(model_dir: str, paths: Sequence[str], *, device: str = "auto", batch_size: int = 32,
                    max_length: int | None = None, quote_min_score: float | None = None,
                    own_quote_min_score: float | None = None) -> dict | None:  # fmt: skip
    """``report["quotes"]`` for one quote gold file (None when ``paths`` is empty)."""
    from .quote_eval import load_records, rule_baseline, score_quotes

    if not paths:
        return None
    if len(paths) > 1:
        raise ValueError(f"one quote gold file at a time, got {len(paths)}: {' '.join(paths)}")
    if "{fold}" in model_dir:
        raise ValueError("quote data is scored with one model: --model must not contain {fold}")
    records = load_records(paths[0])
    has_head, predicted, entities, used = predict_quotes(model_dir, records, device=device, batch_size=batch_size,
                                                         max_length=max_length, quote_min_score=quote_min_score,
                                                         own_quote_min_score=own_quote_min_score)  # fmt: skip
    return {
        "data": str(paths[0]), "model_dir": model_dir, "model_has_quote_head": has_head,
        "articles": len(records), "predicted_entities": entities, **used,
        "model": score_quotes(records, predicted), "baseline": score_quotes(records, rule_baseline(records)),
    }  # fmt: skip


def summary_lines(report: dict) -> list[str]:
    """One console line per scorer (for ``parstag evaluate``)."""
    q = report.get("quotes")
    if not _renderable(q):
        return []
    out = []
    for name, s in (("model", q["model"] if q["model_has_quote_head"] else None), ("rule baseline", q["baseline"])):
        if s is not None:
            e = s["end_to_end"]
            out.append(f"quotes {q['data']} ({name}): end-to-end P {100 * e['precision']:.2f} "
                       f"R {100 * e['recall']:.2f} F1 {100 * e['f1']:.2f}")  # fmt: skip
    if not q["model_has_quote_head"]:
        out.append(f"quotes {q['data']}: {NO_HEAD}")
    return out


# -- rendering --------------------------------------------------------------------------------------------


def _renderable(q) -> bool:
    return isinstance(q, dict) and isinstance(q.get("baseline"), dict) and "model_has_quote_head" in q


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _prf(key: str):
    return lambda s: " / ".join(_pct(s[key][k]) for k in ("precision", "recall", "f1"))


def _rows() -> list[tuple[str, object]]:
    """(label, scores -> cell), the rows of ``quote_eval.quote_report_section``."""
    from .quote_eval import ROLES

    return [
        ("quote P / R / F1 (exact)", _prf("quote_exact")),
        ("quote P / R / F1 (50% overlap)", _prf("quote_50")),
        ("speaker accuracy (matched quotes)", lambda s: _pct(s["speaker_accuracy"])),
        ("end-to-end P / R / F1", _prf("end_to_end")),
        ("kind accuracy (matched quotes)", lambda s: _pct(s["kind_accuracy"])),
        *((f"{role} F1 (seqeval strict)", (lambda r: lambda s: _pct(s["roles"][r]["f1"]))(role))
          for role in (*ROLES, "micro")),
        ("predicted quotes", lambda s: str(s["pred_quotes"])),
    ]  # fmt: skip


def _facts(q: dict) -> list[str]:
    return [f"data {q['data']}: {q['baseline']['articles']} articles, {q['baseline']['gold_quotes']} gold quotes",
            f"model {q.get('model_dir', '')}: " + ("quote head; predicted quotes linked to its entities "
                                                   f"({q.get('predicted_entities', 0)} predicted entities)"
                                                   + (f"; quotes scoring below {q['quote_min_score']:g} dropped"
                                                      if q.get("quote_min_score") else "")
                                                   + (f"; quotes the rules did not find scoring below "
                                                      f"{q['own_quote_min_score']:g} dropped"
                                                      if q.get("own_quote_min_score") is not None else "")
                                                   if q["model_has_quote_head"] else "no quote head")]  # fmt: skip


def md_quotes(report: dict) -> list[str]:
    from . import report as rep
    from .quote_eval import quote_report_section

    q = report.get("quotes")
    if not _renderable(q):
        return []
    has_head = q["model_has_quote_head"]
    section = quote_report_section(q["model"] if has_head else None, q["baseline"]).rstrip("\n").split("\n")
    table = [line for line in section if line.startswith("|")]  # its title and counts are in the facts
    out = ["## Quote attribution", ""] + [f"- {rep.md(f)}" for f in _facts(q)] + [""]
    if not has_head:
        out += [f"**{NO_HEAD}**", ""]
    return out + [rep.md(NO_NER) + " Definitions: training/quote\\_eval.py.", ""] + table + [""]


def html_quotes(report: dict) -> str:
    from . import report as rep

    q = report.get("quotes")
    if not _renderable(q):
        return ""
    has_head = q["model_has_quote_head"]
    cols = ([("model", q["model"])] if has_head else []) + [("rule baseline", q["baseline"])]
    out = ["<h2>Quote attribution</h2><ul>" + "".join(f"<li>{rep.esc(f)}</li>" for f in _facts(q)) + "</ul>"]
    if not has_head:
        out.append(f'<p class="note">{rep.esc(NO_HEAD)}</p>')
    out.append(f"<p>{rep.esc(NO_NER)} Definitions: training/quote_eval.py.</p>")
    rows = [[rep.esc(label), *(rep.esc(fn(s)) for _, s in cols)] for label, fn in _rows()]
    out.append(rep._html_table(["metric", *(name for name, _ in cols)], rows))
    return "".join(out)
