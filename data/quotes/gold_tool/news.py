"""Access to the raw scraped news articles by id, and the one definition of the text that is annotated.

Annotations name articles by id (``fars-1-0012`` = ``fars/fars-news-1.json``, list index 12) and every
offset in the gold is an offset into one exact string built from the raw JSON.  This module finds the raw
data (``$PARSTAG_DATA/news`` or ``../shared/data/news``), loads each news file once, and builds that string
(``article_text``) without any normalisation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from gold_tool.schema import ROOT, AnnotationError, parse_id

SOURCES = {"fars": "fars-news-{n}.json", "varzesh3": "varzesh3-{n}.json"}


def news_dir_default() -> Path:
    """``$PARSTAG_DATA/news`` if set, else ``<repo>/../shared/data/news``."""
    env = os.environ.get("PARSTAG_DATA")
    if env and (Path(env) / "news").is_dir():
        return Path(env) / "news"
    return ROOT.parent / "shared" / "data" / "news"


def article_text(article: dict) -> str:
    """The text that is annotated: title, abstract and paragraphs, unchanged.

    ``title + "\\n\\n" + abstract + "\\n\\n" + "\\n".join(paragraphs)``.  Blocks are always present, even when
    empty, so that the formula never depends on the content.
    """
    return article["title"] + "\n\n" + article["abstract"] + "\n\n" + "\n".join(article["paragraphs"])


class News:
    """Lazy access to the raw articles by id (``fars-1-0012`` = fars-news-1.json, list index 12)."""

    def __init__(self, news_dir: Path):
        self.news_dir = Path(news_dir)
        self._files: dict[tuple[str, int], list[dict]] = {}

    def available(self) -> bool:
        return self.news_dir.is_dir()

    def article(self, article_id: str) -> dict:
        source, n, index = parse_id(article_id)
        key = (source, n)
        if key not in self._files:
            path = self.news_dir / source / SOURCES[source].format(n=n)
            if not path.is_file():
                raise AnnotationError(f"{article_id}: no such news file {path}")
            with open(path, encoding="utf-8") as f:
                self._files[key] = json.load(f)
        articles = self._files[key]
        if not 0 <= index < len(articles):
            raise AnnotationError(f"{article_id}: index {index} out of range (file has {len(articles)} articles)")
        return articles[index]

    def text(self, article_id: str) -> str:
        return article_text(self.article(article_id))
