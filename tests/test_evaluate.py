"""Scoring, error analysis, data specs, the ARMAN fold protocol and ``parstag evaluate`` end to end."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from seqeval.metrics import f1_score
from seqeval.scheme import IOB2

from parstag.training.evaluate import (
    aggregate,
    entity_confusion,
    evaluate_model,
    parse_data_spec,
    plan_units,
    restrict_types,
    score_tags,
    write_report,
)

FIXTURES = Path(__file__).parent / "fixtures"

GOLD = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "O", "B-PER"], ["O", "B-LOC", "O"]]
PRED = [["B-PER", "I-PER", "O", "B-ORG", "O", "B-ORG", "I-ORG", "O"], ["I-LOC", "O", "B-DAT"]]


def test_score_tags_is_seqeval_strict():
    s = score_tags(GOLD, PRED)
    assert s["micro"]["f1"] == pytest.approx(f1_score(GOLD, PRED, mode="strict", scheme=IOB2))
    # PER: 1 of 2 found, 1 predicted; LOC: 0 of 2 (the I-LOC start is no entity in strict mode).
    assert s["per_type"]["PER"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert s["per_type"]["LOC"]["recall"] == 0.0 and s["per_type"]["DAT"]["support"] == 0
    assert list(s["per_type"]) == ["PER", "ORG", "LOC", "DAT"]  # canonical type order
    assert s["counts"] == {"gold": 5, "pred": 4, "correct": 1}
    assert s["macro"]["f1"] == pytest.approx(sum(v["f1"] for v in s["per_type"].values()) / 4)
    json.dumps(s)  # plain floats and ints, no numpy


def test_score_tags_edge_cases():
    empty = score_tags([["O", "O"]], [["O", "O"]])
    assert empty["per_type"] == {} and empty["micro"]["f1"] == 0.0 and empty["macro"]["f1"] == 0.0
    assert score_tags([], [])["counts"] == {"gold": 0, "pred": 0, "correct": 0}
    with pytest.raises(ValueError):
        score_tags([["O"]], [["O", "O"]])


def test_confusion_classifies_every_gold_entity_once():
    c = entity_confusion(GOLD, PRED)
    m = c["matrix"]
    assert m["PER"]["PER"] == 1 and m["PER"]["missed"] == 1
    assert m["LOC"]["ORG"] == 1 and m["LOC"]["missed"] == 1  # the I-LOC start is ignored (strict)
    assert m["ORG"]["boundary"] == 1
    assert c["spurious"]["DAT"] == 1 and sum(c["spurious"].values()) == 1
    support = score_tags(GOLD, PRED)["per_type"]
    assert all(sum(row.values()) == support[g]["support"] for g, row in m.items())


def test_restrict_types_drops_unannotated_predictions():
    tags, dropped = restrict_types([["B-FAC", "I-FAC", "B-PER", "B-DAT"]], ["PER", "LOC"])
    assert tags == [["O", "O", "B-PER", "O"]] and dropped == {"FAC": 1, "DAT": 1}


def test_aggregate_mean_std_range():
    folds = [score_tags([["B-PER"]], [["B-PER"]]), score_tags([["B-PER"]], [["O"]]),
             score_tags([["B-PER", "B-LOC"]], [["B-PER", "B-LOC"]])]  # fmt: skip
    a = aggregate(folds)
    assert a["n"] == 3
    assert a["micro"]["f1"] == {"mean": pytest.approx(2 / 3), "std": pytest.approx(0.57735, abs=1e-4),
                                "min": 0.0, "max": 1.0}  # fmt: skip
    assert a["per_type"]["LOC"]["f1"]["mean"] == pytest.approx(1 / 3)  # absent in two folds: 0 there


@pytest.mark.parametrize("name,fmt", [("eval_small.conll", "conll"), ("eval_peyma.txt", "peyma"),
                                      ("eval_arman.txt", "arman"), ("eval_spans.jsonl", "jsonl")])  # fmt: skip
def test_file_specs_detect_their_format(name, fmt):
    assert parse_data_spec(str(FIXTURES / name)).format == fmt


def test_data_specs():
    assert parse_data_spec("peyma:test").split == "test"
    spec = parse_data_spec("arman:test:2")
    assert (spec.corpus, spec.split, spec.fold) == ("arman", "test", 2)
    for bad in ("peyma:nosuch", "arman:test:7", "no/such/file.txt"):
        with pytest.raises(ValueError):
            parse_data_spec(bad)
    assert parse_data_spec(str(FIXTURES / "eval_peyma.txt"), "conll").format == "conll"


def test_arman_needs_one_model_per_fold():
    with pytest.raises(ValueError, match="98.79"):
        plan_units("runs/x/model", ["arman:test"])
    units = plan_units("runs/arman/fold{fold}/model", ["arman:test"])
    assert [(u.name, u.model, u.data.fold, u.group) for u in units] == [
        (f"arman:test:{k}", f"runs/arman/fold{k}/model", k, "arman:test") for k in (1, 2, 3)]
    assert plan_units("m{fold}", ["arman:test:2"])[0].model == "m2"
    assert [u.model for u in plan_units("m{fold}", ["peyma:test"], folds=[1, 3])] == ["m1", "m3"]
    with pytest.raises(ValueError):
        plan_units("m{fold}", ["peyma:test"])
    with pytest.raises(ValueError):
        plan_units("m", ["peyma:test"], folds=[1])


def _arman_dir(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "arman").mkdir(parents=True)
    for k in (1, 2, 3):
        (root / "arman" / f"test_fold{k}.txt").write_text((FIXTURES / "eval_arman.txt").read_text("utf-8"), "utf-8")
    return root


def _fake_factory(model_dir: str):
    """A 'model' that tags each sentence's first word PER (except the fold-2 model) and its second DAT."""

    def predict(sentences):
        good = "fold2" not in model_dir
        return [["B-PER" if good and i == 0 else "B-DAT" if i == 1 else "O" for i in range(len(s))]
                for s in sentences]  # fmt: skip

    return predict


def test_evaluate_model_folds_and_files(tmp_path, monkeypatch):
    monkeypatch.setenv("PARSTAG_DATA", str(_arman_dir(tmp_path)))
    (tmp_path / "fold1").mkdir()
    (tmp_path / "fold1" / "history.json").write_text(json.dumps(
        [{"step": 10, "epoch": 1, "train_loss": 1.0, "dev_loss": 0.9, "dev_f1": 0.5},
         {"step": 20, "epoch": 2, "train_loss": 0.5, "dev_loss": 0.7, "dev_f1": 0.6}]))  # fmt: skip
    small = str(FIXTURES / "eval_small.conll")
    with pytest.raises(ValueError):  # a file with a {fold} model needs --folds
        evaluate_model(str(tmp_path / "fold{fold}" / "model"), ["arman:test", small],
                       predictor_factory=_fake_factory)  # fmt: skip
    ev = evaluate_model(str(tmp_path / "fold{fold}" / "model"), ["arman:test"], predictor_factory=_fake_factory)
    group = ev.report["ner"][0]
    assert group["kind"] == "folds" and [f["fold"] for f in group["folds"]] == [1, 2, 3]
    f1 = group["summary"]["micro"]["f1"]
    assert f1["min"] == 0.0 and f1["max"] == pytest.approx(0.4) and f1["std"] > 0
    assert group["folds"][0]["ignored_predictions"] == {"DAT": 2}  # ARMAN does not annotate dates
    assert [h["path"] for h in ev.report["history"]] == [str(tmp_path / "fold1" / "history.json")]

    written = write_report(ev, tmp_path / "out")
    names = sorted(p.name for p in written)
    assert names == ["predictions-arman-test-1.conll", "predictions-arman-test-2.conll",
                     "predictions-arman-test-3.conll", "report.html", "report.json", "report.md"]  # fmt: skip
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temp files left
    md = (tmp_path / "out" / "report.md").read_text("utf-8")
    assert "98.79" in md and "mean ± std" in md
    conll = (tmp_path / "out" / "predictions-arman-test-1.conll").read_text("utf-8")
    assert conll.split("\n\n")[0].splitlines()[0] == "لاوروف B-PER B-PER"


def test_cli_with_a_real_tiny_model(tmp_path):
    from _tiny import random_model, save

    from parstag.training.eval_commands import add_evaluate_parser

    model_dir = save(random_model(), tmp_path / "run" / "model")
    parser = argparse.ArgumentParser()
    add_evaluate_parser(parser.add_subparsers())
    args = parser.parse_args(["evaluate", "--model", str(model_dir), "--data", str(FIXTURES / "eval_small.conll"),
                              "--out", str(tmp_path / "out"), "--batch-size", "4", "--errors", "2"])  # fmt: skip
    assert args.func(args) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    unit = report["ner"][0]
    assert unit["sentences"] == 3 and unit["scores"]["per_type"]["PER"]["support"] == 3
    assert len(unit["errors"]) <= 2 and report["history"] == [] and report["quotes"] is None
    lines = (tmp_path / "out" / "predictions.conll").read_text("utf-8").split("\n")
    assert lines[:1] and lines[0].split(" ")[:2] == ["ترامپ", "B-PER"] and lines[5] == ""
    assert "<script>" not in (tmp_path / "out" / "report.html").read_text("utf-8")
