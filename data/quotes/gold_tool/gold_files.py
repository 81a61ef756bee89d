"""Write and read the generated gold files, and keep the counts stated in the README in step with them.

gold/train.jsonl, gold/dev.jsonl and gold/test.jsonl are generated, byte for byte, from the resolved records
(one JSON object per line, in id order), and data/quotes/README.md carries a counts block that tests/test_quote_gold.py
asserts.  This module owns both serialisations: the JSONL lines (``gold_lines``, also used by ``--check``),
reading an older snapshot back (for ``--diff``), the counts, and the README block between its markers.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from gold_tool.schema import GOLD_DIR, README, SPLITS, AnnotationError


def counts(records: list[dict]) -> dict:
    """The figures reported in data/quotes/README.md (and asserted by tests/test_quote_gold.py)."""

    def one(recs):
        qs = [q for r in recs for q in r["quotes"]]
        labels = Counter(sp["label"] for r in recs for sp in r["spans"])
        return {
            "articles": len(recs),
            "articles_fars": sum(r["source"] == "fars" for r in recs),
            "articles_varzesh3": sum(r["source"] == "varzesh3" for r in recs),
            "articles_without_quotes": sum(not r["quotes"] for r in recs),
            "quotes": len(qs),
            "direct": sum(q["kind"] == "direct" for q in qs),
            "indirect": sum(q["kind"] == "indirect" for q in qs),
            "speaker_null": sum(q["speaker"] is None for q in qs),
            "cue_null": sum(q["cue"] is None for q in qs),
            "entity_null": sum(q["entity"] is None for q in qs),
            "spans_QUOTE": labels["QUOTE"],
            "spans_SPEAKER": labels["SPEAKER"],
            "spans_CUE": labels["CUE"],
        }

    out = {"all": one(records)}
    for split in SPLITS:
        out[split] = one([r for r in records if r["split"] == split])
    return out


def read_gold(gold_dir: Path = GOLD_DIR) -> list[dict]:
    recs = []
    for split in SPLITS:
        path = Path(gold_dir) / f"{split}.jsonl"
        if path.is_file():
            with open(path, encoding="utf-8") as f:
                recs += [json.loads(line) for line in f if line.strip()]
    return recs


def gold_lines(records: list[dict], split: str) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records if r["split"] == split)


def write_gold(records: list[dict], gold_dir: Path = GOLD_DIR) -> None:
    gold_dir.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        (gold_dir / f"{split}.jsonl").write_text(gold_lines(records, split), encoding="utf-8")


COUNTS_BEGIN = "<!-- counts:begin (written by build_gold.py --write-readme-counts; checked by tests) -->"
COUNTS_END = "<!-- counts:end -->"


def readme_counts(readme: Path = README) -> dict:
    text = readme.read_text(encoding="utf-8")
    i, j = text.find(COUNTS_BEGIN), text.find(COUNTS_END)
    if i == -1 or j == -1:
        raise AnnotationError(f"{readme}: counts markers not found")
    block = text[i + len(COUNTS_BEGIN):j].strip().removeprefix("```json").removesuffix("```")
    return json.loads(block)


def write_readme_counts(c: dict, readme: Path = README) -> None:
    text = readme.read_text(encoding="utf-8")
    i, j = text.find(COUNTS_BEGIN), text.find(COUNTS_END)
    if i == -1 or j == -1:
        raise AnnotationError(f"{readme}: counts markers not found")
    block = "\n```json\n" + json.dumps(c, indent=1) + "\n```\n"
    readme.write_text(text[: i + len(COUNTS_BEGIN)] + block + text[j:], encoding="utf-8")
