"""The quote-attribution gold data (data/quotes/): valid records, unchanged article texts, stated counts."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUOTES = ROOT / "data" / "quotes"


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_gold", QUOTES / "build_gold.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_gold", module)
    spec.loader.exec_module(module)
    return module


bg = _load_builder()


@pytest.fixture(scope="module")
def records() -> list[dict]:
    recs = []
    for split in bg.SPLITS:
        path = QUOTES / "gold" / f"{split}.jsonl"
        assert path.is_file(), f"missing {path}"
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                assert line.strip(), f"{path.name}:{n}: blank line"
                rec = json.loads(line)
                assert rec["split"] == split, f"{path.name}:{n}: record of split {rec['split']!r}"
                recs.append(rec)
    return recs


@pytest.fixture(scope="module")
def news():
    news = bg.News(bg.news_dir_default())
    if not news.available():
        pytest.skip(f"raw news not available at {news.news_dir}")
    return news


def test_records_valid(records):
    errors = [e for rec in records for e in bg.validate_record(rec)]
    assert not errors, "\n".join(errors[:20])


def test_spans_slice_to_their_text(records):
    for rec in records:
        text = rec["text"]
        for sp in rec["spans"]:
            assert text[sp["start"]:sp["end"]] == sp["text"], (rec["id"], sp["id"])
            assert sp["label"] in ("QUOTE", "SPEAKER", "CUE")
        for q in rec["quotes"]:
            if q["entity"]:
                e = q["entity"]
                assert text[e["start"]:e["end"]] == e["text"], rec["id"]


def test_labels_match_the_package():
    from parstag.inference.labels import ENTITY_TYPES, QUOTE_ROLES

    assert set(bg.LABELS) == set(QUOTE_ROLES)
    assert bg.ENTITY_TYPES == ENTITY_TYPES


def test_ids_unique_and_splits_disjoint(records):
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    by_split = {s: {r["id"] for r in records if r["split"] == s} for s in bg.SPLITS}
    assert not (by_split["dev"] & by_split["test"])
    texts = {s: {r["text"] for r in records if r["split"] == s} for s in bg.SPLITS}
    assert not (texts["dev"] & texts["test"]), "the same article text in dev and test"
    assert len({r["text"] for r in records}) == len(records), "an article annotated twice under two ids"


def test_texts_equal_the_raw_articles(records, news):
    for rec in records:
        assert rec["text"] == news.text(rec["id"]), rec["id"]


def test_gold_is_up_to_date_with_the_annotations(records, news):
    built = bg.build_all(news)
    assert built == sorted(records, key=lambda r: r["id"]), "gold/*.jsonl is stale: run data/quotes/build_gold.py"


def test_counts_stated_in_readme(records):
    assert bg.readme_counts() == bg.counts(records)


def test_generic_span_view(records):
    """Each record reads as plain {text, spans:[{start,end,label}]}: flat, sorted, non-overlapping."""
    for rec in records:
        spans = sorted((s["start"], s["end"], s["label"]) for s in rec["spans"])
        for (s1, e1, _), (s2, e2, _) in zip(spans, spans[1:]):
            assert e1 <= s2, rec["id"]


# ----------------------------------------------------------------------- the builder's own behaviour

TEXT = ("عنوان: خبر\n\nچکیده\n\n"
        "وي گفت: ما آماده‌ايم. وي افزود: «ما «فيلم» را ديديم.»\n"
        "به گفته وي، بازار آرام است.")


def _one(quotes):
    return bg.resolve_article("fars-9-0001", TEXT, quotes)


def _q(**kw):
    base = {"speaker": None, "cue": None, "entity": None, "kind": "direct"}
    base.update(kw)
    return base


def test_builder_resolves_defaults():
    rec = _one([
        _q(quote="ما آماده‌ايم.", speaker="وي", cue="گفت"),
        _q(quote="ما «فيلم» را ديديم.", speaker="وي", cue="افزود"),
        _q(quote="بازار آرام است", speaker="وي", cue="به گفته", kind="indirect"),
    ])
    spans = {s["id"]: s for s in rec["spans"]}
    q1, q2, q3 = rec["quotes"]
    assert spans[q1["speaker"]]["start"] == TEXT.index("وي گفت")
    assert spans[q2["speaker"]]["start"] == TEXT.index("وي افزود")
    assert spans[q3["speaker"]]["start"] == TEXT.index("وي، بازار")  # after the cue: nothing before it fits
    assert spans[q3["cue"]]["text"] == "به گفته"


def test_builder_head_to_end_of_paragraph():
    rec = _one([_q(quote="بازار ...", speaker="وي", cue="به گفته", kind="indirect")])
    q = next(s for s in rec["spans"] if s["label"] == "QUOTE")
    assert q["text"] == "بازار آرام است."


@pytest.mark.parametrize("quotes, message", [
    ([_q(quote="نیست")], "not found"),
    ([_q(quote="وي")], "ambiguous"),
    ([_q(quote="«ما «فيلم» را ديديم.»")], "enclosed"),
    ([_q(quote="آماده")], "not found as whole words"),
    ([_q(quote="ما آماده‌ايم.", kind="quoted")], "kind"),
    ([_q(quote="ما آماده‌ايم.", entity="وي")], "type"),
    ([{"quote": "ما آماده‌ايم."}], "missing key"),
    ([_q(quote="ما آماده‌ايم.", speaker="بازار")], "not in the paragraph"),
])
def test_builder_fails_loudly(quotes, message):
    with pytest.raises(bg.AnnotationError, match=message) as info:
        _one(quotes)
    assert "fars-9-0001" in str(info.value)


def test_builder_rejects_overlapping_layers():
    with pytest.raises(bg.AnnotationError):
        _one([
            _q(quote="ما آماده‌ايم. وي افزود ...", speaker="وي", cue="گفت"),
            _q(quote="ما «فيلم» را ديديم.", speaker="وي", cue="افزود"),
        ])


def test_builder_runs_as_a_script(tmp_path):
    """build_gold.py imports its gold_tool/ modules when run as a script from any directory."""
    import subprocess

    out = subprocess.run([sys.executable, str(QUOTES / "build_gold.py"), "--help"], cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout
    assert "Resolve the quote-attribution source annotations" in out and "--write-readme-counts" in out


def test_split_is_a_stable_hash():
    assert bg.split_of("fars-1-0012") in bg.EVAL_SPLITS
    assert bg.split_of("fars-1-0012") == bg.split_of("fars-1-0012")


def _batch(tmp_path, name: str, head: str, ids: list[str]):
    body = "".join(f"  - id: {i}\n    quotes: []\n" for i in ids)
    (tmp_path / name).write_text(head + "articles:\n" + body, encoding="utf-8")


def test_a_training_batch_puts_its_articles_in_train(tmp_path, news):
    """``split: train`` at the top of a batch sends every article to gold/train.jsonl, whatever its id hashes
    to; other batches keep the hashed dev/test split; one article cannot be in two batches."""
    dev_id = next(f"fars-1-{n:04d}" for n in range(200, 300) if bg.split_of(f"fars-1-{n:04d}") == "dev")
    test_id = next(f"fars-1-{n:04d}" for n in range(200, 300) if bg.split_of(f"fars-1-{n:04d}") == "test")
    _batch(tmp_path, "b90-x.yaml", "batch: b90\nannotator: x\nsplit: train\n", [dev_id])
    _batch(tmp_path, "b91-y.yaml", "batch: b91\nannotator: y\n", [test_id])
    records = {r["id"]: r for r in bg.build_all(news, tmp_path)}
    assert records[dev_id]["split"] == "train" and records[test_id]["split"] == "test"
    assert not bg.validate_record(records[dev_id])
    assert bg.counts(list(records.values()))["train"]["articles"] == 1
    out = tmp_path / "gold"
    bg.write_gold(list(records.values()), out)
    assert [json.loads(x)["id"] for x in (out / "train.jsonl").read_text(encoding="utf-8").splitlines()] == [dev_id]

    _batch(tmp_path, "b92-z.yaml", "batch: b92\nannotator: z\nsplit: train\n", [test_id])
    with pytest.raises(bg.AnnotationError, match=f"b92-z.yaml: {test_id} already annotated in b91-y.yaml"):
        bg.build_all(news, tmp_path)


@pytest.mark.parametrize("head, message", [
    ("batch: b90\nannotator: x\nsplit: dev\n", "top-level split must be 'train' or absent"),
    ("batch: b90\nannotator: x\nsplitt: train\n", "unknown top-level keys \\['splitt'\\]"),
])
def test_batch_split_errors_name_the_file(tmp_path, head, message):
    _batch(tmp_path, "b90-x.yaml", head, ["fars-1-0200"])
    with pytest.raises(bg.AnnotationError, match="b90-x.yaml: " + message):
        bg.load_batches(tmp_path)


def test_a_record_split_is_train_or_its_hash():
    rec = bg.resolve_article("fars-9-0001", TEXT, [], split="train")
    assert rec["split"] == "train" and not bg.validate_record(rec)
    wrong = {"dev": "test", "test": "dev"}[bg.split_of("fars-9-0001")]
    assert any("neither 'train'" in e for e in bg.validate_record(dict(rec, split=wrong)))


def test_builder_occ_and_ctx_override_the_default():
    rec = _one([
        _q(quote="ما آماده‌ايم.", speaker={"text": "وي", "ctx": "وي گفت"}, cue="گفت"),
        _q(quote="بازار آرام است", speaker={"text": "وي", "occ": 3}, cue="به گفته", kind="indirect",
           entity={"text": "وي", "occ": 1}, type="PER"),
    ])
    spans = {s["id"]: s for s in rec["spans"]}
    q1, q2 = rec["quotes"]
    assert spans[q1["speaker"]]["start"] == TEXT.index("وي گفت")
    assert spans[q2["speaker"]]["start"] == TEXT.index("وي، بازار")
    assert q2["entity"]["start"] == TEXT.index("وي گفت") and q2["entity"]["type"] == "PER"


def test_stray_zwnj_is_a_word_boundary():
    text = "عنوان\n\nچکیده\n\nوي افزود:\u200cامارات باید بداند.\nوي گفت\u200c: بله."
    rec = bg.resolve_article("fars-9-0002", text, [
        _q(quote="امارات باید بداند.", speaker="وي", cue="افزود"),
        _q(quote="بله.", speaker="وي", cue="گفت"),
    ])
    assert [s["text"] for s in rec["spans"] if s["label"] == "CUE"] == ["افزود", "گفت"]


def test_guidelines_example_resolves(news):
    """The YAML example in GUIDELINES.md section 8 is a working annotation of real articles."""
    import yaml

    guide = (QUOTES / "GUIDELINES.md").read_text(encoding="utf-8")
    start = guide.index("```yaml") + len("```yaml")
    doc = yaml.safe_load(guide[start:guide.index("```", start)])
    for art in doc["articles"]:
        rec = bg.resolve_article(art["id"], news.text(art["id"]), art["quotes"])
        assert len(rec["quotes"]) == len(art["quotes"])


# ----------------------------------------------------------------------- second annotations (agreement)


def _load_agreement():
    spec = importlib.util.spec_from_file_location("quote_agreement", QUOTES / "agreement.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_second_annotations_resolve_and_are_of_gold_articles(records, news):
    """agreement/ holds second, blind annotations of gold articles: they resolve with the builder, are never
    in annotations/ (so never gold), and cover only articles the gold has."""
    ag = _load_agreement()
    second = bg.build_all(news, ag.AGREEMENT_DIR)
    gold_ids = {r["id"] for r in records}
    assert second and {r["id"] for r in second} <= gold_ids
    assert not {p.name for p in ag.AGREEMENT_DIR.glob("*.yaml")} & {p.name for p in bg.ANNOTATION_DIR.glob("*.yaml")}


def test_agreement_scores_a_second_annotation_against_the_gold(records):
    ag = _load_agreement()
    rec = next(r for r in records if len(r["quotes"]) >= 4)
    same = ag.agreement([rec], records)
    assert same["quote_exact"]["f1"] == 1.0 and same["speaker_accuracy"] == 1.0
    fewer = dict(rec, quotes=rec["quotes"][1:])  # the second annotator missed one quote
    s = ag.agreement([fewer], records)
    assert s["quote_50"]["precision"] == 1.0 and s["quote_50"]["recall"] == (len(rec["quotes"]) - 1) / len(rec["quotes"])
    with pytest.raises(bg.AnnotationError, match="not in the gold"):
        ag.agreement([dict(rec, id="fars-9-9999")], records)
