"""inference/normalize.py: what the ParsBERT v1 vocabulary knows, and exact offsets back to the original."""

from __future__ import annotations

import dataclasses
import pickle
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parstag.inference.normalize import (
    NORMALIZER_VERSION,
    ZWNJ,
    Normalized,
    Normalizer,
    NormalizerConfig,
)

ROOT = Path(__file__).resolve().parents[1]
VOCAB = ROOT / "data" / "tokenizers" / "parsbert-v1" / "vocab.txt"
SEED = ROOT / "data" / "samples" / "seed-report.txt"

N = Normalizer()


def norm(text: str, **config) -> str:
    return Normalizer(NormalizerConfig(**config))(text).text if config else N(text).text


# ------------------------------------------------------------------------------------------- config


def test_config_defaults_and_round_trip():
    c = NormalizerConfig()
    assert c.zwnj == "keep" and c.digits == "persian" and c.version == NORMALIZER_VERSION
    assert all((c.persian_letters, c.punctuation, c.remove_diacritics, c.compatibility_forms, c.keep_newlines))
    d = c.to_dict()
    assert d == {f.name: getattr(c, f.name) for f in dataclasses.fields(c)}
    assert NormalizerConfig.from_dict(d) == c
    other = NormalizerConfig(zwnj="space", digits="keep", keep_newlines=False)
    assert NormalizerConfig.from_dict(other.to_dict()) == other
    assert NormalizerConfig.from_dict({}) == c == NormalizerConfig.from_dict(None)
    assert NormalizerConfig.from_dict({"zwnj": "remove"}).zwnj == "remove"
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.zwnj = "space"  # type: ignore[misc]
    assert hash(c) == hash(NormalizerConfig())


def test_config_rejects_unknown_keys_and_bad_values():
    with pytest.raises(ValueError, match="'zwnj_mode'"):
        NormalizerConfig.from_dict({"zwnj_mode": "keep"})
    with pytest.raises(ValueError, match="zwnj"):
        NormalizerConfig(zwnj="delete")
    with pytest.raises(ValueError, match="digits"):
        NormalizerConfig(digits="latin")
    with pytest.raises(TypeError, match="punctuation"):
        NormalizerConfig.from_dict({"punctuation": "yes"})
    with pytest.raises(ValueError, match="newer"):
        NormalizerConfig(version=NORMALIZER_VERSION + 1)


# ------------------------------------------------------------------------------------------- mappings


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("علي", "علی"),  # Arabic yeh
        ("مصطفى", "مصطفی"),  # alef maksura
        ("كتاب", "کتاب"),  # Arabic kaf: not in the vocabulary at all
        ("فاطمة", "فاطمه"),
        ("خطبۀ", "خطبه"),
        ("همە", "همه"),  # Kurdish ae
        ("ٱلله", "الله"),
        ("رئیس مسئول تأکید آمد مؤسسه إسلام", "رئیس مسئول تأکید آمد مؤسسه إسلام"),  # the tokenizer folds these
        ("12 ١٢ ۱۲", "۱۲ ۱۲ ۱۲"),
        ("٢٠٢٥/١٠/٢١", "۲۰۲۵/۱۰/۲۱"),
        ("«سلام» “hi” ‘x’", '"سلام" "hi" \'x\''),
        ("45%", "۴۵٪"),
        ("a_b|c", "a-b/c"),
        ("مُحَمَّدٌ", "محمد"),  # harakat
        ("علیــــرضا", "علیرضا"),  # kashida
        ("خانهٔ", "خانه"),  # standalone hamza above
        ("\u200fسلام\u200e \u202bدنیا\u202c \u2067x\u2069", "سلام دنیا x"),  # bidi controls
        ("a\u200bb\ufeffc\u2060d\u200de\x00f\x07g", "abcdefg"),  # other invisible/control characters
        ("a \u00a0\u2009\u202f\u3000 b\t\tc", "a b c"),
        ("  a  ", "a"),
        ("ﻻ", "لا"),  # presentation-form ligature: 1 -> 2
        ("ﷲ", "الله"),
        ("ﻣﺎ ﻫﺮﻭﻗﺖ ﻛﻒ", "ما هروقت کف"),  # presentation forms, mapped after folding (ﻛ -> ك -> ک)
        ("１２ ＡＢ", "۱۲ AB"),  # full width
        ("ﬁle", "file"),
        ("ﹰ", ""),  # isolated fathatan: a spacing mark, nothing left
        ("… ‼ ™ № ⅓", "… ‼ ™ № ⅓"),  # compatibility characters the vocabulary knows are kept
        ("", ""),
    ],
)
def test_mappings(raw, expected):
    assert norm(raw) == expected
    assert N.normalize_word(raw) == expected


def test_letter_folding_is_the_shared_table():
    # letters.py is the one letter table (the quote rules and the linker build theirs from it too).
    from parstag.inference.letters import ARABIC_TO_PERSIAN, HAMZA_ALEF

    for raw, persian in ARABIC_TO_PERSIAN.items():
        assert norm(f"ب{raw}ب") == f"ب{persian}ب", hex(ord(raw))
    for raw in HAMZA_ALEF:  # left to the tokenizer's accent stripping
        assert norm(f"ب{raw}ب") == f"ب{raw}ب"


def test_options_switch_mappings_off():
    assert norm("كتاب علي", persian_letters=False) == "كتاب علي"
    assert norm("12 ١٢", digits="keep") == "12 ١٢"
    assert norm("«x» 5%", punctuation=False) == "«x» ۵%"
    assert norm("مُحَمَّد ـ", remove_diacritics=False) == "مُحَمَّد ـ"
    assert norm("ﻻ １", compatibility_forms=False) == "ﻻ １"
    assert norm("a\n\n b", keep_newlines=False) == "a b"
    assert norm("a \n\n b") == "a\nb"
    assert norm("a\u2029b") == "a\nb"


def test_zwnj_modes():
    text = "\u200cمی\u200c\u200cروم \u200cکتاب\u200c ها نهج\u200c\u00adالبلاغه این\u00adگونه\u200c"
    assert norm(text) == f"می{ZWNJ}روم کتاب ها نهج{ZWNJ}البلاغه این{ZWNJ}گونه"
    assert norm(text, zwnj="remove") == "میروم کتاب ها نهجالبلاغه اینگونه"
    assert norm(text, zwnj="space") == "می روم کتاب ها نهج البلاغه این گونه"
    assert norm(ZWNJ * 3) == ""
    for config in ("keep", "remove", "space"):
        normalizer = Normalizer(NormalizerConfig(zwnj=config))
        assert normalizer.normalize_word(text) == normalizer(text).text


def test_offsets_of_a_mixed_string():
    text = "كِتابِ ﻻ  «۱۲»\u200f"
    n = N(text)
    assert n.text == 'کتاب لا "۱۲"'
    assert len(n.starts) == len(n.ends) == len(n.text)
    # ک is original 0, ِ (1) deleted, ت 2, ا 3, ب 4, ِ (5) deleted, space 6
    assert list(zip(n.starts, n.ends))[:5] == [(0, 1), (2, 3), (3, 4), (4, 5), (6, 7)]
    assert (n.starts[5], n.ends[5]) == (n.starts[6], n.ends[6]) == (7, 8)  # ﻻ -> ل ا
    assert (n.starts[7], n.ends[7]) == (8, 10)  # two spaces collapsed into one
    assert n.span_to_original(0, 4) == (0, 5)  # the trailing kasra is not part of the word
    assert text[slice(*n.span_to_original(0, 4))] == "كِتابِ"[:5]
    assert n.span_to_original(5, 7) == (7, 8)
    assert n.span_to_original(8, 12) == (10, 14)
    assert text[slice(*n.span_to_original(8, 12))] == "«۱۲»"  # the RLM after it is not included
    assert n.span_to_original(3, 3) == (4, 4)
    assert n.span_to_original(12, 12) == (14, 14)
    assert Normalized("", [], []).span_to_original(0, 0) == (0, 0)
    for bad in [(-1, 2), (3, 2), (0, 13)]:
        with pytest.raises(ValueError):
            n.span_to_original(*bad)


def test_every_output_character_is_known_to_the_vocabulary():
    """What the normaliser produces, seen through the tokenizer's own lowercasing and accent stripping,
    is made of single characters of the vocabulary (so no word becomes [UNK] for a character)."""
    if not VOCAB.exists():
        pytest.skip("vocabulary not present")
    known = {
        tok[2:] if tok.startswith("##") else tok
        for tok in VOCAB.read_text(encoding="utf-8").split("\n")
        if len(tok.removeprefix("##")) == 1
    }

    def seen_by_tokenizer(ch: str) -> str:
        decomposed = unicodedata.normalize("NFD", ch.lower())
        return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")

    samples = (
        "كتابي ى ة ۀ ە ھ ہ ٱ 0123456789 ٠١٢٣٤٥٦٧٨٩ «» “” ‘’ % _ | ـ ً ٌ ٍ َ ُ ِ ّ ْ ٰ ﻻ ﷲ ﻣﺎ ﺍﻳﻦ "
        "رئیس مسئول آمد تأکید مؤسسه إسلام ٫ ٬ ، ؛ ؟ ٪ … - – — ( ) [ ] : . ! ? \" ' / *"
    )
    if SEED.exists():
        samples += SEED.read_text(encoding="utf-8")
    out = N(samples).text
    missing = {c for c in out if c not in " \n" + ZWNJ and not all(x in known for x in seen_by_tokenizer(c))}
    assert not missing, sorted(missing)


def test_normalize_word_matches_full_normalisation_and_is_idempotent():
    for w in ["", " ", "ـ", "\u200f", "می\u200cروم", " ﻻ\u200c ", "a\nb", "١٢٫٥%"]:
        assert N.normalize_word(w) == N(w).text.replace("\n", " ")
        assert N.normalize_word(N.normalize_word(w)) == N.normalize_word(w)
    assert N.normalize_word("ـ") == ""  # a word with nothing left: no piece, label O


def test_normalizer_pickles_and_shares_tables():
    """Data loaders and datasets.map(num_proc=...) pickle the normaliser."""
    restored = pickle.loads(pickle.dumps(Normalizer(NormalizerConfig(zwnj="space"))))
    assert restored.config.zwnj == "space"
    assert restored("ك‌ﻻ 1").text == "ک لا ۱"
    assert Normalizer()._table is Normalizer(NormalizerConfig())._table


def test_real_tokenizer_no_unk_and_zwnj_default():
    """With the real tokenizer: the seed report has no [UNK] after normalisation, and "keep" costs fewer
    pieces than "space" on ZWNJ words (the reason for the default)."""
    transformers = pytest.importorskip("transformers")
    tok = transformers.AutoTokenizer.from_pretrained(str(VOCAB.parent))
    assert len(tok) == 100_000
    raw = "كتاب 12% «سلام» ﻻ"
    assert "[UNK]" in tok.tokenize(raw)
    assert "[UNK]" not in tok.tokenize(N(raw).text)
    if SEED.exists():
        assert "[UNK]" not in tok.tokenize(N(SEED.read_text(encoding="utf-8")).text)
    words = ["می\u200cشود", "تیم\u200cهای", "رئیس\u200cجمهور", "سرمایه\u200cگذاری", "بین\u200cالمللی"]
    space = Normalizer(NormalizerConfig(zwnj="space"))
    keep_pieces = sum(len(tok.tokenize(N.normalize_word(w))) for w in words)
    space_pieces = sum(len(tok.tokenize(space.normalize_word(w))) for w in words)
    assert keep_pieces == len(words) < space_pieces


# ------------------------------------------------------------------------------------------- properties

ALPHABET = (
    "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیآأإؤئءةۀ"  # Persian
    "يىكەھ"  # Arabic variants
    "abcXYZ.,:;!?()-_%|«»“”\"'"  # ASCII and quotes
    "0123456789٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬"  # digits
    "\u064b\u064e\u064f\u0650\u0651\u0652\u0670\u0654"  # harakat
    "\u0640"  # kashida
    "\u200c\u00ad\u200d\u200b"  # ZWNJ, soft hyphen, ZWJ, ZWSP
    " \u00a0\u2009\t\n\r\u2029"  # spaces and line breaks
    "\u200e\u200f\u202a\u202c\u2066\u2069\u061c"  # bidi controls
    "😀👍🏽\ufe0f"  # emoji
    "ﻻﷲﷺﻣﺎﹰ１ﬁ…"  # compatibility forms
)
# A small alphabet too, so that runs of the interesting characters (ZWNJ next to a deleted mark next to
# a space, a ligature next to kashida) are frequent.
DENSE = "بa ﻻ\u200c\u00ad\u200e\n\u0640\u064e\u00a0ك1"
texts = st.one_of(st.text(alphabet=ALPHABET, max_size=40), st.text(alphabet=DENSE, max_size=25))
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONFIGS = [NormalizerConfig(), NormalizerConfig(zwnj="space"), NormalizerConfig(zwnj="remove", keep_newlines=False)]

_EDGE = " \n" + ZWNJ


def _groups(n: Normalized):
    """Maximal runs of normalised characters that come from the same original span."""
    i = 0
    while i < len(n.text):
        j = i + 1
        while j < len(n.text) and (n.starts[j], n.ends[j]) == (n.starts[i], n.ends[i]):
            j += 1
        yield i, j
        i = j


@PROPERTY_SETTINGS
@given(texts, st.sampled_from(CONFIGS))
def test_offset_map_properties(original, config):
    norm = Normalizer(config)
    n = norm(original)
    L = len(n.text)
    # shape, bounds and monotonicity
    assert len(n.starts) == len(n.ends) == L
    for i in range(L):
        assert 0 <= n.starts[i] < n.ends[i] <= len(original)
        if i:
            same = (n.starts[i], n.ends[i]) == (n.starts[i - 1], n.ends[i - 1])
            assert same or n.ends[i - 1] <= n.starts[i]
    # no edge white space or ZWNJ, no doubled white space or ZWNJ
    assert n.text == n.text.strip(_EDGE)
    for a, b in zip(n.text, n.text[1:]):
        assert not (a in _EDGE and b in _EDGE)
    # each group of characters is what its own original span normalises to; white space and ZWNJ come
    # from runs that normalise to nothing on their own (edges are stripped)
    covered = set()
    for a, b in _groups(n):
        s, e = n.starts[a], n.ends[a]
        covered.update(range(s, e))
        if n.text[a] in _EDGE:
            assert b - a == 1 and norm(original[s:e]).text == ""
        else:
            assert norm(original[s:e]).text == n.text[a:b]
    # a collapsed run maps to the whole run: every white-space-like (ZWNJ-like) character between the
    # neighbouring groups lies inside the span of the space (ZWNJ) that stands for it
    groups = list(_groups(n))
    for g, (a, b) in enumerate(groups):
        if n.text[a] not in _EDGE:
            continue
        lo = n.ends[groups[g - 1][0]]
        hi = n.starts[groups[g + 1][0]]
        for j in range(lo, hi):
            if norm("a" + original[j] + "a").text[1:-1] in ((ZWNJ,) if n.text[a] == ZWNJ else (" ", "\n")):
                assert n.starts[a] <= j < n.ends[a]
    # what no character maps to normalises to nothing by itself (deleted, or collapsed edges)
    for j in set(range(len(original))) - covered:
        assert norm(original[j]).text == ""
    # idempotence, and the fast path agrees
    assert norm(n.text).text == n.text
    assert norm.normalize_word(original) == n.text.replace("\n", " ")


@PROPERTY_SETTINGS
@given(texts, st.data())
def test_every_slice_maps_to_an_original_slice_that_normalises_back(original, data):
    n = N(original)
    bounds = [a for a, _ in _groups(n)] + [len(n.text)]  # positions that do not cut an expansion
    pairs = [(s, e) for i, s in enumerate(bounds) for e in bounds[i:]]
    if len(pairs) > 60:
        pairs = data.draw(st.lists(st.sampled_from(pairs), min_size=20, max_size=60))
    for s, e in pairs:
        a, b = n.span_to_original(s, e)
        assert 0 <= a <= b <= len(original)
        # Normalising the original slice gives the normalised slice, less the white space / ZWNJ at its
        # edges (a slice is normalised as a text of its own, and texts are stripped).
        assert N(original[a:b]).text == n.text[s:e].strip(_EDGE)
    # Any slice, even one that cuts an expansion (ﻻ -> ل|ا), lies inside its original's normalisation.
    for _ in range(10):
        s = data.draw(st.integers(0, len(n.text)))
        e = data.draw(st.integers(s, len(n.text)))
        a, b = n.span_to_original(s, e)
        assert n.text[s:e].strip(_EDGE) in N(original[a:b]).text
