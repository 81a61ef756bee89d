"""The training configuration: typed sections loaded from YAML, checked key by key.

A config file is a mapping whose keys are the fields of :class:`TrainConfig` (nested sections are
nested mappings).  Every key and value is checked when the file is read: an unknown key or a bad value
is an error that names the dotted key, the file, and the nearest valid key or value, e.g.
``unknown key 'optim.lrr' in configs/x.yaml; did you mean 'optim.lr'?``.  Help text for every field
lives in the field's metadata (``parstag train --help-config`` prints it).

Command-line overrides (``--set optim.lr=3e-5``) are applied to the raw mapping before checking, their
values parsed as YAML scalars, so they obey exactly the same rules.  The resolved config (every field,
defaults included) is saved next to the trained model; ``--resume`` compares it with the checkpoint's.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from parstag.inference.labels import ENTITY_TYPES


def _f(default: Any = dataclasses.MISSING, help: str = "", *, choices=None, min=None, max=None, factory=None):
    meta = {"help": help, "choices": choices, "min": min, "max": max}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class MlmConfig:
    epochs: float = _f(4.0, "passes over the run's distinct training sentences", min=0.0)
    batch_size: int = _f(64, "sentences per batch", min=1)
    lr: float = _f(5e-4, "peak learning rate (linear decay after warm-up)", min=0.0)
    warmup_ratio: float = _f(0.06, "warm-up as a fraction of the steps", min=0.0, max=1.0)
    mask_probability: float = _f(0.15, "share of the pieces predicted (80% [MASK], 10% random, 10% kept)",
                                 min=0.0, max=1.0)


@dataclass
class FromScratchConfig:
    tokenizer: str = _f("data/tokenizers/parsbert-v1", "tokenizer directory (its vocabulary sizes the embeddings)")
    hidden_size: int = _f(256, "hidden size of the encoder", min=8)
    num_layers: int = _f(4, "number of transformer layers", min=1)
    num_heads: int = _f(4, "attention heads (must divide hidden_size)", min=1)
    intermediate_size: int = _f(1024, "feed-forward size", min=8)
    max_position: int = _f(512, "maximum position embeddings (>= optim.max_length)", min=8)
    dropout: float = _f(0.1, "hidden and attention dropout", min=0.0)
    mlm: MlmConfig | None = _f(None, "first pretrain the encoder with masked LM on the run's own training text "
                                     "(written to output_dir/pretrained); null: fine-tune from random weights")


@dataclass
class ModelConfig:
    model_name_or_path: str = _f(
        "HooshvareLab/bert-fa-base-uncased", "pretrained BERT (hub id or directory); ignored with from_scratch"
    )
    tokenizer: str | None = _f(None, "tokenizer path when it is not stored with the model")
    from_scratch: FromScratchConfig | None = _f(None, "train a small randomly initialised BERT instead")
    rule_features: str = _f("none", "feed the rule annotator's quote-role tags to the model, so the quote head learns "
                                    "where to depart from the rules: 'input' adds them to the word embeddings (both "
                                    "heads see them), 'head' to the encoder's output for the quote head only; needs "
                                    "tasks: quotes", choices=("none", "input", "head"))
    rule_feature_dropout: float = _f(0.3, "with rule_features: share of training sentences shown without them, "
                                          "so the model also learns from the text alone", min=0.0, max=1.0)
    quote_min_score: float = _f(0.0, "saved with the checkpoint: the tagger drops the model's QUOTE pieces and quotes "
                                     "scoring below it (a quote's score: mean probability of its pieces, cue and "
                                     "speaker); 0 keeps all", min=0.0, max=1.0)
    own_quote_min_score: float | None = _f(None, "with rule_features, saved with the checkpoint: the tagger also drops "
                                                 "the model's quotes that the rules did not find (less than half "
                                                 "inside their QUOTE tags) scoring below it; null: no such bar",
                                           min=0.0, max=1.0)


@dataclass
class CorpusSpec:
    name: str = _f("peyma", "corpus name: a key of corpora.CORPORA, or a free label when `reader` is given")
    reader: str | None = _f(None, "read train/dev/test as FILES with this reader (conll, peyma, arman, jsonl)")
    train: str | None = _f("train", "training split name (or file with `reader`); null: not used for training")
    dev: str | None = _f("dev", "dev split (early stopping, model selection); null: none")
    test: str | None = _f("test", "test split: never read during training, only by evaluation/test_at_end")
    types: list[str] | None = _f(None, "entity types this corpus annotates (default: the registry's)")
    repeat: int = _f(1, "train on this corpus's train split N times per epoch (a small hand-annotated set beside "
                        "large silver data)", min=1)
    keep_unlabelled: float = _f(1.0, "keep this fraction (seeded) of the train sentences that carry no span at all "
                                     "(no entity, no quote role); 1 keeps all", min=0.0, max=1.0)
    rule_feature_dropout: float | None = _f(None, "with model.rule_features: this corpus's own share of training "
                                                  "sentences shown without the rules' tags (default: the model's); "
                                                  "1 for silver data, whose labels are the rules' tags", min=0.0, max=1.0)


@dataclass
class DataConfig:
    corpora: list[CorpusSpec] = _f(help="one or more corpora trained on together", factory=lambda: [CorpusSpec()])
    folds: list[int] | None = _f(None, "ARMAN-style folds: one training per fold k on train_fold k, into output_dir/foldk")
    dev_fraction: float = _f(0.0, "hold out this fraction of train as dev when a corpus has no dev split", min=0.0)
    mask_unannotated_types: bool | None = _f(
        None, "mask types a corpus does not annotate out of its loss (default: on when corpora differ in types)"
    )
    types: list[str] | None = _f(None, "NER types of the model (default: union of the corpora's types)")
    normalizer: dict = _f(help="NormalizerConfig fields (default settings when empty)", factory=dict)
    max_train_examples: int | None = _f(None, "use only the first N training sentences (benchmarks, smoke runs)", min=1)


@dataclass
class OptimConfig:
    lr: float = _f(5e-5, "peak learning rate", min=0.0)
    schedule: str = _f("linear", "learning-rate schedule after warm-up", choices=("linear", "cosine", "constant"))
    warmup_ratio: float = _f(0.0, "warm-up as a fraction of all steps (ignored when warmup_steps > 0)", min=0.0)
    warmup_steps: int = _f(0, "warm-up steps", min=0)
    epochs: float = _f(3.0, "number of epochs (ignored when max_steps is set)", min=0.0)
    max_steps: int | None = _f(None, "total optimizer steps; overrides epochs", min=1)
    batch_size: int = _f(32, "sentences per batch per device", min=1)
    eval_batch_size: int = _f(64, "sentences per evaluation batch", min=1)
    gradient_accumulation_steps: int = _f(1, "batches per optimizer step", min=1)
    weight_decay: float = _f(0.01, "AdamW weight decay (not on biases and LayerNorm)", min=0.0)
    adam_epsilon: float = _f(1e-8, "AdamW epsilon", min=0.0)
    max_grad_norm: float = _f(1.0, "gradient clipping norm (0: off)", min=0.0)
    seed: int = _f(42, "seed for initialisation, shuffling and dropout")
    max_length: int = _f(128, "maximum pieces per sentence, [CLS] and [SEP] included", min=8)
    quote_loss_weight: float = _f(1.0, "weight of the quote-role loss against the NER loss (one encoder serves both)",
                                  min=0.0)
    label_all_tokens: bool = _f(False, "label continuation pieces too (B- becomes I-) instead of ignoring them")
    group_by_length: bool = _f(True, "batch sentences of similar length (shuffled mega-batches)")
    mixed_precision: str = _f("no", "no | fp16 | bf16 (bf16 is SLOW on CPUs without AMX)", choices=("no", "fp16", "bf16"))


@dataclass
class EvalConfig:
    strategy: str = _f("epoch", "when to evaluate on dev", choices=("epoch", "steps", "no"))
    every_steps: int | None = _f(None, "with strategy 'steps': evaluate every N optimizer steps", min=1)
    patience: int | None = _f(None, "early stopping: stop after N evaluations without dev score improvement "
                              "(the NER F1; with a quote head, the mean of the NER and quote-role F1)", min=1)
    min_delta: float = _f(0.0, "smallest dev score gain that counts as an improvement", min=0.0)
    log_every_steps: int = _f(50, "log the training loss every N optimizer steps", min=1)
    test_at_end: bool = _f(False, "score the best model on the test split after training (final figures only)")


@dataclass
class CheckpointConfig:
    every_steps: int | None = _f(None, "save a resumable checkpoint every N optimizer steps (null: never)", min=1)
    keep_last: int = _f(2, "checkpoints kept (older ones are deleted)", min=1)


@dataclass
class TrainConfig:
    output_dir: str = _f("runs/default", "where model/, checkpoints/, history.json and config.yaml go")
    tasks: list[str] = _f(help="heads to train: ner and/or quotes", factory=lambda: ["ner"])
    model: ModelConfig = _f(help="encoder", factory=ModelConfig)
    data: DataConfig = _f(help="corpora", factory=DataConfig)
    optim: OptimConfig = _f(help="optimisation", factory=OptimConfig)
    eval: EvalConfig = _f(help="dev evaluation and early stopping", factory=EvalConfig)
    checkpoint: CheckpointConfig = _f(help="resumable checkpoints", factory=CheckpointConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def save(self, path: str | Path) -> None:
        from parstag.inference.fileio import write_text_atomic

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, dump_yaml(self.to_dict()))

    def for_fold(self, fold: int) -> TrainConfig:
        """The config of one fold's training: same settings, its own output directory, no fold list."""
        cfg = from_dict(self.to_dict(), source="<fold>")
        cfg.data.folds = None
        cfg.output_dir = str(Path(self.output_dir) / f"fold{fold}")
        return cfg


# Keys whose change does not alter what a resumed run computes.
RESUME_IGNORED = ("output_dir", "checkpoint.keep_last", "checkpoint.every_steps", "eval.log_every_steps")
TASKS = ("ner", "quotes")


class ConfigError(ValueError):
    """A bad config key or value; the message names the key and the source."""


def dump_yaml(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None)


def _suggest(word: str, options: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""


def all_keys(cls: type = TrainConfig, prefix: str = "") -> list[str]:
    """Every dotted key of a config class, sections included (for suggestions and help)."""
    keys = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key = prefix + f.name
        keys.append(key)
        sub = _dataclass_in(hints[f.name])
        if sub is not None:
            keys += all_keys(sub, key + ".")
    return keys


def _dataclass_in(tp) -> type | None:
    """The dataclass inside ``X``, ``X | None`` or ``list[X]``, else None."""
    if dataclasses.is_dataclass(tp):
        return tp
    for arg in typing.get_args(tp):
        if dataclasses.is_dataclass(arg):
            return arg
    return None


def _convert(value: Any, tp, key: str, meta: dict, source: str):
    def bad(expected: str, extra: str = "") -> ConfigError:
        return ConfigError(f"bad value {value!r} for '{key}' in {source}: expected {expected}{extra}")

    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(value, args[0], key, meta, source)
    if value is None:
        raise bad("a value (null is not allowed here)")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise bad("a mapping")
        return _build(tp, value, key + ".", source)
    if origin is list:
        if not isinstance(value, list):
            raise bad("a list")
        (item_tp,) = typing.get_args(tp)
        return [_convert(v, item_tp, f"{key}.{i}", meta, source) for i, v in enumerate(value)]
    if tp is dict or origin is dict:
        if not isinstance(value, dict):
            raise bad("a mapping")
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
        out = value
    elif tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        out = value
    elif tp is float:
        # YAML 1.1 reads 3e-5 (no dot) as a string: accept any number spelling.
        try:
            out = float(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            out = None
        if out is None:
            raise bad("a number")
    elif tp is str:
        if value is False and "no" in (meta.get("choices") or ()):
            value = "no"  # YAML 1.1 reads an unquoted `no` as false
        if not isinstance(value, str):
            raise bad("a string")
        out = value
    else:  # pragma: no cover - a field type this loader does not know
        raise TypeError(f"unsupported config type {tp} for {key}")
    choices = meta.get("choices")
    if choices and out not in choices:
        raise bad("one of " + ", ".join(choices), _suggest(str(out), choices))
    if meta.get("min") is not None and out < meta["min"]:
        raise bad(f">= {meta['min']}")
    if meta.get("max") is not None and out > meta["max"]:
        raise bad(f"at most {meta['max']:g}")
    return out


def _build(cls, data: dict, prefix: str, source: str):
    names = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in names:
            siblings = [prefix + n for n in names]
            raise ConfigError(
                f"unknown key '{prefix}{key}' in {source}{_suggest(prefix + str(key), all_keys() + siblings)}"
            )
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, f in names.items():
        if name in data:
            kwargs[name] = _convert(data[name], hints[name], prefix + name, dict(f.metadata), source)
    return cls(**kwargs)


def _validate(cfg: TrainConfig, source: str) -> None:
    def err(key: str, msg: str) -> ConfigError:
        return ConfigError(f"bad value for '{key}' in {source}: {msg}")

    for i, task in enumerate(cfg.tasks):
        if task not in TASKS:
            raise err(f"tasks.{i}", f"unknown task {task!r}; expected one of {', '.join(TASKS)}{_suggest(task, TASKS)}")
    if not cfg.tasks or len(set(cfg.tasks)) != len(cfg.tasks):
        raise err("tasks", "list each of ner/quotes at most once, at least one")
    if not cfg.data.corpora:
        raise err("data.corpora", "at least one corpus is needed")
    for kind, types_ in [("data.types", cfg.data.types)] + [
        (f"data.corpora.{i}.types", c.types) for i, c in enumerate(cfg.data.corpora)
    ]:
        for t in types_ or []:
            if t not in ENTITY_TYPES:
                raise err(kind, f"unknown entity type {t!r}{_suggest(t, ENTITY_TYPES)}")
    if cfg.model.rule_features != "none" and "quotes" not in cfg.tasks:
        raise err("model.rule_features", "the feature is the quote roles' tag set: add quotes to tasks")
    if cfg.model.quote_min_score > 0 and "quotes" not in cfg.tasks:
        raise err("model.quote_min_score", "only the quote head's quotes have a score: add quotes to tasks")
    if cfg.model.own_quote_min_score is not None and cfg.model.rule_features == "none":
        raise err("model.own_quote_min_score", "it is a bar for quotes the rules did not find: set model.rule_features")
    if not any(c.train for c in cfg.data.corpora):
        raise err("data.corpora", "no corpus has a train split")
    if cfg.data.dev_fraction >= 1.0:
        raise err("data.dev_fraction", "must be below 1")
    scratch = cfg.model.from_scratch
    if scratch is not None:
        if scratch.hidden_size % scratch.num_heads:
            raise err("model.from_scratch.num_heads", f"must divide hidden_size ({scratch.hidden_size})")
        if scratch.max_position < cfg.optim.max_length:
            raise err("model.from_scratch.max_position", f"must be >= optim.max_length ({cfg.optim.max_length})")
        for key in ("epochs", "mask_probability", "lr") if scratch.mlm is not None else ():
            if getattr(scratch.mlm, key) <= 0:
                raise err(f"model.from_scratch.mlm.{key}", "must be > 0 (or no pretraining: mlm: null)")
    if cfg.optim.max_steps is None and cfg.optim.epochs <= 0:
        raise err("optim.epochs", "must be > 0 unless optim.max_steps is set")
    if cfg.eval.strategy == "steps" and not cfg.eval.every_steps:
        raise err("eval.every_steps", "required when eval.strategy is 'steps'")
    if cfg.eval.patience is not None and cfg.eval.strategy == "no":
        raise err("eval.patience", "early stopping needs evaluation (eval.strategy is 'no')")
    if cfg.data.folds is not None and (not cfg.data.folds or len(set(cfg.data.folds)) != len(cfg.data.folds)):
        raise err("data.folds", "a non-empty list of distinct fold numbers")


def from_dict(data: dict | None, source: str = "<dict>") -> TrainConfig:
    """A checked TrainConfig from a plain mapping (as read from YAML)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a config must be a mapping, got {type(data).__name__}")
    cfg = _build(TrainConfig, data, "", source)
    _validate(cfg, source)
    return cfg


def apply_override(data: dict, assignment: str) -> None:
    """Apply one ``dotted.key=value`` (value parsed as a YAML scalar) to a raw config mapping in place."""
    key, sep, raw = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"bad override {assignment!r}: expected KEY=VALUE, e.g. optim.lr=3e-5")
    value = yaml.safe_load(raw) if raw.strip() else None
    parts = key.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(f"bad override {assignment!r}: no item {part} in '{'.'.join(parts[:i])}'")
            node = node[int(part)]
            continue
        if node.get(part) is None:
            node[part] = {}
        node = node[part]
        if not isinstance(node, (dict, list)):
            raise ConfigError(f"bad override {assignment!r}: '{'.'.join(parts[: i + 1])}' is not a section")
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ConfigError(f"bad override {assignment!r}: no item {last} in that list")
        node[int(last)] = value
    else:
        node[last] = value


def load_config(path: str | Path | None, overrides: typing.Sequence[str] = ()) -> TrainConfig:
    """Read a YAML config, apply ``--set`` overrides, check everything; ``path=None`` starts from defaults."""
    source = str(path) if path is not None else "<defaults>"
    data: Any = {}
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{source}: not valid YAML: {exc}") from None
        data = data if data is not None else {}
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: a config must be a mapping, got {type(data).__name__}")
    if not overrides:
        return from_dict(data, source)
    # Overrides apply to the complete mapping (defaults filled in), so `data.corpora.0.dev=null` works
    # even when the file relies on the default corpus list.
    full = _build(TrainConfig, data, "", source).to_dict() if isinstance(data, dict) else data
    for assignment in overrides:
        apply_override(full, assignment)
    return from_dict(full, source + " with --set overrides")


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [{"c": 1}]}}`` -> ``{"a.b.0.c": 1}``."""
    if isinstance(data, (dict, list)) and data:
        out: dict[str, Any] = {}
        for k, v in data.items() if isinstance(data, dict) else enumerate(data):
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: data}


def diff_configs(old: dict, new: dict, ignore: typing.Iterable[str] = RESUME_IGNORED) -> list[str]:
    """Dotted keys whose values differ, e.g. ``["optim.lr: 5e-05 -> 3e-05"]`` (ignored keys left out)."""
    a, b = flatten(old), flatten(new)
    skip = set(ignore)
    out = []
    for key in sorted(set(a) | set(b)):
        if key in skip or any(key.startswith(s + ".") for s in skip):
            continue
        if a.get(key, "<absent>") != b.get(key, "<absent>"):
            out.append(f"{key}: {a.get(key, '<absent>')!r} -> {b.get(key, '<absent>')!r}")
    return out


def describe(cls: type = TrainConfig, prefix: str = "") -> str:
    """Every key with its default and help text (``parstag train --help-config``)."""
    lines = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key = prefix + f.name
        sub = _dataclass_in(hints[f.name])
        if sub is not None and typing.get_origin(hints[f.name]) is not list:
            lines.append(f"{key}:  {f.metadata.get('help', '')}")
            lines.append(describe(sub, key + "."))
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if dataclasses.is_dataclass(default) or (isinstance(default, list) and default and dataclasses.is_dataclass(default[0])):
            default = dataclasses.asdict(default) if not isinstance(default, list) else [dataclasses.asdict(d) for d in default]
        choices = f.metadata.get("choices")
        extra = f" (one of {', '.join(choices)})" if choices else ""
        lines.append(f"  {key} = {default!r}{extra}\n      {f.metadata.get('help', '')}")
        if sub is not None:
            lines.append(describe(sub, key + ".N."))
    return "\n".join(lines)
