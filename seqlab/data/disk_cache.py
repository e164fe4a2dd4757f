"""What the on-disk caches (speech features, preprocessed line images) share.

Entries are ``.npy`` files named by :func:`file_key`, a hash of the source
file's absolute path, size and modification time: an edited or replaced source
is a new key, so a stale entry is never read. Writes go to a temporary name in
the same folder and are renamed into place, so a crash or two DataLoader
workers writing the same entry never leave a partial file under a real name;
a damaged entry reads as missing and is rebuilt.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from seqlab.atomic import AtomicFile
from seqlab.errors import UnreadableFileError


def file_key(path: str | Path) -> str:
    """Hash of a file's identity: absolute path, size and mtime (ns).

    Raises:
        UnreadableFileError: when the file is missing.
    """
    p = Path(path).resolve()
    try:
        st = p.stat()
    except OSError as e:
        raise UnreadableFileError(f"{path}: {e.strerror or e}") from None
    return hashlib.sha1(f"{p}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()


def entry_path(folder: Path, key: str) -> Path:
    """``folder/ab/<key>.npy``: 256 sub-folders keep directories small."""
    return folder / key[:2] / f"{key}.npy"


def read_npy(path: Path) -> np.ndarray | None:
    """The array in ``path``; None when it is missing or damaged (the caller rebuilds it)."""
    if not path.is_file():
        return None
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None


def write_npy_atomic(path: Path, array: np.ndarray) -> None:
    """``np.save`` through a temporary file in the same folder and a rename (no fsync: a damaged entry is rebuilt)."""
    with AtomicFile(path, fsync=False) as f:
        np.save(f.file, array)
        f.commit()
