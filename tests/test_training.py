"""Training: batching, encoding, masking of unannotated types, joint heads, and tiny models that learn.

Models are tiny (hidden 32, 2 layers) over the real ParsBERT v1 vocabulary; data are the invented
fixtures in tests/fixtures/train_tiny/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from parstag.inference.labels import IGNORE_INDEX, bio_labels
from parstag.training import callbacks as cb
from parstag.training.config import apply_override, from_dict
from parstag.training.data import Collator, LengthGroupedBatchSampler, allowed_mask, encode, load_splits, make_normalizer

from _tiny import one_thread  # noqa: F401 (autouse fixture: one torch thread for tiny models)

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "train_tiny"
TYPES = ["PER", "ORG", "LOC", "DAT"]




def corpus(name: str, train: str, dev: str | None = None, types=TYPES, reader: str = "conll") -> dict:
    return {"name": name, "reader": reader, "train": str(FIX / train), "dev": str(FIX / dev) if dev else None,
            "test": None, "types": list(types)}  # fmt: skip


def tiny_config(tmp_path: Path, *overrides: str, corpora: list[dict] | None = None):
    data = {
        "output_dir": str(tmp_path / "run"),
        "model": {"from_scratch": {"tokenizer": str(ROOT / "data/tokenizers/parsbert-v1"), "hidden_size": 32,
                                   "num_layers": 2, "num_heads": 2, "intermediate_size": 64, "max_position": 128}},
        "data": {"corpora": corpora or [corpus("tiny", "train.txt", "train.txt")]},
        "optim": {"lr": 5e-3, "epochs": 10, "batch_size": 8, "warmup_ratio": 0.1, "max_length": 64, "seed": 0},
        "eval": {"log_every_steps": 3},
    }  # fmt: skip
    for o in overrides:
        apply_override(data, o)
    return from_dict(data)


def tokenizer():
    from parstag.inference.modeling import load_tokenizer

    return load_tokenizer(ROOT / "data" / "tokenizers" / "parsbert-v1")


# -- batching ----------------------------------------------------------------------------------------


def test_length_grouped_sampler_is_a_seeded_permutation_with_little_padding():
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(5, 120, (1000,), generator=g).tolist()
    sampler = LengthGroupedBatchSampler(lengths, 16, seed=3, mega_batches=8)
    first = list(sampler)
    assert sorted(i for b in first for i in b) == list(range(1000)) and len(first) == len(sampler) == 63
    assert list(sampler) == first  # same (seed, epoch): same order, whatever happened before
    sampler.epoch = 1
    assert list(sampler) != first
    plain = LengthGroupedBatchSampler(lengths, 16, seed=3, group=False)

    def padded(batches):
        return sum(len(b) * max(lengths[i] for i in b) for b in batches)

    assert padded(first) < 0.75 * padded(list(plain))
    assert list(LengthGroupedBatchSampler(lengths, 16, shuffle=False, group=False))[0] == list(range(16))


def test_collator_pads_each_batch_to_its_longest():
    collate = Collator(pad_id=0)
    batch = collate([{"input_ids": [2, 5, 3], "labels": [-100, 1, -100], "ner_allowed": [True, False]},
                     {"input_ids": [2, 3], "labels": [-100, -100], "ner_allowed": [True, True]}])  # fmt: skip
    assert batch["input_ids"].tolist() == [[2, 5, 3], [2, 3, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["labels"][1].tolist() == [-100, -100, IGNORE_INDEX]
    assert batch["ner_allowed"].dtype == torch.bool and "first_piece" not in batch
    assert Collator(0, pad_to_multiple_of=8)([{"input_ids": [1], "labels": [0]}])["input_ids"].shape == (1, 8)


# -- encoding ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("label_all_tokens", [False, True])
def test_encode_labels_first_pieces_and_keeps_word_positions(label_all_tokens):
    from datasets import Dataset

    labels = bio_labels(TYPES)
    label2id = {lab: i for i, lab in enumerate(labels)}
    # "رستم‌آبادی" splits into two pieces; the Arabic kaf is normalised before tokenisation.
    ds = Dataset.from_dict({"tokens": [["سارا", "رستم‌آبادی", "ك"]], "ner_tags": [["B-PER", "B-ORG", "O"]]})
    row = encode(ds, tokenizer(), make_normalizer({}), label2id, max_length=32,
                 label_all_tokens=label_all_tokens, allowed=allowed_mask(labels, ["PER"]))[0]  # fmt: skip
    fp = row["first_piece"]
    assert fp[0] == 1 and row["length"] == len(row["input_ids"])
    assert [row["labels"][p] for p in fp] == [label2id["B-PER"], label2id["B-ORG"], label2id["O"]]
    continuation = row["labels"][fp[1] + 1 : fp[2]]
    assert continuation and all(x == (label2id["I-ORG"] if label_all_tokens else IGNORE_INDEX) for x in continuation)
    assert tokenizer().convert_ids_to_tokens(row["input_ids"][fp[2]]) == "ک"
    assert row["ner_allowed"] == [True, True, True, False, False, False, False, False, False]


def test_load_splits_pairs_each_train_fold_with_its_own_test_fold(tmp_path, monkeypatch):
    """train_foldK is scored on test_foldK only; the dev set is carved out of train_foldK."""
    from datasets import Dataset

    from parstag.training import corpora

    calls = []

    def fake_load_corpus(name, split, fold=None, **kw):
        calls.append((name, split, fold))
        n = 20
        return Dataset.from_dict({"id": [f"{split}{i}" for i in range(n)], "tokens": [["a"]] * n,
                                  "ner_tags": [["O"]] * n, "corpus": [name] * n})  # fmt: skip

    monkeypatch.setattr(corpora, "load_corpus", fake_load_corpus)
    cfg = from_dict({"data": {"corpora": [{"name": "arman", "dev": None}], "folds": [1, 2, 3], "dev_fraction": 0.25}})
    splits = load_splits(cfg.for_fold(2), fold=2, with_test=True)
    assert calls == [("arman", "train", 2), ("arman", "test", 2)]
    assert len(splits.train[0].dataset) == 15 and len(splits.dev[0].dataset) == 5
    assert not set(splits.dev[0].dataset["id"]) & set(splits.train[0].dataset["id"])
    assert splits.train[0].annotated == corpora.CORPORA["arman"].annotated_types


# -- masking -----------------------------------------------------------------------------------------


def test_unannotated_types_are_masked_out_of_the_loss(tmp_path):
    """A corpus without ORG annotation says nothing about ORG: its loss must not depend on ORG logits."""
    from parstag.training.trainer import build_model

    cfg = tiny_config(tmp_path, corpora=[corpus("full", "train.txt"), corpus("per_loc", "per_loc.txt", types=["PER", "LOC"])])
    splits = load_splits(cfg)
    assert splits.types() == TYPES and [p.annotated for p in splits.train] == [tuple(TYPES), ("PER", "LOC")]
    labels = bio_labels(TYPES)
    label2id = {lab: i for i, lab in enumerate(labels)}
    tok = tokenizer()
    torch.manual_seed(0)
    model = build_model(cfg, tok, labels, None).eval()

    def loss(masked: bool) -> float:
        part = splits.train[1]
        ds = encode(part.dataset, tok, make_normalizer({}), label2id, max_length=64,
                    allowed=allowed_mask(labels, part.annotated) if masked else None)  # fmt: skip
        feats = [{k: ds[i][k] for k in ("input_ids", "labels", "ner_allowed") if k in ds.column_names} for i in range(8)]
        with torch.no_grad():
            return float(model(**Collator(tok.pad_token_id)(feats)).loss)

    before = (loss(True), loss(False))
    with torch.no_grad():  # make the model believe strongly in ORG and DAT everywhere
        for t in ("B-ORG", "I-ORG", "B-DAT", "I-DAT"):
            model.classifier.bias[label2id[t]] += 5.0
    after = (loss(True), loss(False))
    assert after[0] == pytest.approx(before[0], abs=1e-6)  # masked: ORG/DAT logits do not matter
    assert after[1] > before[1] + 1.0  # unmasked: the same sentences punish ORG/DAT as "O"


# -- training ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("label_all_tokens", [False, True])
def test_tiny_model_learns_the_fixture_and_loads_in_a_pipeline(tmp_path, label_all_tokens):
    from transformers import pipeline

    from parstag.inference.modeling import load_model
    from parstag.training.trainer import train

    cfg = tiny_config(tmp_path, f"optim.label_all_tokens={str(label_all_tokens).lower()}")
    result = train(cfg)
    out = Path(cfg.output_dir)
    history = json.loads((out / "history.json").read_text(encoding="utf-8"))
    losses = [h["train_loss"] for h in history if "dev_f1" not in h]
    evals = [h for h in history if "dev_f1" in h]
    assert losses[-1] < 0.5 * losses[0]
    assert len(evals) == 10 and {"step", "epoch", "train_loss", "dev_loss", "dev_f1"} <= set(evals[-1])
    assert evals[-1]["dev_loss"] < evals[0]["dev_loss"]
    assert result["best_dev_f1"] >= 0.9  # the fixture is overfit: dev is the training file
    model_dir = out / "model"
    assert (model_dir / "model.safetensors").is_file() and not list(model_dir.glob("*.bin"))
    assert (out / "config.yaml").is_file() and (model_dir / "training_config.yaml").is_file()
    model = load_model(model_dir)
    assert model.config.id2label[1] == "B-PER" and model.config.parstag["tasks"] == ["ner"]
    assert model.config.parstag["max_length"] == 64 and "digits" in model.config.parstag["normalizer"]
    assert model.quote_classifier is None
    # A single-task model is a plain BertForTokenClassification for transformers' pipeline.
    ner = pipeline("token-classification", model=str(model_dir), aggregation_strategy="simple", device="cpu")
    found = {(e["entity_group"], e["word"]) for e in ner("بهرام نوری در تهران گفت که مجلس برنامه تازه‌ای دارد .")}
    assert ("LOC", "تهران") in found and any(g == "PER" for g, _ in found)


def test_mixed_corpora_and_joint_quote_head(tmp_path):
    """NER from CoNLL + quote roles from JSONL, one encoder: each example feeds only the heads it labels."""
    from parstag.inference.modeling import load_model
    from parstag.training.trainer import train

    quotes = corpus("quotes", "quotes.jsonl", "quotes.jsonl", types=["ORG"], reader="jsonl")
    cfg = tiny_config(tmp_path, "tasks=[ner, quotes]", "optim.epochs=12", corpora=[corpus("tiny", "train.txt", "train.txt"), quotes])
    result = train(cfg)
    history = json.loads((Path(cfg.output_dir) / "history.json").read_text(encoding="utf-8"))
    evals = [h for h in history if "dev_f1" in h]
    assert evals[-1]["dev_quote_f1"] > 0.5 and result["best_dev_f1"] > 0.8
    # The selection score averages the two heads' dev F1s.
    assert all(abs(h["dev_score"] - (h["dev_f1"] + h["dev_quote_f1"]) / 2) < 1e-5 for h in evals)  # history rounds
    assert abs(result["best_dev_score"] - max(h["dev_score"] for h in evals)) < 1e-5
    model = load_model(Path(cfg.output_dir) / "model")
    assert model.quote_labels == bio_labels(["SPEAKER", "CUE", "QUOTE"]) and model.quote_classifier is not None
    assert model.config.parstag["tasks"] == ["ner", "quotes"]


def test_jsonl_articles_are_cut_into_the_taggers_sentences(tmp_path):
    """Training cuts articles where ``segment.split_sentences`` does (line breaks, «...؟»، continuations), so the
    model trains on the units the tagger feeds it; a quote that runs on continues with I- after the cut."""
    from parstag.inference.segment import split_sentences, tokenize_words
    from parstag.training.config import CorpusSpec
    from parstag.training.data import _read_jsonl

    text = "تیتر خبر بدون نقطه\n\nوزیر گفت: «چرا؟»، او پرسید. مصرف برق رکورد زد. باید صرفه‌جویی کرد."
    q0 = text.index("مصرف")
    rec = {"id": "a1", "text": text, "spans": [
        {"start": text.index("وزیر"), "end": text.index("وزیر") + 4, "label": "SPEAKER"},
        {"start": text.index("گفت"), "end": text.index("گفت") + 3, "label": "CUE"},
        {"start": q0, "end": len(text), "label": "QUOTE"}]}
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    ds, _ = _read_jsonl(path, CorpusSpec(name="q", reader="jsonl", train=str(path)))
    assert ds["tokens"] == [[text[a:b] for a, b in tokenize_words(text, s, e)] for s, e in split_sentences(text)]
    assert len(ds) == 4 and ds["tokens"][0] == ["تیتر", "خبر", "بدون", "نقطه"]
    assert ds["quote_tags"][1][:2] == ["B-SPEAKER", "B-CUE"] and set(ds["quote_tags"][1][2:]) == {"O"}
    assert ds["quote_tags"][2][0] == "B-QUOTE" and ds["quote_tags"][3] == ["I-QUOTE"] * len(ds["tokens"][3])


def test_keep_unlabelled_and_repeat_shape_a_corpus_train_split(tmp_path):
    """``keep_unlabelled`` drops a seeded share of the sentences without any span (never a labelled one);
    ``repeat`` reads the whole split N times; dev is read as it is."""
    path = tmp_path / "q.jsonl"
    lines = []
    for i in range(40):
        text = f"وزیر گفت: طرح شماره {i} اجرا می‌شود." if i % 4 == 0 else f"جلسه شماره {i} برگزار شد."
        spans = [{"start": 0, "end": 4, "label": "SPEAKER"}, {"start": 5, "end": 8, "label": "CUE"},
                 {"start": 10, "end": len(text) - 1, "label": "QUOTE"}] if i % 4 == 0 else []
        lines.append(json.dumps({"id": f"a{i}", "text": text, "spans": spans}, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    quotes = {"name": "quotes", "reader": "jsonl", "train": str(path), "dev": str(path), "test": None}

    def train_ids(*sets):
        splits = load_splits(tiny_config(tmp_path, *sets, corpora=[dict(quotes)]))
        assert len(splits.dev[0].dataset) == 40
        return [i.split("#")[0] for i in splits.train[0].dataset["id"]]

    everything = [f"a{i}" for i in range(40)]
    labelled = everything[::4]
    assert train_ids() == everything
    assert train_ids("data.corpora.0.keep_unlabelled=0") == labelled
    half = train_ids("data.corpora.0.keep_unlabelled=0.5")
    assert set(labelled) < set(half) < set(everything) and half == sorted(half, key=everything.index)
    assert half == train_ids("data.corpora.0.keep_unlabelled=0.5")  # seeded
    assert half != train_ids("data.corpora.0.keep_unlabelled=0.5", "optim.seed=1")
    assert train_ids("data.corpora.0.repeat=3") == everything * 3
    assert train_ids("data.corpora.0.repeat=2", "data.corpora.0.keep_unlabelled=0") == labelled * 2


def test_folds_run_one_training_each_and_summarise(tmp_path):
    from parstag.training.trainer import train

    cfg = tiny_config(tmp_path, "data.folds=[1, 2]", "optim.max_steps=4", "eval.test_at_end=true",
                      corpora=[{**corpus("tiny", "train.txt", "dev.txt"), "test": str(FIX / "dev.txt")}])  # fmt: skip
    summary = train(cfg)
    out = Path(cfg.output_dir)
    assert [r["fold"] for r in summary["folds"]] == [1, 2]
    for k in (1, 2):
        assert (out / f"fold{k}" / "model" / "model.safetensors").is_file()
    saved = json.loads((out / "folds.json").read_text(encoding="utf-8"))
    assert set(saved["test_f1"]) >= {"mean", "std", "n"} and saved["test_f1"]["n"] == 2


# -- callbacks ---------------------------------------------------------------------------------------


class _Loop:
    def __init__(self):
        self.state = cb.TrainState(steps_per_epoch=5, max_steps=20)
        self.saved = 0
        self.logged: list[str] = []

    def save_model(self):
        self.saved += 1

    def log(self, message):
        self.logged.append(message)


def test_early_stopping_best_model_and_eval_schedule():
    loop, control = _Loop(), cb.Control()
    stopper, best = cb.EarlyStopping(patience=2, min_delta=0.01), cb.BestModel()
    for step, f1 in [(1, 0.5), (2, 0.7), (3, 0.705), (4, 0.69)]:
        loop.state.global_step = step
        for c in (stopper, best):
            c.on_evaluate(loop, {"dev_score": f1, "dev_f1": f1}, control)
    assert control.stop and stopper.best == 0.7 and best.best == 0.705 and best.best_step == 3 and loop.saved == 3
    assert best.best_metrics == {"dev_score": 0.705, "dev_f1": 0.705}
    restored = cb.EarlyStopping(patience=2)
    restored.load_state_dict(stopper.state_dict())
    assert restored.bad == 2
    schedule = cb.EvalSchedule("epoch", None, has_dev=True)
    due = []
    for step in range(1, 21):
        loop.state.global_step, loop.state.step_in_epoch = step, (step - 1) % 5 + 1
        c = cb.Control()
        schedule.on_step_end(loop, c)
        due += [step] if c.evaluate else []
    assert due == [5, 10, 15, 20]


def test_fine_tunes_a_pretrained_encoder_directory(tmp_path):
    """``model.model_name_or_path``: a saved BERT encoder (no head) gets fresh heads with our labels."""
    from transformers import BertConfig, BertModel

    from parstag.inference.modeling import load_model
    from parstag.training.trainer import train

    torch.manual_seed(0)
    base = BertModel(BertConfig(vocab_size=len(tokenizer()), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                intermediate_size=64, max_position_embeddings=128), add_pooling_layer=False)  # fmt: skip
    base.save_pretrained(tmp_path / "base")
    tokenizer().save_pretrained(tmp_path / "base")
    cfg = tiny_config(tmp_path, f"model.model_name_or_path={tmp_path / 'base'}", "model.from_scratch=null",
                      "optim.max_steps=2", "optim.lr=0")  # fmt: skip
    train(cfg)
    model = load_model(Path(cfg.output_dir) / "model")
    assert model.config.id2label == dict(enumerate(bio_labels(TYPES)))
    # lr 0: the encoder is exactly the pretrained one
    assert torch.equal(model.bert.embeddings.word_embeddings.weight, base.embeddings.word_embeddings.weight)


def test_quote_loss_weight_scales_only_the_quote_head():
    from parstag.inference.modeling import ParstagOutput
    from parstag.training.trainer import combined_loss

    out = ParstagOutput(loss=torch.tensor(3.0), ner_loss=torch.tensor(1.0), quote_loss=torch.tensor(2.0))
    assert float(combined_loss(out, 1.0)) == 3.0 and float(combined_loss(out, 0.5)) == 2.0
    assert float(combined_loss(out, 0.0)) == 1.0
    ner_only = ParstagOutput(loss=torch.tensor(1.0), ner_loss=torch.tensor(1.0), quote_loss=None)
    assert float(combined_loss(ner_only, 0.5)) == 1.0
