"""Decoding: IOB2-constrained Viterbi against argmax-and-repair, on the same model, in one process.

The question: what does Viterbi decoding (inference/decode.py, the default) buy in accuracy, and what
does it cost in tagging speed?  Both modes run on the same trained model:

* NER: seqeval strict micro F1 on PEYMA dev (``parstag evaluate``'s own scorer and data loading).
* Quotes: the quote gold dev (data/quotes/gold/dev.jsonl) through the whole Tagger and linker, scored by
  training/quote_eval.py (quote F1 exact and at 50% overlap, speaker accuracy, end-to-end F1).
* Speed: the Tagger over ``--articles`` raw news articles (../shared/data/news), the two modes
  interleaved in ``--rounds`` rounds, best time of each; only the ratio is meaningful (shared machines
  drift).

Dev sets only: these figures chose the default, so they are not test figures.

Usage: ``python bench/decode.py [--model runs/quickstart/model] [--articles 200] [--rounds 3]``.
The LAST line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODES = ("argmax", "viterbi")


def news_texts(n: int) -> list[str]:
    from parstag.training.corpora import data_dir

    texts = []
    for path in sorted((data_dir("news") / "news").glob("*/*.json")):
        for art in json.loads(path.read_text(encoding="utf-8")):
            texts.append("\n".join(art.get("paragraphs") or []))
            if len(texts) >= n:
                return texts
    return texts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=str(ROOT / "runs" / "quickstart" / "model"))
    p.add_argument("--articles", type=int, default=200, help="news articles for the speed ratio")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--quotes", default=str(ROOT / "data" / "quotes" / "gold" / "dev.jsonl"))
    args = p.parse_args(argv)

    import torch

    from parstag.inference.tagger import Tagger
    from parstag.training.evaluate import evaluate_model
    from parstag.training.quote_eval import load_records, score_quotes

    torch.manual_seed(0)
    taggers = {m: Tagger.from_pretrained(args.model, device="cpu", decode=m) for m in MODES}
    out: dict = {"model": args.model}
    for mode, tagger in taggers.items():
        predict = lambda sentences, t=tagger: [p.ner_tags for p in t.predictor.predict(sentences)]  # noqa: E731
        ev = evaluate_model(args.model, ["peyma:dev"], predictor_factory=lambda _d, f=predict: f, errors=0)
        micro = ev.report["ner"][0]["scores"]["micro"]
        row = {"peyma_dev_ner_f1": round(100 * micro["f1"], 2)}
        if tagger.quote_source == "model":
            records = load_records(args.quotes)
            pred = {r["id"]: r["quotes"] for r in tagger.stream({"id": x["id"], "text": x["text"]} for x in records)}
            s = score_quotes(records, pred)
            row.update({
                "quote_f1_50": round(100 * s["quote_50"]["f1"], 1),
                "quote_f1_exact": round(100 * s["quote_exact"]["f1"], 1),
                "speaker_accuracy": round(100 * s["speaker_accuracy"], 1),
                "end_to_end_f1": round(100 * s["end_to_end"]["f1"], 1),
            })
        out[mode] = row
        print(mode, row, flush=True)

    texts = news_texts(args.articles)
    best = {m: float("inf") for m in MODES}
    for _ in range(args.rounds):
        for mode in MODES:
            start = time.perf_counter()
            taggers[mode](texts)
            best[mode] = min(best[mode], time.perf_counter() - start)
    out["articles"] = len(texts)
    out["seconds"] = {m: round(best[m], 2) for m in MODES}
    out["viterbi_time_ratio"] = round(best["viterbi"] / best["argmax"], 3)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
