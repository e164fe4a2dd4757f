"""Reading audio files: NIST SPHERE, RIFF WAV, FLAC, MP3 and OGG, through libsndfile.

``soundfile`` (libsndfile) recognises a file by its header, not its name, so
TIMIT's SPHERE files, their RIFF conversions and LibriSpeech's FLAC files all
go through :func:`read_audio`. (torchaudio 2.11's own ``load`` needs torchcodec
and FFmpeg; libsndfile needs neither.)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio

from seqlab.errors import UnreadableFileError

SAMPLE_RATE = 16_000
# How other rates and channel counts become the model's: torchaudio's windowed-sinc
# resampler with these settings, channels averaged. Part of the feature cache's key
# (seqlab.data.features.FeatureCache), so a change here recomputes cached features.
RESAMPLING = {"method": "sinc_interp_hann", "lowpass_filter_width": 6, "rolloff": 0.99, "mixdown": "mean"}


def to_model_rate(wave: torch.Tensor, rate: int, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """(N,) float32 mono waveform at ``rate`` -> at ``sample_rate`` (:data:`RESAMPLING`)."""
    if rate == sample_rate:
        return wave
    return _resampler(int(rate), sample_rate)(wave)


@functools.lru_cache(maxsize=16)
def _resampler(rate: int, sample_rate: int) -> torchaudio.transforms.Resample:
    """torchaudio's resampler with its filter computed once; ``functional.resample`` computes it on every
    call, for every short file and every stretch of a long recording (the same output, bit for bit)."""
    return torchaudio.transforms.Resample(rate, sample_rate, lowpass_filter_width=RESAMPLING["lowpass_filter_width"],
                                          rolloff=RESAMPLING["rolloff"], resampling_method=RESAMPLING["method"],
                                          dtype=torch.float32)  # as functional.resample builds it for float32 audio


@dataclass(frozen=True)
class AudioInfo:
    """What an audio header says: samples per channel, sample rate, channels, format."""

    frames: int
    sample_rate: int
    channels: int
    format: str

    def frames_at(self, sample_rate: int) -> int:
        """Samples after resampling to ``sample_rate`` (torchaudio's resample length)."""
        if self.sample_rate == sample_rate:
            return self.frames
        return math.ceil(self.frames * sample_rate / self.sample_rate)


def audio_info(path: str | Path) -> AudioInfo:
    """The header of an audio file, without decoding it.

    Raises:
        UnreadableFileError: naming the file, when it is missing, its format is
            not recognised, or it holds no samples.
    """
    if not Path(path).is_file():
        raise UnreadableFileError(f"{path}: file not found" if not Path(path).exists() else f"{path}: not a file")
    try:
        info = sf.info(str(path))
    except FileNotFoundError:
        raise UnreadableFileError(f"{path}: file not found") from None
    except (sf.LibsndfileError, RuntimeError) as e:
        raise UnreadableFileError(f"{path}: not a readable audio file ({_reason(e)}){_codec_hint(path)}") from None
    if info.frames <= 0:
        raise UnreadableFileError(f"{path}: the audio holds no samples (zero-length file)")
    if info.samplerate <= 0:
        raise UnreadableFileError(f"{path}: the header gives a sample rate of {info.samplerate}")
    return AudioInfo(int(info.frames), int(info.samplerate), int(info.channels), str(info.format))


def read_audio(path: str | Path, sample_rate: int = SAMPLE_RATE, offset: float = 0.0,
               duration: float | None = None) -> torch.Tensor:
    """Decode an audio file (or ``duration`` seconds of it from ``offset``) to a mono float waveform at ``sample_rate``.

    Channels are averaged; other sample rates are resampled
    (``torchaudio.functional.resample``, windowed sinc).

    Returns:
        (N,) float32 tensor, full scale = 1.0.

    Raises:
        UnreadableFileError: naming the file, when it cannot be decoded, is
            empty, or holds NaN or infinite samples (a float WAV can), which
            would otherwise turn every statistic computed over a corpus into NaN.
    """
    try:
        start = stop = None
        if offset or duration is not None:  # seconds -> samples at the file's own rate
            rate = sf.info(str(path)).samplerate
            start = int(round(offset * rate))
            stop = None if duration is None else start + int(round(duration * rate))
        data, rate = sf.read(str(path), start=start or 0, stop=stop, dtype="float32", always_2d=True)  # (N, channels)
    except FileNotFoundError:
        raise UnreadableFileError(f"{path}: file not found") from None
    except (sf.LibsndfileError, RuntimeError) as e:
        raise UnreadableFileError(f"{path}: cannot decode audio ({_reason(e)}){_codec_hint(path)}") from None
    if data.shape[0] == 0:
        if start:
            raise UnreadableFileError(f"{path}: no samples from {offset:g} s on (the file is shorter)")
        raise UnreadableFileError(f"{path}: the audio holds no samples (zero-length file)")
    bad = int(np.count_nonzero(~np.isfinite(data)))
    if bad:
        raise UnreadableFileError(
            f"{path}: {bad:,} of {data.size:,} samples are not finite (NaN or infinite); "
            "repair or re-export the audio, or leave the file out"
        )
    wave = torch.from_numpy(np.ascontiguousarray(data.mean(axis=1)))  # (N, C) -> (N,)
    return to_model_rate(wave, int(rate), sample_rate)


# what libsndfile release first read each compressed format
_CODECS = {".mp3": ("MP3", (1, 1, 0)), ".ogg": ("Ogg Vorbis", (1, 0, 18)), ".oga": ("Ogg Vorbis", (1, 0, 18)),
           ".opus": ("Opus", (1, 0, 29))}


def _codec_hint(path: str | Path) -> str:
    """For a compressed file libsndfile failed on: whether this libsndfile can read its format at all."""
    codec = _CODECS.get(Path(path).suffix.lower())
    if codec is None:
        return ""
    name, since = codec
    version = sf.__libsndfile_version__
    try:
        have = tuple(int(x) for x in version.split("-")[0].split(".")[:3])
    except ValueError:
        return ""
    if have >= since:
        return f"; this libsndfile ({version}) reads {name}, so the file itself is damaged or not {name}"
    return (f"; this libsndfile ({version}) cannot read {name} (it needs {'.'.join(map(str, since))} or newer): "
            "pip install -U soundfile, or convert the file to WAV or FLAC")


def _reason(e: Exception) -> str:
    # libsndfile's messages start with "Error opening '<path>': "; the path is already named
    text = str(e)
    return text.split("': ", 1)[1] if "': " in text else text
