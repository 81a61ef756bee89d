#!/usr/bin/env python
"""Inter-annotator agreement: a second, independent annotation of gold articles, scored against the gold.

The problem.  "0 changes in the second pass" measures one annotator's consistency with themselves, not
whether the guidelines make two people mark the same spans.  So some gold articles are annotated a second
time by another annotator who never saw the first annotation; those files live in ``agreement/`` (never in
``annotations/``: they are not gold), and this script resolves them with the gold builder and scores them
against the gold with the model's own scorer (training/quote_eval.py): quote F1 exact and at 50% overlap
(symmetric: F1 does not depend on which side is called gold), speaker agreement and direct/indirect
agreement on the matched quotes, seqeval F1 per role.  It needs the parstag package (``make venv``).

Usage (from the repository root)::

    .venv/bin/python data/quotes/agreement.py                   # every file in data/quotes/agreement/
    .venv/bin/python data/quotes/agreement.py --json out.json   # also write the figures
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from gold_tool.batches import build_all  # noqa: E402
from gold_tool.gold_files import read_gold  # noqa: E402
from gold_tool.news import News, news_dir_default  # noqa: E402
from gold_tool.schema import GOLD_DIR, AnnotationError  # noqa: E402

AGREEMENT_DIR = HERE / "agreement"


def agreement(second: list[dict], gold: list[dict]) -> dict:
    """Scores of the second annotation against the gold records of the same articles."""
    from parstag.training.quote_eval import record_to_quotes, score_quotes

    by_id = {r["id"]: r for r in gold}
    missing = [r["id"] for r in second if r["id"] not in by_id]
    if missing:
        raise AnnotationError(f"second annotation of articles that are not in the gold: {', '.join(missing)}")
    first = [by_id[r["id"]] for r in second]
    return score_quotes(first, {r["id"]: record_to_quotes(r) for r in second})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--agreement-dir", type=Path, default=AGREEMENT_DIR)
    p.add_argument("--gold-dir", type=Path, default=GOLD_DIR)
    p.add_argument("--news-dir", type=Path, default=None)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    try:
        second = build_all(News(args.news_dir or news_dir_default()), args.agreement_dir)
        s = agreement(second, read_gold(args.gold_dir))
    except AnnotationError as exc:
        print(f"agreement: {exc}", file=sys.stderr)
        return 1

    def pct(x: float) -> str:
        return f"{100 * x:.1f}"

    rows = [("quote F1, exact", pct(s["quote_exact"]["f1"])), ("quote F1, 50% overlap", pct(s["quote_50"]["f1"])),
            ("speaker agreement (matched quotes)", pct(s["speaker_accuracy"])),
            ("direct/indirect agreement (matched quotes)", pct(s["kind_accuracy"])),
            ("end to end F1 (matched and same speaker)", pct(s["end_to_end"]["f1"]))]
    rows += [(f"{role} F1 (seqeval strict)", pct(v["f1"])) for role, v in s["roles"].items()]
    print(f"{s['articles']} articles; gold {s['gold_quotes']} quotes, second annotation {s['pred_quotes']}\n")
    print("| agreement | % |\n|---|---|")
    print("\n".join(f"| {k} | {v} |" for k, v in rows))
    if args.json:
        args.json.write_text(json.dumps(s, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
