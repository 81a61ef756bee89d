"""``parstag data silver``: rule-annotated quote records from raw news, on tiny news folders made in tmp_path.

The fixtures imitate ../shared/data/news (``<source>/<name>-N.json``, each a JSON list of articles) with a
few short Persian articles: colon quotes (``X گفت: ...``), one article without a quote, one that the
"gold" exclude file holds, and one whose speaker the rules cut inside a word (a U+200E mark in
``ولی‌پور``), which must be dropped so that every written record loads without repair.  One test runs on the
real Fars files when ../shared is there.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parstag.inference.labels import ENTITY_TYPES, QUOTE_ROLES
from parstag.inference.quote_rules import article_text
from parstag.inference.quote_rules import main as rules_main
from parstag.training.cli import main as cli_main
from parstag.training.corpora import CorpusError, CorpusNotFoundError, read_jsonl_spans
from parstag.training.data_commands import write_silver

from _shared import SHARED

ROOT = Path(__file__).resolve().parents[1]
needs_shared = pytest.mark.skipif(not (SHARED / "news").is_dir(), reason=f"real news not found at {SHARED / 'news'}")
ROLES_AS_TYPES = dict(zip(QUOTE_ROLES, ENTITY_TYPES))  # the reader wants entity types; any three will do


def _article(title: str, abstract: str, *paragraphs: str) -> dict:
    return {"title": title, "abstract": abstract, "paragraphs": list(paragraphs), "tags": [], "link": "x"}


FARS = [
    # two quotes
    _article("قیمت نان", "علی رضایی گفت: قیمت نان امسال افزایش نمی‌یابد.", "وی افزود: ذخایر گندم کافی است."),
    _article("بارش باران در تهران", "امروز در تهران باران بارید.", "هوا سرد شد."),  # no quote
    _article("جلسه دولت", "مریم احمدی گفت: جلسه فردا برگزار می‌شود."),  # in the gold: excluded
    _article("بودجه استان", "خبر کوتاه.", "ولی\u200eپور مطلق گفت: بودجه کافی نیست."),  # speaker off word boundaries
]
VARZESH3 = [
    _article("خبر ورزشی", "مربی تیم گفت: بازیکنان آماده هستند.", "کاپیتان تیم نیز گفت: ما برای قهرمانی بازی می‌کنیم."),
    _article("تمرین تیم", "سرمربی گفت: تمرین فردا ساعت ده است."),
]
ALL_IDS = ["fars-1-0000", "fars-1-0001", "varzesh3-1-0000", "varzesh3-1-0001"]  # with the gold excluded


def _write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def news(tmp_path) -> Path:
    root = tmp_path / "news"
    _write_json(root / "fars" / "fars-news-1.json", FARS)
    _write_json(root / "varzesh3" / "varzesh3-1.json", VARZESH3)
    return root


@pytest.fixture
def gold(tmp_path) -> Path:
    path = tmp_path / "gold" / "dev.jsonl"
    path.parent.mkdir()
    rec = {"id": "fars-1-0002", "source": "fars", "split": "dev", "text": article_text(FARS[2]), "spans": []}
    path.write_text(json.dumps(rec, ensure_ascii=False) + "\n\n", encoding="utf-8")  # a blank line is fine
    return path


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_counts_ids_and_records(news, gold, tmp_path):
    out = tmp_path / "silver.jsonl"
    counts = write_silver(news, out, [gold])
    assert counts == {"read": 6, "excluded": 1, "skipped": 1, "written": 4, "quotes": 5}
    recs = records(out)
    assert [r["id"] for r in recs] == ALL_IDS
    assert [r["source"] for r in recs] == ["fars", "fars", "varzesh3", "varzesh3"]
    assert {r["split"] for r in recs} == {"silver"}
    assert [len(r["quotes"]) for r in recs] == [2, 0, 2, 1]
    assert recs[0]["text"] == article_text(FARS[0])
    speakers = [sp["text"] for r in recs for sp in r["spans"] if sp["label"] == "SPEAKER"]
    assert speakers == ["علی رضایی", "وی", "مربی تیم", "کاپیتان تیم", "سرمربی"]


def test_without_exclusion_the_gold_article_is_written(news, tmp_path):
    counts = write_silver(news, tmp_path / "s.jsonl")
    assert counts == {"read": 6, "excluded": 0, "skipped": 1, "written": 5, "quotes": 6}
    assert "fars-1-0002" in [r["id"] for r in records(tmp_path / "s.jsonl")]


@pytest.mark.parametrize(
    ("articles", "ids", "read"),
    [
        (1, ["fars-1-0000", "varzesh3-1-0000"], 2),
        (2, ALL_IDS, 4),
        # The third taken fars article is the 4th in the file (the gold one is not counted) and is skipped.
        (3, ALL_IDS, 6),
        (99, ALL_IDS, 6),
    ],
)
def test_articles_per_source_folder_after_exclusion(news, gold, tmp_path, articles, ids, read):
    out = tmp_path / "s.jsonl"
    counts = write_silver(news, out, [gold], articles=articles)
    assert [r["id"] for r in records(out)] == ids
    assert counts["read"] == read and counts["written"] == len(ids)
    assert counts["read"] == counts["excluded"] + counts["skipped"] + counts["written"]


def test_files_in_natural_name_order(news, tmp_path):
    for n in (10, 2):
        _write_json(news / "fars" / f"fars-news-{n}.json", FARS[:1])
    (news / "fars" / "notes.txt").write_text("not news")
    (news / "README.md").write_text("not a source folder")
    write_silver(news, tmp_path / "s.jsonl")
    ids = [r["id"] for r in records(tmp_path / "s.jsonl")]
    assert ids[:5] == ["fars-1-0000", "fars-1-0001", "fars-1-0002", "fars-2-0000", "fars-10-0000"]
    assert ids[5:] == ["varzesh3-1-0000", "varzesh3-1-0001"]


def test_two_runs_are_byte_identical(news, gold, tmp_path):
    write_silver(news, tmp_path / "a.jsonl", [gold])
    write_silver(news, tmp_path / "b.jsonl", [gold])
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_records_load_without_repair(news, tmp_path):
    out = tmp_path / "s.jsonl"
    write_silver(news, out)
    ds = read_jsonl_spans(out, type_map=ROLES_AS_TYPES)
    assert list(ds["id"]) == [r["id"] for r in records(out)]
    assert sum(tag.startswith("B-") for tags in ds["ner_tags"] for tag in tags) == sum(
        len(r["spans"]) for r in records(out))  # fmt: skip


def test_the_skipped_record_would_not_load(news, tmp_path):
    """The reason for skipping: the reader refuses the record the rules make of the U+200E article."""
    from parstag.inference.quote_rules import silver_records

    (rec,) = silver_records([("fars-1-0003", FARS[3])], source="fars")
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="not on word boundaries"):
        read_jsonl_spans(path, type_map=ROLES_AS_TYPES)


def test_write_is_atomic(news, tmp_path):
    out = tmp_path / "deep" / "er" / "silver.jsonl"  # folders are made
    write_silver(news, out)
    first = out.read_bytes()
    write_silver(news, out)  # replaces the file
    assert out.read_bytes() == first
    assert sorted(p.name for p in out.parent.iterdir()) == ["silver.jsonl"]  # no temporary file left
    _write_json(news / "varzesh3" / "varzesh3-2.json", {"not": "a list"})
    with pytest.raises(CorpusError):
        write_silver(news, out)
    assert out.read_bytes() == first and sorted(p.name for p in out.parent.iterdir()) == ["silver.jsonl"]


def test_missing_news_folder(tmp_path):
    missing = tmp_path / "data" / "news"
    with pytest.raises(CorpusNotFoundError) as info:
        write_silver(missing, tmp_path / "s.jsonl")
    message = str(info.value)
    assert message.startswith(f"{missing}: no such news folder") and "\n" not in message
    assert f"parstag data download news --to {missing.parent}" in message
    missing.mkdir(parents=True)  # there, but empty
    with pytest.raises(CorpusNotFoundError, match=r"no news files .*parstag data download news"):
        write_silver(missing, tmp_path / "s.jsonl")
    assert not (tmp_path / "s.jsonl").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"title": "x",\n', r"fars-news-1\.json:2: invalid JSON \("),
        ('{"title": "x"}', r"fars-news-1\.json: expected a JSON list of articles"),
        ('[{"title": "x", "abstract": "y", "paragraphs": []}, {"title": "x", "abstract": 3, "paragraphs": []}]',
         r"fars-news-1\.json: article 1: expected \{"),
        ('[{"title": "x", "abstract": "y", "paragraphs": "z"}]', r"fars-news-1\.json: article 0: expected"),
        ("[7]", r"fars-news-1\.json: article 0: expected"),
        (b"[\xff]", r"fars-news-1\.json:1: not valid UTF-8"),
    ],
)
def test_bad_news_file_names_the_file(news, tmp_path, content, message):
    path = news / "fars" / "fars-news-1.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(CorpusError, match=message) as info:
        write_silver(news, tmp_path / "s.jsonl")
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_bad_exclude_file_names_the_line(news, gold, tmp_path):
    gold.write_text(gold.read_text(encoding="utf-8") + '{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=rf'^{gold}:3: expected a JSON record with a "text" string$'):
        write_silver(news, tmp_path / "s.jsonl", [gold])
    with pytest.raises(CorpusError, match="no such file"):
        write_silver(news, tmp_path / "s.jsonl", [tmp_path / "nope.jsonl"])


def test_two_files_that_make_the_same_ids(news, tmp_path):
    _write_json(news / "fars" / "other-1.json", FARS[:1])
    with pytest.raises(CorpusError, match=r"other-1\.json: article 0: id 'fars-1-0000' is also made from .*fars-news"):
        write_silver(news, tmp_path / "s.jsonl")


def test_cli(news, gold, tmp_path, capsys):
    out = tmp_path / "s.jsonl"
    argv = ["data", "silver", "--news", str(news), "--exclude", str(gold), "--articles", "3", "--out", str(out)]
    assert cli_main([*argv, "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert captured.out == (f"silver: 6 articles read, 1 excluded, 1 skipped (spans off word boundaries), "
                            f"4 written with 5 quotes to {out}\n")  # fmt: skip
    assert captured.err == ""  # no progress bar: not a terminal
    assert [r["id"] for r in records(out)] == ALL_IDS


def test_cli_defaults_data_dir_news_and_the_gold(news, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PARSTAG_DATA", str(news.parent))  # data_dir() / "news" is the fixture
    work = tmp_path / "work"
    (work / "data" / "quotes" / "gold").mkdir(parents=True)
    (work / "data" / "quotes" / "gold" / "test.jsonl").write_text(  # dev.jsonl is absent: test and train
        json.dumps({"id": "g", "text": article_text(FARS[2]), "spans": []}, ensure_ascii=False) + "\n")
    monkeypatch.chdir(work)
    assert cli_main(["data", "silver", "--out", "s.jsonl"]) == 0
    assert "6 articles read, 1 excluded, 1 skipped" in capsys.readouterr().out
    (work / "data" / "quotes" / "gold" / "train.jsonl").write_text(  # a gold train article is not silver either
        json.dumps({"id": "t", "text": article_text(FARS[0]), "spans": []}, ensure_ascii=False) + "\n")
    assert cli_main(["data", "silver", "--out", "s.jsonl"]) == 0
    assert "6 articles read, 2 excluded, 1 skipped" in capsys.readouterr().out
    assert cli_main(["data", "silver", "--out", "s.jsonl", "--exclude"]) == 0  # --exclude alone: nothing
    assert "6 articles read, 0 excluded, 1 skipped" in capsys.readouterr().out


@pytest.mark.parametrize("make_bad", ["missing", "bad_json"])
def test_cli_errors_are_one_line(news, tmp_path, capsys, make_bad):
    if make_bad == "missing":
        news = tmp_path / "nowhere"
    else:
        (news / "varzesh3" / "varzesh3-1.json").write_text("[oops]")
    out = tmp_path / "s.jsonl"
    assert cli_main(["data", "silver", "--news", str(news), "--out", str(out), "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith("parstag data silver: error: ")
    expected = "parstag data download news" if make_bad == "missing" else "varzesh3-1.json:1: invalid JSON"
    assert expected in captured.err
    assert not out.exists()


def test_cli_rejects_a_non_positive_article_count(news, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        cli_main(["data", "silver", "--news", str(news), "--articles", "0", "--out", str(tmp_path / "s.jsonl")])
    assert info.value.code == 2 and "not a positive integer" in capsys.readouterr().err


@needs_shared
def test_real_fars_articles(tmp_path, capsys):
    """Five articles a source from the real news, the gold left out: ids and records as ``quote_rules.main``
    makes them (which reads one file with ``--limit``), less the ones off word boundaries; all loadable."""
    gold = [ROOT / "data" / "quotes" / "gold" / f"{s}.jsonl" for s in ("dev", "test")]
    news = tmp_path / "news"
    news.mkdir()
    (news / "fars").symlink_to(SHARED / "news" / "fars")  # the real Fars files only
    out = tmp_path / "silver.jsonl"
    counts = write_silver(news, out, gold, articles=5)
    assert counts["read"] == counts["excluded"] + counts["skipped"] + counts["written"]
    assert counts["read"] - counts["excluded"] == 5
    ours = records(out)
    assert rules_main([str(SHARED / "news" / "fars" / "fars-news-1.json"), "--limit", "5",
                       "--exclude", *map(str, gold)]) == 0  # fmt: skip
    theirs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(theirs) == 5 and all(r["id"].startswith("fars-1-") for r in theirs)
    assert ours == [r for r in theirs if r["id"] in {o["id"] for o in ours}]
    gold_texts = {json.loads(line)["text"] for path in gold for line in path.read_text(encoding="utf-8").splitlines()}
    assert not any(r["text"] in gold_texts for r in ours)
    assert len(read_jsonl_spans(out, type_map=ROLES_AS_TYPES)) == counts["written"]


# ------------------------------------------------------------------ silver from a corpus's own sentences

PEYMA_TRAIN = """علی|B_PER
رضایی|I_PER
در|O
تهران|B_LOC
گفت|O
:|O
قیمت|O
نان|O
افزایش|O
نمی‌یابد|O
.|O

هوا|O
سرد|O
شد|O
.|O
"""


def test_corpus_sentences_get_the_rules_roles_beside_their_entities(tmp_path, monkeypatch, capsys):
    """``--corpus peyma:train``: each sentence keeps its gold entities and gains the rules' quote roles, so it
    trains both heads; the rules name the speaker from those entities."""
    from parstag.training.config import CorpusSpec
    from parstag.training.data import _read_jsonl

    (tmp_path / "data" / "peyma").mkdir(parents=True)
    (tmp_path / "data" / "peyma" / "train.txt").write_text(PEYMA_TRAIN, encoding="utf-8")
    monkeypatch.setenv("PARSTAG_DATA", str(tmp_path / "data"))
    out = tmp_path / "peyma-silver.jsonl"
    assert cli_main(["data", "silver", "--corpus", "peyma:train", "--out", str(out)]) == 0
    assert capsys.readouterr().out == (f"silver: 2 sentences of peyma:train read, 0 skipped (spans off word "
                                       f"boundaries), 2 written, 1 with 1 quotes, to {out}\n")  # fmt: skip
    first, second = records(out)
    assert first["text"].startswith("علی رضایی در تهران گفت : قیمت")
    labels = {sp["label"]: sp["text"] for sp in first["spans"]}
    assert labels == {"PER": "علی رضایی", "LOC": "تهران", "SPEAKER": "علی رضایی", "CUE": "گفت",
                      "QUOTE": "قیمت نان افزایش نمی‌یابد ."}
    assert first["quotes"][0]["entity"]["text"] == "علی رضایی" and second["quotes"] == []
    ds, types = _read_jsonl(out, CorpusSpec(name="p", reader="jsonl"))
    assert types == ("PER", "LOC")
    assert ds["ner_tags"][0][:4] == ["B-PER", "I-PER", "O", "B-LOC"]
    assert ds["quote_tags"][0][:2] == ["B-SPEAKER", "I-SPEAKER"] and ds["quote_tags"][0][4] == "B-CUE"


@pytest.mark.parametrize("argv, message", [
    (["--corpus", "peyma"], "expected NAME:SPLIT"),
    (["--corpus", "peyma:train", "--articles", "3"], "--news, --exclude and --articles are for the news"),
    (["--corpus", "nosuch:train"], "unknown corpus 'nosuch'"),
])
def test_corpus_silver_errors_are_one_line(tmp_path, capsys, argv, message):
    assert cli_main(["data", "silver", *argv, "--out", str(tmp_path / "x.jsonl")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("parstag data silver: error: ")
    assert not (tmp_path / "x.jsonl").exists()
