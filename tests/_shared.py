"""Where the real corpora are, for the tests that read them, and the marker that skips those tests without them.

The real ARMAN / PEYMA / news files live in ../shared/data next to the repository and are never copied into
it (licences), so any test that reads them must be skipped, with the reason, where that directory is absent.
Test modules import these as ``from _shared import SHARED, needs_shared`` (tests/ is on sys.path: pytest's
default "prepend" import mode puts the folder of a test module without ``__init__.py`` there).
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"real corpora not found at {SHARED}")

__all__ = ["SHARED", "needs_shared"]
