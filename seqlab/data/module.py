"""The one data module: a corpus reader and a frontend, composed.

The reader lists the records of each split (:mod:`seqlab.data.readers`); the
frontend turns a record into a tensor (:mod:`seqlab.data.frontends`). This
module normalises the transcriptions (:class:`~seqlab.text.normalize.TextNormalization`),
builds the alphabet from the training transcripts, encodes every split
(failing before training, never mid-epoch, on a symbol outside the alphabet
unless told to skip or replace it), measures each input for bucketing, lets the
frontend fit its statistics on the training split, and serves length-bucketed
loaders. What a checkpoint needs to read new inputs is :meth:`checkpoint_data`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Callable, Sequence

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from seqlab.data.batch import Batch, Collate, Sample, Skipped
from seqlab.data.bucketing import BucketBatchSampler
from seqlab.data.frontends.base import Frontend
from seqlab.data.loader import ResumableDataLoader
from seqlab.data.readers.base import SPLITS, Reader, warn_skipped
from seqlab.data.records import Record
from seqlab.errors import ConfigError, SeqlabError, UnreadableFileError
from seqlab.text import Alphabet, AlphabetChange, adapt_alphabet
from seqlab.text.normalize import TextNormalization

log = logging.getLogger(__name__)

UNKNOWN_POLICIES = ("error", "skip", "replace", "keep")

__all__ = ["CorpusDataModule", "Record", "RecordDataset", "SPLITS", "UNKNOWN_POLICIES", "warn_skipped"]


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


class CorpusDataModule(L.LightningDataModule):
    """A corpus (reader) read through a frontend, batched for CTC.

    Args:
        reader: lists the records of each split (:class:`~seqlab.data.readers.base.Reader`).
        frontend: turns records into tensors (:class:`~seqlab.data.frontends.base.Frontend`).
        batch_size: items per training batch (evaluation uses the same).
        num_workers: DataLoader worker processes.
        bucket_size: bucket size in batches for length bucketing.
        unknown_symbols: what to do with a val/test transcription symbol that
            the training transcripts do not have: ``error`` (default; names the
            sample), ``skip`` the item, ``replace`` it by ``replacement_symbol``,
            or ``keep`` the item with its text as written (what ``seqlab
            evaluate`` does: the symbol the model cannot write is scored as an
            error; the validation loss leaves it out). A training item's
            unknown symbol is an error under ``keep``.
        replacement_symbol: used with ``unknown_symbols=replace``.
        alphabet: a fixed list of symbols instead of the reader's or the training transcripts'.
        seed: shuffling seed.
        pin_memory: pin batches for faster host-to-GPU copies.
        text_form: Unicode normalisation of every transcription (``NFC``,
            ``NFD``, ``NFKC``, ``NFKD`` or ``none``), stored in the checkpoint.
        bidi: reorder right-to-left transcriptions to display order for CTC
            (and back after decoding), with the Unicode BiDi algorithm.
        splits: the splits :meth:`setup` reads (evaluation reads only the one it scores).
    """

    def __init__(
        self,
        reader: Reader,
        frontend: Frontend,
        batch_size: int = 16,
        num_workers: int = 0,
        bucket_size: int = 50,
        unknown_symbols: str = "error",
        replacement_symbol: str = "?",
        alphabet: Sequence[str] | None = None,
        seed: int = 0,
        pin_memory: bool = False,
        text_form: str = "NFC",
        bidi: bool = False,
    ) -> None:
        super().__init__()
        if unknown_symbols not in UNKNOWN_POLICIES:
            raise ConfigError(f"unknown_symbols must be one of {UNKNOWN_POLICIES}, got {unknown_symbols!r}")
        self.reader = reader
        self.frontend = frontend
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.bucket_size = bucket_size
        self.unknown_symbols = unknown_symbols
        self.replacement_symbol = replacement_symbol
        fixed = alphabet if alphabet is not None else reader.alphabet
        self.fixed_alphabet = list(fixed) if fixed is not None else None
        self.seed = seed
        self.pin_memory = pin_memory
        self.text = TextNormalization(form=text_form, bidi=bidi)
        self.alphabet: Alphabet | None = None
        self.datasets: dict[str, RecordDataset] = {}
        self.frontend_fitted = False  # True once adopt() gave a trained frontend: setup() does not refit it
        self.parent_alphabet: Alphabet | None = None
        self.alphabet_policy = "fail"
        self.alphabet_change: AlphabetChange | None = None

    # --- what the corpus says about itself ---------------------------------
    @property
    def metrics(self) -> tuple[str, ...]:
        """The error rates the corpus is scored with, the primary one first."""
        return tuple(self.reader.metrics)

    @property
    def monitor(self) -> str:
        """The metric that picks a run's best checkpoint when the config names none: ``val/`` + the primary one."""
        return f"val/{self.metrics[0]}"

    @property
    def unit(self) -> str:
        return self.reader.unit

    @property
    def root(self):
        return self.reader.root

    @property
    def feature_size(self) -> int:
        """Features per step the encoder sees (image height, or features per frame)."""
        return self.frontend.feature_size

    def checkpoint_data(self) -> dict:
        """Plain data a checkpoint needs to read new inputs and score them (``seqlab.data``)."""
        return {
            "frontend": self.frontend.to_dict(),
            "text": self.text.to_dict(),
            "unit": self.unit,
            "metrics": list(self.metrics),
            "corpus": self.reader.describe(),
        }

    def adopt(self, frontend: Frontend, text: TextNormalization) -> None:
        """Read inputs with a trained model's frontend and text normalisation, before :meth:`setup`.

        For evaluation and fine-tuning: the frontend keeps the statistics it was
        trained with (setup does not refit them on this training split).
        """
        if self.datasets:
            raise ConfigError("adopt() must come before setup(): the splits are already read")
        self.frontend = frontend
        self.text = text
        self.frontend_fitted = True

    def inherit_alphabet(self, parent: Alphabet, policy: str) -> None:
        """Build the alphabet from the parent model's by ``policy`` (:func:`~seqlab.text.adapt_alphabet`), before :meth:`setup`.

        :attr:`alphabet_change` then says what was added and removed.
        """
        if self.datasets:
            raise ConfigError("inherit_alphabet() must come before setup(): the alphabet is already built")
        self.parent_alphabet = parent
        self.alphabet_policy = policy

    # --- setup ------------------------------------------------------------
    def prepare_data(self) -> None:
        self.reader.prepare()

    def setup(self, stage: str | None = None, splits: Sequence[str] = SPLITS) -> None:
        if self.datasets:
            return
        self.reader.prepare()
        records = {split: self.read_split(split) for split in splits}
        self.frontend.report_inputs()  # resampling and mixing down, said once for all splits
        empty = [split for split in splits if not records[split]]
        if empty:  # before any training: a run without val or test would only fail at its end
            where = f" ({self.reader.root})" if str(self.reader.root) not in ("", ".") else ""
            raise ConfigError(f"{type(self.reader).__name__}{where}: the {' and '.join(empty)} split(s) are empty; "
                              f"{self.reader.missing_split_hint(empty)}")
        self.alphabet = self._build_alphabet(records.get("train", []))
        encoded = {split: self._encode(split, records[split]) for split in splits}
        if "train" in encoded and not self.frontend_fitted:
            self.frontend.fit(encoded["train"][0], num_workers=self.num_workers, seed=self.seed)
        for split, (kept, targets) in encoded.items():
            self.frontend.warm(kept, num_workers=self.num_workers)
            # a small picklable loader for the workers (not the whole module); only training is distorted
            self.datasets[split] = RecordDataset(kept, targets, self.frontend.loader(augment=split == "train"))

    def read_split(self, split: str) -> list[Record]:
        """The reader's records of ``split``, texts normalised, lengths measured (unreadable inputs skipped)."""
        records, problems = [], []
        for r in self.reader.read(split):
            try:
                length = self.frontend.length(r)
            except UnreadableFileError as e:
                problems.append(str(e))
                continue
            records.append(dataclasses.replace(r, text=self.text.to_model(r.text), length=length))
        warn_skipped(f"{type(self.reader).__name__} {split} split ({self.reader.root})", problems)
        return records

    def load(self, record: Record) -> torch.Tensor:
        """A record's input tensor, never distorted."""
        return self.frontend.loader()(record)

    def _build_alphabet(self, train: Sequence[Record]) -> Alphabet:
        own = self._data_alphabet(train)
        if self.parent_alphabet is None:
            return own
        alphabet, self.alphabet_change = adapt_alphabet(self.parent_alphabet, own, self.alphabet_policy)
        return alphabet

    def _data_alphabet(self, train: Sequence[Record]) -> Alphabet:
        """The configured alphabet, or that of the training transcriptions."""
        replacement = self.replacement_symbol if self.unknown_symbols == "replace" else None
        if self.fixed_alphabet is not None:
            symbols = list(self.fixed_alphabet)
            if self.unit == "char":  # in the normalised form (NFD splits a precomposed letter in two)
                symbols = list(dict.fromkeys(c for s in symbols for c in self.text.normalize(s)))
            if replacement is not None and replacement not in symbols:
                symbols.append(replacement)
            return Alphabet(tuple(symbols), unit=self.unit, replacement=replacement)
        if not train:
            raise ConfigError("the alphabet comes from the training transcriptions, and no train split was read")
        return Alphabet.from_texts((r.text for r in train), unit=self.unit, replacement=replacement)

    def _encode(self, split: str, records: Sequence[Record]) -> tuple[list[Record], list[list[int]]]:
        assert self.alphabet is not None
        kept, targets, skipped = [], [], []
        out_of_alphabet: Counter[str] = Counter()
        for r in records:
            name = f"{r.where or r.source} ({r.id})"
            unknown = self.alphabet.unknown_symbols(r.text)
            if self.unknown_symbols == "skip" and unknown:
                skipped.append(f"{name}: symbol(s) {''.join(sorted(unknown))!r} not in the alphabet")
                continue
            as_written = self.unknown_symbols == "keep" and bool(unknown) and split != "train"
            if as_written:
                units = self.alphabet.split(r.text)
                out_of_alphabet.update(u for u in units if u in unknown)
                # the text stays as written (scored); the CTC target leaves out what the model cannot write
                target = self.alphabet.encode(self.alphabet.join([u for u in units if u not in unknown]))
            else:
                target = self.alphabet.encode(r.text, sample=name)  # raises UnknownSymbolError
            if not target and not as_written:
                skipped.append(f"{name}: empty transcription")
                continue
            kept.append(r)
            targets.append(target)
        warn_skipped(f"{type(self.reader).__name__} {split} split", skipped)
        if out_of_alphabet:
            log.warning("%s %s split: the references hold %d symbol(s) the model cannot write (%s); they are "
                        "scored as written, each an error", type(self.reader).__name__, split,
                        sum(out_of_alphabet.values()), ", ".join(f"{u!r} x{n}" for u, n in out_of_alphabet.most_common()))
        return kept, targets

    # --- loaders ----------------------------------------------------------
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
            collate_fn=Collate(self.frontend.pad),
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

    def on_after_batch_transfer(self, batch: Batch, dataloader_idx: int) -> Batch:
        """Training batches get the frontend's on-device augmentation (SpecAugment); others pass as they are."""
        trainer = self.trainer
        if trainer is not None and trainer.training and len(batch):
            batch.inputs = self.frontend.augment_batch(batch.inputs, batch.input_lengths)
        return batch
