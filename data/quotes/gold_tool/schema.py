"""What a gold record is made of, independent of how it is built: the vocabulary every other module shares.

The builder, the validator, the review helpers and tests/test_quote_gold.py must agree on one article-id
scheme (``fars-1-0012``), one split rule (below), one set of span labels, quote kinds and entity types, and
one place on disk for the annotations, the gold files and the README; this module is that single
definition, together with the error type every stage raises.

Splits.  ``dev`` and ``test`` are a function of the article id (``split_of``), so annotators never coordinate
them.  ``train`` is the other way round: a batch file that says ``split: train`` at its top puts all its
articles in gold/train.jsonl, whatever their ids hash to.  Training batches are chosen as such before anyone
annotates them (they exist to teach the model where the rule annotator errs), and the builder refuses an
article that another batch already holds, so the three splits stay article-disjoint.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent  # data/quotes/
ROOT = HERE.parent.parent  # the repository root
ANNOTATION_DIR = HERE / "annotations"
GOLD_DIR = HERE / "gold"
README = HERE / "README.md"
TRAIN = "train"
EVAL_SPLITS = ("dev", "test")  # what split_of hashes an id to
SPLITS = (TRAIN,) + EVAL_SPLITS  # every gold file, gold/<split>.jsonl
LABELS = ("QUOTE", "SPEAKER", "CUE")
KINDS = ("direct", "indirect")
# Same list and order as parstag.inference.labels.ENTITY_TYPES (tests/test_quote_gold.py checks this);
# copied so that build_gold.py runs without the package installed.
ENTITY_TYPES = ("PER", "ORG", "LOC", "FAC", "PRO", "EVE", "DAT", "TIM", "MON", "PCT")
ID_RE = re.compile(r"^(fars|varzesh3)-(\d+)-(\d{4})$")


class AnnotationError(ValueError):
    """A source annotation that cannot be resolved or breaks a rule; the message says where."""


def parse_id(article_id: str) -> tuple[str, int, int]:
    m = ID_RE.match(article_id)
    if not m:
        raise AnnotationError(f"{article_id!r}: article id must look like fars-1-0012 or varzesh3-3-0045")
    return m.group(1), int(m.group(2)), int(m.group(3))


def split_of(article_id: str) -> str:
    """dev or test, from a hash of the id: stable, needs no coordination between annotators."""
    return EVAL_SPLITS[hashlib.sha1(article_id.encode("utf-8")).digest()[0] % 2]


def record_split(article_id: str, batch_split: str | None) -> str:
    """The split of an article annotated in a batch whose top-level ``split`` is ``batch_split``."""
    if batch_split is None:
        return split_of(article_id)
    if batch_split != TRAIN:
        raise AnnotationError(f"top-level split must be {TRAIN!r} or absent (dev/test come from the id), "
                              f"got {batch_split!r}")
    return TRAIN
