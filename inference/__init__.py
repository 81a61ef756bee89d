"""parstag.inference: everything tagging needs (labels, normalisation, segmentation, model, Tagger).

Importing this package is light: ``Tagger`` (which pulls in torch and transformers) is loaded on first
access, so ``parstag --help`` and the pure-Python modules stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tagger import Tagger

__all__ = ["Tagger"]


def __getattr__(name: str) -> Any:
    if name == "Tagger":
        from .tagger import Tagger

        return Tagger
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
