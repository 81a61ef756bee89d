"""Tagging whole articles: text in, entities (and quotes) with exact character offsets out.

The problem: a news article is raw text with Arabic/Persian letter variants, ZWNJ or none, ASCII digits,
guillemets and emoji, while the model knows normalised words.  The tagger never edits the text: it
splits the ORIGINAL article into sentences and words (``segment``), hands the words to the one
word-level predictor (``predict.WordPredictor``, which normalises each word, packs sentences into
windows, and windows long sentences), and turns word tags back into spans whose offsets are those of
their first and last word.  So ``text[start:end] == span["text"]`` holds whatever normalisation did.

Articles are processed in chunks (``chunk_size`` articles, or fewer when they are long) so that a
stream of any length runs in bounded memory while each chunk still gives the predictor enough
sentences to fill its packed rows.  The device is an argument, never global state.

Result of one article (also the JSON the CLI writes, one object per line)::

    {"id", "text", "sentences": [{"start", "end"}],
     "entities": [{"type", "start", "end", "text", "score"}], "quotes": [...]}

``score`` is the mean probability of the entity's words (first-piece predictions).  ``quotes`` come from
``quote_source``: with "model" (the default for a model with a quote head, ``config.quote_labels``) the
role spans are kept in ``"_quote_roles"`` (internal: underscore keys are not written by the CLI) and
linked by ``quotes.link_quotes``; with "rules" (the default for an NER-only model) the rule annotator
``quote_rules.annotate_quotes`` finds them, naming speakers from the model's entities; "none": empty.
The model's quotes scoring below ``quote_min_score`` (default: the checkpoint's ``config.quote_min_score``,
else 0) are dropped; with a model that reads the rules' tags, so are its quotes the rules did not find
scoring below ``own_quote_min_score`` (default: the checkpoint's ``config.own_quote_min_score``, else none).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Callable

import torch

from .labels import spans_from_tags
from .predict import WordPredictor
from .quotes import OWN_QUOTE_MIN_SCORE_KEY, QUOTE_MIN_SCORE_KEY, QUOTE_SOURCES
from .rule_features import rule_word_tags, uses_rule_features
from .segment import split_sentences, tokenize_words

QUANTIZE_MODES = (None, "dynamic-int8")


def resolve_device(device: str | torch.device | None, *, check_available: bool = True) -> torch.device:
    """``"auto"``/None: CUDA when available, else CPU; anything else as given (checked to be available)."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:  # torch's message for "gpu" and the like; we want a one-line ValueError
        raise ValueError(f"unknown device {str(device)!r}: use cpu, cuda, cuda:N or auto") from exc
    if check_available and resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} asked for, but CUDA is not available here; use --device cpu")
    return resolved


def _round(x: float) -> float:
    return round(float(x), 4)


class Tagger:
    """Batch tagger of Persian news articles.

    ``Tagger.from_pretrained(path)``; ``tagger(text) -> dict``, ``tagger([texts]) -> [dict]``,
    ``tagger.stream(iterable) -> iterator of dicts`` (items: texts or ``{"id", "text"}`` mappings).
    """

    def __init__(
        self,
        model,
        tokenizer,
        normalizer=None,
        *,
        device: str | torch.device = "auto",
        batch_size: int = 16,
        chunk_size: int = 16,
        max_length: int | None = None,
        quantize: str | None = None,
        quotes: str = "auto",
        quote_min_score: float | None = None,
        own_quote_min_score: float | None = None,
        **predictor_options: Any,
    ):
        if quotes not in QUOTE_SOURCES:
            raise ValueError(f"quotes must be one of {', '.join(QUOTE_SOURCES)}, not {quotes!r}")
        has_head = getattr(model.config, "quote_labels", None) is not None
        if quotes == "model" and not has_head:
            raise ValueError("quotes='model' asked for, but the model has no quote head; use quotes='rules' or 'auto'")
        #: "model", "rules" or "none": where this tagger's ``quotes`` come from.
        self.quote_source = ("model" if has_head else "rules") if quotes == "auto" else quotes
        if quote_min_score is None:  # the checkpoint's own setting (chosen with its training), else keep all
            quote_min_score = getattr(model.config, QUOTE_MIN_SCORE_KEY, None) or 0.0
        #: Quotes of the model's head scoring below this are dropped (``quotes.link_quotes``).
        self.quote_min_score = _probability("quote_min_score", quote_min_score)
        reads_rules = uses_rule_features(model.config)
        if own_quote_min_score is None:
            own_quote_min_score = getattr(model.config, OWN_QUOTE_MIN_SCORE_KEY, None) if reads_rules else None
        elif not reads_rules:
            raise ValueError("own_quote_min_score is a bar for quotes the rules did not find: it needs a model "
                             "trained with rule_features")
        #: Quotes the rules did not find (less than half inside their QUOTE tags) scoring below this are
        #: dropped too; None: no such bar.
        self.own_quote_min_score = (None if own_quote_min_score is None
                                    else _probability("own_quote_min_score", own_quote_min_score))
        if quantize not in QUANTIZE_MODES:
            if quantize == "onnx-int8":
                raise ValueError(
                    "quantize='onnx-int8' is not supported: ONNX Runtime did not beat torch dynamic int8 "
                    "(docs/inference.md); use quantize='dynamic-int8'"
                )
            raise ValueError(f"quantize must be one of {QUANTIZE_MODES}, not {quantize!r}")
        if quantize is not None and (device is None or str(device) == "auto"):
            device = "cpu"  # int8 kernels are CPU kernels
        if quantize is not None and resolve_device(device, check_available=False).type != "cpu":
            raise ValueError("quantize='dynamic-int8' runs on the CPU only (use device='cpu')")
        self.device = resolve_device(device)
        if quantize == "dynamic-int8":
            from .export import quantize_dynamic_int8

            model = quantize_dynamic_int8(model)
        self.quantize = quantize
        self.model = model.to(self.device) if quantize is None else model
        self.tokenizer = tokenizer
        self.chunk_size = max(1, int(chunk_size))
        self.predictor = WordPredictor(
            self.model, tokenizer, normalizer, self.device, batch_size, max_length, **predictor_options
        )

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        device: str | torch.device = "auto",
        batch_size: int = 16,
        quantize: str | None = None,
        **kwargs: Any,
    ) -> "Tagger":
        """Load model, tokenizer and normaliser settings from a directory or hub id.

        A directory written by ``parstag export --format int8`` holds int8 weights and loads quantized.
        """
        from .export import is_int8_export, load_int8
        from .modeling import load_model, load_tokenizer
        from .normalize import Normalizer, NormalizerConfig

        if is_int8_export(path):
            device = "cpu" if device is None or str(device) == "auto" else device
            if resolve_device(device, check_available=False).type != "cpu":
                raise ValueError(f"{path} holds int8 weights, which run on the CPU only (use device='cpu')")
            model, quantize = load_int8(path), None
        else:
            model = load_model(path)
        tokenizer = load_tokenizer(path)
        settings = getattr(model.config, "parstag", None) or {}
        normalizer = Normalizer(NormalizerConfig.from_dict(settings.get("normalizer")))
        return cls(model, tokenizer, normalizer, device=device, batch_size=batch_size, quantize=quantize, **kwargs)

    # -- public ---------------------------------------------------------------------------------------

    def __call__(self, texts: str | Mapping | Iterable[str | Mapping]) -> dict | list[dict]:
        if isinstance(texts, (str, Mapping)):
            return next(self.stream([texts]))
        return list(self.stream(texts))

    def stream(
        self,
        items: Iterable[str | Mapping],
        *,
        on_error: Callable[[Any, Exception], None] | None = None,
    ) -> Iterator[dict]:
        """Results in input order, ``chunk_size`` articles (at most ~2M characters) at a time.

        on_error: when given, an article that fails is reported as ``on_error(id, exception)`` and
        skipped instead of ending the stream.
        """
        chunk: list[tuple[Any, str]] = []
        chars = 0
        for n, item in enumerate(items):
            art_id, text = self._unpack(n, item)
            chunk.append((art_id, text))
            chars += len(text)
            if len(chunk) >= self.chunk_size or chars >= 2_000_000:
                yield from self._safe_chunk(chunk, on_error)
                chunk, chars = [], 0
        if chunk:
            yield from self._safe_chunk(chunk, on_error)

    # -- internals ------------------------------------------------------------------------------------

    @staticmethod
    def _unpack(n: int, item: str | Mapping) -> tuple[Any, str]:
        if isinstance(item, str):
            return n, item
        if isinstance(item, Mapping) and isinstance(item.get("text"), str):
            return item.get("id", n), item["text"]
        raise TypeError(f"item {n}: expected a str or a mapping with a 'text' str, got {type(item).__name__}")

    def _safe_chunk(self, chunk, on_error) -> list[dict]:
        if on_error is None:
            return self._tag_chunk(chunk)
        try:
            return self._tag_chunk(chunk)
        except Exception:  # noqa: BLE001 - isolate the culprit: retry one article at a time
            out = []
            for art in chunk:
                try:
                    out += self._tag_chunk([art])
                except Exception as exc:  # noqa: BLE001
                    on_error(art[0], exc)
            return out

    def _tag_chunk(self, chunk: list[tuple[Any, str]]) -> list[dict]:
        docs, words, rule_tags = [], [], []
        for art_id, text in chunk:
            sentences = split_sentences(text)
            spans = [tokenize_words(text, s, e) for s, e in sentences]
            rule_quotes = None
            words.extend([text[a:b] for a, b in ws] for ws in spans)
            if self.predictor.rule_features:  # the rules read the whole article: a colon quote crosses sentences
                flat_words = [w for ws in spans for w in ws]
                flat = rule_word_tags(text, flat_words)
                at = 0
                for ws in spans:
                    rule_tags.append(flat[at:at + len(ws)])
                    at += len(ws)
                rule_quotes = [(flat_words[i][0], flat_words[j - 1][1])
                               for role, i, j in spans_from_tags(flat) if role == "QUOTE"]
            docs.append((art_id, text, sentences, spans, rule_quotes))
        predictions = iter(self.predictor.predict(words, rule_tags) if self.predictor.rule_features
                           else self.predictor.predict(words))

        results = []
        for art_id, text, sentences, spans, rule_quotes in docs:
            entities, roles = [], []
            for ws in spans:
                pred = next(predictions)
                for etype, i, j in spans_from_tags(pred.ner_tags):
                    start, end = ws[i][0], ws[j - 1][1]
                    score = sum(pred.ner_scores[i:j]) / (j - i)
                    entities.append(
                        {"type": etype, "start": start, "end": end, "text": text[start:end], "score": _round(score)}
                    )
                if pred.quote_tags is not None:
                    for role, i, j in spans_from_tags(pred.quote_tags):
                        start, end = ws[i][0], ws[j - 1][1]
                        score = sum(pred.quote_scores[i:j]) / (j - i)
                        roles.append(
                            {"label": role, "start": start, "end": end, "text": text[start:end], "score": _round(score)}
                        )
            result = {
                "id": art_id,
                "text": text,
                "sentences": [{"start": s, "end": e} for s, e in sentences],
                "entities": entities,
                "quotes": [],
            }
            if self.quote_source == "model":
                from .quote_speakers import drop_non_mentions
                from .quotes import link_quotes

                result["_quote_roles"] = roles
                result["quotes"] = link_quotes(text, drop_non_mentions(text, roles), entities, sentences,
                                               min_score=self.quote_min_score, rule_quotes=rule_quotes,
                                               own_min_score=self.own_quote_min_score)
            elif self.quote_source == "rules":
                from .quote_rules import annotate_quotes

                result["quotes"] = annotate_quotes(text, entities)
            results.append(result)
        return results


def _probability(name: str, value: Any) -> float:
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} is a probability: between 0 and 1, not {value!r}")
    return float(value)
