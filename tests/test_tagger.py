"""Tagger: exact offsets into the original text, result format, streaming, long articles, int8."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from _tiny import one_thread, planted_model, random_model, save, tokenizer  # noqa: F401 (one_thread: autouse fixture)
from parstag.inference import Tagger
from parstag.inference.predict import WordPredictor
from parstag.inference.segment import tokenize_words

B_WORD, I_WORD = "علی", "رضایی"

# Arabic ي/ك, ZWNJ words, ZWNJ dropped by a scraper, ASCII and Persian digits, guillemets, emoji, Latin.
MESSY = (
    "علي رضايي، وزير كشور، روز ۱۲ مهر 1402 در تهران گفت: «ما پیشرفت‌های زیادی داشته‌ایم.» 😀👍🏽\n"
    "او افزود: بنبست نمیشود و 50% مردم به U.S. سفر کرده‌اند؛ www.example.ir را ببینید!\n\n"
    "  سخنگوی وزارت امور خارجه ﻻ ك ي ‌ ـــ  ...  "
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save(random_model(seed=4), tmp_path_factory.mktemp("m") / "model")


@pytest.fixture(scope="module")
def tagger(model_dir):
    return Tagger.from_pretrained(model_dir, device="cpu", batch_size=4)


@pytest.fixture(scope="module")
def planted_tagger():
    tok = tokenizer()
    model = planted_model(tok.convert_tokens_to_ids(B_WORD), tok.convert_tokens_to_ids(I_WORD))
    from parstag.inference.normalize import Normalizer

    return Tagger(model, tok, Normalizer(), device="cpu", batch_size=4, max_length=32)


def check_offsets(result):
    text = result["text"]
    for span in result["entities"]:
        assert text[span["start"] : span["end"]] == span["text"] != ""
        assert set(span) == {"type", "start", "end", "text", "score"} and 0.0 < span["score"] <= 1.0
    for s in result["sentences"]:
        assert 0 <= s["start"] < s["end"] <= len(text)
    spans = [(e["start"], e["end"]) for e in result["entities"]]
    assert spans == sorted(spans) and all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_offsets_are_exact_on_messy_text(tagger):
    result = tagger(MESSY)
    assert set(result) == {"id", "text", "sentences", "entities", "quotes"}
    assert result["text"] == MESSY and tagger.quote_source == "rules"  # no quote head: the rules find quotes
    for q in result["quotes"]:
        for key in ("quote", "speaker", "cue", "speaker_entity"):
            assert q[key] is None or MESSY[q[key]["start"]:q[key]["end"]] == q[key]["text"]
    assert len(result["entities"]) > 10  # a random model tags plenty: the offsets get exercised
    check_offsets(result)


def test_normalised_words_keep_original_offsets(planted_tagger):
    # Arabic ي in علي/رضايي: the model sees علی/رضایی (its B/I pieces), the spans show the original text.
    text = "ديروز علي رضايي و علی‌رضایی و «علی رضایی» 😀 گفت"
    result = planted_tagger(text)
    assert [(e["text"], e["type"]) for e in result["entities"]] == [("علي رضايي", "PER"), ("علی رضایی", "PER")]
    check_offsets(result)
    assert result["entities"][0]["start"] == text.index("علي")


def test_score_is_mean_of_word_probabilities(planted_tagger):
    text = "او علی رضایی رضایی است"
    result = planted_tagger(text)
    words = [text[a:b] for a, b in tokenize_words(text)]
    pred = planted_tagger.predictor.predict([words])[0]
    (entity,) = result["entities"]
    assert entity["text"] == "علی رضایی رضایی"
    assert entity["score"] == pytest.approx(sum(pred.ner_scores[1:4]) / 3, abs=1e-4)


def test_call_forms_and_ids(tagger):
    single = tagger("تهران")
    assert isinstance(single, dict) and single["id"] == 0
    many = tagger(["تهران", {"id": "a-1", "text": "کرج"}, ""])
    assert [r["id"] for r in many] == [0, "a-1", 2]
    assert many[2] == {"id": 2, "text": "", "sentences": [], "entities": [], "quotes": []}
    assert many[1]["entities"] == tagger({"id": "x", "text": "کرج"})["entities"]
    with pytest.raises(TypeError):
        tagger([42])


def test_stream_is_ordered_and_lazy(model_dir):
    tagger = Tagger.from_pretrained(model_dir, device="cpu", chunk_size=3)
    consumed = []

    def source():
        for i in range(10):
            consumed.append(i)
            yield {"id": f"doc{i}", "text": MESSY[: 20 + 13 * i]}

    stream = tagger.stream(source())
    first = next(stream)
    assert first["id"] == "doc0" and len(consumed) == 3  # one chunk read, not the whole input
    rest = list(stream)
    assert [r["id"] for r in rest] == [f"doc{i}" for i in range(1, 10)]
    batch = tagger([{"id": f"doc{i}", "text": MESSY[: 20 + 13 * i]} for i in range(10)])
    assert [r["entities"] for r in [first, *rest]] == [r["entities"] for r in batch]


def test_packing_does_not_change_results(model_dir):
    packed = Tagger.from_pretrained(model_dir, device="cpu")
    single = Tagger.from_pretrained(model_dir, device="cpu", pack=False, batch_size=1)
    texts = [MESSY, MESSY[40:], "تهران و کرج"]
    for a, b in zip(packed(texts), single(texts)):
        assert [(e["start"], e["end"], e["type"]) for e in a["entities"]] == [
            (e["start"], e["end"], e["type"]) for e in b["entities"]
        ]


def test_long_article_one_long_sentence(planted_tagger):
    rng = random.Random(7)
    words = [rng.choice(["تهران", "کتاب", "و", "در", "پیشرفت‌های", "1402", "«کرج»", "😀"]) for _ in range(2000)]
    positions = sorted(rng.sample(range(0, 1998, 3), 70))
    for p in positions:
        words[p], words[p + 1] = "علي", "رضایی"
    text = " ".join(words) + "\n" + "جمله کوتاه علی رضایی."
    result = planted_tagger(text)
    check_offsets(result)
    starts = [e["start"] for e in result["entities"]]
    assert len(result["sentences"]) == 2
    assert len(starts) == len(positions) + 1 == len(set(starts))
    assert all(e["text"] in ("علي رضایی", "علی رضایی") for e in result["entities"])


def test_errors_are_reported_and_skipped(tagger, monkeypatch):
    real = tagger.predictor.predict

    def flaky(sentences):
        if any("BOOM" in w for s in sentences for w in s):
            raise RuntimeError("boom")
        return real(sentences)

    monkeypatch.setattr(tagger.predictor, "predict", flaky)
    errors = []
    items = [{"id": i, "text": "BOOM" if i == 2 else "تهران"} for i in range(5)]
    out = list(tagger.stream(items, on_error=lambda i, e: errors.append((i, str(e)))))
    assert [r["id"] for r in out] == [0, 1, 3, 4] and errors == [(2, "boom")]
    with pytest.raises(RuntimeError):
        list(tagger.stream(items))


def test_quote_head_fills_internal_roles(tmp_path):
    path = save(random_model(seed=5, quotes=True), tmp_path / "q")
    result = Tagger.from_pretrained(path, device="cpu")(MESSY)
    assert isinstance(result["quotes"], list) and isinstance(result["_quote_roles"], list)
    for role in result["_quote_roles"]:
        assert role["label"] in ("SPEAKER", "CUE", "QUOTE")
        assert MESSY[role["start"] : role["end"]] == role["text"]


def test_options_are_checked(model_dir):
    with pytest.raises(ValueError, match="onnx"):
        Tagger.from_pretrained(model_dir, quantize="onnx-int8")
    with pytest.raises(ValueError):
        Tagger.from_pretrained(model_dir, quantize="fp4")
    assert Tagger.from_pretrained(model_dir, device="auto").device.type in ("cpu", "cuda")


def test_dynamic_int8_agrees_with_fp32(model_dir, tagger):
    int8 = Tagger.from_pretrained(model_dir, device="cpu", quantize="dynamic-int8")
    a, b = tagger(MESSY), int8(MESSY)
    check_offsets(b)
    same = {(e["start"], e["end"], e["type"]) for e in a["entities"]} & {
        (e["start"], e["end"], e["type"]) for e in b["entities"]
    }
    assert len(same) >= 0.7 * len(a["entities"])  # random weights: near-ties flip, most agree


def test_import_is_light():
    code = "import sys, parstag.inference as p; assert 'torch' not in sys.modules; p.Tagger; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_result_is_json_serialisable(tagger):
    assert json.loads(json.dumps(tagger(MESSY), ensure_ascii=False))["text"] == MESSY


def test_bad_device_is_a_one_line_value_error(monkeypatch):
    import torch

    from parstag.inference.tagger import resolve_device

    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        resolve_device("gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda:0")
    assert resolve_device("auto").type == "cpu"


def test_quote_source_head_rules_or_none(tmp_path, model_dir):
    from parstag.inference.quote_rules import annotate_quotes

    text = "وزیر نیرو گفت: مصرف برق در تابستان رکورد زد.\nوی افزود: «مردم باید صرفه‌جویی کنند.»"
    rules = Tagger.from_pretrained(model_dir, device="cpu")  # NER-only: the rule annotator gives quotes
    assert rules.quote_source == "rules"
    result = rules(text)
    assert result["quotes"] == annotate_quotes(text, result["entities"]) and len(result["quotes"]) == 2
    assert "_quote_roles" not in result
    assert Tagger.from_pretrained(model_dir, device="cpu", quotes="none")(text)["quotes"] == []
    with pytest.raises(ValueError, match="no quote head"):
        Tagger.from_pretrained(model_dir, quotes="model")
    with pytest.raises(ValueError, match="quotes must be one of"):
        Tagger.from_pretrained(model_dir, quotes="regex")
    head = Tagger.from_pretrained(save(random_model(seed=5, quotes=True), tmp_path / "q"), device="cpu")
    assert head.quote_source == "model" and "_quote_roles" in head(text)
    assert Tagger.from_pretrained(tmp_path / "q", device="cpu", quotes="rules")(text)["quotes"] != []


def test_quote_min_score_from_the_checkpoint_or_the_caller(tmp_path, monkeypatch):
    import parstag.inference.quotes as quotes_module

    seen = []
    real = quotes_module.link_quotes
    monkeypatch.setattr(quotes_module, "link_quotes",
                        lambda *a, min_score=0.0, **k: seen.append(min_score) or real(*a, min_score=min_score, **k))
    text = "وزیر نیرو گفت: مصرف برق در تابستان رکورد زد."
    model = random_model(seed=5, quotes=True)
    tagger = Tagger.from_pretrained(save(model, tmp_path / "q"), device="cpu")
    tagger(text)
    assert tagger.quote_min_score == 0.0 and seen == [0.0]
    Tagger.from_pretrained(tmp_path / "q", device="cpu", quote_min_score=0.4)(text)
    assert seen[-1] == 0.4
    model.config.quote_min_score = 0.9  # saved with the checkpoint: the tagger's default for it
    save(model, tmp_path / "q2")
    Tagger.from_pretrained(tmp_path / "q2", device="cpu")(text)
    assert seen[-1] == 0.9
    assert Tagger.from_pretrained(tmp_path / "q2", device="cpu", quote_min_score=0).quote_min_score == 0.0
    with pytest.raises(ValueError, match="between 0 and 1"):
        Tagger.from_pretrained(tmp_path / "q", device="cpu", quote_min_score=1.5)
