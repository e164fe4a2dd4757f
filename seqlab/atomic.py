"""Files written whole or not at all.

A file is written to a temporary name beside its destination, flushed to disk
and renamed over it: ``os.replace`` within one folder is atomic, so a reader
(or a run resumed after a crash) sees the old file or the new one, never half
of one. Reports, metrics, language models and lexicons are written this way;
checkpoints go through :class:`~seqlab.lit.checkpoint_io.AtomicCheckpointIO`
and the rebuildable cache entries through
:func:`seqlab.data.disk_cache.write_npy_atomic`.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, fsync it, and rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """:func:`write_atomic` of UTF-8 text."""
    return write_atomic(path, text.encode("utf-8"))
