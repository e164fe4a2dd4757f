"""The one interface of a corpus reader: list the records of a split.

A reader knows a corpus format (where the files are, how transcriptions are
written, how the corpus is split) and nothing about tensors. Adding a format is
one file in ``seqlab/data/readers/`` with one class like these, and one config
in ``seqlab/conf/data/`` composing it with a frontend.
"""

from __future__ import annotations

from pathlib import Path

from seqlab.data.records import Record

SPLITS = ("train", "val", "test")


class Reader:
    """Base of the corpus readers.

    Class attributes:
        metrics: what the corpus is scored with (``cer``, ``wer``, ``per``...).
        unit: ``char`` (a transcription is read character by character) or
            ``token`` (whitespace-separated phones).
        kind: the input the records point at: ``image`` or ``audio``.
        group_label: what a record's ``group`` is (``writer``, ``speaker``, ``page``), for reports.

    Attributes:
        root: the corpus folder (for messages and reports).
        alphabet: a fixed symbol list the corpus defines (TIMIT's 61 phones),
            or None to build it from the training transcriptions.
    """

    metrics: tuple[str, ...] = ("cer", "wer")
    unit: str = "char"
    kind: str = "image"
    group_label: str = "group"

    def __init__(self, root: str | Path = "") -> None:
        self.root = Path(root) if root != "" else Path()
        self.alphabet: tuple[str, ...] | None = None

    def prepare(self) -> None:
        """Make the corpus exist (the synthetic readers generate it); real corpora do nothing."""

    def read(self, split: str) -> list[Record]:
        """The records of ``split`` (``train``, ``val`` or ``test``), in a stable order.

        Unreadable or malformed items that are safe to skip are left out with
        one warning (:func:`seqlab.data.readers.base.warn_skipped`) that counts
        them and names the first few; errors that make the corpus unusable raise
        :class:`~seqlab.errors.ConfigError` or :class:`~seqlab.errors.DataFormatError`
        naming the file and line.
        """
        raise NotImplementedError

    def missing_split_hint(self, empty: list[str]) -> str:
        """What to check when the splits ``empty`` have no records (said in the error)."""
        return "check the data paths and split settings: training needs train, val and test records"

    def describe(self) -> dict:
        """Plain data about the corpus kept in checkpoints and reports (name, root...)."""
        return {"reader": type(self).__name__, "root": str(self.root)}


def warn_skipped(what: str, problems: list[str], limit: int = 5) -> None:
    """One warning saying how many items were skipped and why (the first few named)."""
    if not problems:
        return
    import logging

    shown = "\n  ".join(problems[:limit])
    more = f"\n  ... and {len(problems) - limit} more" if len(problems) > limit else ""
    logging.getLogger("seqlab.data").warning("%s: skipped %d item(s):\n  %s%s", what, len(problems), shown, more)
