"""``parstag evaluate`` on quote gold data: model and rule baseline side by side, no NER table."""

from __future__ import annotations

import json

from _tiny import one_thread, random_model, save  # noqa: F401  (one_thread: autouse fixture)

from parstag.training import report as rep
from parstag.training.cli import main
from parstag.training.evaluate import evaluate_model
from parstag.training.quote_eval import load_records, rule_baseline, score_quotes
from parstag.training.quote_report import NO_HEAD, is_quote_data, split_quote_specs

# Two records of data/quotes/gold/dev.jsonl: one with five quotes, one with none.
GOLD_JSONL = (
    '{"id": "varzesh3-1-0161", "source": "varzesh3", "split": "dev", "text": "ناواس: دروازه\u200cبان اول رئال شدن کار ساده\u200cای نیست\\n\\nدروازه\u200cبان تیم ملی فوتبال کاستاریکا معتقد است که سنگربان اصلی رئال مادرید شدن کار ساده\u200cای نیست.\\n\\nکیلور ناواس، خرید تازه رئال مادرید در فرودگاه بین\u200cالمللی خوان سانتاماریا در کاستاریکا پیش از سفر به اسپانیا با رسانه\u200cها گفت\u200cو\u200cگو کرد و اظهار داشت: دروازه\u200cبان اول رئال مادرید شدن کار ساده\u200cای نیست و من سخت تلاش خواهم کرد.\\nدروازه\u200cبان 27 ساله ادامه داد: خداوند برای ما چیزهایی نمی\u200cفرستد که نتوانیم بر آنها غلبه کنیم.\\nوی همچنین رضایت خود را از مدت قراردادش با رئال مادرید اعلام کرد و افزود: 6 سال به من آرامش خاطر می\u200cدهد. می\u200cخواهم سخت تلاش کنم و از بازیکنان رئال مادرید چیزهای زیادی بیاموزم.", "spans": [{"id": "s1", "start": 0, "end": 5, "label": "SPEAKER", "text": "ناواس"}, {"id": "s2", "start": 7, "end": 47, "label": "QUOTE", "text": "دروازه\u200cبان اول رئال شدن کار ساده\u200cای نیست"}, {"id": "s3", "start": 49, "end": 84, "label": "SPEAKER", "text": "دروازه\u200cبان تیم ملی فوتبال کاستاریکا"}, {"id": "s4", "start": 85, "end": 94, "label": "CUE", "text": "معتقد است"}, {"id": "s5", "start": 98, "end": 143, "label": "QUOTE", "text": "سنگربان اصلی رئال مادرید شدن کار ساده\u200cای نیست"}, {"id": "s6", "start": 146, "end": 180, "label": "SPEAKER", "text": "کیلور ناواس، خرید تازه رئال مادرید"}, {"id": "s7", "start": 281, "end": 291, "label": "CUE", "text": "اظهار داشت"}, {"id": "s8", "start": 293, "end": 365, "label": "QUOTE", "text": "دروازه\u200cبان اول رئال مادرید شدن کار ساده\u200cای نیست و من سخت تلاش خواهم کرد."}, {"id": "s9", "start": 366, "end": 384, "label": "SPEAKER", "text": "دروازه\u200cبان 27 ساله"}, {"id": "s10", "start": 385, "end": 394, "label": "CUE", "text": "ادامه داد"}, {"id": "s11", "start": 396, "end": 458, "label": "QUOTE", "text": "خداوند برای ما چیزهایی نمی\u200cفرستد که نتوانیم بر آنها غلبه کنیم."}, {"id": "s12", "start": 459, "end": 461, "label": "SPEAKER", "text": "وی"}, {"id": "s13", "start": 525, "end": 530, "label": "CUE", "text": "افزود"}, {"id": "s14", "start": 532, "end": 632, "label": "QUOTE", "text": "6 سال به من آرامش خاطر می\u200cدهد. می\u200cخواهم سخت تلاش کنم و از بازیکنان رئال مادرید چیزهای زیادی بیاموزم."}], "quotes": [{"quote": "s2", "speaker": "s1", "cue": null, "entity": {"start": 0, "end": 5, "text": "ناواس", "type": "PER"}, "kind": "direct"}, {"quote": "s5", "speaker": "s3", "cue": "s4", "entity": {"start": 0, "end": 5, "text": "ناواس", "type": "PER"}, "kind": "indirect"}, {"quote": "s8", "speaker": "s6", "cue": "s7", "entity": {"start": 146, "end": 157, "text": "کیلور ناواس", "type": "PER"}, "kind": "direct"}, {"quote": "s11", "speaker": "s9", "cue": "s10", "entity": {"start": 146, "end": 157, "text": "کیلور ناواس", "type": "PER"}, "kind": "direct"}, {"quote": "s14", "speaker": "s12", "cue": "s13", "entity": {"start": 146, "end": 157, "text": "کیلور ناواس", "type": "PER"}, "kind": "direct"}]}'
    "\n"
    '{"id": "fars-3-0185", "source": "fars", "split": "dev", "text": "گل\u200cمحمدی عصر امروز از بیمارستان مرخص شد\\n\\nسرمربی تیم فوتبال ذوب آهن عصر امروز از بیمارستان مرخص شد.\\n\\nبه گزارش خبرگزاری فارس، یحیی گل\u200cمحمدی که هفته گذشته به دلیل عفونت ریه در بیمارستان بستری شده بود عصر امروز از بیمارستان مرخص شد.\\nپزشکان برای او یک هفته استراحت مطلق تجویز کرده\u200cاند و به این ترتیب گل\u200cمحمدی در بازی دوستانه فردای تیم ذوب آهن مقابل نفت تهران غایب است.", "spans": [], "quotes": []}'
    "\n"
)


def _gold(tmp_path):
    path = tmp_path / "quotes.jsonl"
    path.write_text(GOLD_JSONL, encoding="utf-8")
    return path


def test_evaluate_scores_quotes_without_a_quote_head(tmp_path, capsys):
    gold_path = _gold(tmp_path)
    model_dir = save(random_model(), tmp_path / "run" / "model")
    out = tmp_path / "out"
    assert main(["evaluate", "--model", str(model_dir), "--data", str(gold_path), "--out", str(out),
                 "--device", "cpu", "--batch-size", "4"]) == 0  # fmt: skip
    report = json.loads((out / "report.json").read_text("utf-8"))
    gold = load_records(gold_path)
    q = report["quotes"]
    assert q["data"] == str(gold_path) and q["model_has_quote_head"] is False
    assert q["baseline"] == json.loads(json.dumps(score_quotes(gold, rule_baseline(gold))))
    assert q["baseline"]["gold_quotes"] == 5 and q["baseline"]["pred_quotes"] > 0
    assert q["model"]["pred_quotes"] == 0 and q["model"]["end_to_end"]["f1"] == 0.0
    assert report["ner"] == []  # the quote gold has no entities: no NER table
    assert not list(out.glob("predictions*.conll"))
    md = (out / "report.md").read_text("utf-8")
    assert NO_HEAD in md and "| metric | rule baseline |" in md and "## NER" not in md
    page = (out / "report.html").read_text("utf-8")
    assert "Quote attribution" in page and "only the rule baseline is scored" in page
    assert "<h2>NER" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "no quote head" in capsys.readouterr().out


def test_quote_head_model_is_scored_next_to_the_baseline(tmp_path):
    gold_path = _gold(tmp_path)
    model_dir = save(random_model(quotes=True), tmp_path / "model")
    q = evaluate_model(str(model_dir), [str(gold_path)], device="cpu", batch_size=4).report["quotes"]
    assert q["model_has_quote_head"] is True and set(q["model"]) == set(q["baseline"])
    md = rep.render_markdown({"model": "m", "created": "now", "scheme": "s", "ner": [], "history": [], "quotes": q})
    assert "| metric | model | rule baseline |" in md and NO_HEAD not in md


def test_evaluate_passes_both_quote_thresholds_and_reports_them(tmp_path):
    gold_path = _gold(tmp_path)
    model_dir = save(random_model(quotes=True, rule_features="head"), tmp_path / "model")
    out = tmp_path / "out"
    assert main(["evaluate", "--model", str(model_dir), "--data", str(gold_path), "--out", str(out), "--device", "cpu",
                 "--quote-min-score", "0.5", "--own-quote-min-score", "0.9"]) == 0  # fmt: skip
    q = json.loads((out / "report.json").read_text("utf-8"))["quotes"]
    assert (q["quote_min_score"], q["own_quote_min_score"]) == (0.5, 0.9)
    md = (out / "report.md").read_text("utf-8")
    assert "quotes scoring below 0.5 dropped; quotes the rules did not find scoring below 0.9 dropped" in md
    # Not set and not in the checkpoint: no such bar, and the report says nothing of it.
    q = evaluate_model(str(model_dir), [str(gold_path)], device="cpu", quote_min_score=0.5).report["quotes"]
    assert q["own_quote_min_score"] is None and "did not find" not in rep.render_markdown(
        {"model": "m", "created": "now", "scheme": "s", "ner": [], "history": [], "quotes": q})


def test_quote_data_detection(tmp_path):
    gold_path = _gold(tmp_path)
    ner = tmp_path / "ner.jsonl"
    ner.write_text(json.dumps({"id": "a", "tokens": ["x"], "ner_tags": ["O"]}) + "\n", encoding="utf-8")
    assert is_quote_data(str(gold_path)) and not is_quote_data(str(ner)) and not is_quote_data("peyma:test")
    assert not is_quote_data(str(gold_path), "conll")
    assert split_quote_specs([str(ner), str(gold_path)]) == ([str(ner)], [str(gold_path)])
