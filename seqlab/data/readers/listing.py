"""What the speech listings users hand over have in common: one listing per split, audio paths, transcripts.

A JSON-lines manifest (:mod:`~seqlab.data.readers.manifest`), a CSV/TSV table
(:mod:`~seqlab.data.readers.table`) and a Kaldi data directory
(:mod:`~seqlab.data.readers.kaldi`) each name, per utterance, an audio file
(or a stretch of one) and its transcript. They share:

- the layout: ``root`` holds one listing per split (``train``, ``val``,
  ``test``: file or folder names relative to ``root``, or absolute paths);
- paths inside a listing are relative to the listing's folder unless absolute;
  ``$data_root`` / ``${data_root}`` (SpeechBrain's CSVs) is replaced by the
  ``data_root`` setting;
- transcripts as written, whitespace collapsed, with optional case folding
  (``case``) and punctuation removal (``punctuation``), so a character
  alphabet built from the training text is the one the user wants;
- character targets scored by CER and WER, the utterance's speaker as its group.

Rows that cannot be used (malformed, no transcript, listed twice) are left out
with one warning that counts them; a listing that is missing or unreadable as
a whole is an error naming it. Unreadable audio is counted by the data module.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from seqlab.data.readers.base import SPLITS, Reader, warn_skipped
from seqlab.data.records import Record
from seqlab.errors import ConfigError

CASES = ("keep", "lower", "upper")
PUNCTUATION = ("keep", "drop")
_DATA_ROOT = re.compile(r"\$\{data_root\}|\$data_root")


def strip_punctuation(text: str) -> str:
    """``text`` without Unicode punctuation (category P*); an apostrophe or hyphen inside a word stays
    (``don't``, ``well-known``), as character ASR alphabets keep them."""
    out = []
    for i, ch in enumerate(text):
        if unicodedata.category(ch).startswith("P"):
            inside = 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
            if not (inside and ch in "'’-"):
                out.append(" ")
                continue
        out.append(ch)
    return "".join(out)


class ListingReader(Reader):
    """Base of the speech listing readers: one listing per split under ``root``.

    Args:
        root: the folder holding the listings.
        train, val, test: each split's listing, relative to ``root`` (or
            absolute); None: the split is not given (training needs all three;
            ``seqlab evaluate`` reads only the one it scores).
        case: ``keep`` the transcripts' case, fold it to ``lower`` or ``upper``.
        punctuation: ``keep`` punctuation or ``drop`` it (word-internal
            apostrophes and hyphens stay).
        data_root: what ``$data_root`` in a listing's paths stands for (None:
            such a path is an error naming its row).

    Subclasses implement :meth:`rows`.
    """

    metrics = ("cer", "wer")
    unit = "char"
    kind = "audio"
    group_label = "speaker"
    format_name = "listing"
    listing_kind = "file"  # what a split names: a ``file`` or a ``folder``

    def __init__(self, root: str, train: str | None = None, val: str | None = None, test: str | None = None,
                 case: str = "keep", punctuation: str = "keep", data_root: str | None = None) -> None:
        super().__init__(root)
        if case not in CASES:
            raise ConfigError(f"case must be one of {CASES}, got {case!r}")
        if punctuation not in PUNCTUATION:
            raise ConfigError(f"punctuation must be one of {PUNCTUATION}, got {punctuation!r}")
        self.root = Path(root).expanduser()
        self.listings = {"train": train, "val": val, "test": test}
        self.case = case
        self.punctuation = punctuation
        self.data_root = data_root

    def describe(self) -> dict:
        return {**super().describe(), "format": self.format_name,
                "listings": {k: v for k, v in self.listings.items() if v is not None}}

    def listing(self, split: str) -> Path:
        """The listing of ``split``.

        Raises:
            ConfigError: when none is set or it does not exist.
        """
        name = self.listings[split]
        if name is None:
            raise ConfigError(f"no {split} listing is set: set data.{split} to the {self.format_name} "
                              f"{self.listing_kind} of the {split} split (relative to data.root={self.root})")
        path = Path(name).expanduser()
        path = path if path.is_absolute() else self.root / path
        exists = path.is_dir() if self.listing_kind == "folder" else path.is_file()
        if not exists:
            present = sorted(p.name for p in self.root.iterdir())[:12] if self.root.is_dir() else []
            raise ConfigError(
                f"the {split} {self.format_name} {path} is not a {self.listing_kind}"
                f" ({self.root} holds: {', '.join(present) or 'nothing'}); set data.root and data.{split}"
            )
        return path

    def read(self, split: str) -> list[Record]:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        listing = self.listing(split)
        problems: list[str] = []
        records: list[Record] = []
        seen: dict[str, str] = {}
        for r in self.rows(listing, problems):
            if r.id in seen:
                problems.append(f"{r.where}: utterance {r.id} is listed twice (first at {seen[r.id]})")
                continue
            text = self.clean(r.text)
            if not text:
                problems.append(f"{r.where}: {r.id} has an empty transcript")
                continue
            seen[r.id] = r.where
            records.append(Record(r.id, r.source, text, where=r.where, group=r.group, split=split,
                                  offset=r.offset, duration=r.duration))
        warn_skipped(f"{self.format_name} {listing}", problems)
        return records

    def rows(self, listing: Path, problems: list[str]) -> list[Record]:
        """The utterances a listing names (text as written), appending a message per unusable row."""
        raise NotImplementedError

    # --- shared by the formats -------------------------------------------------
    def clean(self, text: str) -> str:
        """The transcript as the alphabet sees it: case and punctuation as set, whitespace collapsed."""
        if self.punctuation == "drop":
            text = strip_punctuation(text)
        if self.case == "lower":
            text = text.lower()
        elif self.case == "upper":
            text = text.upper()
        return " ".join(text.split())

    def audio_path(self, value: str, listing: Path, where: str) -> str:
        """A path as a listing writes it -> the file: ``$data_root`` replaced, relative to the listing's folder.

        Raises:
            ConfigError: a ``$data_root`` path with no ``data_root`` set (naming the row).
        """
        if _DATA_ROOT.search(value):
            if self.data_root is None:
                raise ConfigError(f"{where}: the path {value!r} uses $data_root; set data.data_root to the "
                                  "folder it stands for")
            value = _DATA_ROOT.sub(str(Path(self.data_root).expanduser()).replace("\\", "/"), value)
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else listing.parent / path)
