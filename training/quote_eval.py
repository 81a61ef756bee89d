"""Scoring quote attribution against the gold records (data/quotes/gold/*.jsonl).

The problem.  A quote can be half right in several independent ways: the span found but cut a word short,
the span right but the speaker wrong, the speaker a pronoun that resolves to the right person.  One number
hides which; so we report, on the same predictions:

* **roles**: seqeval, strict IOB2, per role (QUOTE, SPEAKER, CUE) over word-level BIO tags.  Words come
  from ``segment.tokenize_words`` on the whole article; a word is tagged with a span it overlaps.  Each
  role is its own tag sequence, so overlapping predicted spans of different roles cannot clobber each
  other.  Predicted role spans are those that appear in the predicted quotes.
* **quote detection** at two strengths.  *exact*: the same content words (words with a letter or digit:
  a difference only in a final ``.`` or a quotation mark is not a different quote).  *50%*: content-word
  overlap / max(len gold, len pred) >= 0.5.  Matching is one-to-one and greedy, best overlap first.
* **speaker accuracy** on the 50%-matched quotes: right if the predicted speaker span overlaps the gold
  speaker span, or the predicted speaker entity is the gold entity (overlapping spans, or the same name
  after folding ي/ك/ZWNJ: a later mention of the same name is the same entity).  A gold quote with no
  speaker and no entity is right only when the prediction has neither.
* **end to end**: a quote counts when it is matched at 50% AND its speaker is right; P over predicted
  quotes, R over gold quotes.

``rule_baseline`` gives the rule annotator's predictions, so a report can put model and baseline side by
side (``quote_report_section``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from parstag.inference.quotes import Quote, fold, make_span
from parstag.inference.segment import tokenize_words

from .corpora import span_tags

ROLES = ("QUOTE", "SPEAKER", "CUE")
_ROLE_KEYS = {"QUOTE": "quote", "SPEAKER": "speaker", "CUE": "cue"}


def load_records(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def record_to_quotes(record: dict) -> list[Quote]:
    """A gold/silver record -> the linker's quote dicts (speaker_entity = the record's entity)."""
    text, by_id = record["text"], {sp["id"]: sp for sp in record["spans"]}

    def span(sid):
        return make_span(text, by_id[sid]["start"], by_id[sid]["end"]) if sid is not None else None

    return [{"quote": span(q["quote"]), "speaker": span(q.get("speaker")), "cue": span(q.get("cue")),
             "speaker_entity": dict(q["entity"]) if q.get("entity") else None, "kind": q["kind"], "score": 1.0}
            for q in record["quotes"]]


def _prf(tp: int, n_pred: int, n_gold: int) -> dict:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "n_pred": n_pred, "n_gold": n_gold}


def _overlaps(a: dict | None, b: dict | None) -> bool:
    return a is not None and b is not None and a["start"] < b["end"] and b["start"] < a["end"]


def _same_entity(g: dict | None, p: dict | None, text: str) -> bool:
    if g is None or p is None:
        return False
    if _overlaps(g, p):
        return True
    return fold(text[g["start"]:g["end"]]) == fold(text[p["start"]:p["end"]])


def speaker_right(gold: dict, pred: dict, text: str) -> bool:
    """Speaker attribution of one matched pair (module docstring)."""
    gs, ge = gold.get("speaker"), gold.get("speaker_entity")
    ps, pe = pred.get("speaker"), pred.get("speaker_entity")
    if gs is None and ge is None:
        return ps is None and pe is None
    if _overlaps(gs, ps):
        return True
    return ge is not None and (_same_entity(ge, pe, text) or _overlaps(ge, ps))


# ----------------------------------------------------------------------------------------- matching


class _Words:
    """Content-word indices of a text, for turning spans into word sets."""

    def __init__(self, text: str):
        self.words = tokenize_words(text)
        self.content = [any(ch.isalnum() for ch in text[s:e]) for s, e in self.words]

    def of(self, span: dict) -> frozenset[int]:
        return frozenset(i for i, (s, e) in enumerate(self.words)
                         if self.content[i] and s < span["end"] and span["start"] < e)


def match_quotes(words: _Words, gold: Sequence[dict], pred: Sequence[dict],
                 threshold: float = 0.5) -> list[tuple[int, int, float]]:
    """One-to-one greedy matching ``[(gold index, pred index, ratio)]``, best ratio first.

    ratio = |common content words| / max(|gold|, |pred|); pairs below ``threshold`` are not matched.
    """
    gw = [words.of(q["quote"]) for q in gold]
    pw = [words.of(q["quote"]) for q in pred]
    cands = []
    for i, g in enumerate(gw):
        for j, p in enumerate(pw):
            common = len(g & p)
            if common:
                ratio = common / max(len(g), len(p))
                if ratio >= threshold:
                    cands.append((ratio, -abs(i - j), i, j))
    cands.sort(reverse=True)
    used_g, used_p, out = set(), set(), []
    for ratio, _, i, j in cands:
        if i not in used_g and j not in used_p:
            used_g.add(i)
            used_p.add(j)
            out.append((i, j, ratio))
    return out


# ------------------------------------------------------------------------------------------- roles


def _role_tags(words: _Words, spans: Iterable[dict], role: str) -> list[str]:
    # The readers' span -> word tagging, without their checks: predicted spans may overlap or cut words.
    return span_tags(words.words, sorted({(s["start"], s["end"], role) for s in spans}))


def _role_spans(quotes: Sequence[dict], role: str) -> list[dict]:
    return [q[_ROLE_KEYS[role]] for q in quotes if q.get(_ROLE_KEYS[role]) is not None]


def role_scores(gold_records: Sequence[dict], predicted: Mapping[str, Sequence[dict]]) -> dict:
    """seqeval (strict IOB2) per role and micro over the three roles."""
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    y_true, y_pred = [], []
    for rec in gold_records:
        words = _Words(rec["text"])
        gold_spans = {r: [] for r in ROLES}
        for sp in rec["spans"]:
            gold_spans[sp["label"]].append(sp)
        pred = predicted.get(rec["id"], [])
        for role in ROLES:
            y_true.append(_role_tags(words, gold_spans[role], role))
            y_pred.append(_role_tags(words, _role_spans(pred, role), role))
    rep = classification_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    out = {}
    for role in ROLES + ("micro avg",):
        r = rep.get(role, {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0})
        out[role.split()[0]] = {"precision": float(r["precision"]), "recall": float(r["recall"]),
                                "f1": float(r["f1-score"]), "support": int(r["support"])}
    return out


# ------------------------------------------------------------------------------------------- score


def score_quotes(gold_records: Sequence[dict], predicted: Mapping[str, Sequence[dict]]) -> dict:
    """All figures of the module docstring.  ``predicted``: record id -> linker-format quote dicts."""
    n_gold = n_pred = 0
    tp_exact = tp_50 = speaker_ok = e2e = kind_ok = 0
    for rec in gold_records:
        text = rec["text"]
        words = _Words(text)
        gold = record_to_quotes(rec)
        pred = list(predicted.get(rec["id"], []))
        n_gold += len(gold)
        n_pred += len(pred)
        tp_exact += len(match_quotes(words, gold, pred, threshold=1.0))
        for i, j, _ in match_quotes(words, gold, pred, threshold=0.5):
            tp_50 += 1
            ok = speaker_right(gold[i], pred[j], text)
            speaker_ok += ok
            e2e += ok
            kind_ok += gold[i]["kind"] == pred[j].get("kind")
    return {
        "articles": len(gold_records),
        "gold_quotes": n_gold,
        "pred_quotes": n_pred,
        "roles": role_scores(gold_records, predicted),
        "quote_exact": _prf(tp_exact, n_pred, n_gold),
        "quote_50": _prf(tp_50, n_pred, n_gold),
        "speaker_accuracy": speaker_ok / tp_50 if tp_50 else 0.0,
        "kind_accuracy": kind_ok / tp_50 if tp_50 else 0.0,
        "end_to_end": _prf(e2e, n_pred, n_gold),
    }


def rule_baseline(gold_records: Iterable[dict]) -> dict[str, list[dict]]:
    """The rule annotator's quotes for each record, without NER (nothing from the gold is used)."""
    from parstag.inference.quote_rules import annotate_quotes

    return {rec["id"]: annotate_quotes(rec["text"]) for rec in gold_records}


def quote_report_section(scores_model: dict | None, scores_baseline: dict | None) -> str:
    """A markdown section: model and rule baseline side by side (either may be None)."""
    cols = [(name, s) for name, s in (("model", scores_model), ("rule baseline", scores_baseline)) if s]
    if not cols:
        return "## Quote attribution\n\nNo scores.\n"
    ref = cols[0][1]

    def pct(x: float) -> str:
        return f"{100 * x:.1f}"

    def prf(key: str):
        return lambda s: " / ".join(pct(s[key][k]) for k in ("precision", "recall", "f1"))

    rows = [
        ("quote P / R / F1 (exact)", prf("quote_exact")),
        ("quote P / R / F1 (50% overlap)", prf("quote_50")),
        ("speaker accuracy (matched quotes)", lambda s: pct(s["speaker_accuracy"])),
        ("end-to-end P / R / F1", prf("end_to_end")),
        ("kind accuracy (matched quotes)", lambda s: pct(s["kind_accuracy"])),
    ] + [(f"{role} F1 (seqeval strict)", (lambda r: lambda s: pct(s["roles"][r]["f1"]))(role))
         for role in ROLES + ("micro",)]
    lines = ["## Quote attribution", "",
             f"{ref['articles']} articles, {ref['gold_quotes']} gold quotes. Definitions: training/quote_eval.py.", "",
             "| metric | " + " | ".join(name for name, _ in cols) + " |",
             "|---|" + "---|" * len(cols)]
    for label, fn in rows:
        lines.append(f"| {label} | " + " | ".join(fn(s) for _, s in cols) + " |")
    lines.append("| predicted quotes | " + " | ".join(str(s["pred_quotes"]) for _, s in cols) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m parstag.training.quote_eval data/quotes/gold/dev.jsonl [--pred PRED.jsonl] [--json OUT]``.

    PRED.jsonl: one ``{"id": ..., "quotes": [linker-format quotes]}`` per line (the tagger's output).
    """
    import argparse

    p = argparse.ArgumentParser(description="Score quote attribution; always includes the rule baseline.")
    p.add_argument("gold", type=Path)
    p.add_argument("--pred", type=Path, default=None)
    p.add_argument("--json", type=Path, default=None, help="write the scores here")
    p.add_argument("--ids", default=None, help="score only these record ids (comma-separated)")
    p.add_argument("--exclude-ids", default=None, help="score all records but these (comma-separated)")
    args = p.parse_args(argv)
    gold = load_records(args.gold)
    if args.ids:
        gold = [r for r in gold if r["id"] in set(args.ids.split(","))]
    if args.exclude_ids:
        gold = [r for r in gold if r["id"] not in set(args.exclude_ids.split(","))]
    base = score_quotes(gold, rule_baseline(gold))
    model = None
    if args.pred:
        model = score_quotes(gold, {r["id"]: r["quotes"] for r in load_records(args.pred)})
    print(quote_report_section(model, base))
    if args.json:
        args.json.write_text(json.dumps({"model": model, "baseline": base}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
