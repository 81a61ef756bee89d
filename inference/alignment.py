"""Words -> subwords: the one place where word-level labels meet WordPiece pieces.

Corpora are labelled per word; the encoder sees WordPiece pieces.  A fast tokenizer called with
``is_split_into_words=True`` tells, through ``word_ids()``, which word each piece came from.  Training
labels the first piece of each word and gives the others ``IGNORE_INDEX`` (or, with
``label_all_tokens``, the word's label with B- turned into I-); inference reads the prediction of the
first piece back onto the word.  Both directions live here so that they cannot drift apart.

A word that the tokenizer turns into zero pieces (a lone control character, a symbol the normaliser
erased) simply never appears in ``word_ids()``: it gets no training label and, at inference, the
outside label.  Because we index by word id rather than by position, it cannot shift its neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence

from .labels import IGNORE_INDEX


def align_labels(
    word_ids: Sequence[int | None],
    word_labels: Sequence[int],
    *,
    label_all_tokens: bool = False,
    continuation: Sequence[int] | None = None,
) -> list[int]:
    """Subword label ids for one sequence.

    word_ids: ``encoding.word_ids()``: the word index of each piece, None for special tokens.
    word_labels: one label id per word (``IGNORE_INDEX`` allowed, e.g. for a type not annotated).
    label_all_tokens: label continuation pieces too, instead of ignoring them.
    continuation: with label_all_tokens, a map label id -> id for continuation pieces
        (``labels.continuation_map``: B-X -> I-X).  Without it the word's label is repeated as is.
    """
    out: list[int] = []
    previous: int | None = None
    for wid in word_ids:
        if wid is None:
            out.append(IGNORE_INDEX)
        elif wid != previous:
            out.append(word_labels[wid])
        elif label_all_tokens:
            label = word_labels[wid]
            out.append(continuation[label] if continuation is not None and label != IGNORE_INDEX else label)
        else:
            out.append(IGNORE_INDEX)
        previous = wid
    return out


def first_piece_index(word_ids: Sequence[int | None], n_words: int) -> list[int | None]:
    """Position of each word's first piece in the sequence, None for words with no piece in it.

    Inference reads word predictions from these positions.  A word can be missing because it
    produced no piece at all, or because it fell outside this window of a long sentence.
    """
    first: list[int | None] = [None] * n_words
    previous: int | None = None
    for pos, wid in enumerate(word_ids):
        if wid is not None and wid != previous and 0 <= wid < n_words and first[wid] is None:
            first[wid] = pos
        previous = wid
    return first


def align_features(word_ids: Sequence[int | None], word_features: Sequence[int], continuation: Sequence[int],
                   outside: int) -> list[int]:
    """Piece-level input feature ids (``rule_features``) for one sequence: every piece of a word carries the
    word's feature, B-X turned into I-X on its continuation pieces (``continuation``, as
    ``labels.continuation_map`` gives it); special tokens carry ``outside``.  Unlike labels, an input is
    never ignored."""
    out = align_labels(word_ids, word_features, label_all_tokens=True, continuation=continuation)
    return [outside if x == IGNORE_INDEX else x for x in out]
