"""``parstag evaluate``: score a trained model on annotated data and write the reports.

Registration imports nothing heavy; the handler imports the evaluation code (and through it torch and
transformers) only when the command runs, so ``parstag --help`` stays fast.
"""

from __future__ import annotations

import argparse

HELP = """data specs:
  peyma:test, peyma:dev        a registered corpus split (found under PARSTAG_DATA)
  arman:test:1                 one ARMAN fold (score it with the model trained on fold 1)
  arman:test                   every ARMAN fold, each with its own model: --model must contain {fold}
  path/to/file                 a file; format detected (conll, peyma, arman, jsonl) or given with --format
  data/quotes/gold/dev.jsonl   quote gold (records with "quotes"): quote attribution, model and rule baseline

ARMAN is never scored on its concatenated test folds: train_foldK is exactly the other two test folds,
so that would score training data (the published 98.79/99.84).  Per-fold scores are reported as mean,
min-max and std over folds.

examples:
  parstag evaluate --model runs/peyma/model --data peyma:test --out runs/peyma/eval
  parstag evaluate --model 'runs/arman/fold{fold}/model' --data arman:test --folds 1 2 3 --out runs/arman/eval
"""


def add_evaluate_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "evaluate",
        help="score a model (seqeval strict IOB2) and write report.json/.md/.html and predictions.conll",
        description="Score a trained model on annotated data; write report.json, report.md, report.html "
        "and predictions.conll to --out.",
        epilog=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", required=True, help="model directory; may contain {fold} for fold corpora")
    p.add_argument("--data", required=True, nargs="+", metavar="SPEC", help="data specs (see below)")
    p.add_argument("--out", required=True, help="directory for the reports (created)")
    p.add_argument("--folds", type=int, nargs="+", metavar="K", help="folds to score (default: all)")
    p.add_argument("--format", choices=["conll", "peyma", "arman", "jsonl"], help="format of file specs")
    p.add_argument("--batch-size", type=int, default=32, help="rows per forward pass (default 32)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:1 or auto (default: cuda if available)")
    p.add_argument("--max-length", type=int, help="pieces per window (default: the model's)")
    p.add_argument("--history", help="training history.json (default <model>/../history.json; may use {fold})")
    p.add_argument("--errors", type=int, default=20, help="error sentences sampled per data set (default 20)")
    p.add_argument("--all-types", action="store_true",
                   help="also score predicted types the data does not annotate (default: set them to O)")
    p.add_argument("--quote-min-score", type=float, metavar="P",
                   help="quote gold: drop the model's quotes scoring below P (default: the model's own setting)")
    p.add_argument("--own-quote-min-score", type=float, metavar="P",
                   help="quote gold, a model that reads the rules' tags: also drop its quotes the rules did not find "
                        "scoring below P (default: the model's own setting)")
    p.set_defaults(func=run_evaluate)
    return p


def run_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_model, write_report
    from .report import iter_units

    evaluation = evaluate_model(
        args.model, args.data, folds=args.folds, fmt=args.format, batch_size=args.batch_size,
        device=args.device, max_length=args.max_length, history=args.history, errors=args.errors,
        all_types=args.all_types, quote_min_score=args.quote_min_score, own_quote_min_score=args.own_quote_min_score,
    )  # fmt: skip
    written = write_report(evaluation, args.out)
    for entry in evaluation.report["ner"]:
        if entry["kind"] == "folds":
            f1 = entry["summary"]["micro"]["f1"]
            print(f"{entry['name']}: micro F1 {100 * f1['mean']:.2f} ± {100 * f1['std']:.2f} "
                  f"(min {100 * f1['min']:.2f}, max {100 * f1['max']:.2f}) over {entry['summary']['n']} folds")
    for unit in iter_units(evaluation.report):
        m = unit["scores"]["micro"]
        print(f"{unit['name']}: micro P {100 * m['precision']:.2f} R {100 * m['recall']:.2f} F1 {100 * m['f1']:.2f}")
    from .quote_report import summary_lines

    for line in summary_lines(evaluation.report):
        print(line)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
