"""The ``parstag`` command: one entry point, one subcommand per capability.

Each capability registers its own subcommand (``add_*_parser(subparsers)``) from the module that
implements it; this file only wires them together.  The registration functions import nothing heavy
(torch, transformers) until their handler runs, so ``parstag --help`` answers at once.

It lives on the training side because it dispatches to both packages, and training may import
inference but not the reverse.
"""

from __future__ import annotations

import argparse
import sys

EPILOG = """examples:
  parstag data stats ../shared/data/peyma/test.txt
  parstag train configs/quickstart.yaml
  parstag evaluate --model runs/quickstart/model --data peyma:test --out runs/quickstart
  parstag tag data/samples/seed-report.txt --model runs/quickstart/model --out tagged.jsonl --html tagged.html
"""


def build_parser() -> argparse.ArgumentParser:
    from parstag.inference.commands import add_export_parser, add_tag_parser

    from .data_commands import add_data_parser
    from .eval_commands import add_evaluate_parser
    from .train_commands import add_train_parser

    parser = argparse.ArgumentParser(
        prog="parstag",
        description="Persian named-entity recognition and quote attribution for news, on ParsBERT.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in (add_data_parser, add_train_parser, add_evaluate_parser, add_tag_parser, add_export_parser):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("parstag: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError) as exc:
        # Our own errors (bad config, malformed corpus line, missing file) are one line, never a traceback.
        print(f"parstag {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
