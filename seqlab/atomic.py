"""Files written whole or not at all.

A file is written to a temporary name beside its destination, flushed to disk
and renamed over it: ``os.replace`` within one folder is atomic, so a reader
(or a run resumed after a crash) sees the old file or the new one, never half
of one; :func:`remove_stale_temporaries` clears what killed writers left.
Everything seqlab writes goes through :class:`AtomicFile`: reports,
metrics, language models, lexicons, checkpoints, cache entries and
transcription output.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class AtomicFile:
    """A file written under a temporary name beside ``path`` and renamed over it by :meth:`commit`.

    The one atomic writer of seqlab: reports, metrics, language models,
    lexicons, checkpoints (:class:`~seqlab.lit.checkpoint_io.AtomicCheckpointIO`),
    cache entries (:mod:`seqlab.data.disk_cache`) and ``seqlab transcribe
    --output`` all go through it. Leaving the ``with`` block without a commit
    (an error, Ctrl-C, a run that failed) removes the temporary file: the old
    file stays, or there is none.

    Args:
        path: the destination (its folder is created).
        mode: ``"wb"`` or ``"w"`` (text, UTF-8); None opens nothing, for a
            writer that takes a file name (an exporter): it writes ``tmp``.
        fsync: flush to disk before the rename (off for cache entries, which
            are rebuilt when damaged).

    >>> with AtomicFile("out.txt", "w") as f:
    ...     f.file.write("done\n")
    ...     f.commit()
    """

    def __init__(self, path: str | Path, mode: str | None = "wb", fsync: bool = True) -> None:
        if mode not in ("wb", "w", None):
            raise ValueError(f"AtomicFile writes whole files: mode 'wb', 'w' or None, got {mode!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = temporary_name(self.path)
        self.fsync = fsync
        self.file = None if mode is None else open(self.tmp, mode, encoding="utf-8" if mode == "w" else None)  # noqa: SIM115
        self.committed = False

    def commit(self) -> Path:
        """Flush what was written and rename it over ``path``."""
        if self.file is not None:
            self.file.flush()
            if self.fsync:
                os.fsync(self.file.fileno())
            self.file.close()
        elif self.fsync:
            with open(self.tmp, "rb") as f:
                os.fsync(f.fileno())
        os.replace(self.tmp, self.path)
        self.committed = True
        return self.path

    def discard(self) -> None:
        """Remove the temporary file (nothing happens to ``path``)."""
        try:
            if self.file is not None:
                self.file.close()
        except OSError:  # flushing a discarded file may fail (disk full): it is discarded anyway
            pass
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, *exc) -> None:
        if not self.committed:
            self.discard()


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, fsync it, and rename it over ``path``."""
    with AtomicFile(path) as f:
        f.file.write(data)
        return f.commit()


def write_text_atomic(path: str | Path, text: str) -> Path:
    """:func:`write_atomic` of UTF-8 text."""
    return write_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | Path, data: Any, sort_keys: bool = False) -> Path:
    """:func:`write_text_atomic` of ``data`` as JSON (metrics.json, benchmark results), indented by 2, with a final newline."""
    return write_text_atomic(path, json.dumps(data, indent=2, sort_keys=sort_keys) + "\n")


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
