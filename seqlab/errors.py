"""The project's own error types.

Every error a user can trigger with bad input or a bad setting is one of these,
and its message names the file (and line, where there is one) and what to do.
"""

from __future__ import annotations


class SeqlabError(Exception):
    """Base class of every error seqlab raises on purpose."""


class DataFormatError(SeqlabError, ValueError):
    """A corpus file does not follow its format (``lines.txt:12: expected 9 fields, got 7``)."""


class UnreadableFileError(SeqlabError, OSError):
    """An image or audio file cannot be decoded (corrupt, truncated, empty or too large)."""


class UnknownSymbolError(SeqlabError, KeyError):
    """A transcription holds a symbol that is not in the alphabet."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0]) if self.args else ""


class ConfigError(SeqlabError, ValueError):
    """A setting is missing or inconsistent."""


class CheckpointError(SeqlabError, RuntimeError):
    """A checkpoint cannot be loaded (unsafe, truncated, or not a seqlab checkpoint)."""


class TrainingError(SeqlabError, RuntimeError):
    """Training cannot go on (for example too many non-finite losses)."""
