"""Reading users' text files: UTF-8, with the byte-order mark some editors write removed.

Notepad and Excel start UTF-8 files with a byte-order mark (``EF BB BF``).
Decoded as plain UTF-8 it becomes an invisible ``U+FEFF`` glued to the first
id or word, so a split list silently lost its first line id. Every text input
seqlab reads (split lists, ``lines.txt``, transcripts, lexicons, LM text,
manifests) goes through :func:`read_text` or :func:`without_bom`.
"""

from __future__ import annotations

import codecs
from pathlib import Path

BOM = "\ufeff"


def without_bom(data: bytes) -> bytes:
    """``data`` without a leading UTF-8 byte-order mark."""
    return data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data


def read_text(path: str | Path, errors: str = "strict") -> str:
    """The file's text, decoded as UTF-8 (``errors`` as in :meth:`bytes.decode`), without a leading BOM.

    Raises:
        FileNotFoundError, UnicodeDecodeError: as :meth:`Path.read_text` does.
    """
    return without_bom(Path(path).read_bytes()).decode("utf-8", errors=errors)
