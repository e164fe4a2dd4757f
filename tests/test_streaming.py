"""Streaming: a unidirectional model fed audio chunk by chunk gives the offline transcription, frame for frame."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from seqlab.cli.transcribe import main as transcribe
from seqlab.streaming import StreamingRecognizer
from tests.data.speech_corpora import RATE, signal
from tests.tiny_models import tiny_timit_run, tiny_timit_streaming_run


@pytest.fixture(scope="module")
def streaming_ckpt(tmp_path_factory) -> Path:
    return tiny_timit_streaming_run(tmp_path_factory.getbasetemp()) / "checkpoints" / "best.ckpt"


def offline_log_probs(rec: StreamingRecognizer, wave: torch.Tensor) -> torch.Tensor:
    x = rec.frontend.prepare(wave, RATE).input
    with torch.inference_mode():
        log_probs, _ = rec.model(x[None], torch.tensor([x.size(0)]))
    return log_probs[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chunks_of_any_size_give_the_offline_frames(streaming_ckpt: Path, seed: int):
    rec = StreamingRecognizer.from_checkpoint(streaming_ckpt)
    seen: list[torch.Tensor] = []
    hook = rec.model.head.register_forward_hook(lambda m, i, out: seen.append(out))  # what the stream computes
    wave = torch.from_numpy(signal(RATE * 2 + 777, seed=seed).astype(np.float32) / 32768)
    rng = random.Random(seed)
    i = 0
    while i < wave.numel():  # 1 sample to 0.3 s a chunk, in no pattern
        n = rng.choice([1, 7, 160, 399, 400, 1600, 4800])
        rec.feed(wave[i : i + n])
        i += n
    final = rec.finish()
    hook.remove()
    streamed = torch.cat([s[0] for s in seen])
    offline = offline_log_probs(rec, wave)
    assert streamed.shape == offline.shape
    assert torch.allclose(streamed, offline, atol=1e-4)
    assert final.labels == [k for k, prev in zip(offline.argmax(-1).tolist(), [0, *offline.argmax(-1).tolist()])
                            if k != 0 and k != prev]


def test_stream_prints_partials_and_the_offline_text(streaming_ckpt: Path, tmp_path: Path, capsys):
    audio = tmp_path / "a.wav"
    sf.write(str(audio), signal(RATE * 3, seed=5), RATE, subtype="PCM_16")
    assert transcribe([str(streaming_ckpt), str(audio), "--format", "txt", "--no-progress"]) == 0
    offline = capsys.readouterr().out.split("\t", 1)[1].rstrip("\n")
    assert transcribe([str(streaming_ckpt), str(audio), "--stream", "--chunk-ms", "200"]) == 0
    rows = [json.loads(r) for r in capsys.readouterr().out.splitlines()]
    assert [r["type"] for r in rows] == ["partial"] * 15 + ["final"]
    assert rows[-1]["text"] == offline and rows[-1]["chunks"] == 15 and rows[-1]["delay_ms"] == 85.0
    assert rows[6]["heard_s"] == pytest.approx(1.4) and set(rows[-1]["latency_ms"]) == {"median", "p95", "max"}
    # raw PCM on standard input, as a microphone pipe delivers it
    pcm = signal(RATE * 3, seed=5).astype("<i2").tobytes()
    proc = subprocess.run([sys.executable, "-m", "seqlab", "transcribe", str(streaming_ckpt), "-", "--stream",
                           "--format", "txt"], input=pcm, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert proc.stdout.decode() == f"-\t{offline}\n"


def test_a_bidirectional_model_is_refused_saying_why(tmp_path_factory, tmp_path: Path, capsys):
    ckpt = tiny_timit_run(tmp_path_factory.getbasetemp()) / "checkpoints" / "best.ckpt"
    audio = tmp_path / "a.wav"
    sf.write(str(audio), signal(RATE, seed=1), RATE, subtype="PCM_16")
    assert transcribe([str(ckpt), str(audio), "--stream"]) == 2
    err = capsys.readouterr().err
    assert "cannot stream: it is bidirectional" in err and "bidirectional=false" in err


def test_stdin_at_another_rate_is_refused_with_the_pipe_to_use(streaming_ckpt: Path, capsys):
    assert transcribe([str(streaming_ckpt), "-", "--stream", "--rate", "44100"]) == 2
    assert "ffmpeg -i IN -f s16le -ac 1 -ar 16000 -" in capsys.readouterr().err
