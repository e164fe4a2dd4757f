"""Audio in, normalised filterbank frames (T, F) out.

The frontend of every speech corpus: an audio file (or a stretch of one, from
``offset`` for ``duration`` seconds) is read mono at the features' rate
(:func:`~seqlab.data.audio.read_audio`), turned into log mel filterbank
features (:class:`~seqlab.data.features.FilterbankFeatures`; the static part
rounded through float16 as the feature cache stores it), given deltas, and
normalised with the training set's statistics, which :meth:`SpeechFrontend.fit`
computes and the checkpoint stores. SpecAugment masks training batches only,
on the device.
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
from seqlab.data.audio import audio_info, read_audio
from seqlab.data.disk_cache import file_key
from seqlab.data.features import FeatureCache, FeatureStats, FilterbankFeatures, SpecAugment
from seqlab.data.frontends.base import Frontend, Prepared, pad_frames
from seqlab.data.readers.base import warn_skipped
from seqlab.data.records import Record
from seqlab.errors import ConfigError, UnreadableFileError

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".sph", ".flac", ".mp3", ".ogg", ".oga", ".opus")


class RecordFeatures:
    """Picklable record -> (T, F) features (normalised when ``stats`` is given), for DataLoader workers."""

    def __init__(self, cache: FeatureCache, stats: FeatureStats | None = None) -> None:
        self.cache = cache
        self.stats = stats

    def __call__(self, record: Record) -> torch.Tensor:
        x = self.cache.features.with_deltas(self.cache.static(record.source, record.offset, record.duration))
        return self.stats.apply(x) if self.stats is not None else x


class _RawFeatures(Dataset):
    """Un-normalised features of some records, or the reason one cannot be read."""

    def __init__(self, records: Sequence[Record], load: RecordFeatures) -> None:
        self.records = list(records)
        self.load = load

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> torch.Tensor | str:
        try:
            return self.load(self.records[i])
        except UnreadableFileError as e:
            return str(e)


class SpeechFrontend(Frontend):
    """Filterbank features for the speech models.

    Args:
        num_mel_bins: 40 (123 values per frame, as Graves 2013) or 80 (243).
        delta_order: 2 for deltas and delta-deltas, 1 for deltas only, 0 for none.
        normalize: zero mean, unit variance per feature with training-set statistics.
        norm_utterances: compute the statistics on this many training utterances
            (a seeded random subset); None for all of them.
        spec_augment: masks applied to training batches (None: none; never stored).
        cache_dir: root of the feature cache (``cache_dir/features/...``); None
            computes features on every load.
        stats: normalisation statistics (as stored in a checkpoint); None until :meth:`fit`.
        features: the full filterbank settings (as stored); overrides num_mel_bins and delta_order.
    """

    name = "speech"
    suffixes = AUDIO_SUFFIXES
    unit = "seconds"
    noun = "audio file"  # what one input is called in messages
    training_only = ("spec_augment",)
    time_axis = 1  # the padded axis of a batch
    input_layout = "(B, T, F) normalised frames"

    def __init__(
        self,
        num_mel_bins: int = 40,
        delta_order: int = 2,
        normalize: bool = True,
        norm_utterances: int | None = None,
        spec_augment: SpecAugment | None = None,
        cache_dir: str | None = None,
        stats: FeatureStats | None = None,
        features: FilterbankFeatures | None = None,
    ) -> None:
        if norm_utterances is not None and norm_utterances < 1:
            raise ConfigError(f"norm_utterances must be >= 1 or null, got {norm_utterances}")
        self.features = features or FilterbankFeatures(num_mel_bins=num_mel_bins, delta_order=delta_order)
        self.cache_dir = cache_dir
        self.cache = FeatureCache(self.features, cache_dir)
        self.normalize = normalize
        self.norm_utterances = norm_utterances
        self.spec_augment = spec_augment
        self.stats = stats
        self._formats: dict[str, tuple[int, int]] = {}  # audio file -> (rate, channels), for report_inputs

    @property
    def feature_size(self) -> int:
        return self.features.feature_size

    def length(self, record: Record) -> int:
        """Frames of the record's audio (from the header, or its ``duration``).

        Raises:
            UnreadableFileError: naming the file, when it is unreadable, empty,
                or shorter than one analysis window.
        """
        info = audio_info(record.source)
        self.note_input(record.source, info)
        rate = self.features.sample_rate
        samples = info.frames_at(rate) - int(round(record.offset * rate))
        if record.duration is not None:
            samples = min(samples, int(round(record.duration * rate)))
        frames = self.features.num_frames(max(samples, 0))
        if frames == 0:
            span = f" from {record.offset:g} s" if record.offset else ""
            raise UnreadableFileError(
                f"{record.source}: {max(samples, 0)} samples{span} at {rate} Hz is shorter than one "
                f"{self.features.frame_length_ms:g} ms analysis window"
            )
        return frames

    def note_input(self, path: str | Path, info) -> None:
        """Remember an input's rate and channels (its :class:`~seqlab.data.audio.AudioInfo`) for :meth:`report_inputs`."""
        self._formats[str(path)] = (info.sample_rate, info.channels)

    def report_inputs(self) -> None:
        """Say once how many of the audio files measured so far are resampled or mixed down."""
        formats, self._formats = self._formats, {}
        rate = self.features.sample_rate
        rates: dict[int, int] = {}
        multi = 0
        for file_rate, channels in formats.values():
            if file_rate != rate:
                rates[file_rate] = rates.get(file_rate, 0) + 1
            multi += channels > 1
        if rates:
            listed = ", ".join(f"{n} at {r:,} Hz" for r, n in sorted(rates.items()))
            log.warning("audio resampled to %s Hz on reading: %d of %d files (%s)", f"{rate:,}",
                        sum(rates.values()), len(formats), listed)
        if multi:
            log.warning("audio mixed down to mono (the mean of its channels): %d of %d files", multi, len(formats))

    def loader(self, augment: bool = False) -> RecordFeatures:
        return RecordFeatures(self.cache, self.stats)  # SpecAugment acts on batches (augment_batch)

    def augment_batch(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.spec_augment is None:
            return inputs
        return self.spec_augment(inputs, lengths, blocks=self.features.blocks)

    # --- normalisation statistics ------------------------------------------
    def fit(self, records: Sequence[Record], num_workers: int = 0, seed: int = 0) -> None:
        """Mean and standard deviation of the training features (also fills the cache)."""
        if not self.normalize:
            self.stats = None
            return
        records = list(records)
        if self.norm_utterances is not None and len(records) > self.norm_utterances:
            chosen = sorted(random.Random(seed).sample(range(len(records)), self.norm_utterances))
            records = [records[i] for i in chosen]
        stored = self._stats_file(records)
        if stored is not None and stored.is_file():
            try:
                data = json.loads(stored.read_text())
                self.stats = FeatureStats(data["mean"], data["std"], data["frames"])
                return
            except (OSError, ValueError, KeyError):
                pass  # recomputed and rewritten below
        log.info("computing feature statistics over %d training utterances", len(records))
        problems: list[str] = []
        self.stats = FeatureStats.accumulate(self._raw_features(records, problems, num_workers))
        warn_skipped("feature statistics", problems)
        if stored is not None:
            write_text_atomic(stored, json.dumps(self.stats.to_dict()))

    def _raw_features(self, records: Sequence[Record], problems: list[str], num_workers: int) -> Iterator[torch.Tensor]:
        raw = DataLoader(_RawFeatures(records, RecordFeatures(self.cache, None)), batch_size=None,
                         num_workers=num_workers)
        for item in raw:
            if isinstance(item, str):
                problems.append(item)
            else:
                yield item

    def _stats_file(self, records: Sequence[Record]) -> Path | None:
        """Where the statistics of exactly these inputs (names, sizes, times, stretches) are kept."""
        if self.cache.folder is None:
            return None
        ids = hashlib.sha1()
        for r in records:
            try:
                ids.update(file_key(r.source).encode())
            except UnreadableFileError:
                ids.update(r.source.encode())
            if r.offset or r.duration is not None:
                ids.update(f"\0{r.offset!r}\0{r.duration!r}".encode())
        return self.cache.folder / "stats" / f"{ids.hexdigest()[:16]}.json"

    # --- any input ----------------------------------------------------------
    def read_file(self, path: str | Path) -> Prepared:
        self.note_input(path, audio_info(path))
        wave = read_audio(path, self.features.sample_rate)
        try:
            return self.prepare(wave, self.features.sample_rate, str(path))
        except UnreadableFileError as e:
            raise UnreadableFileError(f"{path}: {e}") from None

    def prepare(self, wave: torch.Tensor, sample_rate: int, source: str = "<audio>") -> Prepared:
        """(N,) mono waveform (full scale 1.0) at ``sample_rate`` -> normalised features.

        Raises:
            UnreadableFileError: when it is shorter than one analysis window.
        """
        from seqlab.data.audio import to_model_rate

        wave = to_model_rate(wave.float().reshape(-1), sample_rate, self.features.sample_rate)
        # the training feature cache keeps static features in float16 (FeatureCache)
        static = self.features.static(wave).half().float()
        x = self.features.with_deltas(static)
        if self.stats is not None:
            x = self.stats.apply(x)
        return Prepared(source, x, int(x.size(0)), wave.numel() / self.features.sample_rate)

    def pad(self, inputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        return pad_frames(inputs)

    def positions(self, input_length: int, frames: int, extent: float):
        from seqlab.decode.align import FrameScale

        return FrameScale.for_audio(input_length, frames, self.features.frame_shift_ms / 1000, extent)

    def example(self, length: int, batch: int, generator: torch.Generator) -> torch.Tensor:
        return torch.randn(batch, length, self.feature_size, generator=generator)

    def figure(self, record: Record, log_probs, symbols: Sequence[str], title: str) -> bytes:
        """The CTC posteriorgram of the utterance (row 0: blank)."""
        from seqlab.report.plots import posteriorgram

        return posteriorgram(log_probs, symbols, title)

    def to_dict(self) -> dict:
        return {
            "type": self.name,
            "features": self.features.to_dict(),
            "normalization": self.stats.to_dict() if self.stats is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict, cache_dir: str | Path | None = None) -> SpeechFrontend:
        unknown = set(data) - {"type", "features", "normalization"}
        if unknown:
            raise ValueError(f"unknown speech settings {sorted(unknown)}")
        stats = data.get("normalization")
        return cls(
            features=FilterbankFeatures.from_dict(data["features"]),
            normalize=stats is not None,
            stats=FeatureStats(stats["mean"], stats["std"], stats.get("frames", 0)) if stats else None,
            cache_dir=cache_dir,
        )
