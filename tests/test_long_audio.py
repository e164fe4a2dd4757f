"""Long recordings: pieces cut by VAD or fixed windows, recognised, put back on the file's timeline.

The recognizer here is a stand-in whose output is known: it writes ``x`` on
every frame louder than a threshold, so each burst of sound in a recording is
one ``x`` starting where the burst starts. A recording of bursts at known times
then checks the whole path (stream reading at 44.1 kHz stereo, cutting,
batching, stitching the overlaps, moving times) against the truth.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from hypothesis import given
from hypothesis import strategies as st

from seqlab.data.audio import read_audio
from seqlab.data.features import FeatureStats, FilterbankFeatures
from seqlab.data.frontends import SpeechFrontend
from seqlab.long_audio import AudioStream, LongAudio, vad_pieces, window_pieces
from seqlab.recognizer import Recognizer
from seqlab.text import Alphabet
from tests.data.speech_corpora import RATE, signal


class LoudFrames(torch.nn.Module):
    """A CTC 'model' writing ``x`` on each frame whose log energy (feature 0) exceeds 12."""

    def __init__(self) -> None:
        super().__init__()
        self.alphabet = Alphabet(["x"], unit="token")

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor):
        loud = 4 * (inputs[..., 0] - 12)  # (B, T)
        logits = torch.stack([torch.zeros_like(loud), loud], dim=-1)
        return torch.log_softmax(logits, dim=-1), lengths


def recognizer(workers: int | None = None, **settings) -> Recognizer:
    features = FilterbankFeatures()
    frontend = SpeechFrontend(features=features, stats=FeatureStats.identity(features.feature_size))
    return Recognizer(LoudFrames(), frontend, batch_size=4, long_audio=LongAudio(**settings), workers=workers)


def write_bursts(path: Path, seconds: float, rate: int = 44_100, seed: int = 0) -> list[tuple[float, float]]:
    """A stereo recording of 0.5-1.5 s sound bursts with 0.6-2.5 s of silence between; their (start, end)."""
    rng = random.Random(seed)
    bursts, t = [], rng.uniform(0.5, 1.5)
    while t + 1.6 < seconds:
        length = rng.uniform(0.5, 1.5)
        bursts.append((t, t + length))
        t += length + rng.uniform(0.6, 2.5)
    x = np.zeros(int(seconds * rate), dtype=np.float32)
    for k, (a, b) in enumerate(bursts):
        n = int((b - a) * rate)
        burst = signal(n, seed=k).astype(np.float32) / 32768  # (the 16 kHz test signal, played at 44.1 kHz)
        x[int(a * rate) : int(a * rate) + n] = burst
    sf.write(str(path), np.stack([x, 0.6 * x], axis=1), rate, subtype="PCM_16")
    return bursts


@given(st.floats(1.0, 4000.0), st.floats(2.0, 40.0), st.floats(0.0, 0.9))  # overlap 0: windows only touch
def test_windows_cover_the_file_and_their_kept_parts_tile_it(duration: float, window: float, share: float):
    pieces = list(window_pieces(duration, window, share * window))
    assert pieces[0].start == 0 and pieces[-1].end == pytest.approx(min(duration, pieces[-1].start + window))
    assert pieces[0].keep[0] == 0 and pieces[-1].keep[1] == duration
    for a, b in zip(pieces, pieces[1:]):
        assert a.keep[1] == pytest.approx(b.keep[0]) and b.start <= a.end + 1e-9  # kept parts meet; windows overlap
        assert a.start <= a.keep[0] < a.keep[1] <= a.end


def test_the_stream_reads_a_stretch_as_the_whole_file_reads_it(tmp_path: Path):
    path = tmp_path / "a.wav"
    write_bursts(path, 12.0)
    whole = read_audio(path, RATE)
    stretch = AudioStream(path, RATE).read(3.2, 7.7)
    assert stretch.numel() == int(round(4.5 * RATE))
    a = int(3.2 * RATE)
    assert torch.allclose(stretch, whole[a : a + stretch.numel()], atol=2e-3)


def test_vad_cuts_in_pauses_and_a_long_stretch_of_speech_at_its_quietest_frame(tmp_path: Path):
    path = tmp_path / "bursts.wav"
    bursts = write_bursts(path, 40.0)
    pieces = list(vad_pieces(AudioStream(path, RATE)))
    assert len(pieces) == len(bursts)
    for p, (a, b) in zip(pieces, bursts):
        assert p.start <= a + 0.05 and p.end >= b - 0.05  # the whole burst ...
        assert p.start >= a - 0.6 and p.end <= b + 0.6  # ... and little more (the padding, VAD hangover)
    # 25 s of sound without a pause, quieter around 7.5 s: cut there, no piece over 10 s
    x = signal(25 * RATE, seed=3).astype(np.float32) / 32768
    x[int(7.4 * RATE) : int(7.6 * RATE)] *= 0.05
    sf.write(str(tmp_path / "talk.wav"), x, RATE, subtype="PCM_16")
    pieces = list(vad_pieces(AudioStream(tmp_path / "talk.wav", RATE), max_piece=10.0))
    assert all(p.end - p.start <= 10.0 + 1e-6 for p in pieces)
    assert 7.35 <= pieces[0].end <= 7.65
    assert all(a.end == b.start for a, b in zip(pieces, pieces[1:]))  # contiguous: nothing lost


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("segment", ["vad", "windows"])
def test_a_long_recording_comes_back_on_its_own_timeline(tmp_path: Path, segment: str, workers: int):
    path = tmp_path / "long.wav"
    bursts = write_bursts(path, 75.0, seed=1)
    # batches of 4 pieces, recognised on 1 or 3 workers while the file is read on
    rec = recognizer(workers, segment=segment, max_piece=10.0, window=8.0, overlap=2.0)
    assert rec.is_long(path)
    [t] = rec.transcribe([path])
    assert t.source == str(path) and t.unit == "seconds" and t.extent == pytest.approx(75.0)
    # one x per burst: none lost at a piece's edge, none twice from two overlapping windows
    assert t.text == " ".join("x" * len(bursts))
    assert len(t.words) == len(bursts) == len(t.tokens)
    for w, (a, b) in zip(t.words, bursts):
        assert abs(w.start - a) < 0.05 and abs(w.end - b) < 0.06
    frames = [w.start_frame for w in t.words]
    assert frames == sorted(frames) and abs(t.words[-1].start_frame * 0.01 - t.words[-1].start) < 0.05


def test_a_short_file_is_one_piece_and_transcribe_writes_ctm_on_the_file_timeline(tmp_path: Path):
    path = tmp_path / "short.wav"
    bursts = write_bursts(path, 8.0, seed=2)
    rec = recognizer()
    assert not rec.is_long(path)
    [t] = rec.transcribe([path])
    assert len(t.words) == len(bursts)


def test_the_command_line_cuts_a_long_file(tmp_path: Path, capsys):
    from seqlab.cli.transcribe import format_result

    path = tmp_path / "long.wav"
    bursts = write_bursts(path, 45.0, seed=4)
    [t] = recognizer(segment="vad").transcribe([path])
    rows = format_result(t, "long.wav", "ctm").splitlines()
    assert len(rows) == len(bursts)
    assert [float(r.split()[2]) for r in rows] == pytest.approx([a for a, _ in bursts], abs=0.05)
    assert json.loads(format_result(t, "long.wav", "jsonl"))["words"][-1]["start"] > 30
