"""Training throughput: our loop against the transformers Trainer, same model, same data, one process.

Throughput is REAL tokens per second: the non-pad pieces of one epoch ([CLS]/[SEP] included) divided by
the time of the training loop (forward, backward, clipping, optimizer and scheduler steps, batching);
tokenisation, model creation and saving are outside the timed region for both.

* Trainer baseline, as ``run_ner.py`` runs it: ``BertForTokenClassification``, ``Trainer`` with its
  defaults (random order, no ``group_by_length``; its default optimizer, fused AdamW on torch >= 2.8),
  ``DataCollatorForTokenClassification`` padding each batch to its longest sentence; time =
  ``train_runtime`` reported by ``Trainer.train()``.
* ours: ``parstag.training.trainer.train`` (length-grouped batches, dynamic padding, fused AdamW),
  time from the first to the last step (a callback).
* ours without length grouping (``optim.group_by_length=false``), to show where the gain comes from.

Same model size (the quickstart's: 2 layers, 256 wide, ParsBERT v1 vocabulary), same seed, batch size,
learning rate, max_length and the same normalised words.  Runs alternate (baseline, ours, ours
unsorted) for ``--rounds`` rounds; the best time of each is reported (the machines are shared).

    .venv/bin/python bench/train_throughput.py --sentences 1500 --rounds 3   (~3.5 min on 2 cores)
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from parity_trainer import peyma_config, run_ner_trainer  # noqa: E402


def make_timer():
    """A callback timing the loop from the first step to the end of the last one."""
    from parstag.training.callbacks import Callback

    class Timer(Callback):
        start = end = 0.0

        def on_train_begin(self, loop):
            self.start = time.perf_counter()

        def on_train_end(self, loop):
            self.end = time.perf_counter()

    return Timer()


def padded_tokens(lengths: list[int], batches: list[list[int]]) -> int:
    return sum(len(b) * max(lengths[i] for i in b) for b in batches)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sentences", type=int, default=2000, help="PEYMA train sentences (a seeded subset)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2)
    args = ap.parse_args()

    import torch

    from parstag.training.data import LengthGroupedBatchSampler
    from parstag.training.trainer import train

    print(f"torch threads {torch.get_num_threads()}; model {args.layers}x{args.hidden}; "
          f"{args.sentences} PEYMA train sentences, batch {args.batch_size}, 1 epoch per run", flush=True)  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="throughput-"))
    overrides = ["optim.epochs=1", "eval.strategy=no", f"optim.batch_size={args.batch_size}",
                 f"model.from_scratch.hidden_size={args.hidden}", f"model.from_scratch.num_layers={args.layers}",
                 f"model.from_scratch.intermediate_size={4 * args.hidden}"]  # fmt: skip
    times: dict[str, list[float]] = {"trainer": [], "ours": [], "ours_unsorted": []}
    tokens = None
    for r in range(args.rounds):
        res = run_ner_trainer(peyma_config(work / f"t{r}", args.sentences, overrides), work / f"t{r}", evaluate_dev=False)
        tokens = res["tokens"]
        times["trainer"].append(res["train_runtime"])
        print(f"round {r + 1}: Trainer {tokens / res['train_runtime']:.0f} tok/s", flush=True)
        for name, extra in (("ours", []), ("ours_unsorted", ["optim.group_by_length=false"])):
            timer = make_timer()
            train(peyma_config(work / f"{name}{r}", args.sentences, overrides + extra), extra_callbacks=[timer])
            times[name].append(timer.end - timer.start)
            print(f"round {r + 1}: {name} {tokens / times[name][-1]:.0f} tok/s", flush=True)

    lengths = res["lengths"]
    n, bs = len(lengths), args.batch_size
    random_batches = [torch.randperm(n, generator=torch.Generator().manual_seed(42)).tolist()[i : i + bs] for i in range(0, n, bs)]
    grouped = list(LengthGroupedBatchSampler(lengths, bs, seed=42))
    best = {k: min(v) for k, v in times.items()}
    print("\n| loop | real tokens/s | padding overhead | vs Trainer |")
    print("|---|---|---|---|")
    for name, batches in (("trainer", random_batches), ("ours", grouped), ("ours_unsorted", random_batches)):
        pad = padded_tokens(lengths, batches) / tokens - 1
        print(f"| {name} | {tokens / best[name]:.0f} | {pad:+.0%} | {best['trainer'] / best[name]:.2f}x |")
    print(f"\nratio ours/Trainer = {best['trainer'] / best['ours']:.2f}x  ({tokens} real tokens per epoch; "
          f"best of {args.rounds} rounds; all times: { {k: [round(x, 1) for x in v] for k, v in times.items()} })")  # fmt: skip
    assert math.isfinite(best["ours"])


if __name__ == "__main__":
    main()
