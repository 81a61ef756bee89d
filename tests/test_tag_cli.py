"""``parstag tag``: inputs of every kind, bad articles skipped with their id, atomic output, --resume."""

from __future__ import annotations

import argparse
import io
import json
import os

import pytest

from _tiny import one_thread, random_model, save  # noqa: F401 (one_thread: autouse fixture)
from parstag.inference import commands

TEXT = "علي رضايي، وزير كشور، روز ۱۲ مهر 1402 در تهران گفت: «ما پیشرفت‌ها داشته‌ایم.» 😀"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save(random_model(seed=6), tmp_path_factory.mktemp("m") / "model")


def run(*argv, stdin: bytes | None = None, monkeypatch=None):
    parser = argparse.ArgumentParser(prog="parstag")
    sub = parser.add_subparsers(dest="command", required=True)
    commands.add_tag_parser(sub)
    commands.add_export_parser(sub)
    argv = [str(a) for a in argv]
    args = parser.parse_args(argv if argv[0] in ("tag", "export") else ["tag", *argv])
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    return args.func(args)


def read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def corpus(tmp_path):
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text(TEXT, encoding="utf-8")
    (d / "sub" / "b.txt").write_text("تهران و کرج\n\nدو پاراگراف.", encoding="utf-8")
    (d / "ignored.md").write_text("not an article", encoding="utf-8")
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(
        json.dumps({"id": "j1", "text": TEXT}, ensure_ascii=False) + "\n\n"
        + json.dumps({"text": "بدون شناسه"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return d, jsonl


def test_directories_files_and_jsonl(model_dir, corpus, tmp_path, capsys):
    d, jsonl = corpus
    out = tmp_path / "out" / "results.jsonl"
    assert run(d, jsonl, "--model", model_dir, "--out", out, "--device", "cpu") == 0
    records = read(out)
    assert [r["id"] for r in records] == [str(d / "a.txt"), str(d / "sub" / "b.txt"), "j1", f"{jsonl}:3"]
    for r in records:
        assert set(r) == {"id", "text", "sentences", "entities", "quotes"}
        assert all(r["text"][e["start"] : e["end"]] == e["text"] for e in r["entities"])
    assert records[0]["text"] == TEXT
    assert "4 tagged, 0 skipped" in capsys.readouterr().err
    assert sorted(p.name for p in out.parent.iterdir()) == ["results.jsonl"]  # no temp file left
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not the temp file's 0600


def test_stdin_text_and_jsonl(model_dir, tmp_path, monkeypatch):
    out = tmp_path / "o.jsonl"
    run("-", "--model", model_dir, "--out", out, stdin=TEXT.encode(), monkeypatch=monkeypatch)
    assert [r["id"] for r in read(out)] == ["stdin"]
    lines = b'{"id": 7, "text": "\xd8\xaa\xd9\x87\xd8\xb1\xd8\xa7\xd9\x86"}\n{"id": 8, "text": "x"}\n'
    run("-", "--model", model_dir, "--out", out, stdin=lines, monkeypatch=monkeypatch)
    assert [(r["id"], r["text"]) for r in read(out)] == [(7, "تهران"), (8, "x")]


def test_bad_articles_are_reported_and_skipped(model_dir, tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    (d / "1-good.txt").write_text(TEXT, encoding="utf-8")
    (d / "2-latin1.txt").write_bytes("café".encode("latin-1"))
    (d / "3-empty.txt").write_bytes(b"  \n ")
    (d / "4-binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (d / "5-huge.txt").write_text("ه" * 1_000_000, encoding="utf-8")
    (d / "6-good.txt").write_text("تهران", encoding="utf-8")
    jsonl = tmp_path / "x.jsonl"
    jsonl.write_bytes(
        b'{"id": "ok", "text": "\xd8\xaa"}\n{"id": "bad json\n\xff\xfe\n{"id": "n", "text": "a\\u0000b"}\n[1]\n'
        b'{"id": "e", "text": ""}\n'
    )
    out = tmp_path / "o.jsonl"
    assert run(d, jsonl, "--model", model_dir, "--out", out, "--no-progress") == 0
    assert [r["id"] for r in read(out)] == [str(d / "1-good.txt"), str(d / "6-good.txt"), "ok"]
    err = capsys.readouterr().err
    for where, why in [
        ("2-latin1.txt", "invalid UTF-8"), ("3-empty.txt", "empty"), ("4-binary.txt", "NUL"),
        ("5-huge.txt", "too long"), (f"{jsonl}:2", "invalid JSON"), (f"{jsonl}:3", "invalid UTF-8"),
        (f"{jsonl}:4", "NUL"), (f"{jsonl}:5", "not an object"), (f"{jsonl}:6", "empty"),
    ]:
        assert any(where in line and why in line for line in err.splitlines()), (where, why, err)
    assert "3 tagged, 9 skipped" in err


def test_resume_keeps_previous_records(model_dir, corpus, tmp_path, capsys):
    d, jsonl = corpus
    out = tmp_path / "o.jsonl"
    run(d / "a.txt", "--model", model_dir, "--out", out)
    before = out.read_text(encoding="utf-8")
    with out.open("a", encoding="utf-8") as f:
        f.write('{"id": "truncated", "te')  # a damaged last line is dropped and tagged again if present
    capsys.readouterr()
    run(d, jsonl, "--model", model_dir, "--out", out, "--resume")
    assert "3 tagged, 0 skipped, 1 kept" in capsys.readouterr().err
    after = out.read_text(encoding="utf-8")
    assert after.startswith(before) and len(read(out)) == 4
    run(d, "--model", model_dir, "--out", out)  # without --resume the output is replaced
    assert len(read(out)) == 2


def test_interrupted_run_keeps_what_was_done(model_dir, corpus, tmp_path, monkeypatch):
    d, jsonl = corpus
    out = tmp_path / "o.jsonl"
    out.write_text("old\n", encoding="utf-8")
    from parstag.inference.tagger import Tagger

    real = Tagger.stream

    def interrupted(self, items, **kw):
        for i, result in enumerate(real(self, items, **kw)):
            if i == 2:
                raise KeyboardInterrupt
            yield result

    monkeypatch.setattr(Tagger, "stream", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(d, jsonl, "--model", model_dir, "--out", out)
    assert len(read(out)) == 2 and sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    monkeypatch.setattr(Tagger, "stream", real)
    run(d, jsonl, "--model", model_dir, "--out", out, "--resume")
    assert len(read(out)) == 4


def test_html_view(model_dir, corpus, tmp_path):
    d, _ = corpus
    out, html = tmp_path / "o.jsonl", tmp_path / "view.html"
    run(d, "--model", model_dir, "--out", out, "--html", html)
    page = html.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html") and "rtl" in page
    assert "تهران" in page


def test_missing_input_is_an_error(model_dir, tmp_path):
    with pytest.raises(FileNotFoundError):
        run(tmp_path / "nope.txt", "--model", model_dir, "--out", tmp_path / "o.jsonl")


def test_quote_thresholds_on_the_command_line(model_dir, tmp_path, capsys, monkeypatch):
    from parstag.inference.tagger import Tagger
    from parstag.training.cli import main

    f = tmp_path / "a.txt"
    f.write_text(TEXT, encoding="utf-8")
    reads_rules = save(random_model(seed=6, quotes=True, rule_features="head"), tmp_path / "rf")
    made = []
    real = Tagger.__init__
    monkeypatch.setattr(Tagger, "__init__", lambda self, *a, **k: made.append(self) or real(self, *a, **k))
    assert run(f, "--model", reads_rules, "--out", tmp_path / "o.jsonl", "--quote-min-score", "0.5",
               "--own-quote-min-score", "0.9") == 0
    assert (made[-1].quote_min_score, made[-1].own_quote_min_score) == (0.5, 0.9)
    assert run(f, "--model", reads_rules, "--out", tmp_path / "o.jsonl") == 0  # the checkpoint's: none set
    assert (made[-1].quote_min_score, made[-1].own_quote_min_score) == (0.0, None)
    # An NER-only model has no own quotes to hold to a bar: one line, no traceback.
    assert main(["tag", str(f), "--model", str(model_dir), "--out", str(tmp_path / "n.jsonl"),
                 "--own-quote-min-score", "0.9"]) == 2
    assert "error: own_quote_min_score is a bar for quotes the rules did not find" in capsys.readouterr().err


def test_registered_in_the_parstag_command(model_dir, tmp_path):
    from parstag.training.cli import main

    f = tmp_path / "a.txt"
    f.write_text(TEXT, encoding="utf-8")
    assert main(["tag", str(f), "--model", str(model_dir), "--out", str(tmp_path / "o.jsonl"), "--no-progress"]) == 0
    assert main(["export", "--model", str(model_dir), "--out", str(tmp_path / "int8")]) == 0
    assert main(["tag", str(f), "--model", str(tmp_path / "int8"), "--out", str(tmp_path / "q.jsonl")]) == 0
    assert read(tmp_path / "q.jsonl")[0]["text"] == TEXT
