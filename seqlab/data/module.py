"""What every corpus data module shares: records, alphabet, encoding, loaders.

A corpus module reads its split lists into :class:`Record` s (id, file, text,
length), and says how to load one record's input. This base class builds the
alphabet from the training transcripts, encodes every split (failing before
training, never mid-epoch, on a symbol outside the alphabet unless told to skip
or replace it), and serves length-bucketed loaders.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from seqlab.data.batch import Sample, Skipped, collate
from seqlab.data.bucketing import BucketBatchSampler
from seqlab.data.loader import ResumableDataLoader
from seqlab.errors import ConfigError, SeqlabError
from seqlab.text import Alphabet

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
UNKNOWN_POLICIES = ("error", "skip", "replace")


@dataclass(frozen=True)
class Record:
    """One utterance or line before loading.

    Attributes:
        id: corpus id of the item.
        source: the file holding its input (image or audio).
        text: the reference transcription, in the alphabet's units.
        length: its input length (resized width, or frames) for bucketing.
        where: where the transcription came from (``lines.txt:12``) for messages.
    """

    id: str
    source: str
    text: str
    length: int
    where: str = ""
    group: str = ""  # writer or speaker, for reports


class RecordDataset(Dataset):
    """Loads records on demand; an unreadable input yields :class:`Skipped`."""

    def __init__(self, records: Sequence[Record], targets: Sequence[list[int]], load: Callable[[Record], torch.Tensor]):
        self.records = list(records)
        self.targets = list(targets)
        self.load = load

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> Sample | Skipped:
        r = self.records[i]
        try:
            x = self.load(r)
        except SeqlabError as e:  # our loaders raise only their own clear errors
            return Skipped(r.source, str(e))
        return Sample(r.id, x, self.targets[i], r.text, r.source)


def warn_skipped(what: str, problems: Sequence[str], limit: int = 5) -> None:
    """One warning saying how many items were skipped and why (first few named)."""
    if not problems:
        return
    shown = "\n  ".join(problems[:limit])
    more = f"\n  ... and {len(problems) - limit} more" if len(problems) > limit else ""
    log.warning("%s: skipped %d item(s):\n  %s%s", what, len(problems), shown, more)


class CTCDataModule(L.LightningDataModule):
    """Base of the corpus modules.

    Args:
        batch_size: items per training batch (evaluation uses the same).
        num_workers: DataLoader worker processes.
        bucket_size: bucket size in batches for length bucketing.
        unknown_symbols: what to do with a val/test transcription symbol that
            the training transcripts do not have: ``error`` (default; names the
            sample), ``skip`` the item, or ``replace`` it by ``replacement_symbol``.
        replacement_symbol: used with ``unknown_symbols=replace``.
        alphabet: a fixed list of symbols instead of the training transcripts'.
        seed: shuffling seed.
        pin_memory: pin batches for faster host-to-GPU copies.
    """

    metrics: tuple[str, ...] = ("cer", "wer")
    unit: str = "char"

    def __init__(
        self,
        batch_size: int = 16,
        num_workers: int = 0,
        bucket_size: int = 50,
        unknown_symbols: str = "error",
        replacement_symbol: str = "?",
        alphabet: Sequence[str] | None = None,
        seed: int = 0,
        pin_memory: bool = False,
    ) -> None:
        super().__init__()
        if unknown_symbols not in UNKNOWN_POLICIES:
            raise ConfigError(f"unknown_symbols must be one of {UNKNOWN_POLICIES}, got {unknown_symbols!r}")
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.bucket_size = bucket_size
        self.unknown_symbols = unknown_symbols
        self.replacement_symbol = replacement_symbol
        self.fixed_alphabet = list(alphabet) if alphabet is not None else None
        self.seed = seed
        self.pin_memory = pin_memory
        self.alphabet: Alphabet | None = None
        self.datasets: dict[str, RecordDataset] = {}

    # --- what a corpus module provides ----------------------------------
    def read_split(self, split: str) -> list[Record]:
        """The records of ``split`` (train, val or test), unreadable ones skipped and reported."""
        raise NotImplementedError

    def load(self, record: Record) -> torch.Tensor:
        """The input tensor of a record: (1, H, W) image or (T, F) features."""
        raise NotImplementedError

    @property
    def feature_size(self) -> int:
        """Features per frame the encoder sees (image height x channels, or feature dim)."""
        raise NotImplementedError

    def recipe(self) -> dict:
        """Plain-data preprocessing settings a checkpoint needs to read new inputs."""
        raise NotImplementedError

    def missing_split_hint(self, empty: list[str]) -> str:
        """What to check when the splits ``empty`` have no records (said in the ConfigError)."""
        return "check the data paths and split settings: training needs train, val and test records"

    # --- shared machinery -------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        records = {split: self.read_split(split) for split in SPLITS}
        empty = [split for split in SPLITS if not records[split]]
        if empty:  # before any training: a run without val or test would only fail at its end
            where = f" ({self.root})" if getattr(self, "root", None) else ""
            raise ConfigError(f"{type(self).__name__}{where}: the {' and '.join(empty)} split(s) are empty; "
                              f"{self.missing_split_hint(empty)}")
        self.alphabet = self._build_alphabet(records["train"])
        for split in SPLITS:
            kept, targets = self._encode(split, records[split])
            self.datasets[split] = RecordDataset(kept, targets, self.load)

    def _build_alphabet(self, train: Sequence[Record]) -> Alphabet:
        replacement = self.replacement_symbol if self.unknown_symbols == "replace" else None
        if self.fixed_alphabet is not None:
            symbols = list(self.fixed_alphabet)
            if replacement is not None and replacement not in symbols:
                symbols.append(replacement)
            return Alphabet(tuple(symbols), unit=self.unit, replacement=replacement)
        return Alphabet.from_texts((r.text for r in train), unit=self.unit, replacement=replacement)

    def _encode(self, split: str, records: Sequence[Record]) -> tuple[list[Record], list[list[int]]]:
        assert self.alphabet is not None
        kept, targets, skipped = [], [], []
        for r in records:
            name = f"{r.where or r.source} ({r.id})"
            if self.unknown_symbols == "skip" and self.alphabet.unknown_symbols(r.text):
                missing = "".join(sorted(self.alphabet.unknown_symbols(r.text)))
                skipped.append(f"{name}: symbol(s) {missing!r} not in the alphabet")
                continue
            target = self.alphabet.encode(r.text, sample=name)  # raises UnknownSymbolError
            if not target:
                skipped.append(f"{name}: empty transcription")
                continue
            kept.append(r)
            targets.append(target)
        warn_skipped(f"{type(self).__name__} {split} split", skipped)
        return kept, targets

    def _loader(self, split: str) -> DataLoader:
        if not self.datasets:
            self.setup()
        ds = self.datasets[split]
        sampler = BucketBatchSampler(
            [r.length for r in ds.records],
            self.batch_size,
            shuffle=split == "train",
            bucket_size=self.bucket_size,
            seed=self.seed,
        )
        loader = ResumableDataLoader if split == "train" else DataLoader
        return loader(
            ds,
            batch_sampler=sampler,
            collate_fn=collate,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train")

    def val_dataloader(self) -> DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")
