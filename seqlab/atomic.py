"""Files written whole or not at all.

A file is written to a temporary name beside its destination, flushed to disk
and renamed over it: ``os.replace`` within one folder is atomic, so a reader
(or a run resumed after a crash) sees the old file or the new one, never half
of one; :func:`remove_stale_temporaries` clears what killed writers left.
Reports, metrics, language models and lexicons are written this way;
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
    tmp = temporary_name(path)
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


def temporary_name(path: str | Path) -> Path:
    """Where :func:`write_atomic` (and the checkpoint writer) stage ``path``: ``.NAME.tmp-PID`` beside it."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_temporaries(folder: str | Path, name: str = "*") -> int:
    """Delete the ``.NAME.tmp-PID`` files in ``folder`` whose writing process is gone; returns how many.

    ``name`` limits it to the temporaries of one file (for a folder seqlab does not own).

    A process killed while writing leaves its temporary file behind (the
    destination is untouched). Files of live processes (another rank, another
    run writing here right now) are kept.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    for tmp in folder.glob(f".{name}.tmp-*"):
        pid = tmp.name.rpartition(".tmp-")[2]
        if pid.isdigit() and tmp.is_file() and not tmp.is_symlink() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed
