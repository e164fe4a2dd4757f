"""TIMIT Acoustic-Phonetic Continuous Speech Corpus (LDC93S1), phone recognition.

Layout (``../shared/reference/timit.md``), in any letter case::

    ROOT/TRAIN/DR1/FCJF0/SI1027.WAV   audio: NIST SPHERE (LDC) or RIFF WAV (converted copies)
    ROOT/TRAIN/DR1/FCJF0/SI1027.PHN   "start end phone" per line, samples at 16 kHz
    ROOT/TRAIN/DR1/FCJF0/SI1027.WRD   "start end word" (not used)
    ROOT/TRAIN/DR1/FCJF0/SI1027.TXT   "start end sentence" (not used)
    ROOT/TEST/...

How the reader treats the files:

- Files are found case-insensitively (``train/dr1/fcjf0/si1027.wav`` is fine);
  ``ROOT`` may also be a folder holding exactly one folder with ``TRAIN/``
  and ``TEST/`` (``/data/TIMIT`` holding ``TIMIT/TRAIN``).
- Audio is read by header, whatever its name says. Some copies hold both the
  SPHERE original ``X.WAV`` and a RIFF conversion ``X.WAV.wav``: ``X.WAV`` is
  used, and ``X.WAV.wav`` only when ``X.WAV`` is missing or unreadable.
- ``SA1``/``SA2`` (the dialect sentences every speaker reads) are dropped.
- Targets are the 61-phone ``.PHN`` labels, space-joined (``h# sh iy ...``);
  the alphabet is the fixed list :data:`~seqlab.text.phones.TIMIT_PHONES_61`.
  Scoring folds them to 39 phones (metric ``per``, see :mod:`seqlab.text.phones`:
  ``q`` deleted, runs of ``sil`` merged).
- Split (Graves 2013, Kaldi, ESPnet, SpeechBrain): train = every ``TRAIN``
  speaker (3,696 utterances); validation = the 50 speakers of
  :data:`DEV_SPEAKERS` (400); test = the 24 core-test speakers of
  :data:`CORE_TEST_SPEAKERS` (192) with ``test_set=core``, or all 168 ``TEST``
  speakers (1,344, overlapping the validation speakers) with ``test_set=full``.
  Explicit ``dev_speakers`` / ``test_speakers`` lists replace these (the
  synthetic corpus has speakers of its own).
- An audio file that is unreadable, empty, or shorter than one 25 ms frame, and
  an utterance with no ``.PHN`` or no audio, are skipped before training with
  one warning that counts them and names the first few. A ``.PHN`` row that is
  malformed or names a phone outside the 61 stops the run with
  ``FILE.PHN:LINE: ...`` (fix or delete the file).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from seqlab.data.readers.base import Reader, warn_skipped
from seqlab.data.records import Record
from seqlab.data.audio import audio_info
from seqlab.errors import ConfigError, DataFormatError, UnreadableFileError
from seqlab.text.phones import TIMIT_PHONES_61
from seqlab.text.files import read_text

# The standard 50-speaker development set (Halberstadt 1998; Kaldi's conf/dev_spk.list).
DEV_SPEAKERS: tuple[str, ...] = tuple(
    """faks0 fdac1 fjem0 mgwt0 mjar0 mmdb1 mmdm2 mpdf0 fcmh0 fkms0 mbdg0 mbwm0 mcsh0
    fadg0 fdms0 fedw0 mgjf0 mglb0 mrtk0 mtaa0 mtdt0 mthc0 mwjg0 fnmr0 frew0 fsem0
    mbns0 mmjr0 mdls0 mdlf0 mdvc0 mers0 fmah0 fdrw0 mrcs0 mrjm4 fcal1 mmwh0 fjsj0
    majc0 mjsw0 mreb0 fgjd0 fjmg0 mroa0 mteb0 mjfc0 mrjr0 fmml0 mrws1""".split()
)
# The 24-speaker core test set (2 men and 1 woman of each dialect region).
CORE_TEST_SPEAKERS: tuple[str, ...] = tuple(
    """mdab0 mwbt0 felc0 mtas1 mwew0 fpas0 mjmp0 mlnt0 fpkt0 mlll0 mtls0 fjlm0
    mbpm0 mklt0 fnlp0 mcmj0 mjdh0 fmgd0 mgrt0 mnjm0 fdhc0 mjln0 mpam0 fmld0""".split()
)
TEST_SETS = ("core", "full")
_PHONES = frozenset(TIMIT_PHONES_61)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Phone:
    """One ``.PHN`` row: start and end sample, and the label."""

    start: int
    end: int
    label: str


def _sample_span(fields: list[str], where: str, row: str) -> tuple[int, int]:
    try:
        start, end = int(fields[0]), int(fields[1])
    except ValueError:
        raise DataFormatError(f"{where}: start and end must be sample numbers, got {row.strip()!r}") from None
    if not 0 <= start <= end:
        raise DataFormatError(f"{where}: segment {start}..{end} is not 0 <= start <= end")
    return start, end


def _rows(path: str | Path):
    """(``file:line``, fields, row) of every non-blank row of a TIMIT label file."""
    path = Path(path)
    for n, row in enumerate(read_text(path, errors="replace").splitlines(), start=1):
        fields = row.split()
        if fields:
            yield f"{path}:{n}", fields, row


def read_phn(path: str | Path) -> list[Phone]:
    """The rows of a ``.PHN`` file.

    Raises:
        DataFormatError: ``SI1027.PHN:7: unknown phone 'xx' ...``, or a row
            that is not ``start end phone`` with ``0 <= start <= end``.
    """
    phones: list[Phone] = []
    for where, fields, row in _rows(path):
        if len(fields) != 3:
            raise DataFormatError(f"{where}: expected 'start end phone', got {len(fields)} field(s): {row.strip()!r}")
        start, end = _sample_span(fields, where, row)
        label = fields[2].lower()
        if label not in _PHONES:
            raise DataFormatError(
                f"{where}: unknown phone {fields[2]!r}; .PHN files use TIMIT's 61 labels "
                f"({' '.join(TIMIT_PHONES_61)}). Fix the row, or delete the .PHN to skip the utterance"
            )
        phones.append(Phone(start, end, label))
    return phones


@dataclass(frozen=True)
class Word:
    """One ``.WRD`` row: start and end sample, and the word (segments may overlap)."""

    start: int
    end: int
    word: str


def read_wrd(path: str | Path) -> list[Word]:
    """The rows of a ``.WRD`` file (``start end word``).

    Raises:
        DataFormatError: naming ``file:line``, for a row that is not ``start end word``.
    """
    words: list[Word] = []
    for where, fields, row in _rows(path):
        if len(fields) != 3:
            raise DataFormatError(f"{where}: expected 'start end word', got {len(fields)} field(s): {row.strip()!r}")
        words.append(Word(*_sample_span(fields, where, row), fields[2]))
    return words


def read_txt(path: str | Path) -> tuple[int, int, str]:
    """The ``start end Full sentence text.`` line of a ``.TXT`` file.

    Real copies end one sample past the audio; the span is returned as written.

    Raises:
        DataFormatError: naming the file, when it holds no such line.
    """
    path = Path(path)
    rows = [r for r in read_text(path, errors="replace").splitlines() if r.strip()]
    if len(rows) != 1:
        raise DataFormatError(f"{path}: expected one 'start end sentence' line, got {len(rows)}")
    fields = rows[0].split(maxsplit=2)
    if len(fields) != 3:
        raise DataFormatError(f"{path}:1: expected 'start end sentence', got {rows[0].strip()!r}")
    start, end = _sample_span(fields, f"{path}:1", rows[0])
    return start, end, fields[2].strip()


@dataclass
class Utterance:
    """One TIMIT utterance's files, found case-insensitively."""

    split: str  # "train" or "test": the TIMIT folder it is in
    dialect: str  # "DR1"
    speaker: str  # "FCJF0"
    name: str  # "SI1027"
    audio: list[Path] = field(default_factory=list)  # candidates, preferred first
    phn: Path | None = None

    @property
    def id(self) -> str:
        return f"{self.speaker}/{self.name}"


def find_timit_root(root: str | Path) -> Path:
    """The folder holding ``TRAIN/`` and ``TEST/`` (any case): ``root`` or its only such child.

    Raises:
        ConfigError: naming ``root``, when neither holds them.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise ConfigError(f"{root}: TIMIT folder not found; set data.root to the folder holding TRAIN/ and TEST/")

    def has_splits(p: Path) -> bool:
        names = {c.name.lower() for c in p.iterdir() if c.is_dir()}
        return "train" in names or "test" in names

    if has_splits(root):
        return root
    inner = [c for c in sorted(root.iterdir()) if c.is_dir() and has_splits(c)]
    if len(inner) == 1:
        return inner[0]
    raise ConfigError(f"{root}: no TRAIN/ or TEST/ folder (any case) in it or in one folder below it; "
                      "set data.root to the folder holding TRAIN/ and TEST/")


def scan_timit(root: str | Path) -> list[Utterance]:
    """Every utterance under ``root/{TRAIN,TEST}/DR*/SPEAKER/``, SA included, in folder order.

    Audio candidates: ``X.WAV`` (any case) first, then ``X.WAV.wav``; among
    names differing only in case, the first in sorted order.
    """
    root = find_timit_root(root)
    found: dict[tuple[str, str], Utterance] = {}
    for split_dir in sorted(root.iterdir()):
        split = split_dir.name.lower()
        if split not in ("train", "test") or not split_dir.is_dir():
            continue
        for dirpath, _, filenames in os.walk(split_dir):
            rel = Path(dirpath).relative_to(split_dir).parts
            if len(rel) != 2:  # DRn/SPEAKER
                continue
            dialect, speaker = rel[0].upper(), rel[1].upper()
            for filename in sorted(filenames):
                lower = filename.lower()
                if lower.endswith(".wav.wav"):
                    stem, kind = lower[: -len(".wav.wav")], "copy"
                elif lower.endswith((".wav", ".phn")):
                    stem, kind = lower[:-4], lower[-3:]
                else:
                    continue
                u = found.setdefault((speaker, stem.upper()), Utterance(split, dialect, speaker, stem.upper()))
                path = Path(dirpath) / filename
                if kind == "phn":
                    u.phn = u.phn or path
                elif kind == "wav":
                    u.audio.insert(sum(1 for a in u.audio if not a.name.lower().endswith(".wav.wav")), path)
                else:
                    u.audio.append(path)
    return sorted(found.values(), key=lambda u: (u.split, u.speaker, u.name))


class TIMITReader(Reader):
    """TIMIT utterances: ids (``SPEAKER/UTT``), audio files, 61-phone transcriptions, speakers.

    Args:
        root: folder holding ``TRAIN/`` and ``TEST/`` (any letter case).
        test_set: ``core`` (24 speakers, 192 utterances) or ``full`` (all 168
            TEST speakers, 1,344 utterances).
        dev_speakers: validation speakers (any case) instead of the standard 50.
        test_speakers: test speakers instead of the core (or full) test set.
    """

    metrics = ("per",)
    unit = "token"
    kind = "audio"
    group_label = "speaker"

    def __init__(
        self,
        root: str,
        test_set: str = "core",
        dev_speakers: Sequence[str] | None = None,
        test_speakers: Sequence[str] | None = None,
    ) -> None:
        if test_set not in TEST_SETS:
            raise ConfigError(f"test_set must be one of {TEST_SETS}, got {test_set!r}")
        super().__init__(root)
        self.alphabet = TIMIT_PHONES_61
        self.test_set = test_set
        self.dev_speakers = {s.upper() for s in (dev_speakers if dev_speakers is not None else DEV_SPEAKERS)}
        self.test_speakers = None if test_speakers is None else {s.upper() for s in test_speakers}
        if self.test_speakers is None and test_set == "core":
            self.test_speakers = {s.upper() for s in CORE_TEST_SPEAKERS}
        self._utterances: list[Utterance] | None = None

    def describe(self) -> dict:
        return {**super().describe(), "corpus": "timit", "test_set": self.test_set}

    def missing_split_hint(self, empty: list[str]) -> str:
        folders = sorted({"TRAIN/" if split == "train" else "TEST/" for split in empty})
        return (f"TIMIT's train split comes from TRAIN/, val (the dev speakers) and test (the {self.test_set} "
                f"test set) from TEST/: check that {' and '.join(folders)} under {self.root} hold .WAV and .PHN "
                "files, and that dev_speakers / test_speakers name speakers that are there")

    def utterances(self) -> list[Utterance]:
        if self._utterances is None:
            self._utterances = scan_timit(self.root)
        return self._utterances

    def _in_split(self, u: Utterance, split: str) -> bool:
        if u.name.startswith("SA"):
            return False
        if split == "train":
            return u.split == "train"
        if u.split != "test":
            return False
        if split == "val":
            return u.speaker in self.dev_speakers
        return self.test_speakers is None or u.speaker in self.test_speakers

    def read(self, split: str) -> list[Record]:
        chosen = [u for u in self.utterances() if self._in_split(u, split)]
        self._check_speakers(split, {u.speaker for u in chosen})
        records: list[Record] = []
        problems: list[str] = []
        for u in chosen:
            if u.phn is None:
                problems.append(f"{(u.audio or ['?'])[0]}: no .PHN file for {u.id}")
                continue
            if not u.audio:
                problems.append(f"{u.phn}: no audio (.WAV) file for {u.id}")
                continue
            text = " ".join(p.label for p in read_phn(u.phn))  # a bad row raises, naming file:line
            record, reasons = None, []
            for audio in u.audio:  # the preferred readable copy (by its header)
                try:
                    audio_info(audio)
                except UnreadableFileError as e:
                    reasons.append(str(e))
                    continue
                record = Record(u.id, str(audio), text, where=str(u.phn), group=u.speaker, split=split)
                break
            if record is None:
                problems.append("; ".join(reasons))
                continue
            records.append(record)
        warn_skipped(f"TIMIT {split} split ({self.root})", problems)
        return records

    def _check_speakers(self, split: str, present: set[str]) -> None:
        wanted = {"val": self.dev_speakers, "test": self.test_speakers}.get(split)
        missing = sorted(wanted - present) if wanted else []
        if missing:
            log.warning("TIMIT %s split: %d listed speaker(s) not found under %s/TEST: %s", split,
                        len(missing), self.root, " ".join(s.lower() for s in missing))
