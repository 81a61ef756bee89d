"""``parstag tag`` and ``parstag export``: tagging files from the command line, exporting int8 models.

The problem: a tagging run over thousands of scraped articles must not die on one bad article (invalid
UTF-8, binary junk, an empty file, a megabyte of one character), must never leave a half-written output
file, and must be resumable.  So inputs are read and checked one article at a time and a bad one is
reported on stderr with its id (the file, or ``file:line`` for JSONL) and skipped; results go to a temp
file in the output's directory that replaces the output with ``os.replace`` at the end (also when the
run is interrupted, so that what was done is kept and ``--resume`` continues from it); ``--resume``
keeps the records already in the output and skips their ids.

Registration imports nothing heavy; the handlers import torch/transformers when they run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from .fileio import temp_beside, write_text_atomic
from .quotes import QUOTE_SOURCES

DEFAULT_MAX_CHARS = 200_000  # 7x the longest of 3,700 Fars/Varzesh3 articles; guards against runaway input

TAG_HELP = """inputs:
  file.txt          one article; its id is the path as given
  directory         every *.txt below it (recursively), in sorted order
  file.jsonl        one {"id", "text"} object per line; without "id" the id is "file:line"
  -                 standard input: JSONL if it starts with "{", else one article with id "stdin"

Bad articles (invalid UTF-8, NUL bytes, empty, longer than --max-chars) are reported on stderr and
skipped.  Output: one JSON object per line, {"id", "text", "sentences", "entities", "quotes"}, offsets
in characters of the original text.

examples:
  parstag tag data/samples/seed-report.txt --model runs/peyma/model --out tagged.jsonl --html tagged.html
  parstag tag news/ more.jsonl --model runs/peyma/model --out all.jsonl --quantize dynamic-int8 --resume
"""


def add_tag_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "tag",
        help="tag articles (.txt, directories, JSONL, stdin) with entities and quotes, write JSONL",
        description="Tag Persian news articles; write one JSON result per article.",
        epilog=TAG_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help=".txt file, directory, .jsonl file or -")
    p.add_argument("--model", required=True, help="model directory or hub id")
    p.add_argument("--out", required=True, help="output JSONL file (written atomically)")
    p.add_argument("--html", help="also write a self-contained HTML view of the results")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:1 or auto (default auto)")
    p.add_argument("--batch-size", type=int, default=16, help="packed rows per forward pass (default 16)")
    p.add_argument("--quantize", choices=["dynamic-int8"], help="int8 weights on the CPU (faster)")
    p.add_argument("--quotes", choices=QUOTE_SOURCES, default="auto",
                   help="where quotes come from: the model's quote head, the rule annotator, or nowhere "
                        "(default auto: the head if the model has one, else the rules)")
    p.add_argument("--quote-min-score", type=float, metavar="P",
                   help="drop the model's quotes scoring below P (default: the model's own quote_min_score, else 0)")
    p.add_argument("--own-quote-min-score", type=float, metavar="P",
                   help="a model that reads the rules' tags: also drop its quotes the rules did not find scoring "
                        "below P (default: the model's own own_quote_min_score, else none)")
    p.add_argument("--resume", action="store_true", help="keep the records already in --out, skip their ids")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS,
                   help=f"skip longer articles (default {DEFAULT_MAX_CHARS:,})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_tag)
    return p


def add_export_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "export",
        help="write an int8 copy of a model for fast CPU tagging",
        description="Quantize a model's encoder to int8 (torch dynamic quantisation) and write it, with its "
        "tokenizer and config, to --out; Tagger.from_pretrained / parstag tag load it as int8.",
    )
    p.add_argument("--model", required=True, help="model directory")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--format", choices=["int8"], default="int8", help="export format (int8)")
    p.set_defaults(func=run_export)
    return p


# -- reading inputs -------------------------------------------------------------------------------------


def check_text(text: str, max_chars: int) -> str | None:
    """Why an article cannot be tagged, or None."""
    if "\x00" in text:
        return "binary data (NUL characters)"
    if not text.strip():
        return "empty"
    if len(text) > max_chars:
        return f"too long ({len(text):,} characters > --max-chars {max_chars:,})"
    return None


def _decode(data: bytes) -> tuple[str | None, str | None]:
    if b"\x00" in data:
        return None, "binary data (NUL bytes)"
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, f"invalid UTF-8 at byte {exc.start}"


def _jsonl_records(lines, source: str, max_chars: int) -> Iterator[tuple[object, str | None, str | None]]:
    for n, raw in enumerate(lines, 1):
        where = f"{source}:{n}"
        if not raw.strip():
            continue
        line, error = _decode(raw)
        if error is None:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                obj, error = None, f"invalid JSON ({exc.msg})"
            if error is None and not (isinstance(obj, dict) and isinstance(obj.get("text"), str)):
                error = 'not an object with a "text" string'
        if error is not None:
            yield where, None, error
            continue
        art_id = obj.get("id", where)
        error = check_text(obj["text"], max_chars)
        yield (where if error else art_id), (None if error else obj["text"]), error


def iter_inputs(inputs: list[str], max_chars: int, stdin=None) -> Iterator[tuple[object, str | None, str | None]]:
    """``(id, text, None)`` for each article, ``(id, None, reason)`` for each one that must be skipped."""
    for spec in inputs:
        if spec == "-":
            data = (stdin or sys.stdin.buffer).read()
            if data.lstrip()[:1] == b"{":
                yield from _jsonl_records(data.splitlines(), "<stdin>", max_chars)
                continue
            files = [None]
        else:
            path = Path(spec)
            if path.is_dir():
                files = sorted(p for p in path.rglob("*.txt") if p.is_file())
            elif path.suffix.lower() in (".jsonl", ".ndjson"):
                with path.open("rb") as f:
                    yield from _jsonl_records(f, spec, max_chars)
                continue
            else:
                files = [path]
        for path in files:
            art_id = "stdin" if path is None else str(path)
            try:
                data = data if path is None else path.read_bytes()
            except OSError as exc:
                yield art_id, None, f"cannot read ({exc.strerror})"
                continue
            text, error = _decode(data)
            error = error or check_text(text, max_chars)
            yield art_id, (None if error else text), error


# -- writing --------------------------------------------------------------------------------------------


def public(result: dict) -> dict:
    """The result as written: internal (underscore) keys dropped."""
    return {k: v for k, v in result.items() if not k.startswith("_")}


def read_existing(out: Path) -> tuple[list[str], set[str], list[dict]]:
    """Lines of a previous output that parse, the ids they hold (as JSON), and the records."""
    lines, ids, records = [], set(), []
    if not out.is_file():
        return lines, ids, records
    with out.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                record = json.loads(line)
                ids.add(json.dumps(record["id"], ensure_ascii=False))
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # a damaged line is tagged again
            lines.append(line if line.endswith("\n") else line + "\n")
            records.append(record)
    return lines, ids, records


def run_tag(args: argparse.Namespace) -> int:
    for spec in args.inputs:
        if spec != "-" and not Path(spec).exists():
            raise FileNotFoundError(f"input not found: {spec}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    kept_lines, done, kept_records = read_existing(out) if args.resume else ([], set(), [])

    import torch
    from tqdm import tqdm

    from .tagger import Tagger

    if args.threads:
        torch.set_num_threads(args.threads)
    tagger = Tagger.from_pretrained(args.model, device=args.device, batch_size=args.batch_size, quantize=args.quantize,
                                    quotes=args.quotes, quote_min_score=args.quote_min_score,
                                    own_quote_min_score=args.own_quote_min_score)  # fmt: skip
    source = {"model": "the model's quote head", "rules": "the rule annotator", "none": "nowhere (--quotes none)"}
    print(f"parstag tag: quotes from {source[tagger.quote_source]}", file=sys.stderr)
    progress = tqdm(desc="tagging", unit="art", file=sys.stderr, disable=args.no_progress, mininterval=0.5)
    skipped = []

    def report(art_id, reason) -> None:
        skipped.append(art_id)
        tqdm.write(f"parstag tag: skipped {art_id}: {reason}", file=sys.stderr)

    def articles():
        for art_id, text, error in iter_inputs(args.inputs, args.max_chars):
            if error is not None:
                report(art_id, error)
            elif json.dumps(art_id, ensure_ascii=False) not in done:
                yield {"id": art_id, "text": text}

    html_records = list(kept_records) if args.html else None
    tmp = temp_beside(out)
    start, tagged, words = time.perf_counter(), 0, 0
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.writelines(kept_lines)
            for result in tagger.stream(articles(), on_error=lambda i, e: report(i, f"{type(e).__name__}: {e}")):
                record = public(result)
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                if html_records is not None:
                    html_records.append(record)
                tagged += 1
                progress.update(1)
    finally:
        progress.close()
        # Also on an interrupt: the records written so far replace the output whole, for --resume.
        os.replace(tmp, out)
    elapsed = time.perf_counter() - start
    if args.html:
        from .html_view import render_articles_html

        write_text_atomic(Path(args.html), render_articles_html(html_records, title=f"parstag: {out.name}"))
    print(
        f"parstag tag: {tagged} tagged, {len(skipped)} skipped, {len(kept_lines)} kept from {out} "
        f"in {elapsed:.1f}s ({tagged / max(elapsed, 1e-9):.2f} articles/s) -> {out}",
        file=sys.stderr,
    )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from .export import INT8_WEIGHTS, export_int8

    out = export_int8(args.model, args.out)
    size = (out / INT8_WEIGHTS).stat().st_size
    print(f"parstag export: wrote {out} ({INT8_WEIGHTS}: {size / 1e6:.1f} MB, dynamic int8)", file=sys.stderr)
    return 0
