"""Recordings of any length in bounded memory: cut into pieces, each recognised, put back on the file's timeline.

A bidirectional LSTM needs a whole input before it emits anything, and its
memory grows with the input; a 40-minute interview does not fit. So a long
file is read a stretch at a time (:class:`AudioStream`: seek, decode, mix
down, resample that stretch only) and cut into pieces of at most
``max_piece`` seconds, in one of two ways:

- ``vad`` (default): voice activity detection (WebRTC's GMM detector, the
  ``webrtcvad-wheels`` package) on 30 ms frames; a piece ends in a pause of at
  least ``min_pause`` seconds, so no word is cut; pure silence is never
  recognised. A stretch of speech longer than ``max_piece`` with no such pause
  is cut at its quietest 30 ms frame in the piece's second half.
- ``windows``: fixed windows of ``window`` seconds overlapping by ``overlap``;
  each window keeps the words whose middle lies in its half of each overlap,
  so every word comes from the window where it had the most context.

Each piece is recognised like a short file (``Recognizer.recognize``, in
batches), its tokens' and words' times moved by the piece's start, and the
file's result is one :class:`~seqlab.recognizer.Transcription` on the original
file's timeline. Each batch of pieces is recognised on one of the recognizer's
workers while the file is read on; memory holds one batch per worker and the
one being read (each at most ``batch_size`` x ``max_piece`` seconds of audio
and features) plus the words found so far.
Which way is more accurate is measured in docs/benchmarks.md ("Long recordings").
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from seqlab.data.audio import audio_info, to_model_rate
from seqlab.errors import ConfigError, UnreadableFileError

SEGMENTERS = ("vad", "windows")
VAD_FRAME_S = 0.03  # WebRTC VAD takes 10, 20 or 30 ms frames


class AudioStream:
    """One audio file read a stretch at a time, mono at ``sample_rate``.

    Args:
        path: any file libsndfile reads.
        sample_rate: the model's rate.
    """

    MARGIN_S = 0.05  # read past each end and trim, so the resampler's edges fall outside the stretch

    def __init__(self, path: str | Path, sample_rate: int) -> None:
        self.path = str(path)
        self.info = audio_info(path)
        self.sample_rate = sample_rate
        self.duration = self.info.frames / self.info.sample_rate

    def read(self, start: float, end: float) -> torch.Tensor:
        """``start`` .. ``end`` seconds as (N,) float32 samples at :attr:`sample_rate`, N = round(seconds x rate)."""
        rate = self.info.sample_rate
        a = max(0.0, start - self.MARGIN_S)
        b = min(self.duration, end + self.MARGIN_S)
        try:
            with sf.SoundFile(self.path) as f:
                f.seek(int(round(a * rate)))
                data = f.read(int(round((b - a) * rate)), dtype="float32", always_2d=True)  # (n, channels)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise UnreadableFileError(f"{self.path}: cannot decode audio from {a:.2f} s ({e})") from None
        if not np.isfinite(data).all():
            raise UnreadableFileError(f"{self.path}: samples near {a:.2f} s are not finite (NaN or infinite)")
        wave = to_model_rate(torch.from_numpy(np.ascontiguousarray(data.mean(axis=1))), rate, self.sample_rate)
        skip = int(round((start - a) * self.sample_rate))
        n = int(round((end - start) * self.sample_rate))
        return wave[skip : skip + n]

    def blocks(self, seconds: float) -> Iterator[tuple[float, torch.Tensor]]:
        """(start, samples) of consecutive stretches of ``seconds``, covering the file."""
        start = 0.0
        while start < self.duration:
            end = min(self.duration, start + seconds)
            yield start, self.read(start, end)
            start = end


@dataclass(frozen=True)
class Piece:
    """A stretch ``start`` .. ``end`` (seconds) to recognise; words whose middle lies in ``keep`` are kept."""

    start: float
    end: float
    keep: tuple[float, float]


def vad_pieces(stream: AudioStream, aggressiveness: int = 2, min_pause: float = 0.3, max_piece: float = 30.0,
               pad: float = 0.3) -> Iterator[Piece]:
    """Pieces of speech found by WebRTC VAD, cut in pauses of at least ``min_pause`` seconds, ``pad``
    seconds of the pause kept on each side, none longer than ``max_piece`` seconds."""
    import webrtcvad

    vad = webrtcvad.Vad(aggressiveness)
    rate = stream.sample_rate
    if rate not in (8000, 16000, 32000, 48000):
        raise ConfigError(f"voice activity detection needs 8, 16, 32 or 48 kHz audio; this model reads {rate} Hz "
                          "(use --segment windows)")
    n = int(rate * VAD_FRAME_S)
    block_s = 300 * VAD_FRAME_S  # 9 s a read, a whole number of frames
    start = None      # the current piece's start (s)
    speech_end = 0.0  # end of its last speech frame
    pause = 0         # silent frames since then
    prev_end = 0.0    # the previous piece's end: pieces never overlap
    quiet: list[tuple[float, float]] = []  # (energy, time) of the current piece's frames, for a forced cut
    for block_start, wave in stream.blocks(block_s):
        pcm = (wave.clamp(-1, 1) * 32767).to(torch.int16).numpy()
        frames = len(pcm) // n
        energy = np.square(pcm[: frames * n].reshape(frames, n).astype(np.float32)).mean(axis=1)  # (frames,)
        for i in range(0, frames * n, n):
            t = block_start + i / rate
            frame = pcm[i : i + n]
            if vad.is_speech(frame.tobytes(), rate):
                if start is None:
                    start = max(prev_end, t - pad)
                    quiet = []
                speech_end, pause = t + VAD_FRAME_S, 0
            elif start is not None:
                pause += 1
                if pause * VAD_FRAME_S >= min_pause:
                    end = speech_end + pad
                    yield Piece(start, end, (start, end))
                    start, prev_end = None, end
                    continue
            if start is not None:
                quiet.append((float(energy[i // n]), t))
                if t + VAD_FRAME_S - start >= max_piece:
                    half = [q for q in quiet if q[1] >= start + max_piece / 2]
                    cut = min(half or quiet)[1] + VAD_FRAME_S / 2  # the quietest frame's middle
                    yield Piece(start, cut, (start, cut))
                    quiet = [q for q in quiet if q[1] >= cut]
                    start = prev_end = cut
    if start is not None:
        end = min(stream.duration, speech_end + pad)
        yield Piece(start, end, (start, end))


def window_pieces(duration: float, window: float = 20.0, overlap: float = 4.0) -> Iterator[Piece]:
    """Windows of ``window`` seconds, neighbours sharing ``overlap`` seconds; each keeps up to the overlaps' middles."""
    if not 0 <= overlap < window:
        raise ConfigError(f"the overlap ({overlap:g} s) must be at least 0 and shorter than the window ({window:g} s)")
    step = window - overlap
    count = max(1, math.ceil((duration - overlap) / step))
    for k in range(count):
        start = k * step
        end = min(duration, (k + 1) * step + overlap)  # = start + window, so that the boundaries below fall inside
        # the boundary between window k's part and window k+1's: the middle of their overlap, one formula for both
        keep = (0.0 if k == 0 else k * step + overlap / 2, duration if k == count - 1 else (k + 1) * step + overlap / 2)
        yield Piece(start, end, keep)


@dataclass
class LongAudio:
    """How files longer than ``max_piece`` seconds are cut (:mod:`seqlab.long_audio`).

    Args:
        segment: ``vad`` (cut in pauses) or ``windows`` (fixed overlapping windows).
        max_piece: the longest piece recognised at once, in seconds; shorter files are one piece.
        window, overlap: the windows (``windows``), in seconds.
        aggressiveness: WebRTC VAD's 0 (keeps most as speech) .. 3 (keeps least).
        min_pause: the shortest pause a piece may end in (``vad``), in seconds.
    """

    segment: str = "vad"
    max_piece: float = 30.0
    window: float = 20.0
    overlap: float = 4.0
    aggressiveness: int = 2
    min_pause: float = 0.3

    def __post_init__(self) -> None:
        if self.segment not in SEGMENTERS:
            raise ConfigError(f"segment must be one of {SEGMENTERS}, got {self.segment!r}")
        if self.max_piece <= 1:
            raise ConfigError(f"max_piece must be more than 1 second, got {self.max_piece:g}")
        if not 0 <= self.aggressiveness <= 3:
            raise ConfigError(f"VAD aggressiveness must be 0, 1, 2 or 3, got {self.aggressiveness}")

    def pieces(self, stream: AudioStream) -> Iterator[Piece]:
        if self.segment == "vad":
            return vad_pieces(stream, self.aggressiveness, self.min_pause, self.max_piece)
        return window_pieces(stream.duration, min(self.window, self.max_piece), self.overlap)

    def transcribe(self, rec, path: str | Path):
        """One long file -> a :class:`~seqlab.recognizer.Transcription` on its own timeline.

        Raises:
            UnreadableFileError: naming the file, when a stretch cannot be decoded.
        """
        from seqlab.recognizer import Transcription

        stream = AudioStream(path, rec.frontend.features.sample_rate)
        words, tokens, texts = [], [], []
        log_conf, counted, frames = 0.0, 0, 0

        def recognise(batch: list) -> list:
            """(piece, samples) pairs -> (piece, prepared, transcription) triples; on a worker."""
            items = [rec.prepare_audio(wave, stream.sample_rate, f"{path}@{piece.start:.2f}") for piece, wave in batch]
            return list(zip([piece for piece, _ in batch], items, rec.recognize(items, align=True)))

        def collect(done: list) -> None:
            nonlocal log_conf, counted, frames
            for piece, item, t in done:
                frames += t.frames
                per_frame = rec.frontend.features.frame_shift_ms / 1000 * item.length / max(1, t.frames)
                shift = int(round(piece.start / per_frame))
                kept = [w for w in t.words if piece.keep[0] <= piece.start + (w.start + w.end) / 2 < piece.keep[1]]
                for seg in t.tokens:
                    if piece.keep[0] <= piece.start + (seg.start + seg.end) / 2 < piece.keep[1]:
                        tokens.append(moved(seg, piece.start, shift))
                words.extend(moved(w, piece.start, shift) for w in kept)
                if t.aligned:
                    texts.append(" ".join(w.text for w in kept))
                elif piece.keep == (piece.start, piece.end):  # not aligned (a lexicon): the piece's text as it is
                    texts.append(t.text)
                n = max(1, len(kept))
                log_conf += n * math.log(max(t.confidence, 1e-30))
                counted += n

        # each full batch goes to a worker while this thread reads on and finds the next pieces; at most one
        # batch per worker is in flight, so memory stays bounded whatever the length
        running: deque[Future] = deque()
        batch: list = []
        with rec.workers.beside():  # this thread reads and resamples on one core's share
            for piece in self.pieces(stream):
                if piece.end - piece.start < 2 * rec.frontend.features.frame_length_ms / 1000:
                    continue  # too short to hold a word
                batch.append((piece, stream.read(piece.start, piece.end)))
                if len(batch) == rec.batch_size:
                    running.append(rec.workers.submit(recognise, batch))
                    batch = []
                    if len(running) > rec.workers.count:
                        collect(running.popleft().result())
            if batch:
                running.append(rec.workers.submit(recognise, batch))
            while running:
                collect(running.popleft().result())
        text = " ".join(t for t in texts if t)
        return Transcription(source=str(path), text=text, confidence=math.exp(log_conf / counted) if counted else 0.0,
                             unit="seconds", frames=frames, extent=round(stream.duration, 3), tokens=tokens,
                             words=words, aligned=bool(words) or not text)


def moved(seg, seconds: float, frames: int):
    """A :class:`~seqlab.recognizer.Segment` of a piece, on the file's timeline."""
    from seqlab.recognizer import Segment

    return Segment(seg.text, round(seg.start + seconds, 3), round(seg.end + seconds, 3), seg.start_frame + frames,
                   seg.end_frame + frames, seg.score)
