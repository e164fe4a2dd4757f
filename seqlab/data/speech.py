"""What the speech corpus modules (TIMIT, LibriSpeech) share.

:class:`SpeechDataModule` turns audio files into normalised filterbank frames
(:mod:`seqlab.data.features`): record lengths come from the audio headers
(no decoding before training), features are cached on disk on first use,
normalisation statistics are computed on the training split during ``setup``
(that pass also fills the cache) and travel in :meth:`recipe`, and SpecAugment,
when configured, masks training batches only, after they reach the device.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from seqlab.atomic import write_text_atomic
from seqlab.data.audio import audio_info
from seqlab.data.batch import Batch
from seqlab.data.disk_cache import file_key
from seqlab.data.features import FeatureCache, FeatureLoader, FeatureStats, FilterbankFeatures, SpecAugment
from seqlab.data.module import CTCDataModule, Record, warn_skipped
from seqlab.errors import ConfigError, UnreadableFileError

log = logging.getLogger(__name__)


class RecordFeatures:
    """Picklable record -> (T, F) features, for :class:`~seqlab.data.module.RecordDataset`."""

    def __init__(self, loader: FeatureLoader) -> None:
        self.loader = loader

    def __call__(self, record: Record) -> torch.Tensor:
        return self.loader(record.source)


class _RawFeatures(Dataset):
    """Un-normalised features of some records, or the reason one cannot be read."""

    def __init__(self, records: Sequence[Record], loader: FeatureLoader) -> None:
        self.records = list(records)
        self.loader = loader

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> torch.Tensor | str:
        try:
            return self.loader(self.records[i].source)
        except UnreadableFileError as e:
            return str(e)


class SpeechDataModule(CTCDataModule):
    """Base of the speech corpus modules: audio records in, normalised frames out.

    Args:
        cache_dir: root of the feature cache (``cache_dir/features/...``); None
            computes features on every load.
        num_mel_bins: 40 (123 values per frame, as Graves 2013) or 80 (243).
        delta_order: 2 for deltas and delta-deltas, 1 for deltas only, 0 for none.
        normalize: zero mean, unit variance per feature with training-set statistics.
        norm_utterances: compute the statistics on this many training utterances
            (a seeded random subset); None for all of them.
        spec_augment: masks applied to training batches (None: no augmentation).
        **kwargs: batching and alphabet options of :class:`CTCDataModule`.
    """

    def __init__(
        self,
        cache_dir: str | None = None,
        num_mel_bins: int = 40,
        delta_order: int = 2,
        normalize: bool = True,
        norm_utterances: int | None = None,
        spec_augment: SpecAugment | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if norm_utterances is not None and norm_utterances < 1:
            raise ConfigError(f"norm_utterances must be >= 1 or null, got {norm_utterances}")
        self.features = FilterbankFeatures(num_mel_bins=num_mel_bins, delta_order=delta_order)
        self.cache = FeatureCache(self.features, cache_dir)
        self.normalize = normalize
        self.norm_utterances = norm_utterances
        self.spec_augment = spec_augment
        self.stats: FeatureStats | None = None

    @property
    def feature_size(self) -> int:
        return self.features.feature_size

    def recipe(self) -> dict:
        return {
            "kind": "speech",
            "features": self.features.to_dict(),
            "normalization": self.stats.to_dict() if self.stats is not None else None,
            "unit": self.unit,
            "metrics": list(self.metrics),
        }

    def audio_record(self, id: str, path: str | Path, text: str, where: str = "", group: str = "") -> Record:
        """A record whose length (in frames) comes from the audio header.

        Raises:
            UnreadableFileError: naming the file, when it is unreadable, empty,
                or shorter than one analysis window.
        """
        info = audio_info(path)
        frames = self.features.num_frames(info.frames_at(self.features.sample_rate))
        if frames == 0:
            raise UnreadableFileError(
                f"{path}: {info.frames} samples at {info.sample_rate} Hz is shorter than one "
                f"{self.features.frame_length_ms:g} ms analysis window"
            )
        return Record(id, str(path), text, frames, where, group)

    def load(self, record: Record) -> torch.Tensor:
        """(T, F) normalised features of a record."""
        return FeatureLoader(self.cache, self.stats)(record.source)

    # --- setup: records, then statistics, then the loaders that use them ---
    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        super().setup(stage)
        if self.normalize:
            self.stats = self.training_stats()
        # a plain picklable callable rather than this module's bound method:
        # DataLoader workers then receive the cache settings, not the whole module
        loader = RecordFeatures(FeatureLoader(self.cache, self.stats))
        for dataset in self.datasets.values():
            dataset.load = loader

    def training_stats(self) -> FeatureStats:
        """Mean and standard deviation of the training features (also fills the cache)."""
        records = self.datasets["train"].records
        if self.norm_utterances is not None and len(records) > self.norm_utterances:
            chosen = sorted(random.Random(self.seed).sample(range(len(records)), self.norm_utterances))
            records = [records[i] for i in chosen]
        stored = self._stats_file(records)
        if stored is not None and stored.is_file():
            try:
                data = json.loads(stored.read_text())
                return FeatureStats(data["mean"], data["std"], data["frames"])
            except (OSError, ValueError, KeyError):
                pass  # recomputed and rewritten below
        log.info("computing feature statistics over %d training utterances", len(records))
        problems: list[str] = []
        stats = FeatureStats.accumulate(self._raw_features(records, problems))
        warn_skipped(f"{type(self).__name__} feature statistics", problems)
        if stored is not None:
            write_text_atomic(stored, json.dumps(stats.to_dict()))
        return stats

    def _raw_features(self, records: Sequence[Record], problems: list[str]) -> Iterator[torch.Tensor]:
        raw = DataLoader(
            _RawFeatures(records, FeatureLoader(self.cache, None)),
            batch_size=None,
            num_workers=self.num_workers,
        )
        for item in raw:
            if isinstance(item, str):
                problems.append(item)
            else:
                yield item

    def _stats_file(self, records: Sequence[Record]) -> Path | None:
        """Where the statistics of exactly these files (names, sizes, times) are kept."""
        if self.cache.folder is None:
            return None
        ids = hashlib.sha1()
        for r in records:
            try:
                ids.update(file_key(r.source).encode())
            except UnreadableFileError:
                ids.update(r.source.encode())
        return self.cache.folder / "stats" / f"{ids.hexdigest()[:16]}.json"

    # --- augmentation: training batches only, on the device ---------------
    def on_after_batch_transfer(self, batch: Batch, dataloader_idx: int) -> Batch:
        trainer = self.trainer
        if self.spec_augment is not None and trainer is not None and trainer.training and len(batch):
            batch.inputs = self.spec_augment(batch.inputs, batch.input_lengths, blocks=self.features.blocks)
        return batch
