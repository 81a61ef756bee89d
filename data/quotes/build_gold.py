#!/usr/bin/env python
"""Resolve the quote-attribution source annotations into gold JSONL, and validate them.

Source annotations live in ``data/quotes/annotations/*.yaml`` (one file per batch; format in
data/quotes/GUIDELINES.md, section "Source format").  Nobody writes character offsets by hand: every span
is given as an exact substring of the article text, and this script finds it, applying fixed default rules
for which occurrence is meant (nearest to the quote) and failing loudly -- article id, quote number and
field -- on a substring that is not found or is ambiguous.

Usage (from the repository root)::

    python data/quotes/build_gold.py                     # resolve, validate, write gold/{train,dev,test}.jsonl
    python data/quotes/build_gold.py --check             # resolve + validate; fail if gold/*.jsonl is not up to date
    python data/quotes/build_gold.py --text fars-1-0012  # print an article's text, paragraph-numbered (to copy from)
    python data/quotes/build_gold.py --show fars-1-0012  # print the resolved annotation inline (to review it)
    python data/quotes/build_gold.py --lint              # list reporting words outside every span (missed quotes?)
    python data/quotes/build_gold.py --diff OLD_GOLD_DIR # count span/link changes against an earlier gold snapshot
    python data/quotes/build_gold.py --write-readme-counts   # refresh the counts block in data/quotes/README.md

The article text is ``title + "\\n\\n" + abstract + "\\n\\n" + "\\n".join(paragraphs)``, exactly as scraped
(no normalisation: Arabic ي/ك, missing or present ZWNJ, ASCII digits all stay).  See ``article_text``.

This file is the command line; the work is done by the modules of the ``gold_tool`` package beside it
(see gold_tool/__init__.py), whose public names it re-exports, so ``build_gold.article_text`` and the
other names that tests/test_quote_gold.py uses stay where they were.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as a script this is sys.path[0]; loaded by file path (tests) it is not
    sys.path.insert(0, str(HERE))

from gold_tool.batches import ARTICLE_KEYS, build_all, load_batches, load_yaml  # noqa: E402
from gold_tool.gold_files import (  # noqa: E402
    COUNTS_BEGIN, COUNTS_END, counts, gold_lines, read_gold, readme_counts, write_gold, write_readme_counts,
)
from gold_tool.news import SOURCES, News, article_text, news_dir_default  # noqa: E402
from gold_tool.resolve import (  # noqa: E402
    ELLIPSIS, QUOTE_KEYS, REF_KEYS, REQUIRED_QUOTE_KEYS, TO_END, build_record, resolve_article, resolve_near,
    resolve_quote,
)
from gold_tool.review import CUE_HINT, diff, lint, numbered_text, show  # noqa: E402
from gold_tool.schema import (  # noqa: E402
    ANNOTATION_DIR, ENTITY_TYPES, EVAL_SPLITS, GOLD_DIR, ID_RE, KINDS, LABELS, README, ROOT, SPLITS, TRAIN,
    AnnotationError, parse_id, record_split, split_of,
)
from gold_tool.spans import (  # noqa: E402
    CLOSE_MARKS, OPEN_MARKS, PAIRS, ZERO_WIDTH, at_boundary, check_span, is_word_char, occurrences,
    paragraph_bounds,
)
from gold_tool.validate import validate_record  # noqa: E402

__all__ = [
    "ANNOTATION_DIR", "ARTICLE_KEYS", "CLOSE_MARKS", "COUNTS_BEGIN", "COUNTS_END", "CUE_HINT", "ELLIPSIS",
    "ENTITY_TYPES", "EVAL_SPLITS", "GOLD_DIR", "HERE", "ID_RE", "KINDS", "LABELS", "OPEN_MARKS", "PAIRS", "QUOTE_KEYS", "README",
    "REF_KEYS", "REQUIRED_QUOTE_KEYS", "ROOT", "SOURCES", "SPLITS", "TO_END", "ZERO_WIDTH", "AnnotationError",
    "News", "article_text", "at_boundary", "build_all", "build_record", "check_span", "counts", "diff",
    "gold_lines", "is_word_char", "lint", "load_batches", "load_yaml", "main", "news_dir_default",
    "numbered_text", "occurrences", "paragraph_bounds", "parse_id", "read_gold", "readme_counts",
    "record_split", "resolve_article", "resolve_near", "resolve_quote", "show", "split_of", "TRAIN", "validate_record", "write_gold",
    "write_readme_counts",
]

# ---------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--news-dir", type=Path, default=None, help="default: $PARSTAG_DATA/news or ../shared/data/news")
    p.add_argument("--annotations", type=Path, default=ANNOTATION_DIR)
    p.add_argument("--gold-dir", type=Path, default=GOLD_DIR)
    p.add_argument("--check", action="store_true", help="do not write; fail if the gold files are out of date")
    p.add_argument("--text", metavar="ID", help="print the article text (lines numbered) and exit")
    p.add_argument("--show", metavar="ID", nargs="+", help="print resolved annotations of these articles")
    p.add_argument("--lint", action="store_true", help="list cue-like words outside every span (to check by eye)")
    p.add_argument("--diff", metavar="OLD_GOLD_DIR", type=Path, help="count changes against an older gold dir")
    p.add_argument("--write-readme-counts", action="store_true", help="refresh the counts block in README.md")
    args = p.parse_args(argv)
    news = News(args.news_dir or news_dir_default())
    try:
        if args.text:
            print(numbered_text(news.text(args.text)))
            print(f"\n(split: {split_of(args.text)}, or {TRAIN} in a batch marked 'split: {TRAIN}')")
            return 0
        records = build_all(news, args.annotations)
    except AnnotationError as exc:
        print(f"build_gold: {exc}", file=sys.stderr)
        return 1
    if args.show:
        by = {r["id"]: r for r in records}
        for aid in args.show:
            print(show(by[aid]) if aid in by else f"{aid}: not annotated")
            print("-" * 80)
        return 0
    if args.lint:
        for r in records:
            hits = lint(r)
            if hits:
                print(f"{r['id']}: {len(hits)} cue-like word(s) outside spans")
                print("\n".join(hits))
        return 0
    c = counts(records)
    if args.diff:
        print(json.dumps(diff(read_gold(args.diff), records), indent=1))
        return 0
    if args.check:
        stale = [s for s in SPLITS if not (args.gold_dir / f"{s}.jsonl").is_file()
                 or (args.gold_dir / f"{s}.jsonl").read_text(encoding="utf-8") != gold_lines(records, s)]
        if stale:
            print(f"build_gold: gold files out of date: {stale}; run build_gold.py", file=sys.stderr)
            return 1
    else:
        write_gold(records, args.gold_dir)
    if args.write_readme_counts:
        write_readme_counts(c)
    for split in ("all",) + SPLITS:
        x = c[split]
        print(f"{split:5} articles {x['articles']:3} (fars {x['articles_fars']}, varzesh3 {x['articles_varzesh3']}, "
              f"no quotes {x['articles_without_quotes']})  quotes {x['quotes']:4} (direct {x['direct']}, "
              f"indirect {x['indirect']})  speaker null {x['speaker_null']}  cue null {x['cue_null']}  "
              f"entity null {x['entity_null']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
