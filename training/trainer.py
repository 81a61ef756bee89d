"""The training loop: accelerate for devices, callbacks for everything around the step.

``train(config, resume=False)`` runs one training (or one per ARMAN fold) and returns its summary.  The
same code runs on CPU, one GPU, or ``accelerate launch`` on several: ``Accelerator`` places the model,
wraps optimizer/scheduler/dataloader and handles mixed precision and gradient accumulation.

Resuming is exact.  Nothing in the run draws from the global RNG except initialisation and dropout: the
batch order is a function of (seed, epoch) (``data.LengthGroupedBatchSampler``) and every DataLoader has
its own generator.  A checkpoint holds model, optimizer, scheduler and RNG states (``save_state``) plus
the loop position and the callbacks' states; a resumed run restores them, skips the batches the epoch
already consumed (``skip_first_batches``) and then computes exactly what the killed run would have.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import shutil
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import yaml

from parstag.inference.fileio import fresh_tmp_dir, replace_dir, write_text_atomic
from parstag.inference.labels import QUOTE_ROLES, bio_labels

from . import callbacks as cb
from .config import TrainConfig, diff_configs
from .data import MODEL_KEYS, Collator, LengthGroupedBatchSampler, Part, allowed_mask, encode, load_splits, make_normalizer

log = logging.getLogger("parstag.train")
_REPO_ROOT = Path(__file__).resolve().parents[1]


def resolve_path(path: str) -> str:
    """A relative path that is not under the working directory is tried under the repository root."""
    p = Path(path)
    if p.is_absolute() or p.exists() or not (_REPO_ROOT / p).exists():
        return path
    return str(_REPO_ROOT / p)


def combined_loss(out, quote_weight: float) -> torch.Tensor:
    """NER loss + ``quote_weight`` x quote-role loss (the model's own ``loss`` weighs them equally)."""
    if out.ner_loss is not None and out.quote_loss is not None and quote_weight != 1.0:
        return out.ner_loss + quote_weight * out.quote_loss
    return out.loss


def build_model(cfg: TrainConfig, tokenizer, ner_labels: list[str], quote_labels: list[str] | None,
                init_from: Path | None = None):
    """The model to fine-tune: from ``cfg.model.model_name_or_path``, or from scratch; a from-scratch model
    pretrained by ``pretrain.pretrain_mlm`` is loaded from that checkpoint (``init_from``) like a hub model."""
    from transformers import AutoConfig

    from parstag.inference.modeling import ParstagForTokenClassification

    labels = {"id2label": dict(enumerate(ner_labels)), "label2id": {lab: i for i, lab in enumerate(ner_labels)}}
    if init_from is not None:
        config = AutoConfig.from_pretrained(init_from, **labels)
        return ParstagForTokenClassification.from_pretrained(init_from, config=_with_settings(config, cfg, quote_labels),
                                                             use_safetensors=True)  # fmt: skip
    if cfg.model.from_scratch is not None:
        config = scratch_config(cfg.model.from_scratch, tokenizer, **labels)
        return ParstagForTokenClassification(_with_settings(config, cfg, quote_labels))
    config = AutoConfig.from_pretrained(cfg.model.model_name_or_path, **labels)
    return ParstagForTokenClassification.from_pretrained(cfg.model.model_name_or_path,
                                                         config=_with_settings(config, cfg, quote_labels))


def scratch_config(s, tokenizer, **extra):
    """The ``BertConfig`` of a from-scratch encoder (``model.from_scratch``), sized by the tokenizer's vocabulary;
    the same for masked-LM pretraining (``pretrain.py``) and fine-tuning."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=len(tokenizer), hidden_size=s.hidden_size, num_hidden_layers=s.num_layers,
        num_attention_heads=s.num_heads, intermediate_size=s.intermediate_size,
        max_position_embeddings=s.max_position, hidden_dropout_prob=s.dropout,
        attention_probs_dropout_prob=s.dropout, pad_token_id=tokenizer.pad_token_id, **extra,
    )  # fmt: skip


def _with_settings(config, cfg: TrainConfig, quote_labels: list[str] | None):
    """What travels with the checkpoint beside the NER labels: the quote head's labels, where the model
    takes the rules' tags, the tagger's quote score thresholds (None: not set)."""
    config.quote_labels = quote_labels or None
    config.rule_features = None if cfg.model.rule_features == "none" else cfg.model.rule_features
    config.quote_min_score = cfg.model.quote_min_score or None
    config.own_quote_min_score = cfg.model.own_quote_min_score
    return config


def make_optimizer(model, cfg: TrainConfig, lr: float | None = None) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim < 2 or "LayerNorm" in name else decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.optim.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    lr = cfg.optim.lr if lr is None else lr  # pretraining has its own rate
    try:  # the fused kernel: ~8x faster steps on CPU over a 100k-row embedding (torch >= 2.4)
        return torch.optim.AdamW(groups, lr=lr, eps=cfg.optim.adam_epsilon, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.AdamW(groups, lr=lr, eps=cfg.optim.adam_epsilon, foreach=True)


def save_model(model, tokenizer, directory: Path, cfg: TrainConfig) -> None:
    """Hugging Face format, safetensors, written under a temporary name then swapped in."""
    directory = Path(directory)
    tmp = fresh_tmp_dir(directory)
    kwargs = {"safe_serialization": True} if "safe_serialization" in inspect.signature(model.save_pretrained).parameters else {}
    model.save_pretrained(tmp, **kwargs)
    tokenizer.save_pretrained(tmp)
    cfg.save(tmp / "training_config.yaml")
    replace_dir(tmp, directory)


class Loop:
    """One training run: set up by :func:`train_one`, driven by :meth:`run`."""

    def __init__(self, cfg, accelerator, model, optimizer, scheduler, loader, sampler, tokenizer, dev_parts,
                 collate, callbacks, state):  # fmt: skip
        self.config, self.accelerator, self.model, self.optimizer = cfg, accelerator, model, optimizer
        self.scheduler, self.loader, self.sampler, self.tokenizer = scheduler, loader, sampler, tokenizer
        self.dev_parts, self.collate, self.callbacks, self.state = dev_parts, collate, callbacks, state
        self.output_dir = Path(cfg.output_dir)
        self._bar = None

    def log(self, message: str) -> None:
        if self.accelerator.is_main_process:
            log.info(message)

    def progress_postfix(self, **kw) -> None:
        if self._bar is not None:
            self._bar.set_postfix(**kw, refresh=False)

    def fire(self, event: str, *args) -> None:
        for c in self.callbacks:
            getattr(c, event)(self, *args)

    def unwrapped(self):
        return self.accelerator.unwrap_model(self.model)

    def save_model(self) -> None:
        self.accelerator.wait_for_everyone()
        if self.accelerator.is_main_process:
            save_model(self.unwrapped(), self.tokenizer, self.output_dir / "model", self.config)

    def evaluate(self) -> dict[str, float]:
        metrics: list[Any] = [None]
        if self.accelerator.is_main_process:
            model = self.unwrapped()
            metrics[0] = cb.evaluate(model, self.dev_parts, self.collate, self.config.optim.eval_batch_size,
                                  self.accelerator.device, model.config.id2label, model.quote_labels or None)  # fmt: skip
        if self.accelerator.num_processes > 1:
            from accelerate.utils import broadcast_object_list

            broadcast_object_list(metrics)
        return metrics[0]

    def run(self) -> None:
        from tqdm.auto import tqdm

        acc, s, accum = self.accelerator, self.state, self.config.optim.gradient_accumulation_steps
        clip = self.config.optim.max_grad_norm
        weight = self.config.optim.quote_loss_weight
        self._bar = tqdm(total=s.max_steps, initial=s.global_step, desc="train", dynamic_ncols=True,
                         disable=not (acc.is_main_process and self._tty()))  # fmt: skip
        self.model.train()
        self.fire("on_train_begin")
        stop = s.last_step
        while not stop:
            self.sampler.epoch = s.epoch
            skip = s.step_in_epoch * accum
            batches = acc.skip_first_batches(self.loader, skip) if skip else self.loader
            for batch in batches:
                with acc.accumulate(self.model):
                    loss = combined_loss(self.model(**batch), weight)
                    acc.backward(loss)
                    if acc.sync_gradients and clip > 0:
                        acc.clip_grad_norm_(self.model.parameters(), clip)
                    self.optimizer.step()
                    self.scheduler.step()
                    self.optimizer.zero_grad()
                value = float(loss.detach())
                s.loss_sum, s.loss_count = s.loss_sum + value, s.loss_count + 1
                s.eval_loss_sum, s.eval_loss_count = s.eval_loss_sum + value, s.eval_loss_count + 1
                if not acc.sync_gradients:
                    continue
                s.global_step += 1
                s.step_in_epoch += 1
                self._bar.update(1)
                control = cb.Control()
                self.fire("on_step_end", control)
                if control.evaluate:
                    self.fire("on_evaluate", self.evaluate(), control)
                if control.save:
                    self.fire("on_save", self.output_dir / "checkpoints")
                if control.stop or s.last_step:
                    stop = True
                    break
            if not stop:
                s.epoch, s.step_in_epoch = s.epoch + 1, 0
        self._bar.close()
        self.fire("on_train_end")

    @staticmethod
    def _tty() -> bool:
        import sys

        return sys.stderr.isatty()


def _check_resume(cfg: TrainConfig, checkpoint: Path) -> None:
    saved = yaml.safe_load((checkpoint / "config.yaml").read_text(encoding="utf-8"))
    diffs = diff_configs(saved, cfg.to_dict())
    if diffs:
        raise ValueError(
            f"refusing to resume from {checkpoint}: the config differs from the checkpoint's in "
            + "; ".join(diffs) + ". Undo the change, or train into a new output_dir without --resume."
        )


def train_one(cfg: TrainConfig, resume: bool = False, *, fold: int | None = None, kill_after_step: int | None = None,
              extra_callbacks: Sequence[cb.Callback] = ()) -> dict[str, Any]:  # fmt: skip
    """One training run into ``cfg.output_dir``; returns the summary also written to ``result.json``.
    ``extra_callbacks`` run before the built-in ones (e.g. a timer, which then excludes the final save)."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from datasets import concatenate_datasets, disable_progress_bars
    from transformers import get_scheduler
    from transformers.utils import logging as hf_logging

    from parstag.inference.modeling import load_tokenizer

    out = Path(cfg.output_dir)
    ckpt_root = out / "checkpoints"
    checkpoint = cb.list_checkpoints(ckpt_root)[-1] if resume and cb.list_checkpoints(ckpt_root) else None
    if checkpoint is not None:
        _check_resume(cfg, checkpoint)
    acc = Accelerator(mixed_precision=cfg.optim.mixed_precision,
                      gradient_accumulation_steps=cfg.optim.gradient_accumulation_steps)  # fmt: skip
    if acc.device.type == "cpu" and cfg.optim.mixed_precision == "bf16":
        log.warning("bf16 on a CPU without bf16 hardware runs at ~0.15x the speed of fp32; consider mixed_precision: no")
    if acc.is_main_process:
        if resume and checkpoint is None:
            log.warning("--resume: no checkpoint in %s; starting from the beginning", ckpt_root)
        if checkpoint is None and ckpt_root.exists():
            shutil.rmtree(ckpt_root)  # a fresh run: checkpoints of an earlier run would be mixed in
        (out / "result.json").unlink(missing_ok=True)
        cfg.save(out / "config.yaml")
    set_seed(cfg.optim.seed)
    disable_progress_bars()  # tokenising takes seconds; one log line says what was built
    hf_logging.disable_progress_bar()  # "Writing model shards" at every best-model save

    tokenizer = load_tokenizer(resolve_path(cfg.model.from_scratch.tokenizer if cfg.model.from_scratch
                                            else cfg.model.tokenizer or cfg.model.model_name_or_path))  # fmt: skip
    normalizer = make_normalizer(cfg.data.normalizer)
    splits = load_splits(cfg, fold)
    types = cfg.data.types or splits.types()
    ner_labels = bio_labels(types)
    quote_labels = bio_labels(QUOTE_ROLES) if "quotes" in cfg.tasks else None
    mask = cfg.data.mask_unannotated_types
    if mask is None:
        mask = any(set(p.annotated) != set(types) for p in splits.train)
    label2id = {lab: i for i, lab in enumerate(ner_labels)}
    qmap = {lab: i for i, lab in enumerate(quote_labels)} if quote_labels else None

    def enc(part: Part):
        allowed = allowed_mask(ner_labels, part.annotated) if mask else None
        # A corpus that annotates no entity type (silver quote data) teaches the NER head nothing.
        return encode(part.dataset, tokenizer, normalizer, label2id, max_length=cfg.optim.max_length,
                      label_all_tokens=cfg.optim.label_all_tokens, allowed=allowed, quote_label2id=qmap,
                      train_ner="ner" in cfg.tasks and bool(part.annotated))  # fmt: skip

    keep = [k for k in MODEL_KEYS if k != "attention_mask"] + ["length"]
    encoded = [enc(p) for p in splits.train]
    train_ds = concatenate_datasets([e.select_columns([k for k in keep if k in e.column_names]) for e in encoded])
    if cfg.data.max_train_examples and cfg.data.max_train_examples < len(train_ds):
        train_ds = train_ds.shuffle(seed=cfg.optim.seed).select(range(cfg.data.max_train_examples))
    dev_parts = [(p, enc(p)) for p in splits.dev]

    init_from, pretrained = None, None
    if cfg.model.from_scratch is not None and cfg.model.from_scratch.mlm is not None and checkpoint is None:
        from .pretrain import pretrain_mlm

        init_from = out / "pretrained"
        if acc.is_main_process:
            pretrained = pretrain_mlm(cfg, tokenizer, normalizer, (w for p in splits.train for w in p.dataset["tokens"]),
                                      init_from, acc.device)  # fmt: skip
        acc.wait_for_everyone()
        set_seed(cfg.optim.seed)  # fine-tuning starts from the same random state as without pretraining
    elif cfg.model.from_scratch is not None and cfg.model.from_scratch.mlm is not None:
        from .pretrain import read_summary

        pretrained = read_summary(out / "pretrained")  # resumed: the weights come from the checkpoint
    model = build_model(cfg, tokenizer, ner_labels, quote_labels, init_from)
    model.config.parstag = {"normalizer": normalizer.config.to_dict(), "tasks": list(cfg.tasks),
                            "max_length": cfg.optim.max_length}  # fmt: skip
    tokenizer.model_max_length = cfg.optim.max_length
    optimizer = make_optimizer(model, cfg)
    sampler = LengthGroupedBatchSampler(train_ds["length"], cfg.optim.batch_size, seed=cfg.optim.seed,
                                        group=cfg.optim.group_by_length)  # fmt: skip
    collate = Collator(tokenizer.pad_token_id, 8 if cfg.optim.mixed_precision != "no" else None)
    loader = torch.utils.data.DataLoader(train_ds, batch_sampler=sampler, collate_fn=collate,
                                         generator=torch.Generator().manual_seed(cfg.optim.seed))  # fmt: skip
    model, optimizer, loader = acc.prepare(model, optimizer, loader)

    state = cb.TrainState(steps_per_epoch=math.ceil(len(loader) / cfg.optim.gradient_accumulation_steps))
    state.max_steps = cfg.optim.max_steps or math.ceil(cfg.optim.epochs * state.steps_per_epoch)
    warmup = cfg.optim.warmup_steps or math.ceil(cfg.optim.warmup_ratio * state.max_steps)
    name = "constant_with_warmup" if cfg.optim.schedule == "constant" else cfg.optim.schedule
    # A prepared scheduler steps once per process per optimizer step: count its length in those steps.
    n = acc.num_processes
    scheduler = acc.prepare(get_scheduler(name, optimizer, num_warmup_steps=warmup * n, num_training_steps=state.max_steps * n))

    callbacks: list[cb.Callback] = [*extra_callbacks, cb.EvalSchedule(cfg.eval.strategy, cfg.eval.every_steps, bool(dev_parts)),
                                    cb.History(out / "history.json", cfg.eval.log_every_steps), cb.BestModel()]  # fmt: skip
    if cfg.eval.patience:
        callbacks.append(cb.EarlyStopping(cfg.eval.patience, cfg.eval.min_delta))
    callbacks.append(cb.Checkpointer(ckpt_root, cfg.checkpoint.every_steps, cfg.checkpoint.keep_last, kill_after_step))

    if checkpoint is not None:
        acc.load_state(str(checkpoint))
        saved = cb.read_checkpoint_state(checkpoint)
        for key, value in saved["state"].items():
            setattr(state, key, value)
        for c in callbacks:
            c.load_state_dict(saved["callbacks"].get(type(c).__name__, {}))
        if state.step_in_epoch >= state.steps_per_epoch:
            state.epoch, state.step_in_epoch = state.epoch + 1, 0
        log.info("resumed from %s (step %d, epoch %d)", checkpoint, state.global_step, state.epoch)

    loop = Loop(cfg, acc, model, optimizer, scheduler, loader, sampler, tokenizer, dev_parts, collate, callbacks, state)
    log.info("training %s: %d sentences, %d steps (%d per epoch), labels %s%s", out, len(train_ds), state.max_steps,
             state.steps_per_epoch, " ".join(types), ", unannotated types masked" if mask else "")  # fmt: skip
    loop.run()

    best = next(c for c in callbacks if isinstance(c, cb.BestModel))
    result: dict[str, Any] = {"output_dir": str(out), "model": str(out / "model"), "steps": state.global_step,
                              "best_dev_score": best.best, "best_dev_f1": best.best_metrics.get("dev_f1"),
                              "best_dev_quote_f1": best.best_metrics.get("dev_quote_f1"), "best_step": best.best_step,
                              "fold": fold}  # fmt: skip
    if pretrained is not None:
        result["pretrain"] = pretrained
    if cfg.eval.test_at_end and acc.is_main_process:
        result.update(_test_scores(cfg, fold, tokenizer, enc, collate, acc.device))
    if acc.is_main_process:
        write_text_atomic(out / "result.json", json.dumps(result, indent=1) + "\n")
    return result


def _test_scores(cfg, fold, tokenizer, enc, collate, device) -> dict[str, float]:
    """The saved (best) model on the test split: final figures only, never used for selection."""
    from parstag.inference.modeling import load_model

    model = load_model(Path(cfg.output_dir) / "model").to(device)
    parts = [(p, enc(p)) for p in load_splits(cfg, fold, with_test=True).test]
    return cb.evaluate(model, parts, collate, cfg.optim.eval_batch_size, device, model.config.id2label,
                    model.quote_labels or None, prefix="test")  # fmt: skip


def train(cfg: TrainConfig, resume: bool = False, *, kill_after_step: int | None = None,
          extra_callbacks: Sequence[cb.Callback] = ()) -> dict[str, Any]:
    """Train as configured; with ``data.folds``, one run per fold into ``output_dir/fold<k>`` and a summary
    (mean and standard deviation over folds) in ``output_dir/folds.json``."""
    if not cfg.data.folds:
        return train_one(cfg, resume, kill_after_step=kill_after_step, extra_callbacks=extra_callbacks)
    runs = []
    for k in cfg.data.folds:
        fold_cfg = cfg.for_fold(k)
        done = Path(fold_cfg.output_dir) / "result.json"
        if resume and done.exists():  # this fold finished before the interruption
            _check_resume(fold_cfg, Path(fold_cfg.output_dir))
            runs.append(json.loads(done.read_text(encoding="utf-8")))
            continue
        runs.append(train_one(fold_cfg, resume, fold=k, kill_after_step=kill_after_step, extra_callbacks=extra_callbacks))
    summary: dict[str, Any] = {"folds": runs}
    for key in ("best_dev_score", "best_dev_f1", "best_dev_quote_f1", "test_f1", "test_precision", "test_recall"):
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            summary[key] = {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                            "min": min(values), "max": max(values), "n": len(values)}  # fmt: skip
    Path(cfg.output_dir).mkdir(parents=True, exist_ok=True)
    write_text_atomic(Path(cfg.output_dir) / "folds.json", json.dumps(summary, indent=1) + "\n")
    return summary
