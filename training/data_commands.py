"""``parstag data``: corpus statistics, corpus downloads and silver quote data from the command line.

The problem: before training on a corpus one needs to see what is in it (sizes, entity counts,
duplicates, conflicting annotations, sentence lengths) and to get it at all (the licences keep ARMAN,
PEYMA and the raw news out of this repository); and the quote tagger needs far more training articles
than the gold has, which the rule annotator (``parstag.inference.quote_rules``) can label ("silver").
``add_data_parser(subparsers)`` registers ``data stats``, ``data download`` and ``data silver`` on the
``parstag`` parser (training/cli.py); each handler returns an exit status and prints failures as one line
``parstag data ACTION: error: ...``, never a traceback.  Registration imports nothing heavy: ``datasets``
is imported only when ``stats`` runs, the rules only when ``silver`` runs.

Silver data (:func:`write_silver`) must never hold a gold dev/test article (that would leak the
evaluation into training) nor, by default, a gold train article (its gold labels teach it instead), must be the same bytes on every run (files and articles in a fixed order),
and every record must load with ``corpora.read_jsonl_spans`` as it is, without ``repair``: the rules
work on characters, the reader on ``segment.tokenize_words`` words, and the rare record with a span
off the word boundaries (U+200E marks inside a word, 23 of 3,617 articles) is dropped and counted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

FORMATS = ("auto", "arman", "peyma", "conll", "jsonl")
#: Left out of silver data by default (those that exist, relative to the working directory): every gold
#: split -- dev and test must never leak into training, and a train article is better taught by its gold.
GOLD_EXCLUDE = tuple(Path(f"data/quotes/gold/{split}.jsonl") for split in ("train", "dev", "test"))


def add_data_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``data stats|download|silver``; handlers are stored as ``args.func(args) -> int``."""
    from .download import SOURCES

    data = subparsers.add_parser("data", help="corpus statistics and downloads",
                                 description="Inspect NER corpora and download the public ones.")  # fmt: skip
    actions = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    stats = actions.add_parser(
        "stats", help="sentences, tokens, entities per type, duplicates, conflicts, sentence lengths",
        description="Statistics of corpus files. The format is detected from the extension and the first "
        "lines (ARMAN 'token tag', PEYMA 'token|TAG', CoNLL columns, JSONL spans) unless --format says it.",
    )  # fmt: skip
    stats.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="corpus files")
    stats.add_argument("--format", choices=FORMATS, default="auto", help="input format (default: detect)")
    stats.add_argument("--json", action="store_true", help="print JSON instead of a table")
    stats.add_argument("--repair", action="store_true", help="turn an entity that starts with I- into B- (warns)")
    stats.add_argument("--label-col", type=int, default=-1, help="CoNLL: column of the label (default: last)")
    stats.add_argument("--scheme", choices=("auto", "iob1", "iob2", "bioes"), default="auto",
                       help="CoNLL: tag scheme of the file (default: detect)")  # fmt: skip
    stats.set_defaults(func=run_stats)

    download = actions.add_parser(
        "download", help="fetch a public corpus and verify its pinned SHA-256 sums",
        description="Download a corpus from its public GitHub home into DIR/NAME/, verified against pinned "
        "SHA-256 sums; nothing is installed unless every file matches.",
    )  # fmt: skip
    download.add_argument("name", choices=sorted(SOURCES), metavar="NAME", help=" or ".join(sorted(SOURCES)))
    download.add_argument("--to", type=Path, default=None, metavar="DIR",
                          help="data directory (default: $PARSTAG_DATA or ./data/corpora)")  # fmt: skip
    download.add_argument("--base-url", default=None, metavar="URL",
                          help="mirror serving the files under their GitHub paths (or $PARSTAG_DOWNLOAD_BASE)")
    download.add_argument("--force", action="store_true", help="download even if verified files are present")
    download.add_argument("--no-progress", action="store_true", help="no progress bar")
    download.add_argument("--timeout", type=float, default=60.0, help="seconds per network operation")
    download.set_defaults(func=run_download)

    silver = actions.add_parser(
        "silver", help="rule-annotated (silver) quote training data from the raw news, as JSONL",
        description="Annotate raw news articles with the quote rules and write gold-format JSONL records "
        "(split 'silver'; ids like the gold's, fars-news-1.json -> fars-1-0012). Source folders and their "
        "*.json files are taken in name order, articles in file order, so the output is the same every run. "
        "Records with a span off the word boundaries are left out and counted.",
    )  # fmt: skip
    silver.add_argument("--news", type=Path, default=None, metavar="DIR",
                        help="folder of source folders of news JSON files (fars/*.json, varzesh3/*.json; "
                        "default: DATA/news, DATA being $PARSTAG_DATA, ./data/corpora or ../shared/data)")
    silver.add_argument("--exclude", type=Path, nargs="*", default=None, metavar="FILE",
                        help="JSONL records (gold) whose articles are left out, matched by exact text (default: "
                        f"{' and '.join(map(str, GOLD_EXCLUDE))} under the working directory, those that exist; "
                        "--exclude with no FILE excludes nothing)")
    silver.add_argument("--articles", type=_positive_int, default=None, metavar="N",
                        help="articles per source folder, after exclusion (default: all)")
    silver.add_argument("--corpus", default=None, metavar="NAME:SPLIT",
                        help="annotate the sentences of a registered NER corpus instead of the news (peyma:train, "
                        "arman:train with --fold K): each record keeps the corpus's entities beside the rules' "
                        "quote roles, so the sentence trains both heads")
    silver.add_argument("--fold", type=_positive_int, default=None, metavar="K", help="fold of --corpus (ARMAN)")
    silver.add_argument("--out", type=Path, required=True, metavar="PATH", help="output JSONL file")
    silver.add_argument("--no-progress", action="store_true", help="no progress bar")
    silver.set_defaults(func=run_silver)
    return data


def _positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive integer")
    return int(value)


def _fail(action: str, exc: BaseException) -> int:
    print(f"parstag data {action}: error: {exc}", file=sys.stderr)
    return 1


def _label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def run_stats(args: argparse.Namespace) -> int:
    from . import corpora, stats

    results, columns = [], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", corpora.CorpusWarning)
        try:
            for path in args.paths:
                if not path.is_file():
                    raise corpora.CorpusError("no such file", path)
                fmt = stats.detect_format(path) if args.format == "auto" else args.format
                options: dict = {"repair": args.repair}
                if fmt == "conll":
                    options |= {"label_col": args.label_col, "scheme": args.scheme}
                dataset = corpora.READERS[fmt](path, **options)
                results.append(stats.dataset_stats(dataset, name=_label(path)))
                columns.append((list(dataset["id"]), list(dataset["tokens"]), list(dataset["ner_tags"])))
        except (ValueError, OSError, ImportError) as exc:  # CorpusError is a ValueError
            return _fail("stats", exc)
    for w in caught:
        print(f"parstag data stats: warning: {w.message}", file=sys.stderr)
    total = stats.total_of(results, columns) if len(results) > 1 else None
    if args.json:
        files = [s.to_dict() | {"path": str(p)} for s, p in zip(results, args.paths)]
        print(json.dumps({"files": files, "total": total.to_dict() if total else None}, ensure_ascii=False, indent=2))
    else:
        print(stats.format_table(results + ([total] if total else [])))
    return 0


def run_download(args: argparse.Namespace) -> int:
    from .corpora import data_dir
    from .download import SOURCES, check_installed, default_download_root, download_corpus

    root = args.to if args.to is not None else default_download_root()
    try:
        fresh = args.force or bool(check_installed(root / args.name, args.name))
        target = download_corpus(args.name, root, base_url=args.base_url, force=args.force,
                                 progress=not args.no_progress, timeout=args.timeout)  # fmt: skip
    except (ValueError, OSError) as exc:  # DownloadError is an OSError
        return _fail("download", exc)
    count = len(SOURCES[args.name].sha256)
    print(f"{args.name}: {count} files {'downloaded and verified' if fresh else 'already present and verified'} "
          f"in {target}")  # fmt: skip
    if data_dir().resolve() != root.resolve():
        print(f"note: corpora are read from {data_dir()}; set PARSTAG_DATA={root} to read these")
    return 0


def _natural(path: Path) -> list:
    """Sort key: numbers by value, so that ``x-10.json`` follows ``x-9.json``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def _excluded_texts(paths: Iterable[Path]) -> set[str]:
    """The ``text`` of every record in the JSONL files ``paths``."""
    from .corpora import CorpusError, _read_lines

    texts = set()
    for path in paths:
        for no, line in enumerate(_read_lines(path), 1):
            if not line.strip():
                continue
            try:
                text = json.loads(line)["text"]
            except json.JSONDecodeError as exc:
                raise CorpusError(f"invalid JSON ({exc.msg} at column {exc.colno})", path, no) from None
            except (KeyError, TypeError):
                text = None
            if not isinstance(text, str):
                raise CorpusError('expected a JSON record with a "text" string', path, no)
            texts.add(text)
    return texts


def _news_articles(path: Path) -> list[dict]:
    """The articles of one news file, each checked to have the fields ``article_text`` joins."""
    from .corpora import CorpusError, _read_lines

    try:
        articles = json.loads("\n".join(_read_lines(path)))
    except json.JSONDecodeError as exc:
        raise CorpusError(f"invalid JSON ({exc.msg} at column {exc.colno})", path, exc.lineno) from None
    if not isinstance(articles, list):
        raise CorpusError("expected a JSON list of articles", path)
    for i, art in enumerate(articles):
        if not (isinstance(art, dict) and isinstance(art.get("title"), str) and isinstance(art.get("abstract"), str)
                and isinstance(art.get("paragraphs"), list) and all(isinstance(p, str) for p in art["paragraphs"])):
            raise CorpusError(f"article {i}: expected {{\"title\": str, \"abstract\": str, \"paragraphs\": [str]}}",
                              path)  # fmt: skip
    return articles


def _on_word_boundaries(record: dict) -> bool:
    """Whether ``read_jsonl_spans`` reads the record without repair: its own check, ``corpora.span_tags``
    with a ``problem`` callback, finds no empty, misaligned or overlapping span."""
    from parstag.inference.segment import tokenize_words

    from .corpora import span_tags

    problems: list[str] = []
    spans = sorted((sp["start"], sp["end"], sp["label"]) for sp in record["spans"])
    span_tags(tokenize_words(record["text"]), spans, problem=lambda kind, _span: problems.append(kind))
    return not problems


def write_silver(news_dir: str | os.PathLike, out: str | os.PathLike, exclude: Iterable[str | os.PathLike] = (),
                 articles: int | None = None, progress: bool = False) -> dict[str, int]:  # fmt: skip
    """Write rule-annotated records of the articles under ``news_dir`` (``<source>/*.json``) to ``out``.

    Source folders and files are taken in (natural) name order, articles in file order; an article whose
    text is the ``text`` of a record in an ``exclude`` file is left out, and ``articles`` caps the articles
    taken per source folder after that.  Records with a span off the word boundaries are dropped.  ``out``
    is written atomically (its folder is created).  Returns the counts ``read`` (excluded ones included),
    ``excluded``, ``skipped`` (off word boundaries), ``written`` and ``quotes`` (in the written records).
    Raises :class:`corpora.CorpusError` (one line naming the file) on a missing folder or a bad file.
    """
    from tqdm import tqdm

    from parstag.inference.fileio import write_text_atomic
    from parstag.inference.quote_rules import article_text, silver_records

    from .corpora import CorpusError, CorpusNotFoundError

    news_dir, out = Path(news_dir), Path(out)
    hint = f"run `parstag data download news --to {news_dir.parent}` (or pass --news DIR)"
    if not news_dir.is_dir():
        raise CorpusNotFoundError(f"no such news folder; {hint}", news_dir)
    folders = sorted((d for d in news_dir.iterdir() if d.is_dir()), key=_natural)
    files = {d: sorted((f for f in d.glob("*.json") if f.is_file()), key=_natural) for d in folders}
    if not any(files.values()):
        raise CorpusNotFoundError(f"no news files (SOURCE/*.json); {hint}", news_dir)
    skip = _excluded_texts(Path(p) for p in exclude)
    counts = dict.fromkeys(("read", "excluded", "skipped", "written", "quotes"), 0)
    chosen: list[tuple[str, str, dict]] = []  # (id, source, article)
    seen: dict[str, Path] = {}
    for folder, paths in files.items():
        taken = 0
        for path in paths:
            number = path.stem.rsplit("-", 1)[-1]  # ids as in the gold: fars/fars-news-1.json -> fars-1-0012
            for i, art in enumerate(_news_articles(path)):
                if articles is not None and taken >= articles:
                    break
                counts["read"] += 1
                if article_text(art) in skip:
                    counts["excluded"] += 1
                    continue
                rid = f"{folder.name}-{number}-{i:04d}"
                if rid in seen:  # two files whose names end in the same number
                    raise CorpusError(f"article {i}: id {rid!r} is also made from {seen[rid]}", path)
                seen[rid] = path
                chosen.append((rid, folder.name, art))
                taken += 1
    lines = []
    for rid, source, art in tqdm(chosen, desc="silver", unit="art", file=sys.stderr, disable=not progress,
                                 mininterval=0.5):  # fmt: skip
        (record,) = silver_records([(rid, art)], source=source)
        if not _on_word_boundaries(record):
            counts["skipped"] += 1
            continue
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
        counts["quotes"] += len(record["quotes"])
    if not lines:  # an empty file is no corpus: read_jsonl_spans refuses it
        raise CorpusError(f"no articles left to write ({counts['read']} read, {counts['excluded']} excluded, "
                          f"{counts['skipped']} skipped)", news_dir)  # fmt: skip
    counts["written"] = len(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, "".join(lines))
    return counts


def write_corpus_silver(name: str, split: str, out: str | os.PathLike, fold: int | None = None,
                        progress: bool = False) -> dict[str, int]:
    """Write rule-annotated records of the sentences of a registered corpus split to ``out``.

    Each sentence becomes ``" ".join(tokens)`` with two span layers: the corpus's own entities (gold NER)
    and the quote roles the rules find, the entities also given to the rules to name speakers.  So one
    sentence teaches both heads.  Sentences whose role spans fall off ``segment.tokenize_words`` words are
    dropped and counted, as in :func:`write_silver`; the output is written atomically.  Returns the counts
    ``read``, ``skipped``, ``written``, ``with_quotes`` (sentences) and ``quotes``.
    """
    from tqdm import tqdm

    from parstag.inference.fileio import write_text_atomic
    from parstag.inference.labels import spans_from_tags
    from parstag.inference.quote_rules import silver_records
    from parstag.inference.segment import join_words

    from .corpora import CorpusError, load_corpus

    ds = load_corpus(name, split, fold=fold)
    counts = dict.fromkeys(("read", "skipped", "written", "with_quotes", "quotes"), 0)
    lines = []
    rows = enumerate(zip(ds["tokens"], ds["ner_tags"]))
    for n, (tokens, tags) in tqdm(rows, total=len(ds), desc="silver", unit="sent", file=sys.stderr,
                                  disable=not progress, mininterval=0.5):  # fmt: skip
        counts["read"] += 1
        text, words = join_words(tokens)
        ents = [{"type": t, "start": words[a][0], "end": words[b - 1][1], "text": text[words[a][0]:words[b - 1][1]]}
                for t, a, b in spans_from_tags(tags)]
        rid = f"{name}-{split}{f'-fold{fold}' if fold else ''}-{n:05d}"
        (record,) = silver_records([(rid, text)], source=name, entities_of=lambda _t, e=ents: e)
        if not _on_word_boundaries(record):
            counts["skipped"] += 1
            continue
        record["spans"] += [{"id": f"e{k}", "start": e["start"], "end": e["end"], "label": e["type"], "text": e["text"]}
                            for k, e in enumerate(ents, 1)]  # fmt: skip
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
        counts["quotes"] += len(record["quotes"])
        counts["with_quotes"] += bool(record["quotes"])
    if not lines:
        raise CorpusError(f"no sentences left to write ({counts['read']} read, {counts['skipped']} skipped)", name)
    counts["written"] = len(lines)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(Path(out), "".join(lines))
    return counts


def run_silver(args: argparse.Namespace) -> int:
    from .corpora import data_dir

    progress = not args.no_progress and sys.stderr.isatty()
    if args.corpus is not None:
        name, sep, split = args.corpus.partition(":")
        if not sep or not name or not split:
            return _fail("silver", ValueError(f"--corpus {args.corpus!r}: expected NAME:SPLIT, e.g. peyma:train"))
        if args.news is not None or args.exclude is not None or args.articles is not None:
            return _fail("silver", ValueError("--corpus annotates a corpus's sentences: --news, --exclude and "
                                              "--articles are for the news"))
        try:
            counts = write_corpus_silver(name, split, args.out, args.fold, progress=progress)
        except (ValueError, OSError) as exc:  # CorpusError is a ValueError
            return _fail("silver", exc)
        print(f"silver: {counts['read']} sentences of {args.corpus}{f' fold {args.fold}' if args.fold else ''} "
              f"read, {counts['skipped']} skipped (spans off word boundaries), {counts['written']} written, "
              f"{counts['with_quotes']} with {counts['quotes']} quotes, to {args.out}")
        return 0
    news = args.news if args.news is not None else data_dir("news") / "news"
    exclude = args.exclude if args.exclude is not None else [p for p in GOLD_EXCLUDE if p.is_file()]
    try:
        counts = write_silver(news, args.out, exclude, args.articles, progress=progress)
    except (ValueError, OSError) as exc:  # CorpusError is a ValueError
        return _fail("silver", exc)
    print(f"silver: {counts['read']} articles read, {counts['excluded']} excluded, {counts['skipped']} skipped "
          f"(spans off word boundaries), {counts['written']} written with {counts['quotes']} quotes to {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m parstag.training.data_commands stats|download|silver ...`` (the same as ``parstag data ...``)."""
    parser = argparse.ArgumentParser(prog="parstag")
    add_data_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["data", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
