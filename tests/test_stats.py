"""Corpus statistics and ``parstag data stats``: exact counts on invented fixtures, measured ones on the real data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _shared import SHARED, needs_shared
from parstag.training.corpora import read_arman
from parstag.training.data_commands import main
from parstag.training.stats import (
    compute_stats,
    count_duplicates,
    dataset_stats,
    detect_format,
    format_table,
    percentile,
)

FIXTURES = Path(__file__).parent / "fixtures"


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert [percentile(values, q) for q in (50, 90, 99, 100)] == [50, 90, 99, 100]
    assert percentile([7], 50) == 7 and percentile([], 90) == 0
    assert percentile([1, 2, 3, 10], 50) == 2  # a value that occurs, never an interpolation


def test_count_duplicates_and_conflicts():
    ids = ["a", "b", "c", "d", "e"]
    tokens = [["x", "y"], ["x", "y"], ["x", "y"], ["z"], ["x", "y"]]
    tags = [["B-PER", "O"], ["B-PER", "O"], ["B-LOC", "O"], ["O"], ["B-LOC", "O"]]
    assert count_duplicates(ids, tokens, tags) == (2, [["a", "c"]])


def test_compute_stats_counts_entities_and_lengths():
    tokens = [["a", "b", "c"], ["d"], ["e", "f"]]
    tags = [["B-PER", "I-PER", "B-LOC"], ["O"], ["B-PER", "O"]]
    stats = compute_stats("x", ["1", "2", "3"], tokens, tags, annotated_types=["PER", "LOC", "DAT"])
    assert (stats.sentences, stats.tokens, stats.single_token_sentences) == (3, 6, 1)
    assert stats.entities == {"PER": 2, "LOC": 1, "DAT": 0}  # DAT annotated, none found: 0, not absent
    assert stats.length == {"p50": 2, "p90": 3, "p99": 3, "max": 3}


def test_fixture_stats_and_table():
    stats = dataset_stats(read_arman(FIXTURES / "arman_tiny.txt"), name="arman_tiny")
    assert (stats.sentences, stats.tokens, stats.duplicates, stats.conflicts) == (7, 37, 1, 1)
    assert stats.entities == {"PER": 2, "ORG": 1, "LOC": 1, "FAC": 1, "PRO": 1, "EVE": 2}
    other = compute_stats("dates", ["1"], [["امروز"]], [["B-DAT"]], format="conll")
    table = format_table([stats, other]).splitlines()
    assert table[0].split() == ["arman_tiny", "dates"]
    assert next(line for line in table if line.startswith("  DAT")).split() == ["DAT", "-", "1"]
    assert next(line for line in table if line.startswith("  PER")).split() == ["PER", "2", "-"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("arman_tiny.txt", "arman"), ("peyma_tiny.txt", "peyma"), ("conll_iob1.txt", "conll"),
     ("conll_bioes.txt", "conll"), ("spans.jsonl", "jsonl")],
)  # fmt: skip
def test_detect_format_of_fixtures(name, expected):
    assert detect_format(FIXTURES / name) == expected


def test_detect_format_needs_an_arman_tag_to_say_arman(tmp_path):
    path = tmp_path / "all_o.txt"
    path.write_text("a O\nb O\n", encoding="utf-8")
    assert detect_format(path) == "conll"  # reads the same either way


@needs_shared
@pytest.mark.parametrize(("rel", "expected"), [("arman/test_fold1.txt", "arman"), ("peyma/dev.txt", "peyma")])
def test_detect_format_of_real_files(rel, expected):
    assert detect_format(SHARED / rel) == expected


def test_cli_table_and_json(capsys):
    assert main(["stats", str(FIXTURES / "arman_tiny.txt"), str(FIXTURES / "peyma_tiny.txt")]) == 0
    out = capsys.readouterr().out
    assert "fixtures/arman_tiny.txt" in out and "duplicate sentences" in out and "length p99" in out
    assert main(["stats", "--json", str(FIXTURES / "conll_iob1.txt"), str(FIXTURES / "conll_iob1.txt")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [f["scheme"] for f in result["files"]] == ["iob1", "iob1"]
    assert result["files"][0]["entities"] == {"PER": 2, "ORG": 1, "LOC": 1}
    assert result["total"]["duplicates"] == 2  # the same file twice: every sentence repeats across files


def test_cli_format_option_and_conll_label_column(tmp_path, capsys):
    path = tmp_path / "three.tsv"
    path.write_text("علی B-PER N\nرفت O V\n", encoding="utf-8")
    assert main(["stats", "--json", "--format", "conll", "--label-col", "1", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["files"][0]["entities"] == {"PER": 1}


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("a B-pers\nb I-pers O\n", ["--format", "arman"], "bad.txt:2: expected 'TOKEN TAG', got 3 fields"),
        ("a B-pers\nb I-pers O\n", [], "bad.txt:2: expected 2 columns (as on the first line), got 3"),
        ("a O\nb I-PER\n", ["--scheme", "iob2"], "bad.txt:2: 'I-PER' after 'O'"),
        (None, [], "missing.txt: no such file"),
    ],
)
def test_cli_errors_are_one_line(tmp_path, capsys, content, args, message):
    path = tmp_path / ("missing.txt" if content is None else "bad.txt")
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["stats", *args, str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("parstag data stats: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_cli_repair_warns_in_one_line(tmp_path, capsys):
    path = tmp_path / "fix.txt"
    path.write_text("a O\nb I-PER\n", encoding="utf-8")
    assert main(["stats", "--scheme", "iob2", "--repair", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"parstag data stats: warning: {path}: repaired 1 tag(s) or span(s), first at line 2\n"
    assert "repaired tags" in captured.out


@needs_shared
@pytest.mark.slow  # reads a whole real corpus (a few seconds)
def test_real_peyma_stats(capsys):
    paths = [str(SHARED / "peyma" / f"{s}.txt") for s in ("train", "dev", "test")]
    assert main(["stats", "--json", *paths]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [f["sentences"] for f in result["files"]] == [8028, 925, 1026]
    assert [f["duplicates"] for f in result["files"]] == [321, 17, 36]
    total = result["total"]
    assert (total["sentences"], total["tokens"]) == (9979, 302_528)
    assert total["duplicates"] == 390  # 16 more than within the splits: sentences repeated across splits
    assert total["conflicts"] == 4 and total["stripped_tokens"] == 25
    assert set(total["entities"]) == {"PER", "ORG", "LOC", "DAT", "TIM", "MON", "PCT"}


@needs_shared
@pytest.mark.slow  # reads a whole real corpus (a few seconds)
def test_real_arman_test_folds_stats(capsys):
    paths = [str(SHARED / "arman" / f"test_fold{k}.txt") for k in (1, 2, 3)]
    assert main(["stats", "--json", *paths]) == 0
    total = json.loads(capsys.readouterr().out)["total"]
    assert (total["sentences"], total["tokens"]) == (7681, 249_996)
    assert (total["duplicates"], total["conflicts"]) == (12, 1)
    assert total["length"]["max"] == 240
