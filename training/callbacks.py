"""What happens around the optimizer step, as callbacks instead of branches in the loop.

The loop (``trainer.Loop``) does one thing per optimizer step: call ``on_step_end`` on every callback,
which may ask (through :class:`Control`) for an evaluation, a checkpoint or a stop; then, in this order,
evaluate and call ``on_evaluate``, save and call ``on_save``; stop when asked.  Everything else (when to
evaluate, logging, history, early stopping, keeping the best model, checkpoints) is a callback.

A callback with state (early stopping's counter, the history) implements ``state_dict`` /
``load_state_dict``; the checkpointer stores those states, so a resumed run continues exactly.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import signal
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from parstag.inference.labels import IGNORE_INDEX, OUTSIDE, split_tag

from .data import MODEL_KEYS, Collator, Part, eval_batches

if TYPE_CHECKING:
    from .trainer import Loop

log = logging.getLogger("parstag.train")


@dataclass
class TrainState:
    """Where the run is; saved with every checkpoint."""

    global_step: int = 0  # optimizer steps done
    epoch: int = 0  # epoch in progress (0-based)
    step_in_epoch: int = 0  # optimizer steps done in this epoch
    steps_per_epoch: int = 0
    max_steps: int = 0
    loss_sum: float = 0.0  # micro-batch losses since the last train-loss log
    loss_count: int = 0
    eval_loss_sum: float = 0.0  # ... since the last evaluation
    eval_loss_count: int = 0

    @property
    def epoch_end(self) -> bool:
        return self.step_in_epoch == self.steps_per_epoch

    @property
    def last_step(self) -> bool:
        return self.global_step >= self.max_steps

    @property
    def epoch_float(self) -> float:
        return round(self.epoch + self.step_in_epoch / max(self.steps_per_epoch, 1), 4)


@dataclass
class Control:
    evaluate: bool = False
    save: bool = False
    stop: bool = False


class Callback:
    """Hooks the loop calls; all optional."""

    def on_train_begin(self, loop: Loop) -> None: ...
    def on_step_end(self, loop: Loop, control: Control) -> None: ...
    def on_evaluate(self, loop: Loop, metrics: dict[str, float], control: Control) -> None: ...
    def on_save(self, loop: Loop, directory: Path) -> None: ...
    def on_train_end(self, loop: Loop) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class EvalSchedule(Callback):
    """Dev evaluation every N steps or at every epoch end, and always after the last step."""

    def __init__(self, strategy: str, every_steps: int | None, has_dev: bool):
        self.strategy, self.every, self.has_dev = strategy, every_steps, has_dev

    def on_step_end(self, loop, control):
        s = loop.state
        if not self.has_dev or self.strategy == "no":
            return
        due = s.epoch_end if self.strategy == "epoch" else s.global_step % self.every == 0
        control.evaluate = control.evaluate or due or s.last_step


class History(Callback):
    """Learning curves: one entry per train-loss log and per evaluation, written to ``history.json``.

    Entries are ``{"step", "epoch", "train_loss", "lr"}`` and ``{"step", "epoch", "train_loss",
    "dev_loss", "dev_f1", ...}`` (the eval entry's train_loss averages the steps since the previous
    evaluation).  The report writer reads this file.
    """

    def __init__(self, path: Path, log_every: int):
        self.path, self.log_every = Path(path), log_every
        self.entries: list[dict[str, Any]] = []

    def _write(self, loop) -> None:
        if loop.accelerator.is_main_process:
            from parstag.inference.fileio import write_text_atomic  # a killed run must never leave a truncated history

            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.path, json.dumps(self.entries, indent=1) + "\n")

    def on_step_end(self, loop, control):
        s = loop.state
        if (s.global_step % self.log_every == 0 or s.last_step) and s.loss_count:
            entry = {"step": s.global_step, "epoch": s.epoch_float, "train_loss": round(s.loss_sum / s.loss_count, 6),
                     "lr": loop.scheduler.get_last_lr()[0]}  # fmt: skip
            s.loss_sum, s.loss_count = 0.0, 0
            self.entries.append(entry)
            loop.progress_postfix(loss=entry["train_loss"])
            self._write(loop)

    def on_evaluate(self, loop, metrics, control):
        s = loop.state
        train_loss = s.eval_loss_sum / s.eval_loss_count if s.eval_loss_count else None
        s.eval_loss_sum, s.eval_loss_count = 0.0, 0
        entry = {"step": s.global_step, "epoch": s.epoch_float, "train_loss": _round(train_loss)}
        entry.update({k: _round(v) for k, v in metrics.items()})
        self.entries.append(entry)
        loop.log(" ".join(f"{k} {v}" for k, v in entry.items()))
        self._write(loop)

    def on_train_end(self, loop):
        self._write(loop)

    def state_dict(self):
        return {"entries": self.entries}

    def load_state_dict(self, state):
        self.entries = list(state["entries"])


def _round(value: float | None) -> float | None:
    """JSON-safe: NaN (no labelled token) becomes null."""
    return None if value is None or math.isnan(value) else round(value, 6)


class EarlyStopping(Callback):
    """Stop after ``patience`` evaluations without a dev score gain of more than ``min_delta`` (``dev_score``:
    the NER F1, or with a quote head the mean of the NER and quote-role F1s)."""

    def __init__(self, patience: int, min_delta: float = 0.0, metric: str = "dev_score"):
        self.patience, self.min_delta, self.metric = patience, min_delta, metric
        self.best: float | None = None
        self.bad = 0

    def on_evaluate(self, loop, metrics, control):
        value = metrics[self.metric]
        if self.best is None or value > self.best + self.min_delta:
            self.best, self.bad = value, 0
        else:
            self.bad += 1
            if self.bad >= self.patience:
                loop.log(f"early stopping at step {loop.state.global_step}: {self.metric} has not improved on "
                         f"{self.best:.4f} for {self.bad} evaluations")  # fmt: skip
                control.stop = True

    def state_dict(self):
        return {"best": self.best, "bad": self.bad}

    def load_state_dict(self, state):
        self.best, self.bad = state["best"], state["bad"]


class BestModel(Callback):
    """Keep the model with the best dev score in ``output_dir/model`` (the last one when there is no dev);
    ``best_metrics`` are all dev metrics of that evaluation."""

    def __init__(self, metric: str = "dev_score"):
        self.metric = metric
        self.best: float | None = None
        self.best_step: int | None = None
        self.best_metrics: dict[str, float] = {}

    def on_evaluate(self, loop, metrics, control):
        if self.best is None or metrics[self.metric] > self.best:
            self.best, self.best_step = metrics[self.metric], loop.state.global_step
            self.best_metrics = {k: v for k, v in metrics.items() if k.startswith("dev_")}
            loop.save_model()

    def on_train_end(self, loop):
        if self.best is None:
            loop.save_model()

    def state_dict(self):
        return {"best": self.best, "best_step": self.best_step, "best_metrics": self.best_metrics}

    def load_state_dict(self, state):
        self.best, self.best_step = state["best"], state["best_step"]
        self.best_metrics = state.get("best_metrics", {})


class Checkpointer(Callback):
    """``accelerator.save_state`` every N steps into ``checkpoints/step-N`` (written under a temporary name
    and renamed, so a directory with that name is always complete); keeps the last K.

    ``kill_after_step`` is a debugging aid for the resume test: SIGKILL this process right after the
    first checkpoint at or after that step, as a crash would.
    """

    STATE_FILE = "trainer_state.json"

    def __init__(self, root: Path, every_steps: int | None, keep_last: int, kill_after_step: int | None = None):
        self.root, self.every, self.keep, self.kill_after = Path(root), every_steps, keep_last, kill_after_step

    def on_step_end(self, loop, control):
        if self.every and loop.state.global_step % self.every == 0 and not loop.state.last_step:
            control.save = True

    def on_save(self, loop, directory):
        acc = loop.accelerator
        final = self.root / f"step-{loop.state.global_step}"
        tmp = self.root / f".tmp-step-{loop.state.global_step}"
        if acc.is_main_process and tmp.exists():
            shutil.rmtree(tmp)
        acc.wait_for_everyone()
        acc.save_state(str(tmp), safe_serialization=True)
        if acc.is_main_process:
            state = {"state": asdict(loop.state), "callbacks": {type(c).__name__: c.state_dict() for c in loop.callbacks}}
            (tmp / self.STATE_FILE).write_text(json.dumps(state, indent=1), encoding="utf-8")
            loop.config.save(tmp / "config.yaml")
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
            for old in list_checkpoints(self.root)[: -self.keep]:
                shutil.rmtree(old, ignore_errors=True)
            loop.log(f"checkpoint saved: {final}")
        acc.wait_for_everyone()
        if self.kill_after is not None and loop.state.global_step >= self.kill_after:
            sys.stdout.flush()
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGKILL)


def list_checkpoints(root: Path) -> list[Path]:
    """Complete checkpoints under ``root``, oldest first."""
    if not Path(root).is_dir():
        return []
    found = [p for p in Path(root).iterdir() if p.is_dir() and p.name.startswith("step-") and p.name[5:].isdigit()]
    return sorted(found, key=lambda p: int(p.name[5:]))


def read_checkpoint_state(directory: Path) -> dict[str, Any]:
    return json.loads((Path(directory) / Checkpointer.STATE_FILE).read_text(encoding="utf-8"))


# -- dev/test scoring ----------------------------------------------------------------------------------


def _word_rows(log_probs: torch.Tensor, first_piece: list[int], outside: int) -> torch.Tensor:
    """One row of label log-probs per word, from its first piece; a word with no piece is surely O."""
    from parstag.inference.decode import outside_rows

    rows = outside_rows(len(first_piece), log_probs.shape[-1], outside)
    words = [w for w, p in enumerate(first_piece) if p >= 0]
    if words:
        rows[words] = log_probs[[first_piece[w] for w in words]]
    return rows


@torch.no_grad()
def evaluate(model, parts: list[tuple[Part, Any]], collate: Collator, batch_size: int, device,
             id2label: dict[int, str], quote_labels: list[str] | None = None, prefix: str = "dev",
             tags_out: list | None = None) -> dict[str, float]:  # fmt: skip
    """Loss and strict IOB2 entity F1 (seqeval) over ``parts`` = [(Part, encoded dataset)].
    ``tags_out``, if given, receives ``(gold, predicted)`` word tags.

    Word tags are decoded from each word's first piece (O for a word with no piece in the window) by the
    tagger's own decoder (``parstag.inference.decode``, its default mode); predicted entities of a type
    the part's corpus does not annotate are dropped before scoring.
    """
    from parstag.inference.decode import decode

    from .evaluate import score_tags  # the one scorer: dev F1 here is the F1 `parstag evaluate` reports

    ner_labels = [id2label[i] for i in range(len(id2label))]
    ner_outside = ner_labels.index(OUTSIDE)
    quote_outside = quote_labels.index(OUTSIDE) if quote_labels else 0
    was_training = model.training
    model.eval()
    loss_sum, loss_n = 0.0, 0
    gold, pred, qgold, qpred = [], [], [], []
    for part, ds in parts:
        keep = set(part.annotated)
        for idx in eval_batches(ds["length"], batch_size):
            rows = ds[idx]
            feats = [{k: rows[k][i] for k in rows if k in MODEL_KEYS} for i in range(len(idx))]
            batch = {k: v.to(device) for k, v in collate(feats).items()}
            out = model(**batch)
            n = sum(int((batch[k] != IGNORE_INDEX).sum()) for k in ("labels", "quote_labels") if k in batch)
            if out.loss is not None and n:
                loss_sum, loss_n = loss_sum + float(out.loss) * n, loss_n + n
            ner = torch.log_softmax(out.logits.float(), dim=-1).cpu()
            qt = torch.log_softmax(out.quote_logits.float(), dim=-1).cpu() if out.quote_logits is not None else None
            fps = rows["first_piece"]
            ner_rows = [_word_rows(ner[i], fps[i], ner_outside) for i in range(len(idx))]
            ner_tags = [tags for tags, _ in decode(ner_rows, ner_labels)]
            for i in range(len(idx)):
                pred.append([t if split_tag(t)[1] in keep or t == OUTSIDE else OUTSIDE for t in ner_tags[i]])
                gold.append([t if t == OUTSIDE or t in model.config.label2id else OUTSIDE for t in rows["ner_tags"][i]])
            if qt is not None and "quote_tags" in rows:
                with_quotes = [i for i in range(len(idx)) if rows["quote_tags"][i]]
                qgold += [rows["quote_tags"][i] for i in with_quotes]
                quote_rows = [_word_rows(qt[i], fps[i], quote_outside) for i in with_quotes]
                qpred += [tags for tags, _ in decode(quote_rows, quote_labels)]
    model.train(was_training)
    if tags_out is not None:
        tags_out.append((gold, pred))
    metrics = {f"{prefix}_loss": loss_sum / loss_n if loss_n else math.nan}
    micro = score_tags(gold, pred)["micro"]
    for name in ("f1", "precision", "recall"):
        metrics[f"{prefix}_{name}"] = micro[name]
    # The selection score: the mean F1 of the heads that have dev data (NER alone: the NER F1).
    heads = [micro["f1"]] if any(t != OUTSIDE for tags in gold for t in tags) or not qgold else []
    if qgold:
        metrics[f"{prefix}_quote_f1"] = score_tags(qgold, qpred)["micro"]["f1"]
        heads.append(metrics[f"{prefix}_quote_f1"])
    metrics[f"{prefix}_score"] = sum(heads) / len(heads)
    return metrics
