"""Label vocabularies, defined once for the whole project.

Every corpus reader maps its own tag names onto ENTITY_TYPES, every model stores the label list it was
trained with in its config (``id2label`` for the NER head, ``quote_id2label`` for the quote head), and
inference reads the labels only from the checkpoint.  Nothing else in the code base spells out a tag list.

Tags are IOB2 strings: ``"O"``, ``"B-PER"``, ``"I-PER"`` ...
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: The canonical entity types, in a fixed order (the order of label ids in every model we train).
ENTITY_TYPES: tuple[str, ...] = ("PER", "ORG", "LOC", "FAC", "PRO", "EVE", "DAT", "TIM", "MON", "PCT")

#: Roles of the quote-attribution scheme (PARC 3.0 adapted; see data/quotes/GUIDELINES.md).
QUOTE_ROLES: tuple[str, ...] = ("SPEAKER", "CUE", "QUOTE")

OUTSIDE = "O"

#: Label id that the loss ignores (PyTorch's CrossEntropyLoss default ignore_index).
IGNORE_INDEX = -100


def bio_labels(types: Iterable[str]) -> list[str]:
    """``["O", "B-T1", "I-T1", "B-T2", "I-T2", ...]`` for the given types, in their given order."""
    labels = [OUTSIDE]
    for t in types:
        labels += [f"B-{t}", f"I-{t}"]
    return labels


def split_tag(tag: str) -> tuple[str, str | None]:
    """``"B-PER" -> ("B", "PER")``, ``"O" -> ("O", None)``.  Raises ValueError on anything else."""
    if tag == OUTSIDE:
        return OUTSIDE, None
    prefix, sep, etype = tag.partition("-")
    if not sep or prefix not in ("B", "I") or not etype:
        raise ValueError(f"not an IOB2 tag: {tag!r}")
    return prefix, etype


def continuation_map(labels: Sequence[str]) -> list[int]:
    """For each label id, the id to use on a word's continuation pieces: B-X -> I-X, others unchanged.

    Used by ``label_all_tokens``: a word tagged B-PER that splits into three pieces becomes
    B-PER I-PER I-PER, so that the pieces never start a second entity.
    """
    index = {label: i for i, label in enumerate(labels)}
    out = []
    for i, label in enumerate(labels):
        prefix, etype = split_tag(label)
        out.append(index.get(f"I-{etype}", i) if prefix == "B" else i)
    return out


def repair_iob2(tags: Sequence[str]) -> list[str]:
    """``I-X`` that does not continue an ``X`` becomes ``B-X``; labels that are not IOB2 pass through."""
    out: list[str] = []
    previous: str | None = None
    for tag in tags:
        try:
            prefix, etype = split_tag(tag)
        except ValueError:
            out.append(tag)
            previous = None
            continue
        if prefix == "I" and previous != etype:
            tag = f"B-{etype}"
        out.append(tag)
        previous = etype
    return out


def spans_from_tags(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entity spans ``(type, first, last_exclusive)`` over word indices, read from ``repair_iob2(tags)``.

    An ``I-X`` that does not continue an entity of type X starts a new one (the repair seqeval's
    lenient mode makes); strict scoring is done by seqeval itself, this is for producing output.
    """
    spans: list[tuple[str, int, int]] = []
    for i, tag in enumerate(repair_iob2(tags)):
        prefix, etype = split_tag(tag)
        if prefix == "B":
            spans.append((etype, i, i + 1))
        elif prefix == "I":
            spans[-1] = (etype, spans[-1][1], i + 1)
    return spans
