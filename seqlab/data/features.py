"""Speech features: log mel filterbank + energy with deltas, normalisation, cache, SpecAugment.

The features of Graves et al. (2013): 40 mel filterbank channels and the log
energy of each 25 ms frame, every 10 ms, with their first and second temporal
derivatives: (40 + 1) x 3 = 123 values per frame (or (80 + 1) x 3 = 243 with
``num_mel_bins=80``), normalised to zero mean and unit variance with statistics
of the training set.

Why ``torchaudio.compliance.kaldi.fbank`` rather than ``transforms.MelSpectrogram``:
it computes Kaldi's (and so the Kaldi/ESPnet TIMIT and LibriSpeech recipes')
filterbank exactly, with the frame energy as one more column (``use_energy``)
instead of a separate computation, and it works on one utterance, which is
what a per-utterance cache needs anyway. ``MelSpectrogram`` is the choice for
batched GPU extraction; here extraction happens once per file and is then
cached, so it runs on CPU workers either way (about 1,000x real time on one
core, ``benchmarks/features.py``).

Only the static values (log mel + energy, (T, S) with S = ``num_mel_bins + 1``)
are cached, in float16 (LibriSpeech's 100 h then take about 3 GB instead of
18 GB of float32 with deltas); deltas are computed on load (a short
convolution) and normalisation applied after them.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torchaudio.compliance.kaldi as kaldi
import torchaudio.functional as AF
from torch import nn
from torchaudio.transforms import FrequencyMasking, TimeMasking

from seqlab.data.audio import SAMPLE_RATE, read_audio
from seqlab.data.disk_cache import entry_path, file_key, read_npy, write_npy_atomic
from seqlab.errors import ConfigError, DataFormatError, UnreadableFileError

# libsndfile gives full scale 1.0; Kaldi's filterbank expects 16-bit sample
# values, so that its energy floor and log values match Kaldi's own features.
INT16_SCALE = 32768.0
FBANK_VERSION = 1  # bump when the computation changes: old caches are then ignored


@dataclass(frozen=True)
class FilterbankFeatures:
    """Waveform -> (T, F) log mel filterbank + energy, with deltas.

    Args:
        num_mel_bins: mel channels (40 as Graves 2013, or 80).
        use_energy: add the log frame energy as a column (Kaldi puts it first).
        delta_order: 0 (static only), 1 (+ deltas) or 2 (+ deltas and delta-deltas).
        delta_window: ``compute_deltas`` window (5 frames: HTK's DELTAWINDOW=2).
        sample_rate: audio is resampled to this rate first.
        frame_length_ms, frame_shift_ms: analysis window and hop.

    Shapes:
        ``static(wave)``: (N,) samples -> (T, S), S = num_mel_bins + use_energy,
        T = 1 + (N - window) // hop (Kaldi's snip_edges framing).
        ``with_deltas(static)``: (T, S) -> (T, F), F = S * (1 + delta_order).
    """

    num_mel_bins: int = 40
    use_energy: bool = True
    delta_order: int = 2
    delta_window: int = 5
    sample_rate: int = SAMPLE_RATE
    frame_length_ms: float = 25.0
    frame_shift_ms: float = 10.0

    def __post_init__(self) -> None:
        if self.num_mel_bins < 1:
            raise ConfigError(f"num_mel_bins must be >= 1, got {self.num_mel_bins}")
        if self.delta_order not in (0, 1, 2):
            raise ConfigError(f"delta_order must be 0, 1 or 2, got {self.delta_order}")
        if self.delta_window < 3 or self.delta_window % 2 == 0:
            raise ConfigError(f"delta_window must be odd and >= 3, got {self.delta_window}")

    @property
    def static_size(self) -> int:
        return self.num_mel_bins + int(self.use_energy)

    @property
    def blocks(self) -> int:
        """Static values, deltas, delta-deltas: how many (T, S) blocks a frame holds."""
        return 1 + self.delta_order

    @property
    def feature_size(self) -> int:
        return self.static_size * self.blocks

    @property
    def window(self) -> int:
        return int(self.sample_rate * self.frame_length_ms / 1000)

    @property
    def hop(self) -> int:
        return int(self.sample_rate * self.frame_shift_ms / 1000)

    def num_frames(self, samples: int) -> int:
        """Frames of ``samples`` samples (at ``sample_rate``)."""
        return 0 if samples < self.window else 1 + (samples - self.window) // self.hop

    def to_dict(self) -> dict:
        return {"kind": "fbank", "version": FBANK_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict) -> FilterbankFeatures:
        return cls(**{k: v for k, v in data.items() if k not in ("kind", "version")})

    def key(self) -> str:
        """Short hash of the settings: names the cache folder."""
        return hashlib.sha1(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:10]

    def static(self, wave: torch.Tensor) -> torch.Tensor:
        """(N,) float waveform at ``sample_rate`` -> (T, S) log mel + energy."""
        if self.num_frames(wave.numel()) == 0:
            raise UnreadableFileError(
                f"{wave.numel()} samples is shorter than one {self.frame_length_ms:g} ms analysis window"
            )
        return kaldi.fbank(
            wave.reshape(1, -1) * INT16_SCALE,
            num_mel_bins=self.num_mel_bins,
            use_energy=self.use_energy,
            frame_length=self.frame_length_ms,
            frame_shift=self.frame_shift_ms,
            sample_frequency=float(self.sample_rate),
            dither=0.0,  # deterministic features, so that a cache is valid
        )

    def with_deltas(self, static: torch.Tensor) -> torch.Tensor:
        """(T, S) -> (T, S * (1 + delta_order)): statics, deltas, delta-deltas side by side."""
        blocks = [static.T]  # (T, S) -> (S, T): compute_deltas works along the last axis
        for _ in range(self.delta_order):
            blocks.append(AF.compute_deltas(blocks[-1], win_length=self.delta_window))
        return torch.cat(blocks, dim=0).T.contiguous()  # (F, T) -> (T, F)

    def __call__(self, wave: torch.Tensor) -> torch.Tensor:
        return self.with_deltas(self.static(wave))


class FeatureCache:
    """Static features of audio files, computed once and kept on disk.

    Files live in ``cache_dir/features/fbank-<settings hash>-r<resampling hash>/ab/<key>.npy``
    (the resampling and mixdown of :data:`seqlab.data.audio.RESAMPLING` are part
    of the folder's name); the key hashes the audio file's absolute path, size
    and modification time (and the stretch read), so an edited or replaced file
    is recomputed. Writes go to a temporary name and are renamed into place, so
    a crash or a concurrent worker never leaves a partial file under a real name.

    Args:
        features: the feature settings.
        cache_dir: root of the cache; None computes every time.
    """

    def __init__(self, features: FilterbankFeatures, cache_dir: str | Path | None) -> None:
        self.features = features
        self.folder = None
        if cache_dir is not None:
            from seqlab.data.audio import RESAMPLING

            resampling = hashlib.sha1(json.dumps(RESAMPLING, sort_keys=True).encode()).hexdigest()[:6]
            self.folder = Path(cache_dir).expanduser() / "features" / f"fbank-{features.key()}-r{resampling}"

    def path_for(self, audio: str | Path, offset: float = 0.0, duration: float | None = None) -> Path | None:
        if self.folder is None:
            return None
        key = file_key(audio)
        if offset or duration is not None:  # one entry per stretch of the file
            key = hashlib.sha1(f"{key}\0{offset!r}\0{duration!r}".encode()).hexdigest()
        return entry_path(self.folder, key)

    def static(self, audio: str | Path, offset: float = 0.0, duration: float | None = None) -> torch.Tensor:
        """(T, S) float32 static features of an audio file (or of ``duration`` seconds from ``offset``),
        from the cache when there.

        Raises:
            UnreadableFileError: naming the file, when it cannot be decoded, is too
                short, or its features are not finite (also when read from the cache).
        """
        cached = self.path_for(audio, offset, duration)
        stored = read_npy(cached) if cached is not None else None
        if stored is not None:
            return _finite(torch.from_numpy(stored.astype(np.float32)), audio)
        wave = read_audio(audio, self.features.sample_rate, offset, duration)  # its errors name the file
        try:
            static = self.features.static(wave)
        except UnreadableFileError as e:
            raise UnreadableFileError(f"{audio}: {e}") from None
        _finite(static, audio)  # before it is cached
        if cached is not None:
            stored = static.numpy().astype(np.float16)
            write_npy_atomic(cached, stored)
            # what every later read returns: the first epoch then sees the same values
            static = torch.from_numpy(stored.astype(np.float32))
        return static


def _finite(static: torch.Tensor, audio: str | Path) -> torch.Tensor:
    """``static`` (T, S) itself, after checking that every value is finite.

    Raises:
        UnreadableFileError: naming the file (extreme samples, or a cache entry
            stored before :func:`~seqlab.data.audio.read_audio` refused NaN samples).
    """
    bad = int((~torch.isfinite(static)).sum())
    if bad:
        raise UnreadableFileError(
            f"{audio}: {bad:,} of {static.numel():,} feature values are not finite (NaN or infinite); "
            "check the audio's samples, repair or re-export it, or leave the file out"
        )
    return static


@dataclass
class FeatureStats:
    """Per-feature mean and standard deviation, as plain lists (they go into checkpoints).

    Raises:
        DataFormatError: when a mean or deviation is NaN or infinite (they would
            make every normalised input NaN).
    """

    mean: list[float]
    std: list[float]
    frames: int = 0

    def __post_init__(self) -> None:
        bad = [i for i, (m, s) in enumerate(zip(self.mean, self.std)) if not (math.isfinite(m) and math.isfinite(s))]
        if bad:
            i = bad[0]
            raise DataFormatError(
                f"normalisation statistics over {self.frames:,} frames are not finite in {len(bad)} of "
                f"{len(self.mean)} features (feature {i}: mean {self.mean[i]}, std {self.std[i]}): the "
                "features they come from hold NaN or infinite values; find and leave out that input"
            )

    @classmethod
    def identity(cls, size: int) -> FeatureStats:
        return cls([0.0] * size, [1.0] * size, 0)

    @classmethod
    def accumulate(cls, features, min_std: float = 1e-3) -> FeatureStats:
        """Statistics of an iterable of (T, F) tensors (float64 sums: no drift over 100 h)."""
        total = sq = None
        frames = 0
        for x in features:
            x = x.double()
            s, q = x.sum(0), (x * x).sum(0)
            total, sq = (s, q) if total is None else (total + s, sq + q)
            frames += x.size(0)
        if total is None or frames == 0:
            raise ConfigError("no training features to compute normalisation statistics from")
        mean = total / frames
        var = (sq / frames - mean * mean).clamp_min(0.0)
        std = var.sqrt().clamp_min(min_std)  # a constant feature would otherwise divide by 0
        return cls(mean.tolist(), std.tolist(), frames)

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """(T, F) -> (T, F) normalised."""
        mean = torch.tensor(self.mean, dtype=x.dtype)
        std = torch.tensor(self.std, dtype=x.dtype)
        return (x - mean) / std

    def to_dict(self) -> dict:
        return {"mean": list(self.mean), "std": list(self.std), "frames": self.frames}


class SpecAugment(nn.Module):
    """Frequency and time masking (Park et al. 2019) of a batch of feature frames.

    Masks are set to 0, the mean of normalised features. A frequency mask hides
    the same mel channels in the static values and in their deltas; a time mask
    hides whole frames. Time masks are drawn within each item's own length.

    Args:
        freq_masks, freq_mask_param: number of frequency masks, and the largest
            width of one (channels).
        time_masks, time_mask_param: number of time masks, and the largest width
            of one (frames).
        max_time_fraction: no time mask covers more than this fraction of an item.

    Shapes:
        forward(x (B, T, F), lengths (B,), blocks): F = blocks * S; returns (B, T, F).
    """

    def __init__(
        self,
        freq_masks: int = 2,
        freq_mask_param: int = 10,
        time_masks: int = 2,
        time_mask_param: int = 40,
        max_time_fraction: float = 0.2,
    ) -> None:
        super().__init__()
        self.freq_masks = freq_masks
        self.time_masks = time_masks
        self.freq = FrequencyMasking(freq_mask_param)
        self.time = TimeMasking(time_mask_param, p=max_time_fraction)

    @torch.no_grad()
    def forward(self, x: torch.Tensor, lengths: torch.Tensor, blocks: int = 1) -> torch.Tensor:
        out = x.clone()
        _, _, f = x.shape
        s = f // blocks
        for b, n in enumerate(lengths.tolist()):
            if n == 0:
                continue
            # (n, F) -> (1, S, blocks*n): a mask over S hides the same channels in every block
            item = out[b, :n].reshape(n, blocks, s).permute(2, 1, 0).reshape(1, s, blocks * n)
            for _ in range(self.freq_masks):
                item = self.freq(item)
            item = item.reshape(s, blocks, n).permute(1, 0, 2).reshape(1, f, n)  # -> (1, F, n)
            for _ in range(self.time_masks):
                item = self.time(item)
            out[b, :n] = item[0].T
        return out
