"""Quote scoring on hand-made gold/prediction pairs whose figures are known."""

import re

import pytest

from parstag.training.quote_eval import (match_quotes, quote_report_section, rule_baseline, score_quotes,
                                         speaker_right, _Words)

# Three paragraphs, three gold quotes.
TEXT = ("وزیر نیرو گفت: مصرف برق امسال رکورد زد و مردم باید صرفه جویی کنند.\n"
        "وی افزود: نیروگاه های جدید سال آینده به شبکه می پیوندند.\n"
        "به گفته سخنگوی صنعت برق، خاموشی برنامه ریزی شده نداریم")


def sp(s):
    """The first whole-word occurrence of s ("وی" also occurs inside "جویی")."""
    m = re.search(rf"(?<!\w){re.escape(s)}(?!\w)", TEXT)
    return {"start": m.start(), "end": m.end(), "text": s}


def gold_record():
    spans, quotes = [], []
    for n, (speaker, cue, quote, kind, entity) in enumerate([
        ("وزیر نیرو", "گفت", "مصرف برق امسال رکورد زد و مردم باید صرفه جویی کنند.", "direct", "وزیر نیرو"),
        ("وی", "افزود", "نیروگاه های جدید سال آینده به شبکه می پیوندند.", "direct", "وزیر نیرو"),
        ("سخنگوی صنعت برق", "به گفته", "خاموشی برنامه ریزی شده نداریم", "indirect", None),
    ]):
        ids = {}
        for label, s in (("SPEAKER", speaker), ("CUE", cue), ("QUOTE", quote)):
            ids[label] = f"s{n}{label[0]}"
            spans.append({"id": ids[label], "label": label, **sp(s)})
        ent = {**sp(entity), "type": "ORG"} if entity else None
        quotes.append({"quote": ids["QUOTE"], "speaker": ids["SPEAKER"], "cue": ids["CUE"], "entity": ent,
                       "kind": kind})
    return {"id": "fars-1-0001", "source": "fars", "split": "dev", "text": TEXT, "spans": spans, "quotes": quotes}


def pred(quote, speaker=None, cue=None, entity=None, kind="direct"):
    return {"quote": sp(quote), "speaker": sp(speaker) if speaker else None, "cue": sp(cue) if cue else None,
            "speaker_entity": {**sp(entity), "type": "ORG"} if entity else None, "kind": kind, "score": 1.0}


def test_perfect_prediction_scores_one_everywhere():
    rec = gold_record()
    from parstag.training.quote_eval import record_to_quotes

    s = score_quotes([rec], {rec["id"]: record_to_quotes(rec)})
    for key in ("quote_exact", "quote_50", "end_to_end"):
        assert s[key]["f1"] == 1.0
    assert s["speaker_accuracy"] == 1.0 and s["kind_accuracy"] == 1.0
    assert all(s["roles"][r]["f1"] == 1.0 for r in ("QUOTE", "SPEAKER", "CUE", "micro"))


def test_known_precision_recall_and_speaker_accuracy():
    rec = gold_record()
    preds = [
        # exact (a missing final "." is not a different quote), right speaker mention
        pred("مصرف برق امسال رکورد زد و مردم باید صرفه جویی کنند", "وزیر نیرو", "گفت"),
        # 5 of 9 content words: matched at 50%, not exact; speaker wrong mention but right entity
        pred("نیروگاه های جدید سال آینده", "مردم", "افزود", entity="وزیر نیرو"),
        pred("خاموشی", "سخنگوی صنعت برق"),  # 1 of 5 words: not matched
        pred("سخنگوی صنعت برق", "وزیر نیرو"),  # spurious
    ]
    s = score_quotes([rec], {rec["id"]: preds})
    assert (s["quote_exact"]["tp"], s["quote_exact"]["n_pred"], s["quote_exact"]["n_gold"]) == (1, 4, 3)
    assert s["quote_50"]["tp"] == 2
    assert s["quote_50"]["precision"] == pytest.approx(2 / 4) and s["quote_50"]["recall"] == pytest.approx(2 / 3)
    assert s["quote_50"]["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert s["speaker_accuracy"] == 1.0
    assert s["end_to_end"]["tp"] == 2
    cue = s["roles"]["CUE"]  # seqeval, strict: the two predicted cues are right, the third is missing
    assert cue["precision"] == pytest.approx(1.0) and cue["recall"] == pytest.approx(2 / 3)


def test_fifty_percent_threshold_and_one_to_one_matching():
    words = _Words(TEXT)
    gold = [pred("نیروگاه های جدید سال آینده به شبکه می پیوندند.")]  # 9 content words ("." is not one)
    assert [r for _, _, r in match_quotes(words, gold, [pred("نیروگاه های جدید سال آینده")])] == [5 / 9]
    assert match_quotes(words, gold, [pred("نیروگاه های جدید سال")]) == []  # 4/9 < 0.5
    two = [pred("مصرف برق امسال رکورد زد و مردم"), pred("نیروگاه های جدید سال آینده به شبکه")]
    assert [(i, j) for i, j, _ in match_quotes(words, gold, two)] == [(0, 1)]  # one-to-one, the better one
    # the denominator is the longer of the two: 4 gold words inside a 10-word prediction is 0.4
    long = pred("مصرف برق امسال رکورد زد و مردم باید صرفه جویی")
    assert match_quotes(words, [pred("مصرف برق امسال رکورد")], [long]) == []


def test_speaker_right_rules():
    g = pred("مصرف برق", "وی", entity="وزیر نیرو")
    assert speaker_right(g, pred("مصرف برق", "وی"), TEXT)  # same mention
    assert speaker_right(g, pred("مصرف برق", "مردم", entity="وزیر نیرو"), TEXT)  # same entity
    # same name at another mention counts as the same entity
    assert not speaker_right(g, pred("مصرف برق", "مردم", entity="سخنگوی صنعت برق"), TEXT)
    gold_null = pred("مصرف برق", None, entity="وزیر نیرو")  # continuation paragraph: no mention, an entity
    assert speaker_right(gold_null, pred("مصرف برق", None, entity="وزیر نیرو"), TEXT)
    assert speaker_right(gold_null, pred("مصرف برق", "وزیر نیرو"), TEXT)  # mention of the entity itself
    assert not speaker_right(gold_null, pred("مصرف برق"), TEXT)
    nobody = pred("مصرف برق")
    assert speaker_right(nobody, pred("مصرف برق"), TEXT) and not speaker_right(nobody, pred("مصرف برق", "وی"), TEXT)


def test_missing_prediction_and_report_section():
    rec = gold_record()
    s = score_quotes([rec], {})
    assert s["quote_50"]["recall"] == 0.0 and s["pred_quotes"] == 0 and s["roles"]["micro"]["f1"] == 0.0
    base = score_quotes([rec], rule_baseline([rec]))
    assert base["quote_50"]["f1"] == 1.0 and base["speaker_accuracy"] == 1.0
    md = quote_report_section(s, base)
    assert "| metric | model | rule baseline |" in md and "100.0" in md and "3 gold quotes" in md
    assert "model" not in quote_report_section(None, base).split("\n")[4]
