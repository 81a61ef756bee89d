"""The rule annotator's quote roles as an input feature of the model.

The problem.  The quote head learns mostly from silver data, which the rule annotator (``quote_rules``)
labelled; such a student approaches its teacher and cannot pass it where the teacher is right, while the
rules know nothing they were not written to know.  A model that *sees* the rules' roles can do what
neither does alone: keep the rules' decision where the text agrees with it, and depart from it where the
hand-annotated gold taught it to (a cue verb the lexicon lacks, a clause boundary the rules cut wrong).

So a model trained with ``model.rule_features`` gets one more input per piece: the BIO tag (QUOTE,
SPEAKER, CUE) that the rules' linked quotes give the piece's word, embedded and added to the word
embedding (``input``: the whole encoder reads it) or to the encoder's output for the quote head alone
(``head``: the NER head and the encoder's own representation stay text-only).  This module computes those word tags, the same way for training (each corpus article or
sentence) and for tagging (each article), so that what the model learned from is what it is shown.
The rules run on the whole text at once (a colon quote crosses sentences), without NER (the model's
entities do not exist yet when its input is built).

A model without the feature, or one fed none (``rule_ids`` None: the HF pipeline, a corpus sentence
with ``features=False``), runs as a text-only tagger; training hides the feature from a share of the
sentences (``model.rule_feature_dropout``) so that the text-only path stays a trained one.
"""

from __future__ import annotations

from collections.abc import Sequence

from .labels import OUTSIDE

#: ``config.rule_features`` on a saved model: where the model takes ``rule_ids`` (ids of ``config.quote_labels``):
#: ``"input"``, added to the word embeddings (the encoder reads them: both heads see them), or ``"head"``,
#: added to the encoder's output for the quote head alone (the NER head never sees them).
CONFIG_KEY = "rule_features"
MODES = ("input", "head")


def rule_feature_mode(config) -> str | None:
    """``"input"``, ``"head"`` or None (no rule features)."""
    mode = getattr(config, CONFIG_KEY, None)
    if mode is None or mode is False or mode == "none":
        return None
    if mode is True:  # the first form of the flag
        return "input"
    if mode not in MODES:
        raise ValueError(f"config.{CONFIG_KEY} must be one of {', '.join(MODES)} or none, not {mode!r}")
    return mode


def uses_rule_features(config) -> bool:
    return rule_feature_mode(config) is not None


def rule_word_tags(text: str, words: Sequence[tuple[int, int]]) -> list[str]:
    """IOB2 quote-role tags of ``words`` (character spans of ``text``) from the rules' linked quotes.

    A word takes the role of the span it shares a character with (the roles of one quote never overlap;
    spans shared by two quotes, a speaker of both, are tagged once); the first word of a span is B-.
    """
    from .quote_rules import annotate_quotes

    spans = sorted({(q[key]["start"], q[key]["end"], role) for q in annotate_quotes(text)
                    for key, role in (("quote", "QUOTE"), ("speaker", "SPEAKER"), ("cue", "CUE")) if q[key]})
    tags = [OUTSIDE] * len(words)
    k = 0
    for start, end, role in spans:
        while k < len(words) and words[k][1] <= start:
            k += 1
        first = True
        j = k
        while j < len(words) and words[j][0] < end:
            if tags[j] == OUTSIDE:
                tags[j] = f"{'B' if first else 'I'}-{role}"
            first = False
            j += 1
    return tags


def sentence_rule_tags(words: Sequence[str]) -> list[str]:
    """The rules' tags for one sentence given only as words (a corpus sentence): the rules read
    ``" ".join(words)``."""
    from .segment import join_words

    return rule_word_tags(*join_words(words))
