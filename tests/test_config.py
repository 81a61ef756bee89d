"""The typed training config: keys, values, overrides, the saved resolved config, resume refusal."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from parstag.training.config import (
    ConfigError,
    TrainConfig,
    all_keys,
    apply_override,
    describe,
    diff_configs,
    load_config,
)

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_safe_on_cpu():
    cfg = load_config(None)
    assert cfg.optim.mixed_precision == "no"
    assert cfg.model.model_name_or_path == "HooshvareLab/bert-fa-base-uncased"
    assert cfg.tasks == ["ner"] and cfg.model.from_scratch is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("optim:\n  lrr: 1e-3\n", "unknown key 'optim.lrr' in {path}; did you mean 'optim.lr'?"),
        ("optm:\n  lr: 1e-3\n", "unknown key 'optm' in {path}; did you mean 'optim'?"),
        ("model:\n  from_scratch:\n    hiden_size: 64\n",
         "unknown key 'model.from_scratch.hiden_size' in {path}; did you mean 'model.from_scratch.hidden_size'?"),
        ("data:\n  corpora:\n    - {nme: peyma}\n", "unknown key 'data.corpora.0.nme' in {path}; did you mean 'data.corpora.0.name'?"),
        ("eval:\n  patiense: 2\n", "did you mean 'eval.patience'?"),
    ],
)  # fmt: skip
def test_unknown_key_names_key_file_and_suggestion(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert message.format(path=path) in str(exc.value)


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("optim: {schedule: cosin}", ["'optim.schedule'", "linear, cosine, constant", "did you mean 'cosine'?"]),
        ("optim: {mixed_precision: bf61}", ["'optim.mixed_precision'", "did you mean 'bf16'?"]),
        ("optim: {lr: fast}", ["'optim.lr'", "a number"]),
        ("optim: {batch_size: 0}", ["'optim.batch_size'", ">= 1"]),
        ("optim: {batch_size: 2.5}", ["'optim.batch_size'", "an integer"]),
        ("optim: {label_all_tokens: 1}", ["'optim.label_all_tokens'", "true or false"]),
        ("tasks: [nerr]", ["'tasks.0'", "did you mean 'ner'?"]),
        ("data: {types: [PERS]}", ["'data.types'", "did you mean 'PER'?"]),
        ("eval: {strategy: steps}", ["'eval.every_steps'", "required"]),
        ("model: {from_scratch: {hidden_size: 30, num_heads: 4}}", ["'model.from_scratch.num_heads'", "divide"]),
        ("model: {from_scratch: {max_position: 64}}\noptim: {max_length: 128}", ["max_position"]),
        ("output_dir: [a]", ["'output_dir'", "a string"]),
        ("data: {corpora: [{name: peyma, repeat: 0}]}", ["'data.corpora.0.repeat'", ">= 1"]),
        ("data: {corpora: [{name: peyma, keep_unlabelled: 1.5}]}", ["'data.corpora.0.keep_unlabelled'", "at most 1"]),
        ("model: {rule_feature_dropout: 1.5}", ["'model.rule_feature_dropout'", "at most 1"]),
        ("model: {quote_min_score: -0.1}", ["'model.quote_min_score'", ">= 0"]),
        ("- a\n- b", ["must be a mapping"]),
    ],
)  # fmt: skip
def test_bad_values_are_errors_naming_the_key(tmp_path, text, fragments):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    for fragment in fragments:
        assert fragment in str(exc.value)
    assert str(path) in str(exc.value)


def test_yaml_number_spellings(tmp_path):
    # YAML 1.1 reads 1e-3 (no dot) as a string; the config reads it as the number it means.
    cfg = load_config(write(tmp_path, "optim: {lr: 1e-3, weight_decay: 0, epochs: 2}"))
    assert cfg.optim.lr == 1e-3 and isinstance(cfg.optim.weight_decay, float) and cfg.optim.epochs == 2.0
    # ... and an unquoted `no` as false: for a field whose choices include "no", it means "no"
    cfg = load_config(write(tmp_path, "optim: {mixed_precision: no}\neval: {strategy: no}"))
    assert cfg.optim.mixed_precision == "no" and cfg.eval.strategy == "no"


def test_overrides_are_yaml_scalars_and_checked(tmp_path):
    path = write(tmp_path, "optim: {lr: 1e-3}\nmodel: {from_scratch: {hidden_size: 64}}\n")
    cfg = load_config(path, ["optim.lr=3e-5", "optim.label_all_tokens=true", "model.from_scratch.num_layers=3",
                             "data.corpora.0.dev=null", "eval.patience=2", "tasks=[ner, quotes]"])  # fmt: skip
    assert cfg.optim.lr == 3e-5 and cfg.optim.label_all_tokens is True
    assert cfg.model.from_scratch.hidden_size == 64 and cfg.model.from_scratch.num_layers == 3
    assert cfg.data.corpora[0].dev is None and cfg.eval.patience == 2 and cfg.tasks == ["ner", "quotes"]
    # an override can create a section that the file does not have
    assert load_config(None, ["model.from_scratch.hidden_size=32", "model.from_scratch.num_heads=2"]).model.from_scratch.hidden_size == 32
    with pytest.raises(ConfigError, match=r"unknown key 'optim\.lrr' .*did you mean 'optim\.lr'\?"):
        load_config(path, ["optim.lrr=3e-5"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load_config(path, ["optim.lr"])
    with pytest.raises(ConfigError, match="'optim.schedule'"):
        load_config(path, ["optim.schedule=cosin"])


def test_apply_override_in_place():
    data = {"data": {"corpora": [{"name": "a"}, {"name": "b"}]}}
    apply_override(data, "data.corpora.1.train=x.txt")
    assert data["data"]["corpora"][1] == {"name": "b", "train": "x.txt"}
    with pytest.raises(ConfigError, match="no item 5"):
        apply_override(data, "data.corpora.5.train=x")


def test_saved_resolved_config_round_trips(tmp_path):
    cfg = load_config(write(tmp_path, "optim: {lr: 2e-4}\ndata: {folds: [1, 2]}"), ["eval.patience=3"])
    cfg.save(tmp_path / "out" / "config.yaml")
    saved = yaml.safe_load((tmp_path / "out" / "config.yaml").read_text(encoding="utf-8"))
    assert saved["optim"]["lr"] == 2e-4 and saved["optim"]["mixed_precision"] == "no"  # defaults written too
    assert load_config(tmp_path / "out" / "config.yaml") == cfg
    fold = cfg.for_fold(2)
    assert fold.output_dir.endswith("fold2") and fold.data.folds is None and cfg.data.folds == [1, 2]


def test_diff_configs_names_changed_keys_and_ignores_bookkeeping():
    a = TrainConfig().to_dict()
    b = load_config(None, ["optim.lr=1e-4", "output_dir=elsewhere", "checkpoint.keep_last=5", "data.corpora.0.dev=x"]).to_dict()
    diffs = diff_configs(a, b)
    assert diffs == ["data.corpora.0.dev: 'dev' -> 'x'", "optim.lr: 5e-05 -> 0.0001"]


def test_resume_refused_when_config_changed(tmp_path):
    from parstag.training.trainer import _check_resume

    ckpt = tmp_path / "step-4"
    ckpt.mkdir()
    TrainConfig().save(ckpt / "config.yaml")
    _check_resume(TrainConfig(), ckpt)  # same config: fine
    with pytest.raises(ValueError, match=r"refusing to resume .*optim\.lr: 5e-05 -> 0\.001"):
        _check_resume(load_config(None, ["optim.lr=1e-3"]), ckpt)


@pytest.mark.parametrize("name", ["quickstart.yaml", "parsbert-peyma.yaml", "parsbert-arman.yaml", "parsbert-news.yaml"])
def test_recipes_load(name):
    cfg = load_config(ROOT / "configs" / name)
    assert cfg.optim.mixed_precision in ("no", "fp16")
    if name == "quickstart.yaml":
        assert cfg.model.from_scratch is not None and (ROOT / cfg.model.from_scratch.tokenizer / "vocab.txt").is_file()
        assert cfg.output_dir == "runs/quickstart" and cfg.eval.patience
    if name == "parsbert-arman.yaml":
        assert cfg.data.folds == [1, 2, 3] and cfg.data.corpora[0].name == "arman"
        assert cfg.data.dev_fraction > 0  # early stopping on held-out train, never on test


def test_help_text_covers_every_key():
    text = describe()
    for key in all_keys():
        assert key.split(".")[-1] in text


def test_command_line(capsys, tmp_path):
    from parstag.training.train_commands import add_train_parser

    parser = argparse.ArgumentParser(prog="parstag")
    add_train_parser(parser.add_subparsers(dest="command"))
    path = write(tmp_path, "optim: {lr: 1e-3}")
    args = parser.parse_args(["train", str(path), "--set", "optim.lr=3e-5", "--output-dir", "runs/o", "--print-config"])
    assert args.func(args) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["optim"]["lr"] == 3e-5 and printed["output_dir"] == "runs/o"
    args = parser.parse_args(["train", "--help-config"])
    assert args.func(args) == 0 and "optim.lr" in capsys.readouterr().out
    args = parser.parse_args(["train", str(path), "--set", "optim.lrr=1"])
    with pytest.raises(ValueError, match="did you mean 'optim.lr'"):
        args.func(args)
