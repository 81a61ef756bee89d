"""``parstag data``: corpus statistics and corpus downloads from the command line.

The problem: before training on a corpus one needs to see what is in it (sizes, entity counts,
duplicates, conflicting annotations, sentence lengths) and to get it at all (the licences keep ARMAN
and PEYMA out of this repository).  ``add_data_parser(subparsers)`` registers ``data stats`` and
``data download`` on the ``parstag`` parser (training/cli.py); each handler returns an exit status and
prints failures as one line ``parstag data ACTION: error: ...``, never a traceback.  Registration
imports nothing heavy: ``datasets`` is imported only when ``stats`` runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

FORMATS = ("auto", "arman", "peyma", "conll", "jsonl")


def add_data_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``data stats`` and ``data download``; handlers are stored as ``args.func(args) -> int``."""
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
    return data


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


def main(argv: list[str] | None = None) -> int:
    """``python -m parstag.training.data_commands stats|download ...`` (the same as ``parstag data ...``)."""
    parser = argparse.ArgumentParser(prog="parstag")
    add_data_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["data", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
