"""LibriSpeech ASR corpus (Panayotov et al. 2015), character recognition.

Layout (``../shared/reference/librispeech.md``)::

    ROOT/LibriSpeech/train-clean-100/103/1240/103-1240-0000.flac
    ROOT/LibriSpeech/train-clean-100/103/1240/103-1240.trans.txt   "103-1240-0000 CHAPTER ONE ..."

``ROOT`` may be the folder holding ``LibriSpeech/`` or ``LibriSpeech/`` itself.
Each split reads a list of subsets (``train-clean-100``, ``dev-clean``, ...).
Targets are the transcripts as written (upper-case letters, apostrophe,
space) over the fixed 28-symbol :data:`ALPHABET`; scored by CER and WER.

A ``.flac`` with no line in its chapter's ``trans.txt``, a line whose audio is
missing, a malformed line, a chapter folder with no ``trans.txt`` and an
unreadable audio file are skipped before training, with one warning that counts
them and names the first few.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from seqlab.data.readers.base import Reader, warn_skipped
from seqlab.data.records import Record
from seqlab.errors import ConfigError
from seqlab.text.files import read_text

ALPHABET: tuple[str, ...] = (*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "'", " ")
_UTTERANCE_ID = re.compile(r"^(\d+)-(\d+)-(\d+)$")


def read_trans(path: str | Path) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """``utterance id -> (transcript, "file:line")`` of a chapter's ``trans.txt``,
    and one message per malformed line."""
    path = Path(path)
    lines: dict[str, tuple[str, str]] = {}
    problems: list[str] = []
    text = read_text(path, errors="replace")
    for n, row in enumerate(text.splitlines(), start=1):
        if not row.strip():
            continue
        where = f"{path}:{n}"
        parts = row.strip().split(maxsplit=1)
        if len(parts) != 2 or not _UTTERANCE_ID.match(parts[0]):
            problems.append(f"{where}: expected 'SPEAKER-CHAPTER-NNNN TRANSCRIPT', got {row.strip()[:60]!r}")
            continue
        uid, transcript = parts
        if uid in lines:
            problems.append(f"{where}: {uid} is listed twice (first at {lines[uid][1]})")
            continue
        lines[uid] = (" ".join(transcript.split()), where)
    return lines, problems


def find_subset(root: str | Path, subset: str) -> Path:
    """``root/LibriSpeech/subset`` or ``root/subset``.

    Raises:
        ConfigError: naming both places and the subsets that are there.
    """
    root = Path(root).expanduser()
    for base in (root / "LibriSpeech", root):
        if (base / subset).is_dir():
            return base / subset
    base = root / "LibriSpeech" if (root / "LibriSpeech").is_dir() else root
    present = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    raise ConfigError(
        f"LibriSpeech subset {subset!r} not found in {root}/LibriSpeech or {root} "
        f"(folders there: {', '.join(present) or 'none'}); set data.root to the folder holding "
        "LibriSpeech/, or the subset lists (data.train_subsets, ...) to subsets you have"
    )


class LibriSpeechReader(Reader):
    """LibriSpeech utterances: ids, FLAC files, transcripts, speakers.

    Args:
        root: the folder holding ``LibriSpeech/``, or ``LibriSpeech/`` itself.
        train_subsets, val_subsets, test_subsets: the subsets each split reads.
    """

    metrics = ("cer", "wer")
    unit = "char"
    kind = "audio"
    group_label = "speaker"

    def __init__(
        self,
        root: str,
        train_subsets: Sequence[str] = ("train-clean-100",),
        val_subsets: Sequence[str] = ("dev-clean",),
        test_subsets: Sequence[str] = ("test-clean",),
    ) -> None:
        super().__init__(root)
        self.alphabet = ALPHABET
        self.subsets = {"train": list(train_subsets), "val": list(val_subsets), "test": list(test_subsets)}
        for split, names in self.subsets.items():
            if isinstance(names, str) or not names:
                raise ConfigError(f"{split}_subsets must be a non-empty list of subset names, got {names!r}")

    def describe(self) -> dict:
        return {**super().describe(), "corpus": "librispeech"}

    def read(self, split: str) -> list[Record]:
        records: list[Record] = []
        problems: list[str] = []
        for subset in self.subsets[split]:
            folder = find_subset(self.root, subset)
            for chapter in sorted(p for p in folder.glob("*/*") if p.is_dir()):
                records.extend(self._read_chapter(chapter, split, problems))
        warn_skipped(f"LibriSpeech {split} split ({', '.join(self.subsets[split])})", problems)
        return records

    def _read_chapter(self, chapter: Path, split: str, problems: list[str]) -> list[Record]:
        speaker, book = chapter.parent.name, chapter.name
        audio = {p.name[: -len(".flac")]: p for p in sorted(chapter.glob("*.flac"))}
        trans = chapter / f"{speaker}-{book}.trans.txt"
        if not trans.is_file():
            problems.append(
                f"{chapter}: no {trans.name} in this chapter folder; its {len(audio)} .flac file(s) skipped"
            )
            return []
        lines, bad = read_trans(trans)
        problems.extend(bad)
        for uid in sorted(audio.keys() - lines.keys()):
            problems.append(f"{audio[uid]}: no line for {uid} in {trans.name}")
        records = []
        for uid, (text, where) in lines.items():
            if uid not in audio:
                problems.append(f"{where}: no audio file {uid}.flac in {chapter}")
                continue
            records.append(Record(uid, str(audio[uid]), text, where=where, group=speaker, split=split))
        return records
