"""Recipe sweep: train several variants of one config side by side and score each on the gold dev sets.

The question: which training recipe (data mix, model size, epochs, loss weights) gives the best quote
attribution and NER on DEV?  A variant is the base config plus ``--set`` overrides; every variant trains
in its own process (``parstag train``; on a GPU they share it), then its model is scored the way the
product is used:

* NER: the run's best PEYMA dev F1 (``result.json``, seqeval strict, the trainer's own scoring);
* quotes: the whole Tagger and linker over the quote gold dev, scored by training/quote_eval.py (quote F1
  exact and at 50% overlap, speaker accuracy, end-to-end F1).

Dev only: these figures choose recipes, so they are not test figures.  Training time per variant is
printed, but variants that share a machine slow each other down: compare times only between runs of one
sweep that ran alone, and CPU costs by sentences x epochs (the log's first line).

Usage::

    python bench/recipe_sweep.py configs/quickstart.yaml --out runs/sweep --jobs 4 \\
        --variant base= --variant l3="model.from_scratch.num_layers=3" \\
        --variant e12="optim.epochs=12;data.corpora.1.keep_unlabelled=0.25"

``--variant NAME=KEY=VALUE;KEY=VALUE`` (an empty list keeps the base config).  The LAST line printed is one
JSON object with every variant's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_variant(spec: str) -> tuple[str, list[str]]:
    name, sep, sets = spec.partition("=")
    if not sep or not name or not name.replace("-", "").replace("_", "").isalnum():
        raise SystemExit(f"bad --variant {spec!r}: expected NAME=KEY=VALUE;KEY=VALUE (NAME letters, digits, -, _)")
    return name, [s.strip() for s in sets.split(";") if s.strip()]


def score(model: Path, gold: Path, device: str) -> dict:
    from parstag.training.quote_eval import load_records, score_quotes
    from parstag.training.quote_report import predict_quotes

    records = load_records(gold)
    has_head, pred, _, _ = predict_quotes(str(model), records, device=device)
    if not has_head:
        return {}
    s = score_quotes(records, pred)
    return {
        "quote_f1_50": round(100 * s["quote_50"]["f1"], 1),
        "quote_f1_exact": round(100 * s["quote_exact"]["f1"], 1),
        "speaker_accuracy": round(100 * s["speaker_accuracy"], 1),
        "end_to_end_f1": round(100 * s["end_to_end"]["f1"], 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("config")
    p.add_argument("--out", default=str(ROOT / "runs" / "sweep"))
    p.add_argument("--variant", action="append", default=[], help="NAME=KEY=VALUE;KEY=VALUE (repeatable)")
    p.add_argument("--jobs", type=int, default=1, help="variants trained at once")
    p.add_argument("--threads", type=int, default=None, help="torch threads per job (default: cores / jobs)")
    p.add_argument("--gold", default=str(ROOT / "data" / "quotes" / "gold" / "dev.jsonl"))
    p.add_argument("--device", default="cpu", help="device for scoring (training picks its own)")
    p.add_argument("--results", default=None, help="also append each variant's figures to this JSONL file")
    args = p.parse_args(argv)
    variants = [parse_variant(v) for v in args.variant] or [("base", [])]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    threads = args.threads or max(1, (os.cpu_count() or 1) // max(1, args.jobs))
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="false")

    def finish(name: str, sets: list[str]) -> dict:
        row: dict = {"sets": sets, "train_seconds": seconds.get(name), "exit": codes.get(name)}
        result = out / name / "result.json"
        if codes.get(name) == 0 and result.is_file():
            r = json.loads(result.read_text(encoding="utf-8"))
            row.update({"best_step": r.get("best_step"), "steps": r.get("steps"),
                        "peyma_dev_f1": round(100 * r["best_dev_f1"], 2) if r.get("best_dev_f1") is not None else None})
            row.update(score(out / name / "model", Path(args.gold), args.device))
        print(name, row, flush=True)
        if args.results:  # each variant as it is scored, so a sweep cut short keeps what it finished
            with open(args.results, "a", encoding="utf-8") as f:
                f.write(json.dumps({name: row}, ensure_ascii=False) + "\n")
        return row

    pending = list(variants)
    running: dict[str, tuple[subprocess.Popen, float, list[str], object]] = {}
    seconds: dict[str, float] = {}
    codes: dict[str, int] = {}
    rows: dict[str, dict] = {}
    while pending or running:
        while pending and len(running) < args.jobs:
            name, sets = pending.pop(0)
            cmd = [sys.executable, "-m", "parstag.training.cli", "train", args.config, "--output-dir", str(out / name)]
            for s in sets:
                cmd += ["--set", s]
            log = open(out / f"{name}.log", "w", encoding="utf-8")
            running[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), time.perf_counter(), sets, log)
            print(f"started {name}: {' '.join(sets) or '(base)'}", flush=True)
        time.sleep(2)
        for name, (proc, start, sets, log) in list(running.items()):
            if proc.poll() is not None:
                log.close()
                seconds[name] = round(time.perf_counter() - start, 1)
                codes[name] = proc.returncode
                del running[name]
                print(f"finished {name}: exit {proc.returncode} after {seconds[name]} s", flush=True)
                rows[name] = finish(name, sets)
    print(json.dumps(rows, ensure_ascii=False))
    return 0 if all(c == 0 for c in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
