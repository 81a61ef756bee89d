"""Word -> subword alignment with the real ParsBERT v1 tokenizer (shipped in data/tokenizers)."""

from pathlib import Path

import pytest

from parstag.inference.alignment import align_labels, first_piece_index
from parstag.inference.labels import (
    ENTITY_TYPES,
    IGNORE_INDEX,
    QUOTE_ROLES,
    bio_labels,
    continuation_map,
    spans_from_tags,
    split_tag,
)
from parstag.inference.modeling import load_tokenizer

TOKENIZER_DIR = Path(__file__).resolve().parents[1] / "data" / "tokenizers" / "parsbert-v1"
ZWNJ = "\u200c"


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(TOKENIZER_DIR)


def test_tokenizer_is_the_real_vocabulary(tokenizer):
    assert tokenizer.vocab_size == 100_000
    assert tokenizer.convert_ids_to_tokens(tokenizer("تهران")["input_ids"])[1] == "تهران"


@pytest.mark.parametrize("types", [ENTITY_TYPES, QUOTE_ROLES, ("PER", "LOC")])
def test_bio_labels_and_continuation(types):
    labels = bio_labels(types)
    assert labels[0] == "O" and len(labels) == 2 * len(types) + 1
    cont = continuation_map(labels)
    for i, label in enumerate(labels):
        prefix, etype = split_tag(label)
        expected = f"I-{etype}" if prefix == "B" else label
        assert labels[cont[i]] == expected


def _encode(tokenizer, words):
    return tokenizer(words, is_split_into_words=True)


def test_first_subword_labelling_on_persian(tokenizer):
    # ZWNJ inside a word, a clitic, Persian digits, and guillemets around a name.
    words = ["می" + ZWNJ + "خواهند", "«", "محمدرضا", "»", "دانشگاه‌هایمان", "۱۲۳۴", "گفت"]
    labels = bio_labels(ENTITY_TYPES)
    lid = {l: i for i, l in enumerate(labels)}
    word_labels = [lid["O"], lid["O"], lid["B-PER"], lid["O"], lid["B-PRO"], lid["B-DAT"], lid["O"]]
    enc = _encode(tokenizer, words)
    word_ids = enc.word_ids()
    aligned = align_labels(word_ids, word_labels)
    assert len(aligned) == len(word_ids)
    first = first_piece_index(word_ids, len(words))
    for w, pos in enumerate(first):
        if pos is not None:
            assert aligned[pos] == word_labels[w]
    # Every labelled position is a first piece; every other position is ignored.
    labelled = {p for p, a in enumerate(aligned) if a != IGNORE_INDEX}
    assert labelled == {p for p in first if p is not None}
    # The clitic word splits into several pieces: only its first carries B-PRO.
    pro_pieces = [p for p, wid in enumerate(word_ids) if wid == 4]
    assert len(pro_pieces) > 1
    assert [aligned[p] for p in pro_pieces] == [lid["B-PRO"]] + [IGNORE_INDEX] * (len(pro_pieces) - 1)


def test_label_all_tokens_turns_b_into_i(tokenizer):
    labels = bio_labels(ENTITY_TYPES)
    lid = {l: i for i, l in enumerate(labels)}
    words = ["دانشگاه‌هایمان", "را", "خواندند"]
    word_labels = [lid["B-PRO"], lid["O"], lid["O"]]
    word_ids = _encode(tokenizer, words).word_ids()
    aligned = align_labels(word_ids, word_labels, label_all_tokens=True, continuation=continuation_map(labels))
    pieces = [aligned[p] for p, wid in enumerate(word_ids) if wid == 0]
    assert pieces[0] == lid["B-PRO"] and set(pieces[1:]) == {lid["I-PRO"]}
    assert aligned[0] == IGNORE_INDEX and aligned[-1] == IGNORE_INDEX  # [CLS], [SEP]


def test_zero_piece_words_do_not_shift_labels(tokenizer):
    # A lone bidi mark and a lone ZWNJ produce no piece at all; the words after them keep their labels.
    words = ["علی", "\u200f", "در", ZWNJ, "تهران"]
    enc = _encode(tokenizer, words)
    word_ids = enc.word_ids()
    assert 1 not in word_ids and 3 not in word_ids, "premise: these words give zero pieces"
    labels = bio_labels(ENTITY_TYPES)
    lid = {l: i for i, l in enumerate(labels)}
    word_labels = [lid["B-PER"], lid["O"], lid["O"], lid["O"], lid["B-LOC"]]
    aligned = align_labels(word_ids, word_labels)
    first = first_piece_index(word_ids, len(words))
    assert first[1] is None and first[3] is None
    assert aligned[first[0]] == lid["B-PER"]
    assert aligned[first[4]] == lid["B-LOC"]
    assert tokenizer.convert_ids_to_tokens(enc["input_ids"][first[4]]) == "تهران"


def test_spans_from_tags_repairs_dangling_inside():
    tags = ["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-ORG", "I-PER"]
    assert spans_from_tags(tags) == [("PER", 0, 2), ("LOC", 3, 5), ("ORG", 5, 6), ("PER", 6, 7)]
    with pytest.raises(ValueError):
        split_tag("B_PER")
