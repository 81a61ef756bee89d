"""Entity-level evaluation of a tagger on annotated corpora, and the protocol that keeps it honest.

Scores are seqeval's strict IOB2 entity scores (an entity counts only with exact type and boundaries),
the convention of the published Persian NER results we compare with.  Beyond the numbers, a reader
needs to see *how* the model fails: a confusion matrix over entity types with boundary errors, missed
entities and spurious predictions, and a sample of wrong sentences.

Two protocol traps are handled here rather than left to the user:

* ARMAN ships as three folds whose train_foldK is exactly the other two test folds.  Scoring one model on
  test_fold1+2+3 concatenated scores training data (that is how the published 98.79 / 99.84 arose).
  ARMAN is therefore scored per fold, each fold with the model trained on that fold (``--model`` holds a
  ``{fold}`` placeholder), and reported as mean, min-max and std over the folds; a single model asked
  for all folds is refused.
* A model trained on several corpora predicts types a test corpus does not annotate (PEYMA has no FAC):
  such predictions are neither right nor wrong, so they are set to O before scoring and counted.

Pure scoring (``score_tags``, ``entity_confusion``, ``aggregate``) is cheap and model-free; the trainer
reuses ``score_tags`` for its dev F1.
"""

from __future__ import annotations

import math
import random
import statistics
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from parstag.inference.labels import ENTITY_TYPES, OUTSIDE

Tags = list[list[str]]
Predict = Callable[[list[list[str]]], Tags]

#: Confusion columns: gold entities no prediction touches; same-type predictions with other boundaries.
MISSED, BOUNDARY = "missed", "boundary"


def entity_spans(tags: Sequence[Sequence[str]]) -> list[list[tuple[str, int, int]]]:
    """Per sentence, the entities ``(type, first, last_exclusive)`` exactly as seqeval's strict IOB2 reads
    them (an ``I-X`` that starts an entity is no entity), so that error analysis agrees with the score."""
    from seqeval.scheme import IOB2, Entities

    return [[(e.tag, e.start, e.end) for e in sent] for sent in Entities([list(t) for t in tags], IOB2).entities]


def _clean(x) -> float:
    x = float(x)
    return 0.0 if math.isnan(x) else x


def score_tags(true: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Strict entity-level IOB2 scores: ``{"per_type": {T: {precision, recall, f1, support}}, "micro",
    "macro", "weighted": {precision, recall, f1, support}, "counts": {gold, pred, correct}}``.

    Types are those in gold or predictions (seqeval's convention: a type only predicted has support 0 and
    F1 0, and counts in the macro average).  Empty input gives zeros, never NaN.
    """
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    true, pred = [list(t) for t in true], [list(p) for p in pred]
    if len(true) != len(pred) or any(len(t) != len(p) for t, p in zip(true, pred)):
        raise ValueError("gold and predicted tags differ in number of sentences or words")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 0/0 on absent types: zero_division=0 is the answer we want
        raw = classification_report(true, pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0) \
            if true else {}  # seqeval rejects an empty list

    def row(d: dict) -> dict:
        return {"precision": _clean(d["precision"]), "recall": _clean(d["recall"]),
                "f1": _clean(d["f1-score"]), "support": int(d["support"])}  # fmt: skip

    averages = {"micro avg": "micro", "macro avg": "macro", "weighted avg": "weighted"}
    per_type = {k: row(v) for k, v in raw.items() if k not in averages}
    out = {"per_type": dict(sorted(per_type.items(), key=lambda kv: _type_order(kv[0])))}
    for key, name in averages.items():
        out[name] = row(raw[key]) if key in raw else {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    gold_sp, pred_sp = entity_spans(true), entity_spans(pred)
    correct = sum(len(set(g) & set(p)) for g, p in zip(gold_sp, pred_sp))
    out["counts"] = {"gold": sum(map(len, gold_sp)), "pred": sum(map(len, pred_sp)), "correct": correct}
    return out


def _type_order(t: str) -> tuple[int, str]:
    return (ENTITY_TYPES.index(t) if t in ENTITY_TYPES else len(ENTITY_TYPES), t)


def entity_confusion(true: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Where each gold entity went, and predictions that match no gold entity.

    Every gold entity is counted once in its row ``matrix[gold][col]``: ``col`` is its own type for an
    exact match, ``"boundary"`` when a prediction of the same type overlaps it with other boundaries,
    another type when the best overlapping prediction has that type (exact span first, then the largest
    overlap), ``"missed"`` when no prediction touches it.  Rows sum to the support.  ``spurious[T]``
    counts predictions of type T that overlap no gold entity (the "no gold" row).
    """
    gold_sp, pred_sp = entity_spans(true), entity_spans(pred)
    types = sorted({t for s in gold_sp + pred_sp for t, _, _ in s}, key=_type_order)
    columns = [*types, BOUNDARY, MISSED]
    matrix = {g: dict.fromkeys(columns, 0) for g in types}
    spurious = {t: 0 for t in types}
    for gold, preds in zip(gold_sp, pred_sp):
        for gt, gs, ge in gold:
            overlapping = [(pt, ps, pe) for pt, ps, pe in preds if ps < ge and gs < pe]
            exact = [pt for pt, ps, pe in overlapping if (ps, pe) == (gs, ge)]
            if exact:
                col = gt if gt in exact else exact[0]
            elif any(pt == gt for pt, _, _ in overlapping):
                col = BOUNDARY
            elif overlapping:
                col = max(overlapping, key=lambda p: (min(ge, p[2]) - max(gs, p[1]), -p[1]))[0]
            else:
                col = MISSED
            matrix[gt][col] += 1
        for pt, ps, pe in preds:
            if not any(ps < ge and gs < pe for _, gs, ge in gold):
                spurious[pt] += 1
    return {"types": types, "columns": columns, "matrix": matrix, "spurious": spurious}


def restrict_types(tags: Sequence[Sequence[str]], allowed: Sequence[str]) -> tuple[Tags, dict[str, int]]:
    """Predicted tags of types outside ``allowed`` become O; returns the new tags and the number of
    entities dropped per type (a corpus that does not annotate a type cannot judge it)."""
    allowed_set, dropped = set(allowed), {}
    out = [[t if t[:2] not in ("B-", "I-") or t[2:] in allowed_set else OUTSIDE for t in sent] for sent in tags]
    for sent in tags:
        for t in sent:
            if t.startswith("B-") and t[2:] not in allowed_set:
                dropped[t[2:]] = dropped.get(t[2:], 0) + 1
    return out, dict(sorted(dropped.items(), key=lambda kv: _type_order(kv[0])))


def sample_errors(ids: Sequence[str], tokens: Sequence[Sequence[str]], true: Sequence[Sequence[str]],
                  pred: Sequence[Sequence[str]], k: int = 20, seed: int = 0) -> list[dict]:  # fmt: skip
    """Up to ``k`` sentences whose entities differ, chosen at random (fixed seed), in corpus order."""
    gold_sp, pred_sp = entity_spans(true), entity_spans(pred)
    wrong = [i for i, (g, p) in enumerate(zip(gold_sp, pred_sp)) if set(g) != set(p)]
    chosen = sorted(random.Random(seed).sample(wrong, min(k, len(wrong))))
    return [{"id": ids[i], "tokens": list(tokens[i]), "gold": [list(s) for s in gold_sp[i]],
             "pred": [list(s) for s in pred_sp[i]]} for i in chosen]  # fmt: skip


def _spread(values: list[float]) -> dict:
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values)}  # fmt: skip


def aggregate(scores: Sequence[dict]) -> dict:
    """Mean, sample std (n-1), min and max over folds of every ``score_tags`` number; a type missing
    from a fold counts as 0 there (it had no gold and no predicted entity)."""
    metrics = ("precision", "recall", "f1", "support")
    types = sorted({t for s in scores for t in s["per_type"]}, key=_type_order)
    zero = dict.fromkeys(metrics, 0)
    out = {"n": len(scores), "per_type": {}}
    for t in types:
        out["per_type"][t] = {m: _spread([s["per_type"].get(t, zero)[m] for s in scores]) for m in metrics}
    for avg in ("micro", "macro", "weighted"):
        out[avg] = {m: _spread([s[avg][m] for s in scores]) for m in metrics}
    return out


# -- data ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataSpec:
    """``peyma:test``, ``arman:test:1`` (registered corpus, split, fold) or a file path with a format."""

    text: str
    corpus: str | None = None
    split: str | None = None
    fold: int | None = None
    path: str | None = None
    format: str | None = None


def parse_data_spec(spec: str, fmt: str | None = None) -> DataSpec:
    """``NAME:SPLIT[:FOLD]`` when NAME is a registered corpus, else a path to an existing file."""
    from .corpora import CORPORA, CorpusError

    head, _, rest = spec.partition(":")
    if head in CORPORA and rest:
        split, _, fold = rest.partition(":")
        info = CORPORA[head]
        if split not in info.splits:
            raise CorpusError(f"{spec}: {head} has no split {split!r}; its splits are {list(info.splits)}")
        if fold and not (fold.isdigit() and int(fold) in info.folds):
            raise CorpusError(f"{spec}: {head} folds are {list(info.folds) or 'none'}")
        return DataSpec(spec, head, split, int(fold) if fold else None)
    if not Path(spec).is_file():
        raise CorpusError(f"{spec}: neither NAME:SPLIT[:FOLD] of a known corpus ({', '.join(CORPORA)}) nor a file")
    from .stats import detect_format

    return DataSpec(spec, path=spec, format=fmt or detect_format(spec))


def load_data(spec: DataSpec):
    """The spec's sentences as a ``datasets.Dataset`` and the entity types that data annotates."""
    from .corpora import CORPORA, READERS, load_corpus
    from .stats import corpus_report

    if spec.corpus is not None:
        dataset = load_corpus(spec.corpus, spec.split, spec.fold)
        return dataset, CORPORA[spec.corpus].annotated_types
    if spec.format not in READERS:
        raise ValueError(f"{spec.path}: unknown format {spec.format!r} (one of {', '.join(READERS)})")
    dataset = READERS[spec.format](spec.path)
    report = corpus_report(dataset)
    return dataset, tuple(report.annotated_types) if report else ENTITY_TYPES


# -- running a model -------------------------------------------------------------------------------------

FOLD = "{fold}"

LEAK_MESSAGE = (
    "{spec}: one model cannot be scored on every {corpus} fold: train_foldK is exactly the other test folds, "
    "so the concatenated test folds are mostly training data (how the published ARMAN 98.79/99.84 arose). "
    "Give --model a {{fold}} placeholder (e.g. runs/arman/fold{{fold}}/model) to score each fold with its own "
    "model, or name one fold ({spec}:1)"
)


FOLD_PROTOCOL = (
    "ARMAN is scored per fold, each fold with the model trained on that fold's training file, and reported "
    "as the mean over the folds with min-max and standard deviation. It is never scored on test_fold1+2+3 "
    "concatenated: train_foldK is exactly the other two test folds, so with any one model two thirds of "
    "that concatenation is training data. That protocol is how the published ARMAN F1 of 98.79 (ParsBERT "
    "v1) and 99.84 (v2) arose; they are not comparable with held-out scores."
)



@dataclass(frozen=True)
class Unit:
    """One model scored on one data set; ``group`` names the fold family it belongs to, if any."""

    name: str
    model: str
    data: DataSpec
    group: str | None = None
    fold: int | None = None


def plan_units(model: str, specs: Sequence[str], folds: Sequence[int] | None = None,
               fmt: str | None = None) -> list[Unit]:  # fmt: skip
    """What to score: a fold corpus without a fold becomes one unit per fold, each with its fold's model."""
    from .corpora import CORPORA

    templated = FOLD in model
    if folds and not templated:
        raise ValueError(f"--folds needs a {FOLD} placeholder in --model (got {model})")
    units: list[Unit] = []
    for text in dict.fromkeys(specs):  # a spec given twice is scored once
        spec = parse_data_spec(text, fmt)
        info = CORPORA.get(spec.corpus or "")
        if info is not None and info.folds and spec.fold is None:
            if not templated:
                raise ValueError(LEAK_MESSAGE.format(spec=text, corpus=spec.corpus))
            for k in folds or info.folds:
                data = DataSpec(f"{text}:{k}", spec.corpus, spec.split, int(k))
                units.append(Unit(data.text, model.replace(FOLD, str(k)), data, text, int(k)))
        elif templated and spec.fold is not None:
            units.append(Unit(text, model.replace(FOLD, str(spec.fold)), spec, None, spec.fold))
        elif templated:
            if not folds:
                raise ValueError(f"--model has a {FOLD} placeholder: say which folds with --folds")
            units += [Unit(f"{text} (fold {k} model)", model.replace(FOLD, str(k)), spec, text, int(k))
                      for k in folds]  # fmt: skip
        else:
            units.append(Unit(text, model, spec))
    return units


def load_predictor(model_dir: str, device: str = "auto", batch_size: int = 32,
                   max_length: int | None = None) -> Predict:  # fmt: skip
    """Sentences of words -> NER tags with a saved model, loaded and run exactly as the tagger does."""
    from parstag.inference.tagger import Tagger

    tagger = Tagger.from_pretrained(model_dir, device=device, batch_size=batch_size, max_length=max_length)
    return lambda sentences: [p.ner_tags for p in tagger.predictor.predict(sentences)]


def score_unit(unit: Unit, ids, tokens, gold: Tags, pred: Tags, annotated: Sequence[str],
               all_types: bool = False, errors: int = 20) -> tuple[dict, Tags]:  # fmt: skip
    """The report entry of one unit, and the predictions as scored."""
    dropped: dict[str, int] = {}
    if not all_types:
        pred, dropped = restrict_types(pred, annotated)
    entry = {
        "name": unit.name, "data": unit.data.text, "model": unit.model, "fold": unit.fold,
        "sentences": len(tokens), "tokens": sum(map(len, tokens)), "annotated_types": list(annotated),
        "ignored_predictions": dropped, "scores": score_tags(gold, pred),
        "confusion": entity_confusion(gold, pred), "errors": sample_errors(ids, tokens, gold, pred, errors),
    }  # fmt: skip
    return entry, pred


@dataclass
class Evaluation:
    """``report``: the JSON-able report; ``predictions``: unit name -> (tokens, gold tags, predicted tags)."""

    report: dict
    predictions: dict[str, tuple[Tags, Tags, Tags]] = field(default_factory=dict)


def load_history(path: Path) -> list[dict] | None:
    """The trainer's ``history.json`` (a list of evaluation records), or None when absent or unreadable."""
    import json

    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return records if isinstance(records, list) and records else None


def evaluate_model(model: str, data: Sequence[str], *, folds: Sequence[int] | None = None,
                   fmt: str | None = None, batch_size: int = 32, device: str = "auto",
                   max_length: int | None = None, history: str | None = None, errors: int = 20,
                   all_types: bool = False, predictor_factory: Callable[[str], Predict] | None = None,
                   quote_min_score: float | None = None, own_quote_min_score: float | None = None,
                   ) -> Evaluation:  # fmt: skip
    """Score ``model`` (a directory, or a template with ``{fold}``) on every data spec."""
    from datetime import datetime, timezone

    from .quote_report import evaluate_quotes, split_quote_specs

    data, quote_data = split_quote_specs(data, fmt)  # quote gold has no NER: scored apart (quote_report)
    units = plan_units(model, data, folds, fmt)
    factory = predictor_factory or (lambda d: load_predictor(d, device, batch_size, max_length))
    entries: dict[str, dict] = {}
    result = Evaluation({})
    current: tuple[str, Predict] | None = None
    for unit in sorted(units, key=lambda u: u.model):  # each model loaded once, one in memory at a time
        if current is None or current[0] != unit.model:
            current = None  # release the previous model before the next one loads
            current = (unit.model, factory(unit.model))
        dataset, annotated = load_data(unit.data)
        tokens, gold = list(dataset["tokens"]), list(dataset["ner_tags"])
        pred = current[1](tokens)
        entries[unit.name], scored = score_unit(unit, list(dataset["id"]), tokens, gold, pred, annotated,
                                                all_types, errors)  # fmt: skip
        result.predictions[unit.name] = (tokens, gold, scored)

    ner: list[dict] = []
    for unit in units:
        if unit.group is None:
            ner.append({"kind": "single", **entries[unit.name]})
        elif not ner or ner[-1].get("name") != unit.group or ner[-1]["kind"] != "folds":
            protocol = FOLD_PROTOCOL if unit.data.fold is not None else None  # a fold corpus, not one set
            ner.append({"kind": "folds", "name": unit.group, "protocol": protocol, "folds": [entries[unit.name]]})
        else:
            ner[-1]["folds"].append(entries[unit.name])
    for group in ner:
        if group["kind"] == "folds":
            group["summary"] = aggregate([f["scores"] for f in group["folds"]])

    curves = []
    for model_dir, fold in dict.fromkeys((u.model, u.fold) for u in units):
        path = Path(history.replace(FOLD, str(fold))) if history else Path(model_dir).parent / "history.json"
        if records := load_history(path):
            curves.append({"name": model_dir, "path": str(path), "records": records})
    result.report = {
        "format": "parstag-report/1", "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": model, "scheme": "seqeval strict IOB2, entity level", "restricted_to_annotated_types": not all_types,
        "ner": ner, "history": curves,
        "quotes": evaluate_quotes(model, quote_data, device=device, batch_size=batch_size, max_length=max_length,
                                  quote_min_score=quote_min_score, own_quote_min_score=own_quote_min_score),
    }  # fmt: skip
    return result


def write_report(evaluation: Evaluation, out_dir: str | Path) -> list[Path]:
    """``report.json``, ``report.md``, ``report.html`` and the predictions as CoNLL, all written atomically."""
    from . import report as rep

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = list(evaluation.predictions)
    written = []
    for name in names:
        file = "predictions.conll" if len(names) == 1 else f"predictions-{rep.slug(name)}.conll"
        for entry in rep.iter_units(evaluation.report):
            if entry["name"] == name:
                entry["predictions_file"] = file
        written.append(rep.write_conll(out / file, *evaluation.predictions[name]))
    written.insert(0, rep.write_json(out / "report.json", evaluation.report))
    written.insert(1, rep.write_text_atomic(out / "report.md", rep.render_markdown(evaluation.report)))
    written.insert(2, rep.write_text_atomic(out / "report.html", rep.render_html(evaluation.report)))
    return written
