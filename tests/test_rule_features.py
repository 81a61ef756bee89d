"""Rule features: the rule annotator's quote roles as an input of the model (inference/rule_features.py).

What must hold: the word tags are the rules' linked quotes on the tagger's own words; pieces carry their
word's feature (B- only on the first piece, O on [CLS]/[SEP]/padding); a fresh model is unchanged by the
feature (zero embedding) and a trained one is not; the packed predictor feeds exactly what a direct
forward with the same ``rule_ids`` sees; the Tagger gives the rules the whole article; training builds,
hides and saves the feature as configured.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from _tiny import one_thread, random_model, tokenizer  # noqa: F401 (one_thread: autouse fixture)
from parstag.inference.alignment import align_features
from parstag.inference.labels import QUOTE_ROLES, bio_labels, continuation_map, repair_iob2
from parstag.inference.predict import WordPredictor
from parstag.inference.rule_features import rule_word_tags, sentence_rule_tags, uses_rule_features
from parstag.inference.segment import tokenize_words

TEXT = "وزیر نفت گفت: مصرف برق رکورد زد.\nهوا سرد است."
LABELS = bio_labels(QUOTE_ROLES)


def test_rule_word_tags_are_the_rules_linked_quotes_on_the_words():
    words = tokenize_words(TEXT)
    tags = rule_word_tags(TEXT, words)
    tagged = [(TEXT[s:e], t) for (s, e), t in zip(words, tags)]
    assert tagged[:5] == [("وزیر", "B-SPEAKER"), ("نفت", "I-SPEAKER"), ("گفت", "B-CUE"), (":", "O"),
                          ("مصرف", "B-QUOTE")]  # fmt: skip
    assert [t for _, t in tagged[-4:]] == ["O"] * 4  # the next paragraph is the reporter's
    # A sentence given as words: the rules read the words joined by spaces.
    assert sentence_rule_tags(["هوا", "سرد", "است", "."]) == ["O"] * 4
    assert sentence_rule_tags(["وزیر", "گفت", ":", "برق", "قطع", "نمی‌شود", "."])[:4] == ["B-SPEAKER", "B-CUE", "O", "B-QUOTE"]


def test_pieces_carry_their_words_feature():
    cont = continuation_map(LABELS)
    b_quote, i_quote, b_cue = LABELS.index("B-QUOTE"), LABELS.index("I-QUOTE"), LABELS.index("B-CUE")
    word_ids = [None, 0, 0, 1, 2, 2, None, None]
    assert align_features(word_ids, [b_cue, b_quote, i_quote], cont, 0) == [0, b_cue, LABELS.index("I-CUE"),
                                                                          b_quote, i_quote, i_quote, 0, 0]


def _feature_model(seed: int = 0, mode: str = "input"):
    model = random_model(seed=seed, quotes=True)
    model.config.rule_features = mode
    fresh = type(model)(model.config).eval()
    fresh.load_state_dict(model.state_dict(), strict=False)
    return fresh


def test_a_fresh_feature_embedding_is_zero_and_a_trained_one_matters():
    model = _feature_model()
    assert uses_rule_features(model.config) and not uses_rule_features(random_model(quotes=True).config)
    ids = torch.tensor([[2, 5000, 6000, 7000, 3]])
    rules = torch.tensor([[0, 1, 2, 5, 0]])
    with torch.no_grad():
        plain = model(input_ids=ids).quote_logits
        assert torch.equal(model(input_ids=ids, rule_ids=rules).quote_logits, plain)  # zero init: no effect
        model.rule_embeddings.weight.normal_(0, 1)
        assert not torch.allclose(model(input_ids=ids, rule_ids=rules).quote_logits, plain)
        assert torch.equal(model(input_ids=ids).quote_logits, plain)  # without rule_ids: text only


def test_rule_features_at_the_head_leave_the_encoder_and_ner_alone():
    model = _feature_model(mode="head")
    ids = torch.tensor([[2, 5000, 6000, 7000, 3]])
    rules = torch.tensor([[0, 1, 2, 5, 0]])
    with torch.no_grad():
        model.rule_embeddings.weight.normal_(0, 1)
        plain, fed = model(input_ids=ids), model(input_ids=ids, rule_ids=rules)
        assert torch.equal(fed.logits, plain.logits)  # NER never sees the feature
        assert not torch.allclose(fed.quote_logits, plain.quote_logits)
        hidden = model.encode(ids, rule_ids=rules)
        assert torch.equal(hidden, model.encode(ids)) and torch.equal(model.quote_scores(hidden, rules), fed.quote_logits)


@pytest.mark.parametrize("mode, message", [(True, None), ("input", None), ("head", None), ("none", None),
                                           ("middle", "must be one of input, head")])
def test_rule_feature_modes(mode, message):
    from parstag.inference.rule_features import rule_feature_mode

    config = random_model(quotes=True).config
    config.rule_features = mode
    if message:
        with pytest.raises(ValueError, match=message):
            rule_feature_mode(config)
    else:
        assert rule_feature_mode(config) == {True: "input", "none": None}.get(mode, mode)


def test_random_model_refuses_rule_features_without_a_quote_head():
    config = random_model().config
    config.rule_features = "input"
    with pytest.raises(ValueError, match="needs config.quote_labels"):
        type(random_model())(config)


@pytest.fixture(scope="module", params=["input", "head"])
def trained_like(request):
    model = _feature_model(seed=3, mode=request.param)
    with torch.no_grad():
        model.rule_embeddings.weight.normal_(0, 2)
    return model


def _direct(model, tok, words, tags):
    """Reference: one sentence, [CLS] pieces [SEP], the model's forward with its rule_ids; argmax quote tags."""
    enc = tok(words, is_split_into_words=True, return_tensors="pt")
    feats = align_features(enc.word_ids(0), [LABELS.index(t) for t in tags], continuation_map(LABELS), 0)
    with torch.no_grad():
        logits = model(input_ids=enc["input_ids"], rule_ids=torch.tensor([feats])).quote_logits[0]
    firsts = {}
    for pos, wid in enumerate(enc.word_ids(0)):
        if wid is not None and wid not in firsts:
            firsts[wid] = pos
    return [logits[firsts[w]].argmax().item() for w in range(len(words))]


def test_packed_predictor_feeds_the_rule_features(trained_like):
    tok = tokenizer()
    words = [TEXT[s:e] for s, e in tokenize_words(TEXT)]
    sentences = [words[:9], words[9:], words]
    given = [rule_word_tags(TEXT, tokenize_words(TEXT))[:9], ["O"] * 4, ["B-QUOTE"] + ["I-QUOTE"] * 12]
    pred = WordPredictor(trained_like, tok, decode="argmax", batch_size=2).predict(sentences, given)
    for words_, tags, p in zip(sentences, given, pred):
        assert p.quote_tags == repair_iob2([LABELS[i] for i in _direct(trained_like, tok, words_, tags)])
    assert pred[0].quote_tags != WordPredictor(trained_like, tok, decode="argmax", rule_features=False).predict(
        [sentences[0]])[0].quote_tags  # the feature changes what this model says
    # Without given tags each sentence is read by the rules alone; rule_features=False runs text only.
    own = WordPredictor(trained_like, tok, decode="argmax").predict([words])[0]
    assert own.quote_tags == repair_iob2([LABELS[i] for i in _direct(trained_like, tok, words, sentence_rule_tags(words))])
    text_only = WordPredictor(trained_like, tok, decode="argmax", rule_features=False)
    assert not text_only.rule_features
    with pytest.raises(ValueError, match="rule tags for"):
        WordPredictor(trained_like, tok).predict([words], [["O"]])


def test_the_tagger_gives_the_rules_the_whole_article(trained_like, monkeypatch):
    from parstag.inference.tagger import Tagger

    tagger = Tagger(trained_like, tokenizer(), device="cpu")
    seen = {}
    real = tagger.predictor.predict

    def spy(sentences, rule_tags=None):
        seen["tags"] = rule_tags
        return real(sentences, rule_tags)

    monkeypatch.setattr(tagger.predictor, "predict", spy)
    text = "وزیر نفت گفت: مصرف برق رکورد زد. باید صرفه‌جویی کرد."
    tagger(text)
    # The colon quote crosses the sentence end: read as one article, the second sentence continues the
    # quote (I-, as the training data has it), which the rules could not know from that sentence alone.
    assert seen["tags"][1] == ["I-QUOTE"] * len(seen["tags"][1])
    assert sentence_rule_tags(text.split(". ")[1].replace(".", " .").split()) == ["O"] * len(seen["tags"][1])


def test_the_tagger_holds_quotes_the_rules_did_not_find_to_their_own_bar(trained_like, monkeypatch):
    import parstag.inference.quotes as quotes_module
    from parstag.inference.tagger import Tagger

    seen = {}
    real = quotes_module.link_quotes
    monkeypatch.setattr(quotes_module, "link_quotes", lambda *a, **k: seen.update(k) or real(*a, **k))
    tagger = Tagger(trained_like, tokenizer(), device="cpu")
    tagger(TEXT)
    assert tagger.own_quote_min_score is None and seen["own_min_score"] is None
    # The linker gets the characters the rules tag QUOTE, as one run per quote.
    assert [TEXT[s:e] for s, e in seen["rule_quotes"]] == ["مصرف برق رکورد زد."]
    monkeypatch.setattr(trained_like.config, "own_quote_min_score", 0.97, raising=False)  # from the checkpoint
    Tagger(trained_like, tokenizer(), device="cpu")(TEXT)
    assert seen["own_min_score"] == 0.97
    assert Tagger(trained_like, tokenizer(), device="cpu", own_quote_min_score=0.5).own_quote_min_score == 0.5
    with pytest.raises(ValueError, match="between 0 and 1"):
        Tagger(trained_like, tokenizer(), device="cpu", own_quote_min_score=1.5)
    text_only = random_model(seed=5, quotes=True)  # no rule tags: nothing tells its own quotes from the rules'
    text_only.config.own_quote_min_score = 0.97
    assert Tagger(text_only, tokenizer(), device="cpu").own_quote_min_score is None
    with pytest.raises(ValueError, match="needs a model trained with rule_features"):
        Tagger(text_only, tokenizer(), device="cpu", own_quote_min_score=0.9)


def test_training_with_rule_features(tmp_path):
    """The config switch builds the embedding, fills ``rule_tags``/``rule_ids``, hides a seeded share, and
    the saved model carries ``rule_features`` so that the tagger feeds it."""
    from test_training import corpus, tiny_config as train_config

    from parstag.inference.modeling import load_model
    from parstag.inference.tagger import Tagger
    from parstag.training.config import ConfigError
    from parstag.training.data import load_splits
    from parstag.training.trainer import train

    quotes = corpus("quotes", "quotes.jsonl", "quotes.jsonl", types=["ORG"], reader="jsonl")
    sets = ("tasks=[ner, quotes]", "model.rule_features=input", "optim.epochs=3")
    cfg = train_config(tmp_path, *sets, "model.rule_feature_dropout=0", "model.quote_min_score=0.8",
                       "model.own_quote_min_score=0.95", corpora=[quotes])
    splits = load_splits(cfg)
    train_tags = splits.train[0].dataset["rule_tags"]
    assert splits.dev[0].dataset["rule_tags"] == train_tags and any(t != "O" for s in train_tags for t in s)
    hidden = load_splits(train_config(tmp_path, *sets, "model.rule_feature_dropout=1", corpora=[quotes]))
    assert all(t == "O" for s in hidden.train[0].dataset["rule_tags"] for t in s)
    assert hidden.dev[0].dataset["rule_tags"] == train_tags  # dev is shown as the tagger shows it
    # A corpus's own share wins over the model's, either way (silver data: labels ARE the rules' tags).
    own = load_splits(train_config(tmp_path, *sets, "model.rule_feature_dropout=0",
                                   corpora=[dict(quotes, rule_feature_dropout=1)]))
    assert all(t == "O" for s in own.train[0].dataset["rule_tags"] for t in s)
    own = load_splits(train_config(tmp_path, *sets, "model.rule_feature_dropout=1",
                                   corpora=[dict(quotes, rule_feature_dropout=0)]))
    assert own.train[0].dataset["rule_tags"] == train_tags
    with pytest.raises(ConfigError, match="rule_feature_dropout"):
        train_config(tmp_path, *sets, corpora=[dict(quotes, rule_feature_dropout=1.5)])

    train(cfg)
    model = load_model(Path(cfg.output_dir) / "model")
    assert uses_rule_features(model.config) and float(model.rule_embeddings.weight.detach().abs().sum()) > 0
    tagger = Tagger.from_pretrained(Path(cfg.output_dir) / "model", device="cpu")
    assert tagger.predictor.rule_features and tagger.quote_min_score == 0.8  # travels with the checkpoint
    assert tagger.own_quote_min_score == 0.95
    with pytest.raises(ConfigError, match="model.rule_features"):
        train_config(tmp_path, "model.rule_features=head", corpora=[quotes])  # tasks: ner only
    with pytest.raises(ConfigError, match="model.quote_min_score"):
        train_config(tmp_path, "model.quote_min_score=0.5", corpora=[quotes])  # no quote head, no quote scores
    with pytest.raises(ConfigError, match="model.own_quote_min_score"):
        train_config(tmp_path, "tasks=[ner, quotes]", "model.own_quote_min_score=0.9", corpora=[quotes])  # no rule tags
    with pytest.raises(ConfigError, match="at most 1"):
        train_config(tmp_path, *sets, "model.quote_min_score=2", corpora=[quotes])


def test_an_int8_export_keeps_the_feature(trained_like, tmp_path):
    from parstag.inference.export import export_int8
    from parstag.inference.tagger import Tagger

    src = tmp_path / "fp32"
    trained_like.save_pretrained(src)
    tokenizer().save_pretrained(src)
    tagger = Tagger.from_pretrained(export_int8(src, tmp_path / "int8"), device="cpu")
    assert tagger.predictor.rule_features and uses_rule_features(tagger.model.config)
    assert tagger(TEXT)["text"] == TEXT
