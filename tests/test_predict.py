"""WordPredictor: packing is exact, order is kept, labels come from the config, long sentences are
windowed without losing or duplicating entities at the seams."""

from __future__ import annotations

import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from _tiny import one_thread, planted_model, random_model, tiny_config, tokenizer  # noqa: F401 (one_thread: autouse fixture)
from parstag.inference.alignment import first_piece_index
from parstag.inference.decode import viterbi
from parstag.inference.labels import spans_from_tags, split_tag
from parstag.inference.modeling import ParstagForTokenClassification
from parstag.inference.predict import (
    WordPredictor,
    assign_windows,
    pack_rows,
    plan_windows,
    repair_iob2,
)

B_WORD, I_WORD = "علی", "رضایی"  # single pieces 2547, 6993 in the ParsBERT v1 vocabulary
FILLER = ["تهران", "کتاب", "و", "در", "به", "امروز", "سال"]  # single pieces too
LONG_FILLER = FILLER + ["پیشرفت‌های", "۱۴۰۲", "«", "فوق‌العاده", "اقتصادی", "🙂"]


@pytest.fixture(scope="module")
def tok():
    return tokenizer()


@pytest.fixture(scope="module")
def model():
    return random_model(seed=1)


@pytest.fixture(scope="module")
def planted(tok):
    return planted_model(tok.convert_tokens_to_ids(B_WORD), tok.convert_tokens_to_ids(I_WORD))


@pytest.fixture(scope="module")
def sentences():
    rng = random.Random(3)
    words = "روبیو و لاوروف در دیدار خود درباره اوکراین گفت‌وگو کردند و وزیر خارجه آمریکا گفت « ۱۲ » 🙂".split()
    out = [[rng.choice(words) for _ in range(n)] for n in (3, 17, 40, 5, 60, 1, 2, 30, 90, 11, 7, 120)]
    return out + [[], ["\u200c", "سلام", "\u200f"]]


def direct(model, tok, words, mode="argmax"):
    """The reference: one sentence alone, [CLS] pieces [SEP], through the model's own forward, decoded
    by argmax and repair written out here, or by ``decode.viterbi`` on the same probabilities."""
    enc = tok(words, is_split_into_words=True, return_tensors="pt")
    with torch.no_grad():
        probs = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits[0].softmax(-1)
    labels = [model.config.id2label[i] for i in range(len(model.config.id2label))]
    tags, scores = [], []
    firsts = first_piece_index(enc.word_ids(0), len(words))
    if mode == "viterbi":
        rows = torch.full((len(words), len(labels)), float("-inf"))
        rows[:, labels.index("O")] = 0.0
        for w, p in enumerate(firsts):
            if p is not None:
                rows[w] = probs[p].log()
        path = viterbi([rows], labels)[0]
        return ([labels[k] for k in path],
                [float(rows[w, k].exp()) if p is not None else 0.0 for w, (k, p) in enumerate(zip(path, firsts))])
    for p in firsts:
        if p is None:
            tags.append("O")
            scores.append(0.0)
        else:
            s, i = probs[p].max(-1)
            tags.append(labels[int(i)])
            scores.append(float(s))
    return repair_iob2(tags), scores


@pytest.mark.parametrize("mode", ["argmax", "viterbi"])
@pytest.mark.parametrize("options", [{}, {"pack": False}, {"batch_size": 1}, {"batch_size": 3, "pack_length": 64}])
def test_packed_prediction_equals_one_sentence_at_a_time(model, tok, sentences, options, mode):
    preds = WordPredictor(model, tok, **{"batch_size": 4, "decode": mode, **options}).predict(sentences)
    assert len(preds) == len(sentences)
    for words, pred in zip(sentences, preds):
        assert len(pred.ner_tags) == len(pred.ner_scores) == len(words)
        if not words:
            continue
        tags, scores = direct(model, tok, words, mode)
        assert pred.ner_tags == tags
        assert pred.ner_scores == pytest.approx(scores, abs=1e-5)


def test_unknown_decode_mode_is_refused(model, tok):
    with pytest.raises(ValueError, match="decode must be one of viterbi, argmax"):
        WordPredictor(model, tok, decode="beam")


def test_words_without_pieces_are_outside(model, tok):
    pred = WordPredictor(model, tok).predict([["\u200c", "سلام", "\u200f"], ["\u200c"]])
    assert pred[0].ner_tags[0] == pred[0].ner_tags[2] == "O" and pred[0].ner_scores[0] == 0.0
    assert pred[1].ner_tags == ["O"]


def test_labels_come_from_the_config(tok):
    labels = ["O", "B-LOC", "I-LOC"]
    config = tiny_config(id2label=dict(enumerate(labels)), label2id={x: i for i, x in enumerate(labels)})
    torch.manual_seed(0)
    m = ParstagForTokenClassification(config).eval()
    with torch.no_grad():
        m.classifier.bias[1] = 5.0  # everything is B-LOC
    pred = WordPredictor(m, tok).predict([["تهران", "و", "کرج"]])[0]
    assert pred.ner_tags == ["B-LOC"] * 3
    assert pred.quote_tags is None and pred.quote_scores is None


def test_quote_head(tok, sentences):
    m = random_model(seed=2, quotes=True)
    preds = WordPredictor(m, tok).predict(sentences)
    for words, pred in zip(sentences, preds):
        assert len(pred.quote_tags) == len(pred.quote_scores) == len(words)
        assert set(pred.quote_tags) <= set(m.config.quote_labels)


def test_repair_iob2():
    assert repair_iob2(["O", "I-PER", "I-PER", "I-LOC", "B-LOC", "I-LOC", "O"]) == [
        "O", "B-PER", "I-PER", "B-LOC", "B-LOC", "I-LOC", "O"
    ]
    assert repair_iob2(["I-ORG"]) == ["B-ORG"]


@given(st.lists(st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]), max_size=30))
def test_repaired_tags_are_valid_iob2(tags):
    out = repair_iob2(tags)
    previous = None
    for tag in out:
        prefix, etype = split_tag(tag)
        assert prefix != "I" or previous == etype
        previous = etype
    assert [split_tag(t)[1] for t in out] == [split_tag(t)[1] for t in tags]


@given(st.integers(1, 3000), st.integers(1, 200), st.data())
def test_windows_cover_everything_once(n, capacity, data):
    overlap = data.draw(st.integers(0, capacity - 1))
    windows = plan_windows(n, capacity, overlap)
    assert windows[0][0] == 0 and windows[-1][1] == n
    assert all(0 <= s < e <= n and e - s <= capacity for s, e in windows)
    assert all(a[0] < b[0] and b[0] <= a[1] for a, b in zip(windows, windows[1:]))  # overlapping, in order
    firsts = sorted(data.draw(st.sets(st.integers(0, n - 1), max_size=50)))
    owners = assign_windows(firsts, windows, n)
    for p, k in zip(firsts, owners):
        s, e = windows[k]
        assert s <= p < e
        margin = lambda w: min(p - w[0] if w[0] > 0 else n, w[1] - 1 - p if w[1] < n else n)  # noqa: E731
        assert margin(windows[k]) == max(margin(w) for w in windows if w[0] <= p < w[1])


@settings(max_examples=50)
@given(st.lists(st.integers(3, 300), max_size=60), st.integers(8, 256))
def test_pack_rows_places_each_item_once_within_capacity(costs, capacity):
    rows = pack_rows(costs, capacity)
    assert sorted(i for row in rows for i in row) == list(range(len(costs)))
    for row in rows:
        assert len(row) == 1 or sum(costs[i] for i in row) <= capacity


def _plant(words, positions, length=2):
    for p in positions:
        words[p] = B_WORD
        for q in range(p + 1, p + length):
            words[q] = I_WORD
    return words


@pytest.mark.parametrize("max_length", [16, 32, 128])
def test_long_sentence_entities_at_seams_found_exactly_once(planted, tok, max_length):
    """2,000 single-piece words; entities planted where ownership passes from one window to the next,
    at every window start and end, and at random places: each is found once, with its exact span."""
    rng = random.Random(max_length)
    n, capacity = 2000, max_length - 2
    predictor = WordPredictor(planted, tok, max_length=max_length, batch_size=8)
    windows = plan_windows(n, capacity, predictor.window_overlap)
    owners = assign_windows(list(range(n)), windows, n)
    switches = [i for i in range(1, n) if owners[i] != owners[i - 1]]
    edges = [s for s, _ in windows] + [e - 1 for _, e in windows]
    wanted = set(switches) | {max(0, p - 1) for p in switches} | set(edges) | {rng.randrange(n) for _ in range(40)}
    positions, last = [], -10
    for p in sorted(wanted):
        if p - last >= 4 and p + 3 <= n:
            positions.append(p)
            last = p + 2
    words = _plant([rng.choice(FILLER) for _ in range(n)], positions, length=3)
    pred = predictor.predict([words[:40], words, words[:5]])
    assert spans_from_tags(pred[1].ner_tags) == [("PER", p, p + 3) for p in positions]
    assert spans_from_tags(pred[0].ner_tags) == [("PER", p, p + 3) for p in positions if p + 3 <= 40]
    assert len(switches) >= 10


def test_long_sentence_with_multi_piece_words(planted, tok):
    rng = random.Random(5)
    words = [rng.choice(LONG_FILLER) for _ in range(2000)]
    positions = sorted(rng.sample(range(0, 1998, 3), 60))
    _plant(words, positions)
    pred = WordPredictor(planted, tok, max_length=64).predict([words])[0]
    assert spans_from_tags(pred.ner_tags) == [("PER", p, p + 2) for p in positions]
    assert min(pred.ner_scores[p] for p in positions) > 0.5
