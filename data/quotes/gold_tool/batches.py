"""Read every annotation batch (annotations/*.yaml) and resolve it into the full, sorted list of gold records.

Several annotators each write their own batch file; the gold is the union of all of them.  This module
checks the shape of each YAML file, refuses an article annotated twice (in two batches, or under two ids
that the raw data holds twice), resolves every article against its raw text, and collects all errors --
each prefixed with its batch file -- before failing, so that one run reports every problem.
"""

from __future__ import annotations

from pathlib import Path

from gold_tool.news import News, article_text
from gold_tool.resolve import resolve_article
from gold_tool.schema import ANNOTATION_DIR, AnnotationError, record_split

ARTICLE_KEYS = {"id", "quotes", "note"}
BATCH_KEYS = {"batch", "annotator", "split", "note", "articles"}


def load_yaml(path: Path):
    import yaml  # pyyaml is a project dependency

    with open(path, encoding="utf-8") as f:
        try:
            return yaml.safe_load(f)
        except yaml.YAMLError as exc:
            raise AnnotationError(f"{path.name}: not valid YAML (wrap every string in single quotes): {exc}")


def load_batches(annotation_dir: Path = ANNOTATION_DIR) -> list[tuple[str, dict, str | None]]:
    """All (batch file name, article entry, the batch's top-level ``split`` or None) triples, in file order."""
    out = []
    files = sorted(annotation_dir.glob("*.yaml")) + sorted(annotation_dir.glob("*.yml"))
    for path in files:
        doc = load_yaml(path)
        if not isinstance(doc, dict) or not isinstance(doc.get("articles"), list):
            raise AnnotationError(f"{path.name}: top level must be a mapping with an 'articles' list")
        for key in ("batch", "annotator"):
            if not doc.get(key):
                raise AnnotationError(f"{path.name}: missing top-level {key!r}")
        unknown = set(doc) - BATCH_KEYS
        if unknown:
            raise AnnotationError(f"{path.name}: unknown top-level keys {sorted(unknown)} (allowed: {sorted(BATCH_KEYS)})")
        try:
            record_split("fars-1-0000", doc.get("split"))
        except AnnotationError as exc:
            raise AnnotationError(f"{path.name}: {exc}") from None
        for art in doc["articles"]:
            if not isinstance(art, dict) or "id" not in art or "quotes" not in art:
                raise AnnotationError(f"{path.name}: every article needs 'id' and 'quotes' (got {art!r:.80})")
            unknown = set(art) - ARTICLE_KEYS
            if unknown:
                raise AnnotationError(f"{path.name}: {art['id']}: unknown keys {sorted(unknown)}")
            out.append((path.name, art, doc.get("split")))
    return out


def build_all(news: News, annotation_dir: Path = ANNOTATION_DIR) -> list[dict]:
    """Resolve every batch; collects all errors before failing."""
    records, errors = [], []
    seen: dict[str, str] = {}
    links: dict[str, str] = {}
    texts: dict[str, str] = {}
    for fname, art, batch_split in load_batches(annotation_dir):
        aid = art["id"]
        if aid in seen:
            errors.append(f"{fname}: {aid} already annotated in {seen[aid]}")
            continue
        seen[aid] = fname
        try:
            raw = news.article(aid)
            text = article_text(raw)
            for other in (links.get(raw.get("link", "")), texts.get(text)):
                if other:
                    raise AnnotationError(f"{aid}: the same article as {other} (duplicate in the raw data); "
                                          f"annotate only one of them")
            links[raw.get("link", "")] = aid
            texts[text] = aid
            records.append(resolve_article(aid, text, art["quotes"], fname, record_split(aid, batch_split)))
        except AnnotationError as exc:
            errors.append(f"{fname}: {exc}")
    if errors:
        raise AnnotationError(f"{len(errors)} error(s):\n" + "\n".join(errors))
    records.sort(key=lambda r: r["id"])
    return records
