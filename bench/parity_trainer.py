"""Parity: our training loop against run_ner.py's logic on the transformers Trainer.

Same tiny BERT (from scratch, ParsBERT v1 vocabulary), same PEYMA sentences (a seeded subset of train;
the same normalised words), same seed and hyper-parameters (lr, linear schedule with the same warm-up,
epochs, batch size, weight decay on the same parameters, clipping, AdamW epsilon, max_length, first-piece
labels).  The Trainer side reproduces run_ner.py: ``tokenize_and_align_labels``,
``DataCollatorForTokenClassification``, ``BertForTokenClassification``, ``Trainer`` defaults otherwise.

Both models are scored by the same scorer on PEYMA dev: strict IOB2 entity F1 (seqeval) over words, read
from first pieces (``callbacks.evaluate``, the score our early stopping uses).  For the Trainer model we
also print seqeval's default (lenient, conlleval-style) F1, the number run_ner.py itself reports.

Our loop is run twice: without length grouping its batch order is exactly the Trainer's (seed + epoch,
``randperm``), so that pair isolates the loop; with grouping (our default) it shows the cost of the
other batch order.  Neither run sees PEYMA test.

    .venv/bin/python bench/parity_trainer.py --sentences 3000 --epochs 4   (~4-10 min on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BASE = [
    "model.from_scratch.tokenizer=" + str(ROOT / "data" / "tokenizers" / "parsbert-v1"),
    "model.from_scratch.hidden_size=128", "model.from_scratch.num_layers=2", "model.from_scratch.num_heads=2",
    "model.from_scratch.intermediate_size=512", "model.from_scratch.max_position=128",
    "data.corpora=[{name: peyma, train: train, dev: dev, test: null}]",
    "optim.lr=1e-3", "optim.schedule=linear", "optim.warmup_ratio=0.06", "optim.batch_size=32",
    "optim.weight_decay=0.01", "optim.max_grad_norm=1.0", "optim.seed=42", "optim.max_length=128",
    "eval.strategy=epoch", "eval.log_every_steps=1000",
]  # fmt: skip


def peyma_config(out: Path, sentences: int, overrides: list[str]):
    from parstag.training.config import load_config

    return load_config(None, [*BASE, f"data.max_train_examples={sentences}", f"output_dir={out}", *overrides])


def run_ner_trainer(cfg, out: Path, evaluate_dev: bool = True) -> dict:
    """run_ner.py's training, on the words and hyper-parameters of ``cfg``; returns runtime and scores."""
    import torch
    from transformers import (BertConfig, BertForTokenClassification, DataCollatorForTokenClassification,
                              Trainer, TrainingArguments, set_seed)  # fmt: skip

    from parstag.inference.labels import bio_labels
    from parstag.inference.modeling import load_tokenizer
    from parstag.training.data import load_splits, make_normalizer

    o, s = cfg.optim, cfg.model.from_scratch
    tokenizer = load_tokenizer(s.tokenizer)
    normalizer = make_normalizer(cfg.data.normalizer)
    splits = load_splits(cfg)
    raw = splits.train[0].dataset.shuffle(seed=o.seed).select(range(cfg.data.max_train_examples))
    labels = bio_labels(splits.types())
    label2id = {lab: i for i, lab in enumerate(labels)}

    def tokenize_and_align_labels(examples):  # run_ner.py, words normalised as ours are
        words = [[normalizer.normalize_word(w) for w in ws] for ws in examples["tokens"]]
        tokenized = tokenizer(words, truncation=True, max_length=o.max_length, is_split_into_words=True)
        all_labels = []
        for i, tags in enumerate(examples["ner_tags"]):
            previous, ids = None, []
            for wid in tokenized.word_ids(batch_index=i):
                ids.append(-100 if wid is None or wid == previous else label2id.get(tags[wid], 0))
                previous = wid
            all_labels.append(ids)
        tokenized["labels"] = all_labels
        return tokenized

    train_ds = raw.map(tokenize_and_align_labels, batched=True, remove_columns=raw.column_names)
    lengths = [len(x) for x in train_ds["input_ids"]]
    set_seed(o.seed)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=s.hidden_size, num_hidden_layers=s.num_layers,
                        num_attention_heads=s.num_heads, intermediate_size=s.intermediate_size,
                        max_position_embeddings=s.max_position, hidden_dropout_prob=s.dropout,
                        attention_probs_dropout_prob=s.dropout, pad_token_id=tokenizer.pad_token_id,
                        id2label=dict(enumerate(labels)), label2id=label2id)  # fmt: skip
    model = BertForTokenClassification(config)
    args = TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=o.batch_size, learning_rate=o.lr,
        num_train_epochs=o.epochs, weight_decay=o.weight_decay, warmup_steps=o.warmup_ratio,
        lr_scheduler_type=o.schedule, max_grad_norm=o.max_grad_norm, adam_epsilon=o.adam_epsilon, seed=o.seed,
        save_strategy="no", eval_strategy="no", logging_strategy="no", report_to="none", disable_tqdm=True,
        use_cpu=not torch.cuda.is_available(), dataloader_num_workers=0,
    )  # fmt: skip
    trainer = Trainer(model=model, args=args, train_dataset=train_ds, processing_class=tokenizer,
                      data_collator=DataCollatorForTokenClassification(tokenizer))  # fmt: skip
    metrics = trainer.train().metrics
    result = {"train_runtime": metrics["train_runtime"], "tokens": sum(lengths), "lengths": lengths}
    if evaluate_dev:
        model.save_pretrained(out / "model")
        result["dev"] = score_dev(cfg, out / "model", tokenizer, normalizer, labels)
    return result


def score_dev(cfg, model_dir: Path, tokenizer, normalizer, labels) -> dict:
    """The same scorer for both sides: strict word-level F1 on PEYMA dev (+ seqeval default for reference)."""
    import warnings

    from seqeval.metrics import f1_score

    from parstag.inference.modeling import ParstagForTokenClassification
    from parstag.training import callbacks as cb
    from parstag.training.data import Collator, encode, load_splits

    model = ParstagForTokenClassification.from_pretrained(str(model_dir))
    label2id = {lab: i for i, lab in enumerate(labels)}
    parts = [(p, encode(p.dataset, tokenizer, normalizer, label2id, max_length=cfg.optim.max_length))
             for p in load_splits(cfg).dev]  # fmt: skip
    tags: list = []
    out = cb.evaluate(model, parts, Collator(tokenizer.pad_token_id), 128, "cpu", model.config.id2label, tags_out=tags)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["dev_f1_lenient"] = float(f1_score(*tags[0]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sentences", type=int, default=3000, help="PEYMA train sentences (a seeded subset)")
    ap.add_argument("--epochs", type=float, default=4)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    from parstag.training.trainer import train

    work = Path(tempfile.mkdtemp(prefix="parity-"))
    overrides = [f"optim.epochs={args.epochs}", f"optim.seed={args.seed}"]
    rows = []
    t = time.time()
    trainer_res = run_ner_trainer(peyma_config(work / "trainer", args.sentences, overrides), work / "trainer")
    rows.append(("transformers Trainer (run_ner.py logic)", trainer_res["dev"], time.time() - t))
    for tag, name, extra in (("same_order", "ours, same batch order (group_by_length=false)", ["optim.group_by_length=false"]),
                             ("default", "ours, default (length-grouped batches)", [])):  # fmt: skip
        t = time.time()
        cfg = peyma_config(work / tag, args.sentences, overrides + extra)
        train(cfg)
        history = json.loads((Path(cfg.output_dir) / "history.json").read_text(encoding="utf-8"))
        rows.append((name, [h for h in history if "dev_f1" in h][-1], time.time() - t))
    print(f"\nPEYMA dev, strict entity F1; {args.sentences} train sentences, {args.epochs} epochs, seed {args.seed}, "
          "final model of each run (no early stopping, so both sides stop at the same step)\n")  # fmt: skip
    print("| run | dev F1 | precision | recall | wall s |\n|---|---|---|---|---|")
    for name, m, wall in rows:
        print(f"| {name} | {100 * m['dev_f1']:.2f} | {100 * m['dev_precision']:.2f} | {100 * m['dev_recall']:.2f} | {wall:.0f} |")
    print(f"\nTrainer model, seqeval default (lenient) F1 as run_ner.py prints it: {100 * trainer_res['dev']['dev_f1_lenient']:.2f}")
    base = rows[0][1]["dev_f1"]
    for name, m, _ in rows[1:]:
        print(f"difference ({name}) - Trainer: {100 * (m['dev_f1'] - base):+.2f} points")


if __name__ == "__main__":
    sys.exit(main())
