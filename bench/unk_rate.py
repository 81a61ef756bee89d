"""[UNK] rate of the ParsBERT v1 tokenizer on PEYMA test and ARMAN test_fold1, before and after normalisation.

    .venv/bin/python bench/unk_rate.py [--data DIR] [--tokenizer DIR] [--top N] [--news N] [--zwnj]

The rate is the share of word pieces that are ``[UNK]`` when each corpus word (as the corpus tokenised
it) is fed to the tokenizer with ``is_split_into_words=True``, raw or through
``Normalizer().normalize_word``.  A character is "responsible" for an [UNK] piece when the word behind
the piece contains it and the character alone tokenizes to [UNK]; each such piece is counted once per
distinct character of its word.  The last line of the output is one JSON object with the four rates.

The corpus parsing here is deliberately minimal (words only, no labels); the real readers live in
parstag.training.corpora.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TOKENIZER = ROOT / "data" / "tokenizers" / "parsbert-v1"


def default_data_dir() -> Path:
    env = os.environ.get("PARSTAG_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def read_words(path: Path, sep: str) -> list[list[str]]:
    """Sentences as word lists from a one-token-per-line file; the token is what precedes the LAST ``sep``."""
    sentences: list[list[str]] = []
    current: list[str] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip():
                if current:
                    sentences.append(current)
                    current = []
                continue
            word, found, _ = line.rpartition(sep)
            current.append(word if found else line)
    if current:
        sentences.append(current)
    return sentences


def measure(tokenizer, sentences: list[list[str]], unk_chars: dict[str, bool], batch: int = 256):
    """(pieces, unk pieces, Counter of responsible characters, Counter of [UNK] words)."""
    unk_id = tokenizer.unk_token_id
    pieces = unks = 0
    chars: Counter = Counter()
    words: Counter = Counter()
    for b in range(0, len(sentences), batch):
        chunk = sentences[b : b + batch]
        enc = tokenizer(chunk, is_split_into_words=True, add_special_tokens=False)
        for k, ids in enumerate(enc["input_ids"]):
            pieces += len(ids)
            word_ids = enc.word_ids(k)
            for pid, wid in zip(ids, word_ids):
                if pid != unk_id:
                    continue
                unks += 1
                word = chunk[k][wid]
                words[word] += 1
                for ch in set(word):
                    if ch not in unk_chars:
                        unk_chars[ch] = tokenizer.tokenize(ch) == [tokenizer.unk_token]
                    if unk_chars[ch]:
                        chars[ch] += 1
    return pieces, unks, chars, words


def describe(ch: str) -> str:
    return f"{ch!r} U+{ord(ch):04X} {unicodedata.name(ch, '?')}"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=None, help="corpus directory (default: $PARSTAG_DATA or ../shared/data)"
    )
    parser.add_argument("--tokenizer", type=Path, default=DEFAULT_TOKENIZER)
    parser.add_argument("--top", type=int, default=10, help="how many responsible characters to list")
    parser.add_argument("--news", type=int, default=0, metavar="N",
                        help="also measure the first N articles of each news file, split with segment.py")
    parser.add_argument("--zwnj", action="store_true", help="also compare the ZWNJ modes (pieces per word)")
    args = parser.parse_args(argv)
    data = args.data or default_data_dir()

    from transformers import AutoTokenizer

    from parstag.inference.normalize import Normalizer

    tokenizer = AutoTokenizer.from_pretrained(str(args.tokenizer))
    # transformers 5 silently ignores BertTokenizerFast(vocab_file=...): make sure the real vocabulary is in.
    assert len(tokenizer) == 100000, f"expected the 100,000-entry ParsBERT v1 vocabulary, got {len(tokenizer)}"

    normalizer = Normalizer()
    corpora = {
        "peyma": (data / "peyma" / "test.txt", "|"),
        "arman": (data / "arman" / "test_fold1.txt", " "),
    }
    rates: dict[str, float] = {}
    unk_chars: dict[str, bool] = {}
    for name, (path, sep) in corpora.items():
        sentences = read_words(path, sep)
        n_words = sum(map(len, sentences))
        t0 = time.perf_counter()
        normalized = [[normalizer.normalize_word(w) for w in s] for s in sentences]
        t_norm = time.perf_counter() - t0
        print(
            f"== {name}: {path} ({len(sentences)} sentences, {n_words} words; "
            f"normalize_word {t_norm * 1e6 / n_words:.2f} us/word)"
        )
        for stage, sents in (("before", sentences), ("after", normalized)):
            pieces, unks, chars, words = measure(tokenizer, sents, unk_chars)
            rate = unks / pieces if pieces else 0.0
            rates[f"{name}_{stage}"] = rate
            print(f"  {stage:6s} normalisation: {unks} [UNK] / {pieces} pieces = {100 * rate:.3f}%")
            for ch, k in chars.most_common(args.top):
                print(f"      {k:6d}  {describe(ch)}")
            if stage == "after" and words:
                print("    [UNK] words after:", ", ".join(f"{w!r}x{k}" for w, k in words.most_common(args.top)))

    if args.news:
        news_rates(tokenizer, data, args, unk_chars)
    if args.zwnj:
        zwnj_modes(tokenizer, data, corpora)
    print(json.dumps({k: round(v, 6) for k, v in rates.items()}))
    return rates


def news_rates(tokenizer, data: Path, args, unk_chars: dict[str, bool]) -> None:
    """The same on raw news (the text the tagger is for), split into words by segment.tokenize_words."""
    from parstag.inference.normalize import Normalizer
    from parstag.inference.segment import split_sentences, tokenize_words

    normalizer = Normalizer()
    sentences: list[list[str]] = []
    n_articles = 0
    for path in sorted((data / "news").glob("*/*.json")):
        articles = json.loads(path.read_text(encoding="utf-8"))[: args.news]
        n_articles += len(articles)
        for a in articles:
            parts = [a.get("title") or "", a.get("abstract") or ""] + [p or "" for p in a.get("paragraphs") or []]
            text = "\n".join(parts)
            for s, e in split_sentences(text):
                sentences.append([text[ws:we] for ws, we in tokenize_words(text, s, e)])
    n_words = sum(map(len, sentences))
    print(f"== news: {data / 'news'} ({n_articles} articles, {len(sentences)} sentences, {n_words} words)")
    normalized = [[normalizer.normalize_word(w) for w in s] for s in sentences]
    for stage, sents in (("before", sentences), ("after", normalized)):
        pieces, unks, chars, words = measure(tokenizer, sents, unk_chars)
        print(f"  {stage:6s} normalisation: {unks} [UNK] / {pieces} pieces = {100 * unks / max(pieces, 1):.3f}%")
        for ch, k in chars.most_common(args.top):
            print(f"      {k:6d}  {describe(ch)}")
        if stage == "after" and words:
            print("    [UNK] words after:", ", ".join(f"{w!r}x{k}" for w, k in words.most_common(args.top)))


def zwnj_modes(tokenizer, data: Path, corpora) -> None:
    """Pieces per word, and share of single-piece words, for the words that hold an inner ZWNJ."""
    from parstag.inference.normalize import ZWNJ, Normalizer, NormalizerConfig

    path, sep = corpora["arman"]  # PEYMA replaced its ZWNJs with spaces
    words = [w for s in read_words(path, sep) for w in s if ZWNJ in w.strip(ZWNJ)]
    print(f"== ZWNJ modes on the {len(words)} ARMAN test_fold1 words with an inner ZWNJ")
    for mode in ("keep", "remove", "space"):
        normalizer = Normalizer(NormalizerConfig(zwnj=mode))
        counts = [len(tokenizer.tokenize(normalizer.normalize_word(w))) for w in words]
        single = sum(c == 1 for c in counts) / len(counts)
        print(f"  zwnj={mode:6s}: {sum(counts) / len(counts):.3f} pieces/word, {100 * single:.1f}% single-piece")


if __name__ == "__main__":
    main()
