"""IOB2-constrained Viterbi decoding (inference/decode.py): it finds the best valid sequence (checked
against brute force), padding several sentences together changes nothing, a weak hole in a long span
is closed where argmax splits the span, and a confident valid argmax is left as it is."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from parstag.inference.decode import decode, iob2_constraints, viterbi
from parstag.inference.labels import spans_from_tags, split_tag

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
QUOTE_LABELS = ["O", "B-QUOTE", "I-QUOTE", "B-SPEAKER", "I-SPEAKER", "B-CUE", "I-CUE"]


def valid(tags: list[str]) -> bool:
    previous = None
    for tag in tags:
        prefix, etype = split_tag(tag)
        if prefix == "I" and previous != etype:
            return False
        previous = etype
    return True


def brute_force(log_probs: torch.Tensor, labels: list[str]) -> float:
    best = -math.inf
    for path in itertools.product(range(len(labels)), repeat=len(log_probs)):
        if valid([labels[k] for k in path]):
            best = max(best, sum(float(log_probs[t, k]) for t, k in enumerate(path)))
    return best


def random_log_probs(seed: int, n: int, labels=LABELS) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.log_softmax(3 * torch.randn(n, len(labels), generator=g), dim=-1)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 5))
def test_viterbi_finds_the_best_valid_sequence(seed, n):
    lp = random_log_probs(seed, n)
    path = viterbi([lp], LABELS)[0]
    tags = [LABELS[k] for k in path]
    assert valid(tags)
    assert sum(float(lp[t, k]) for t, k in enumerate(path)) == pytest.approx(brute_force(lp, LABELS), abs=1e-5)


def test_sentences_decoded_together_equal_one_at_a_time():
    batch = [random_log_probs(s, n, QUOTE_LABELS) for s, n in enumerate([7, 1, 0, 40, 3, 12])]
    together = viterbi(batch, QUOTE_LABELS)
    assert [len(p) for p in together] == [7, 1, 0, 40, 3, 12]
    for lp, path in zip(batch, together):
        assert path == (viterbi([lp], QUOTE_LABELS)[0] if len(lp) else [])


def probs_rows(rows: list[dict[str, float]], labels=QUOTE_LABELS) -> torch.Tensor:
    """Rows of {label: probability}; the rest of each row's mass is spread over the other labels."""
    out = []
    for row in rows:
        rest = (1.0 - sum(row.values())) / (len(labels) - len(row))
        out.append([row.get(label, rest) for label in labels])
    return torch.tensor(out).log()


def test_a_weak_hole_in_a_quote_is_closed_where_argmax_splits_it():
    # "گفت" CUE, then six quote words; the fourth has O ahead of I-QUOTE by a hair.
    rows = probs_rows([{"B-CUE": 0.9}, {"B-QUOTE": 0.9}, {"I-QUOTE": 0.9}, {"I-QUOTE": 0.9},
                       {"O": 0.48, "I-QUOTE": 0.46}, {"I-QUOTE": 0.9}, {"I-QUOTE": 0.9}])
    (arg_tags, _), = decode([rows], QUOTE_LABELS, "argmax")
    (vit_tags, vit_scores), = decode([rows], QUOTE_LABELS, "viterbi")
    assert spans_from_tags(arg_tags) == [("CUE", 0, 1), ("QUOTE", 1, 4), ("QUOTE", 5, 7)]
    assert spans_from_tags(vit_tags) == [("CUE", 0, 1), ("QUOTE", 1, 7)]
    assert vit_scores[4] == pytest.approx(0.46)  # the score is the probability of the tag chosen


def test_a_real_boundary_is_kept():
    # The same hole, but the next word is confidently a new quote's start: two quotes.
    rows = probs_rows([{"B-QUOTE": 0.9}, {"I-QUOTE": 0.9}, {"O": 0.9}, {"B-QUOTE": 0.9}, {"I-QUOTE": 0.9}])
    (tags, _), = decode([rows], QUOTE_LABELS)
    assert spans_from_tags(tags) == [("QUOTE", 0, 2), ("QUOTE", 3, 5)]


@pytest.mark.parametrize("seed", range(5))
def test_a_valid_argmax_is_kept(seed):
    lp = random_log_probs(seed, 30)
    path = lp.argmax(-1)
    # Make the argmax valid: every I gets its B, then sharpen it so that it is also the best sequence.
    tags = [LABELS[k] for k in path.tolist()]
    for t, tag in enumerate(tags):
        prefix, etype = split_tag(tag)
        if prefix == "I" and (t == 0 or split_tag(tags[t - 1])[1] != etype):
            tags[t] = f"B-{etype}"
    sharp = torch.full((30, len(LABELS)), math.log(0.05))
    for t, tag in enumerate(tags):
        sharp[t, LABELS.index(tag)] = math.log(0.8)
    assert decode([sharp], LABELS)[0][0] == tags == decode([sharp], LABELS, "argmax")[0][0]


def test_argmax_mode_repairs_ill_formed_tags():
    rows = probs_rows([{"I-PER": 0.9}, {"O": 0.9}, {"I-LOC": 0.9}], LABELS)
    assert decode([rows], LABELS, "argmax")[0][0] == ["B-PER", "O", "B-LOC"]
    # Viterbi never sees I-PER first: B-PER and O had the same (small) probability there.
    assert valid(decode([rows], LABELS, "viterbi")[0][0])


def test_constraints_and_labels_that_are_not_iob2():
    start, trans = iob2_constraints(["O", "B-X", "I-X", "OTHER"])
    assert start.tolist() == [0, 0, -math.inf, 0]
    assert trans[:, 2].tolist() == [-math.inf, 0, 0, -math.inf]  # I-X only after B-X or I-X
    assert trans[:, 3].tolist() == [0, 0, 0, 0]  # a custom label may follow anything


def test_empty_input_and_unknown_mode():
    assert decode([], LABELS) == []
    assert decode([torch.zeros(0, len(LABELS))], LABELS) == [([], [])]
    with pytest.raises(ValueError, match="decode must be one of"):
        decode([random_log_probs(0, 3)], LABELS, "beam")
