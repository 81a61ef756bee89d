"""Tagging throughput of parstag's Tagger against the transformers token-classification pipeline.

The question: how much faster is ``Tagger`` (sentence packing with block-diagonal attention, length
bucketing, no per-token Python) than the obvious ``transformers.pipeline("token-classification",
aggregation_strategy="simple", batch_size=16)`` on the same model and the same news articles, in fp32 and
with torch dynamic int8, and does it find the same entities?

* Model: bert-base (``BertConfig()`` defaults, vocabulary 100,000, the ParsBERT v1 tokenizer), random
  weights from a fixed seed (speed does not depend on weight values), or a trained model (``--model``).
* Articles: ../shared/data/news (Fars, then Varzesh3), ``text = "\\n".join(paragraphs)``.  The pipeline gets
  the articles' sentences (split by parstag's own segmenter, untimed) as strings; the Tagger gets whole
  articles and its time includes segmentation, normalisation and tokenisation.
* Tokens/s: the same numerator for every variant, the real (non-special, non-pad) pieces of the articles.
* The machines are shared and their speed drifts, so the variants run interleaved, slice by slice,
  in one process, and only ratios measured in this process are meaningful.
* Agreement: the Tagger's fp32 entities against the pipeline's with ``aggregation_strategy="first"`` fed
  the same normalised words (``is_split_into_words=True``, so both see identical pieces), as entity-set
  F1 over (sentence, type, first word, last word); int8 against fp32 over (article, type, start, end).
  With random weights the class probabilities are near ties, so int8 agreement is a lower bound; with
  ``--model`` (a trained model) the script also scores PEYMA dev entity F1 in fp32 and int8.
* Peak RSS: a child process that only builds the fp32 Tagger and tags the articles (VmHWM).

Usage: ``python bench/tag_throughput.py [--articles N] [--quick] [--model DIR] [--batch-size N]``.
The LAST line printed is one JSON object with the ratios and tokens/s.
"""

from __future__ import annotations

import argparse
import bisect
import copy
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEWS = ROOT.parent / "shared" / "data" / "news"
TOKENIZER = ROOT / "data" / "tokenizers" / "parsbert-v1"


def load_articles(n: int) -> list[dict]:
    out = []
    for source in ("fars", "varzesh3"):
        for path in sorted((NEWS / source).glob("*.json")):
            for i, art in enumerate(json.loads(path.read_text(encoding="utf-8"))):
                text = "\n".join(p for p in art.get("paragraphs") or [] if p and p.strip())
                if text.strip():
                    out.append({"id": f"{path.stem}:{i}", "text": text})
                if len(out) >= n:
                    return out
    return out


def build(args):
    import torch
    from transformers import BertConfig

    from parstag.inference.labels import ENTITY_TYPES, bio_labels
    from parstag.inference.modeling import ParstagForTokenClassification, load_model, load_tokenizer
    from parstag.inference.normalize import Normalizer, NormalizerConfig

    if args.model:
        model, tok = load_model(args.model).eval(), load_tokenizer(args.model)
    else:
        labels = bio_labels(ENTITY_TYPES)
        config = BertConfig(vocab_size=100_000, id2label=dict(enumerate(labels)), label2id={x: i for i, x in enumerate(labels)})
        config.parstag = {"normalizer": {}, "tasks": ["ner"], "max_length": 512}
        torch.manual_seed(args.seed)
        model, tok = ParstagForTokenClassification(config).eval(), load_tokenizer(TOKENIZER)
    normalizer = Normalizer(NormalizerConfig.from_dict((getattr(model.config, "parstag", None) or {}).get("normalizer")))
    return model, tok, normalizer


def _status_mb(field: str) -> int:
    # VmHWM is the high-water mark of this process's own memory map.  getrusage's ru_maxrss is not:
    # Linux carries the parent's high-water mark across fork+exec, so a child would report the parent's.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return -1


def rss_child(args) -> tuple[int, int]:
    """RSS after loading the fp32 Tagger and peak RSS while tagging the articles (MB), in a fresh process."""
    cmd = [sys.executable, __file__, "--rss-child", "--articles", str(args.articles), "--batch-size", str(args.batch_size)]
    if args.model:
        cmd += ["--model", args.model]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    loaded, peak = out.stdout.strip().splitlines()[-1].split()
    return int(loaded), int(peak)


def set_f1(a: set, b: set) -> float:
    return 1.0 if not a and not b else 2 * len(a & b) / (len(a) + len(b))


def peyma_f1(model, tok, normalizer, int8_model, batch_size) -> dict:
    from parstag.inference.predict import WordPredictor
    from parstag.training.corpora import CORPORA, load_corpus
    from parstag.training.evaluate import restrict_types, score_tags

    dev = load_corpus("peyma", "dev")
    words, gold = list(dev["tokens"]), list(dev["ner_tags"])
    out = {}
    for name, m in (("fp32", model), ("int8", int8_model)):
        pred = [p.ner_tags for p in WordPredictor(m, tok, normalizer, "cpu", batch_size).predict(words)]
        pred, _ = restrict_types(pred, CORPORA["peyma"].annotated_types)
        out[name] = round(100 * score_tags(gold, pred)["micro"]["f1"], 2)
    out["delta"] = round(out["int8"] - out["fp32"], 2)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", type=int, default=32, help="number of news articles (default 32)")
    p.add_argument("--quick", action="store_true", help="8 articles, 2 slices: a smoke run")
    p.add_argument("--model", help="a trained parstag model (default: random bert-base)")
    p.add_argument("--batch-size", type=int, default=16, help="Tagger rows per forward pass (default 16)")
    p.add_argument("--slices", type=int, default=4, help="interleaving rounds (default 4)")
    p.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-rss", action="store_true", help="skip the peak-RSS child process")
    p.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.articles, args.slices = min(args.articles, 8), 2
    warnings.filterwarnings("ignore")

    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    if args.threads:
        torch.set_num_threads(args.threads)
    from parstag.inference.export import quantize_dynamic_int8
    from parstag.inference.segment import join_words, split_sentences, tokenize_words
    from parstag.inference.tagger import Tagger

    articles = load_articles(args.articles)
    model, tok, normalizer = build(args)
    fp32 = Tagger(model, tok, normalizer, device="cpu", batch_size=args.batch_size)
    if args.rss_child:
        loaded = _status_mb("VmRSS")
        list(fp32.stream(articles))
        print(loaded, _status_mb("VmHWM"))
        return 0
    int8_model = quantize_dynamic_int8(copy.deepcopy(model))
    int8 = Tagger(int8_model, tok, normalizer, device="cpu", batch_size=args.batch_size)
    # The pipeline gets a BertForTokenClassification that shares our modules (same weights, no copy).
    bert_tc = transformers.BertForTokenClassification(model.config).eval()
    bert_tc.bert, bert_tc.classifier = model.bert, model.classifier
    pipe = transformers.pipeline(
        "token-classification", model=bert_tc, tokenizer=tok, aggregation_strategy="simple", batch_size=16, device="cpu"
    )

    # Sentences for the pipeline (raw strings) and for the agreement check (normalised words).
    per_article = []
    for art in articles:
        text, sents = art["text"], []
        for s, e in split_sentences(text):
            spans = tokenize_words(text, s, e)
            sents.append((text[s:e], spans, [normalizer.normalize_word(text[a:b]) for a, b in spans]))
        per_article.append(sents)
    all_words = [w for sents in per_article for _, _, w in sents if w]
    enc = tok(all_words, is_split_into_words=True, add_special_tokens=False)["input_ids"]
    n_tokens = sum(len(x) for x in enc)
    print(f"{len(articles)} articles, {len(all_words)} sentences, {n_tokens} real tokens; "
          f"torch threads {torch.get_num_threads()}; batch size {args.batch_size}", file=sys.stderr)

    # Warm-up (first calls allocate and pick kernels), then interleaved timing.
    warm = articles[:2]
    fp32(warm), int8(warm), pipe([s for s, _, _ in per_article[0]][:8])
    times = {"pipeline": 0.0, "fp32": 0.0, "int8": 0.0}
    results = {"fp32": [], "int8": []}
    k = max(1, -(-len(articles) // args.slices))
    for lo in range(0, len(articles), k):
        chunk, texts = articles[lo : lo + k], [s for sents in per_article[lo : lo + k] for s, _, w in sents if w]
        t = time.perf_counter()
        pipe(texts)
        times["pipeline"] += time.perf_counter() - t
        for name, tagger in (("fp32", fp32), ("int8", int8)):
            t = time.perf_counter()
            results[name] += tagger(chunk)
            times[name] += time.perf_counter() - t
        print(f"  slice {lo // k + 1}: " + ", ".join(f"{n} {v:.1f}s" for n, v in times.items()), file=sys.stderr)
    tps = {name: n_tokens / t for name, t in times.items()}

    # Agreement with the pipeline's "first" aggregation on identical pieces.
    first = transformers.pipeline(
        "token-classification", model=bert_tc, tokenizer=tok, aggregation_strategy="first", batch_size=16, device="cpu"
    )
    # ZWNJ removed: the tokenizer deletes it anyway (same pieces), but left in, it makes the pipeline's
    # subword test (piece length != length of its text) glue a ZWNJ word to the word before it.
    flat = [
        (a, i, [w.replace("\u200c", "") for w in words])
        for a, sents in enumerate(per_article) for i, (_, _, words) in enumerate(sents) if words
    ]
    pipe_spans, ours = set(), set()
    for (a, i, words), ents in zip(flat, first([w for _, _, w in flat], is_split_into_words=True)):
        starts = [ws for ws, _ in join_words(words)[1]]
        for e in ents:
            first_w = bisect.bisect_right(starts, e["start"]) - 1
            last_w = bisect.bisect_right(starts, e["end"] - 1) - 1
            pipe_spans.add((a, i, e["entity_group"], first_w, last_w))
    for a, (res, sents) in enumerate(zip(results["fp32"], per_article)):
        by_start, by_end = {}, {}
        for i, (_, spans, _) in enumerate(sents):
            for j, (s, e) in enumerate(spans):
                by_start[s], by_end[e] = (i, j), (i, j)
        for ent in res["entities"]:
            (i, j0), (_, j1) = by_start[ent["start"]], by_end[ent["end"]]
            ours.add((a, i, ent["type"], j0, j1))
    key = lambda r: {(r["id"], e["type"], e["start"], e["end"]) for e in r["entities"]}  # noqa: E731
    fp32_set = set().union(*(key(r) for r in results["fp32"]))
    int8_set = set().union(*(key(r) for r in results["int8"]))

    summary = {
        "fp32_ratio": round(tps["fp32"] / tps["pipeline"], 2),
        "int8_ratio": round(tps["int8"] / tps["pipeline"], 2),
        "fp32_tokens_per_s": round(tps["fp32"], 1),
        "int8_tokens_per_s": round(tps["int8"], 1),
        "pipeline_tokens_per_s": round(tps["pipeline"], 1),
        "fp32_articles_per_s": round(len(articles) / times["fp32"], 3),
        "int8_articles_per_s": round(len(articles) / times["int8"], 3),
        "pipeline_articles_per_s": round(len(articles) / times["pipeline"], 3),
        "fp32_vs_pipeline_first_entity_f1": round(set_f1(ours, pipe_spans), 4),
        "fp32_vs_pipeline_first_identical": ours == pipe_spans,
        "int8_vs_fp32_entity_f1": round(set_f1(fp32_set, int8_set), 4),
        "entities_fp32": len(fp32_set),
        "entities_pipeline_first": len(pipe_spans),
        "articles": len(articles),
        "real_tokens": n_tokens,
        "batch_size": args.batch_size,
        "threads": torch.get_num_threads(),
        "weights": args.model or f"random bert-base (seed {args.seed})",
    }
    if args.model:
        summary["peyma_dev_f1"] = peyma_f1(model, tok, normalizer, int8_model, args.batch_size)
    if not args.no_rss:
        del pipe, first, int8, int8_model, bert_tc
        summary["rss_mb_fp32_loaded"], summary["peak_rss_mb_fp32_tagging"] = rss_child(args)
    for name in ("fp32", "int8"):
        print(f"{name}: {tps[name]:.0f} tokens/s = {tps[name] / tps['pipeline']:.2f}x pipeline "
              f"({tps['pipeline']:.0f} tokens/s)", file=sys.stderr)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
