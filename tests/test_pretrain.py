"""Masked-LM pretraining of a from-scratch encoder (``model.from_scratch.mlm``): the masking, the sentences
it reads, and that the fine-tuned model really starts from the pretrained weights.

Tiny models (hidden 32) over the real ParsBERT v1 vocabulary and the invented fixtures of test_training.
"""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from parstag.training.pretrain import mask_batch, mlm_sentences

from _tiny import one_thread  # noqa: F401 (autouse fixture: one torch thread for tiny models)
from test_training import ROOT, tiny_config, tokenizer

MLM = "model.from_scratch.mlm={epochs: 20, batch_size: 8, lr: 5e-3}"


def _normalizer():
    from parstag.training.data import make_normalizer

    return make_normalizer({})


def test_mask_batch_predicts_only_real_pieces_and_mostly_hides_them():
    tok = tokenizer()
    seqs = [tok("رئیس‌جمهور در تهران گفت که ۱۲ نفر آمدند")["input_ids"], tok("وی افزود")["input_ids"]]
    special = set(tok.all_special_ids)
    inputs, attention, labels, masked = mask_batch(seqs, tok, 1.0, torch.Generator().manual_seed(0))
    real = [[i < len(s) and s[i] not in special for i in range(inputs.shape[1])] for s in seqs]
    assert masked.tolist() == real  # every real piece, never [CLS]/[SEP]/padding
    assert labels[0, : len(seqs[0])].tolist() == seqs[0] and attention.sum().item() == sum(map(len, seqs))
    assert (inputs[~masked] == labels[~masked]).all()  # what is not predicted is shown as it is
    big = [seqs[0]] * 400
    b_inputs, _, b_labels, b_masked = mask_batch(big, tok, 1.0, torch.Generator().manual_seed(1))
    shown = b_inputs[b_masked]
    as_mask = (shown == tok.mask_token_id).float().mean().item()
    kept = (shown == b_labels[b_masked]).float().mean().item()
    assert abs(as_mask - 0.8) < 0.02 and abs(kept - 0.1) < 0.02  # 80% [MASK], 10% kept (the rest random)
    again = mask_batch(seqs, tok, 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(again[0], inputs)  # seeded: a rerun masks the same pieces
    assert not mask_batch(seqs, tok, 0.0, torch.Generator().manual_seed(0))[3].any()


def test_mlm_sentences_are_distinct_normalised_truncated_and_sorted():
    tok = tokenizer()
    words = [["وي", "گفت"], ["وی", "گفت"], ["او", "افزود"], ["سلام"] * 40]
    seqs = mlm_sentences(words, tok, _normalizer(), max_length=16)
    # Arabic yeh (ي) is normalised to Persian yeh (ی): the first two are one sentence.
    assert len(seqs) == 3 and seqs == sorted(seqs)
    assert max(map(len, seqs)) == 16 and all(s[0] == tok.cls_token_id and s[-1] == tok.sep_token_id for s in seqs)
    assert mlm_sentences(reversed(words), tok, _normalizer(), 16) == seqs  # corpus order does not matter


def test_pretraining_learns_and_the_fine_tuned_model_starts_from_it(tmp_path):
    from parstag.training.trainer import train

    result = train(tiny_config(tmp_path, MLM, "optim.epochs=2"))
    pre = tmp_path / "run" / "pretrained"
    summary = result["pretrain"]
    assert summary == json.loads((pre / "pretrain.json").read_text(encoding="utf-8"))
    assert summary["steps"] > 0 and summary["loss"] < summary["first_loss"] - 1.0  # the masked-LM loss falls
    assert (pre / "model.safetensors").is_file() and not list(pre.glob("*.bin"))  # safetensors only
    assert not (tmp_path / "run" / "pretrained.tmp").exists()

    # The same fine-tuning from that checkpoint as a pretrained model (model_name_or_path) gives the same
    # weights bit for bit: MLM is a stage before fine-tuning, nothing else changes.
    other = train(tiny_config(tmp_path, f"output_dir={tmp_path / 'other'}", "model.from_scratch=null",
                              f"model.model_name_or_path={pre}", f"model.tokenizer={ROOT / 'data/tokenizers/parsbert-v1'}",
                              "optim.epochs=2"))  # fmt: skip
    assert "pretrain" not in other
    a, b = load_file(str(tmp_path / "run/model/model.safetensors")), load_file(str(tmp_path / "other/model/model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

    # The fine-tuning model is built on every pretrained encoder tensor.
    from parstag.training.trainer import build_model

    pre_w = load_file(str(pre / "model.safetensors"))
    built = build_model(tiny_config(tmp_path, MLM), tokenizer(), ["O", "B-PER", "I-PER"], None, init_from=pre).state_dict()
    encoder = [k for k in pre_w if k.startswith("bert.")]
    assert encoder and all(torch.equal(pre_w[k], built[k]) for k in encoder)

    # ... and a run without pretraining ends elsewhere.
    plain = train(tiny_config(tmp_path, f"output_dir={tmp_path / 'plain'}", "optim.epochs=2"))
    assert "pretrain" not in plain
    c = load_file(str(tmp_path / "plain/model/model.safetensors"))
    assert not torch.equal(a["bert.embeddings.word_embeddings.weight"], c["bert.embeddings.word_embeddings.weight"])


@pytest.mark.parametrize("bad", ["model.from_scratch.mlm={epochs: 1, lrr: 1e-3}", "model.from_scratch.mlm={mask_probability: 1.5}",
                                 "model.from_scratch.mlm={epochs: 0}", "model.from_scratch.mlm={mask_probability: 0}"])
def test_mlm_config_is_checked(tmp_path, bad):
    from parstag.training.config import ConfigError

    with pytest.raises(ConfigError, match="model.from_scratch.mlm"):
        tiny_config(tmp_path, bad)


def test_pretraining_reads_the_training_sentences_only(tmp_path, monkeypatch):
    import parstag.training.pretrain as pretrain
    from parstag.training.trainer import train
    from test_training import FIX, corpus

    seen = []
    real = pretrain.pretrain_mlm

    def spy(cfg, tok, norm, word_lists, directory, device):
        words = [list(w) for w in word_lists]
        seen.extend(words)
        return real(cfg, tok, norm, words, directory, device)

    monkeypatch.setattr(pretrain, "pretrain_mlm", spy)
    train(tiny_config(tmp_path, MLM, "optim.epochs=1", corpora=[corpus("tiny", "train.txt", "dev.txt")]))

    def sentences(name):
        blocks = (FIX / name).read_text(encoding="utf-8").strip().split("\n\n")
        return {tuple(line.split()[0] for line in b.splitlines() if line.strip()) for b in blocks}

    train_s, dev_s = sentences("train.txt"), sentences("dev.txt")
    assert {tuple(w) for w in seen} == train_s and dev_s - train_s


def test_text_with_nothing_to_predict_is_a_clear_error(tmp_path):
    from parstag.training.pretrain import pretrain_mlm

    cfg = tiny_config(tmp_path, MLM)
    with pytest.raises(ValueError, match="no piece to predict"):
        pretrain_mlm(cfg, tokenizer(), _normalizer(), [["\u2063\u2063"]] * 3, tmp_path / "pre", "cpu")
