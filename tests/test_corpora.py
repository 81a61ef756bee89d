"""Corpus readers: tiny invented fixtures for every format and error, and the real ARMAN/PEYMA counts.

The real corpora are read from ../shared/data (never copied into the repository: licences); those
tests are skipped, with the reason, where that directory is absent.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from functools import partial
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _shared import SHARED, needs_shared
from parstag.inference.labels import ENTITY_TYPES, spans_from_tags, split_tag
from parstag.training.corpora import (
    CORPORA,
    CorpusError,
    CorpusNotFoundError,
    CorpusWarning,
    corpus_report,
    data_dir,
    load_corpus,
    read_arman,
    read_conll,
    read_jsonl_spans,
    read_peyma,
    span_tags,
)

FIXTURES = Path(__file__).parent / "fixtures"


def whitespace_words(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def sentences(ds) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    return [(tuple(t), tuple(g)) for t, g in zip(ds["tokens"], ds["ner_tags"])]


# ---------------------------------------------------------------- fixtures, format by format


def test_arman_fixture_columns_tags_and_report():
    ds = read_arman(FIXTURES / "arman_tiny.txt")
    assert ds.column_names == ["id", "tokens", "ner_tags", "corpus"]
    assert len(ds) == 7 and sum(map(len, ds["tokens"])) == 37
    assert ds[0] == {
        "id": "arman/arman_tiny:1",
        "tokens": ["علی", "رضایی", "در", "تهران", "گفت", "."],
        "ner_tags": ["B-PER", "I-PER", "O", "B-LOC", "O", "O"],
        "corpus": "arman",
    }
    types = Counter(t for tags in ds["ner_tags"] for t, _, _ in spans_from_tags(tags))
    assert types == {"PER": 2, "ORG": 1, "LOC": 1, "FAC": 1, "PRO": 1, "EVE": 2}
    report = corpus_report(ds)
    assert report.annotated_types == ("PER", "ORG", "LOC", "FAC", "PRO", "EVE")
    assert (report.sentences, report.tokens, report.duplicates, report.conflicts) == (7, 37, 1, 1)
    assert report.conflict_ids == [["arman/arman_tiny:1", "arman/arman_tiny:36"]]


def test_peyma_fixture_pipe_tokens_and_inner_spaces():
    ds = read_peyma(FIXTURES / "peyma_tiny.txt")
    first, second = ds[0], ds[1]
    # "| |O" is the token "|" plus a stray space; "||O" is the token "|": both read as "|".
    assert first["tokens"][2] == "|" and second["tokens"][10] == "|"
    assert first["tokens"][8] == "می\u200cرود"  # PEYMA's ZWNJ-turned-space is put back as a ZWNJ
    assert first["ner_tags"][:2] == ["B-ORG", "I-ORG"] and first["ner_tags"][5] == "B-DAT"
    assert second["ner_tags"][:3] == ["B-TIM", "I-TIM", "I-TIM"]
    report = corpus_report(ds)
    assert report.stripped_tokens == 1 and report.tokens == 24
    assert report.annotated_types == ("PER", "ORG", "LOC", "DAT", "TIM", "MON", "PCT")


def test_conll_iob1_is_detected_and_converted():
    ds = read_conll(FIXTURES / "conll_iob1.txt")  # 3 columns, label last, -DOCSTART- skipped
    assert ds["ner_tags"] == [["B-PER", "I-PER", "B-PER", "O", "O", "O"], ["B-ORG", "I-ORG", "O", "B-LOC", "O"]]
    report = corpus_report(ds)
    assert report.scheme == "iob1" and report.repairs == 0 and report.annotated_types == ("PER", "ORG", "LOC")
    assert ds["corpus"] == ["conll_iob1", "conll_iob1"]


def test_conll_bioes_is_detected_and_converted():
    ds = read_conll(FIXTURES / "conll_bioes.txt", corpus="mine", annotated_types=["PER", "ORG", "LOC", "DAT"])
    assert ds["ner_tags"] == [["B-PER", "O", "B-ORG", "I-ORG", "I-ORG", "O"], ["B-ORG", "I-ORG", "O", "B-LOC"]]
    report = corpus_report(ds)
    assert report.scheme == "bioes" and report.corpus == "mine"
    assert report.annotated_types == ("PER", "ORG", "LOC", "DAT")  # DAT annotated though absent here


def test_conll_label_column_and_type_map(tmp_path):
    path = tmp_path / "x.conll"
    path.write_text("Ali B-human NNP\nin O IN\nParis B-city NNP\n\nIBM B-company NNP\n", encoding="utf-8")
    ds = read_conll(path, label_col=1, type_map={"human": "PER", "city": "LOC", "company": None})
    assert ds["ner_tags"] == [["B-PER", "O", "B-LOC"], ["O"]]
    with pytest.raises(CorpusError, match=r"x\.conll:1: unknown tag 'B-human'"):
        read_conll(path, label_col=1)


def test_jsonl_spans_with_a_given_tokenizer():
    ds = read_jsonl_spans(FIXTURES / "spans.jsonl", tokenize=whitespace_words)
    assert ds["id"] == ["doc1-s1", "doc1-s2", "doc2-s1"]
    assert ds["ner_tags"] == [
        ["B-PER", "I-PER", "O", "B-LOC", "O"],
        ["B-ORG", "I-ORG", "I-ORG", "B-DAT", "O", "O"],
        ["O", "O", "O", "O"],
    ]
    assert ds["tokens"][0] == ["علی", "رضایی", "در", "تهران", "است"]
    assert corpus_report(ds).annotated_types == ("PER", "ORG", "LOC", "DAT")


def test_jsonl_spans_with_the_project_segmenter():
    segment = pytest.importorskip("parstag.inference.segment", reason="inference/segment.py not written yet")
    ds = read_jsonl_spans(FIXTURES / "spans.jsonl")
    ours = read_jsonl_spans(FIXTURES / "spans.jsonl", tokenize=segment.tokenize_words)
    assert ds["ner_tags"] == ours["ner_tags"] and ds["ner_tags"][0][:2] == ["B-PER", "I-PER"]


def _jsonl(tmp_path: Path, *records: str) -> Path:
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(records) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ('{"id": "a", "text": "علی رضایی", "spans": [{"start": 0, "end": 2, "label": "PER"}]}', "word boundaries"),
        ('{"id": "a", "text": "علی رضایی", "spans": [{"start": 0, "end": 9, "label": "PER"}, '
         '{"start": 4, "end": 9, "label": "LOC"}]}', "overlaps another span"),
        ('{"id": "a", "text": "علی رضایی", "spans": [{"start": 0, "end": 3, "label": "XYZ"}]}', "unknown label"),
        ('{"id": "a", "text": "علی  رضایی", "spans": [{"start": 3, "end": 5, "label": "PER"}]}', "covers no word"),
        ('{"id": "a", "text": "علی", "spans": [{"start": 0, "end": 9, "label": "PER"}]}', "0 <= start < end"),
        ('{"id": "a", "text": "علی"}', "expected {"),
        ('{"id": "a", "text": "علی", "spans": [}', "invalid JSON"),
    ],
)  # fmt: skip
def test_jsonl_errors_name_file_and_line(tmp_path, record, message):
    path = _jsonl(tmp_path, '{"id": "ok", "text": "سلام", "spans": []}', "", record)
    with pytest.raises(CorpusError, match=re.escape(message)) as info:
        read_jsonl_spans(path, tokenize=whitespace_words)
    assert info.value.line == 3 and str(info.value).startswith(f"{path}:3: ")


def test_jsonl_duplicate_ids_and_repair_widening(tmp_path):
    dup = _jsonl(tmp_path, '{"id": "a", "text": "x", "spans": []}', '{"id": "a", "text": "y", "spans": []}')
    with pytest.raises(CorpusError, match=r":2: duplicate id 'a' \(first on line 1\)"):
        read_jsonl_spans(dup, tokenize=whitespace_words)
    bad = _jsonl(tmp_path, '{"id": "a", "text": "به علی گفت", "spans": [{"start": 2, "end": 5, "label": "PER"}]}')
    with pytest.warns(CorpusWarning, match="repaired 1"):
        ds = read_jsonl_spans(bad, tokenize=whitespace_words, repair=True)
    assert ds["ner_tags"] == [["O", "B-PER", "O"]] and corpus_report(ds).repaired_lines == [1]


def test_span_tags_checks_annotations_and_tolerates_predictions():
    words = [(0, 3), (4, 9), (10, 13)]  # "علی رضایی گفت"
    assert span_tags(words, [(0, 9, "PER"), (10, 13, None)]) == ["B-PER", "I-PER", "O"]
    seen = []
    tags = span_tags(words, [(0, 2, "PER"), (0, 9, "ORG"), (9, 10, "LOC")], lambda kind, sp: seen.append((kind, sp)))
    assert seen == [("misaligned", (0, 2, "PER")), ("overlap", (0, 9, "ORG")), ("empty", (9, 10, "LOC"))]
    assert tags == ["B-ORG", "I-ORG", "O"]  # a problem that does not raise: the span is applied all the same
    # Without ``problem`` (quote_eval scoring predictions): a later span takes the words it shares.
    assert span_tags(words, [(0, 9, "QUOTE"), (4, 13, "QUOTE")]) == ["B-QUOTE", "B-QUOTE", "I-QUOTE"]


# ---------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    ("reader", "content", "line", "message"),
    [
        (read_arman, "علی B-pers\nرضایی I-pers O\n", 2, "expected 'TOKEN TAG', got 3 fields"),
        (read_arman, "علی B-pers\nرضایی I-PERS\n", 2, "unknown tag 'I-PERS'"),
        (read_arman, "علی B_pers\n", 1, "unknown tag"),  # ARMAN's separator is "-"
        (read_arman, "در O\nتهران I-loc\n", 2, "'I-loc' after 'O'"),
        (read_arman, "\n\nتهران I-loc\n", 3, "after sentence start"),
        (read_arman, "علی B-pers\nرضایی I-org\n", 2, "'I-org' after 'B-pers'"),
        (read_peyma, "علی|B_PER\nرضایی\n", 2, "expected 'TOKEN|TAG', no '|' on the line"),
        (read_peyma, "علی|B-PER\n", 1, "unknown tag"),  # PEYMA's separator is "_"
        (read_peyma, "علی|B_FAC\n", 1, "unknown tag"),  # PEYMA does not annotate FAC
        (read_peyma, " |O\n", 1, "empty token"),
        (read_conll, "a O\nb c O\n", 2, "expected 2 columns"),
        (read_conll, "a O\nb E-LOC\n", 2, "'E-LOC' after 'O'"),
        (partial(read_conll, scheme="bioes"), "a B-PER\nb O\n", 1, "'B-PER' is not closed by E-"),
        (partial(read_conll, scheme="bioes"), "a I-PER\n", 1, "'I-PER' after sentence start"),
        (partial(read_conll, scheme="iob2"), "a S-PER\n", 1, "unknown tag 'S-PER'"),
    ],
)  # fmt: skip
def test_malformed_lines_give_one_line_errors(tmp_path, reader, content, line, message):
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match=re.escape(message)) as info:
        reader(path)
    err = info.value
    assert (err.path, err.line) == (str(path), line)
    assert str(err).startswith(f"{path}:{line}: ") and "\n" not in str(err)


@pytest.mark.parametrize(
    "reader", [read_arman, read_peyma, read_conll, partial(read_jsonl_spans, tokenize=whitespace_words)]
)
@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_files_are_errors(tmp_path, reader, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=r"empty\.txt: no (sentences|records) \(empty file\)"):
        reader(path)


def test_bad_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("علی B-pers\n\n".encode() + b"caf\xe9 O\n")
    with pytest.raises(CorpusError, match=r"latin\.txt:3: not valid UTF-8 \(byte 0xe9\)"):
        read_arman(path)


def test_crlf_and_bom_are_tolerated(tmp_path):
    path = tmp_path / "win.txt"
    path.write_bytes("\ufeffعلی B-pers\r\nرضایی I-pers\r\n\r\n".encode())
    assert read_arman(path)["ner_tags"] == [["B-PER", "I-PER"]]


def test_repair_turns_a_leading_i_into_b_with_a_warning(tmp_path):
    path = tmp_path / "fix.txt"
    path.write_text("در O\nتهران I-loc\n\nکرج I-loc\n", encoding="utf-8")
    with pytest.warns(CorpusWarning, match=r"fix\.txt: repaired 2 tag\(s\).*first at line 2"):
        ds = read_arman(path, repair=True)
    assert ds["ner_tags"] == [["O", "B-LOC"], ["B-LOC"]]
    assert corpus_report(ds).repaired_lines == [2, 4]
    conll = tmp_path / "fix.conll"
    conll.write_text("a O\nb I-LOC\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="'I-LOC' after 'O'"):
        read_conll(conll, scheme="iob2")  # the same file is valid IOB1, so only a stated scheme rejects it
    assert read_conll(conll)["ner_tags"] == [["O", "B-LOC"]]


# ---------------------------------------------------------------- scheme conversion, as a property

ENTITY = st.tuples(st.sampled_from(ENTITY_TYPES[:3]), st.integers(1, 3))


def _render(pieces: list, scheme: str) -> list[str]:
    """Tags of a sentence built from O runs and entities, written in ``scheme``."""
    tags, prev = [], None
    for piece in pieces:
        if piece is None:
            tags.append("O")
            prev = None
            continue
        etype, n = piece
        if scheme == "bioes":
            tags += [f"S-{etype}"] if n == 1 else [f"B-{etype}"] + [f"I-{etype}"] * (n - 2) + [f"E-{etype}"]
        elif scheme == "iob1":  # B- only where an entity touches one of the same type
            tags += [f"{'B' if prev == etype else 'I'}-{etype}"] + [f"I-{etype}"] * (n - 1)
        else:
            tags += [f"B-{etype}"] + [f"I-{etype}"] * (n - 1)
        prev = etype
    return tags


@settings(max_examples=40, deadline=None)
@given(
    sents=st.lists(st.lists(st.one_of(st.none(), ENTITY), min_size=1, max_size=8), min_size=1, max_size=4),
    scheme=st.sampled_from(["iob1", "iob2", "bioes"]),
)
def test_every_scheme_reads_back_as_the_same_iob2_spans(sents, scheme):
    expected = [_render(s, "iob2") for s in sents]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.conll"
        path.write_text("\n\n".join("\n".join(f"w{i} {t}" for i, t in enumerate(_render(s, scheme))) for s in sents))
        for given_scheme in ("auto", scheme):
            assert read_conll(path, scheme=given_scheme)["ner_tags"] == expected


# ---------------------------------------------------------------- registry and data directory


def test_registry_maps_onto_the_canonical_types():
    assert CORPORA["arman"].annotated_types == ("PER", "ORG", "LOC", "FAC", "PRO", "EVE")
    assert CORPORA["peyma"].annotated_types == ("PER", "ORG", "LOC", "DAT", "TIM", "MON", "PCT")
    for info in CORPORA.values():
        assert set(info.type_map.values()) <= set(ENTITY_TYPES)
    assert CORPORA["arman"].split_file("test", 2) == "test_fold2.txt"
    assert CORPORA["peyma"].split_file("dev") == "dev.txt"
    bad_calls = [
        lambda: CORPORA["arman"].split_file("test"),  # no fold
        lambda: CORPORA["peyma"].split_file("dev", 1),  # PEYMA has no folds
        lambda: CORPORA["peyma"].split_file("validation"),
        lambda: load_corpus("conll2003", "train"),
    ]
    for bad in bad_calls:
        with pytest.raises(CorpusError):
            bad()


def test_missing_corpus_says_how_to_download_it(tmp_path):
    expected = rf"peyma train is missing; run `parstag data download peyma --to {re.escape(str(tmp_path))}`"
    with pytest.raises(CorpusNotFoundError, match=expected):
        load_corpus("peyma", "train", root=tmp_path)


def test_data_dir_precedence(tmp_path, monkeypatch):
    work = tmp_path / "repo"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("PARSTAG_DATA", str(tmp_path / "env"))
    assert data_dir() == tmp_path / "env"
    monkeypatch.delenv("PARSTAG_DATA")
    shared = tmp_path / "shared" / "data"
    shared.mkdir(parents=True)
    assert data_dir() == shared  # ./data/corpora is absent, ../shared/data is there
    (work / "data" / "corpora").mkdir(parents=True)
    assert data_dir() == work / "data" / "corpora"
    # Per corpus: PEYMA still read from ../shared/data once news was downloaded into ./data/corpora.
    (shared / "peyma").mkdir()
    (work / "data" / "corpora" / "news").mkdir()
    assert data_dir("peyma") == shared and data_dir("news") == work / "data" / "corpora"
    assert data_dir("nonesuch") == work / "data" / "corpora"  # nowhere: where a download would put it


# ---------------------------------------------------------------- the real corpora


@pytest.fixture(scope="module")
def peyma():
    return {s: read_peyma(SHARED / "peyma" / f"{s}.txt") for s in ("train", "dev", "test")}


@pytest.fixture(scope="module")
def arman():
    return {f"{s}{k}": read_arman(SHARED / "arman" / f"{s}_fold{k}.txt") for s in ("train", "test") for k in (1, 2, 3)}


@needs_shared
@pytest.mark.slow  # reads a whole real corpus (a few seconds)
def test_peyma_counts(peyma):
    assert {s: len(d) for s, d in peyma.items()} == {"train": 8028, "dev": 925, "test": 1026}
    assert sum(corpus_report(d).tokens for d in peyma.values()) == 302_528
    reports = {s: corpus_report(d) for s, d in peyma.items()}
    assert {s: (r.duplicates, r.conflicts, r.stripped_tokens) for s, r in reports.items()} == {
        "train": (321, 4, 23), "dev": (17, 0, 1), "test": (36, 0, 1)}  # fmt: skip
    for d in peyma.values():
        for tokens, tags in sentences(d):
            assert all(tok == tok.strip() and tok for tok in tokens)
            assert {split_tag(t)[1] for t in tags} <= {None, *CORPORA["peyma"].annotated_types}


@needs_shared
@pytest.mark.slow  # reads a whole real corpus (a few seconds)
def test_peyma_pipe_lines_are_the_pipe_token(peyma):
    # train.txt lines 138715 and 138739 read "| |O": "آسوشیتدپرس | آنتونی هاپکینز ...", a headline separator.
    hits = [(i, tokens) for i, tokens in zip(peyma["train"]["id"], peyma["train"]["tokens"]) if "|" in tokens]
    assert [i for i, _ in hits] == ["peyma/train:138714", "peyma/train:138738"]
    assert all(tokens[tokens.index("|") - 1] == "آسوشیتدپرس" for _, tokens in hits)
    assert sum(tokens.count("|") for s in ("dev", "test") for tokens in peyma[s]["tokens"]) == 4


@needs_shared
@pytest.mark.slow  # reads a whole real corpus (a few seconds)
def test_arman_counts_and_fold_structure(arman):
    tests = [arman[f"test{k}"] for k in (1, 2, 3)]
    assert [len(d) for d in tests] == [2560, 2561, 2560]
    assert sum(len(d) for d in tests) == 7681
    assert sum(corpus_report(d).tokens for d in tests) == 249_996
    assert [corpus_report(d).duplicates for d in tests] == [2, 1, 1]
    for k in (1, 2, 3):
        a, b = (sentences(arman[f"test{j}"]) for j in (1, 2, 3) if j != k)
        train = sentences(arman[f"train{k}"])
        # train_foldK holds exactly the sentences of the other two test folds (tokens and tags) ...
        assert Counter(train) == Counter(a + b)
        # ... interleaved in another order: neither concatenation, so only the multiset can be relied on.
        assert train != a + b and train != b + a


@needs_shared
def test_load_corpus_finds_the_shared_copy(monkeypatch):
    monkeypatch.setenv("PARSTAG_DATA", str(SHARED))
    assert len(load_corpus("peyma", "dev")) == 925
    ds = load_corpus("arman", "test", fold=1)
    assert len(ds) == 2560 and ds[0]["corpus"] == "arman" and ds[0]["id"] == "arman/test_fold1:1"
