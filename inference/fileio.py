"""Output files that are never half-written.

A killed run, a full disk or an exception must leave either the old file or the new one, never a
truncated mix: every output (tagged JSONL, HTML, reports, training history) is written to a temporary
file in the same directory, which is then renamed over the target (``os.replace`` is atomic within a
file system).  Temporary files are created with ``open(..., "x")`` rather than ``mkstemp`` so that they
get the umask's permissions like any other file (mkstemp makes them 0600).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path


def temp_beside(path: str | Path) -> Path:
    """A fresh temporary name in the directory of ``path`` (hidden, unique per process and call)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file in the same directory and ``os.replace``."""
    path = Path(path)
    tmp = temp_beside(path)
    try:
        with open(tmp, "x", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def fresh_tmp_dir(directory: str | Path) -> Path:
    """``directory`` + ``.tmp``, emptied: where a directory (a saved model) is written before :func:`replace_dir`."""
    tmp = Path(directory).with_name(Path(directory).name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    return tmp


def replace_dir(tmp: str | Path, directory: str | Path) -> None:
    """Put the complete directory ``tmp`` in the place of ``directory``."""
    # Swap, never delete first: a crash at any point leaves a complete directory (old or new) on disk.
    directory = Path(directory)
    old = directory.with_name(directory.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if directory.exists():
        directory.rename(old)
    Path(tmp).rename(directory)
    if old.exists():
        shutil.rmtree(old)
