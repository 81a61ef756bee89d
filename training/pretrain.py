"""Masked-LM pretraining of a from-scratch encoder on the run's own training text, before fine-tuning.

Offline there are no pretrained weights: the quickstart encoder starts random, and its NER head learns
Persian from PEYMA's few thousand sentences alone.  The training text of the run (PEYMA train, the silver
quote articles, the gold train split) holds a million word pieces that the heads' labels use only in
part; a few epochs of BERT's masked-LM objective over it (15% of the pieces; 80% of those [MASK], 10% a
random piece, 10% unchanged) give the encoder word and context representations before the heads are
trained.  Only text the run already trains on is read: no dev or test sentence, so the honest protocol
holds.

``model.from_scratch.mlm`` turns it on.  :func:`pretrain_mlm` writes ``output_dir/pretrained`` (a
``BertForMaskedLM`` in safetensors, with the tokenizer); the fine-tuning model is then loaded from it with
``from_pretrained``, exactly as a hub checkpoint would be.  Each distinct sentence is read once per epoch,
whatever the corpora's ``repeat``.  The output logits are computed for the masked positions only: the
100k-way softmax over every position would cost most of the step.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from torch import nn

from parstag.inference.fileio import fresh_tmp_dir, replace_dir, write_text_atomic

log = logging.getLogger(__name__)

#: The pretraining summary saved beside the checkpoint (sentences, pieces, steps, first and last loss).
SUMMARY = "pretrain.json"


def mlm_sentences(word_lists: Iterable[Sequence[str]], tokenizer, normalizer, max_length: int) -> list[tuple[int, ...]]:
    """Every distinct sentence as piece ids ([CLS] ... [SEP], truncated to ``max_length``), sorted so that
    the order does not depend on the order of the corpora."""
    seqs = set()
    for words in word_lists:
        normalised = [normalizer.normalize_word(w) for w in words]
        ids = tokenizer(normalised, is_split_into_words=True, truncation=True, max_length=max_length)["input_ids"]
        seqs.add(tuple(ids))
    return sorted(seqs)


def mask_batch(seqs: Sequence[Sequence[int]], tokenizer, probability: float, generator: torch.Generator):
    """Padded ``input_ids``, ``attention_mask``, the original ids and the boolean mask of the positions to
    predict. Special pieces are never masked; a masked piece becomes [MASK] (80%), a random piece (10%) or
    stays (10%)."""
    length = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), length), tokenizer.pad_token_id)
    attention = torch.zeros((len(seqs), length), dtype=torch.long)
    for row, s in enumerate(seqs):
        ids[row, : len(s)] = torch.tensor(s)
        attention[row, : len(s)] = 1
    special = torch.tensor(sorted(set(tokenizer.all_special_ids)))
    candidates = attention.bool() & ~torch.isin(ids, special)
    masked = (torch.rand(ids.shape, generator=generator) < probability) & candidates
    how = torch.rand(ids.shape, generator=generator)
    inputs = ids.clone()
    inputs[masked & (how < 0.8)] = tokenizer.mask_token_id
    random_piece = masked & (how >= 0.8) & (how < 0.9)
    inputs[random_piece] = torch.randint(len(tokenizer), ids.shape, generator=generator)[random_piece]
    return inputs, attention, ids, masked


def pretrain_mlm(cfg, tokenizer, normalizer, word_lists: Iterable[Sequence[str]], directory: Path, device) -> dict:
    """Pretrain the from-scratch encoder of ``cfg`` on ``word_lists`` and save it to ``directory``
    (written under a temporary name, then renamed). Returns a summary: sentences, pieces, steps, the first
    step's loss and the running average (0.98) of the loss at the end.  Runs on the main process only: under
    several processes the others wait for it (mind the process group's timeout on long pretraining)."""
    from tqdm.auto import tqdm
    from transformers import BertForMaskedLM, get_scheduler

    from .data import LengthGroupedBatchSampler
    from .trainer import make_optimizer, scratch_config

    mlm, seed = cfg.model.from_scratch.mlm, cfg.optim.seed
    seqs = mlm_sentences(word_lists, tokenizer, normalizer, cfg.optim.max_length)
    special = set(tokenizer.all_special_ids)
    if not any(piece not in special for seq in seqs for piece in seq):
        raise ValueError("masked-LM pretraining: the training text has no piece to predict (no sentence, or only "
                         "special pieces such as [UNK])")
    torch.manual_seed(seed)
    model = BertForMaskedLM(scratch_config(cfg.model.from_scratch, tokenizer)).to(device)
    optimizer = make_optimizer(model, cfg, lr=mlm.lr)
    sampler = LengthGroupedBatchSampler([len(x) for x in seqs], mlm.batch_size, seed=seed)
    steps = math.ceil(mlm.epochs * len(sampler))
    scheduler = get_scheduler("linear", optimizer, num_warmup_steps=math.ceil(mlm.warmup_ratio * steps),
                              num_training_steps=steps)  # fmt: skip
    generator = torch.Generator().manual_seed(seed)
    log.info("pretraining the encoder (masked LM): %d sentences, %d pieces, %d steps", len(seqs),
             sum(map(len, seqs)), steps)  # fmt: skip
    bar = tqdm(total=steps, desc="pretrain (masked LM)", dynamic_ncols=True, disable=None)
    model.train()
    step, epoch, smoothed, first = 0, 0, float("nan"), float("nan")
    while step < steps:
        sampler.epoch = epoch
        at_start = step
        for idx in sampler:
            inputs, attention, labels, masked = mask_batch([seqs[i] for i in idx], tokenizer, mlm.mask_probability, generator)
            if not masked.any():  # a batch of very short sentences drew no piece: nothing to learn from
                continue
            inputs, attention, labels, masked = (t.to(device) for t in (inputs, attention, labels, masked))
            hidden = model.bert(input_ids=inputs, attention_mask=attention).last_hidden_state
            # Logits for the masked positions only (see the module docstring).
            loss = nn.functional.cross_entropy(model.cls(hidden[masked]), labels[masked])
            loss.backward()
            if cfg.optim.max_grad_norm > 0:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            value = loss.item()
            if step == 1:
                first = smoothed = value
            smoothed = 0.98 * smoothed + 0.02 * value
            bar.update(1)
            bar.set_postfix(loss=f"{smoothed:.3f}", refresh=False)
            if step % cfg.eval.log_every_steps == 0:
                log.info("pretrain step %d/%d: masked-LM loss %.4f", step, steps, smoothed)
            if step >= steps:
                break
        if step == at_start:  # cannot happen while some piece is maskable, unless mask_probability is tiny
            raise ValueError(f"masked-LM pretraining: epoch {epoch} drew no piece to predict; raise mask_probability")
        epoch += 1
    bar.close()
    summary = {"sentences": len(seqs), "pieces": sum(map(len, seqs)), "steps": steps, "first_loss": first, "loss": smoothed}
    tmp = fresh_tmp_dir(Path(directory))
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    write_text_atomic(tmp / SUMMARY, json.dumps(summary, indent=1) + "\n")
    replace_dir(tmp, directory)
    return summary


def read_summary(directory: Path) -> dict | None:
    """What :func:`pretrain_mlm` returned for the checkpoint in ``directory`` (None if there is none)."""
    path = Path(directory) / SUMMARY
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
