"""Speech feature extraction throughput: seconds of audio per second of wall time, on the CPU.

Stages timed, each over the same set of utterances:

- ``decode``: libsndfile reads the file (SPHERE, RIFF WAV or FLAC) to float samples;
- ``fbank``: 40 (or 80) log mel channels + energy (``torchaudio.compliance.kaldi.fbank``);
- ``deltas``: first and second derivatives (``torchaudio.functional.compute_deltas``);
- ``extract``: decode + fbank + deltas: what the first epoch costs per utterance;
- ``cached``: reading the cached float16 statics + deltas + normalisation: later epochs.

The utterances are synthetic (voiced-like harmonics plus noise, 2..5 s, 16 kHz)
written as ``--format`` files into a temporary folder, or the audio files under
``--audio-dir`` (any layout; ``*.wav``, ``*.WAV``, ``*.flac``). Results print as
a table and go to ``--out`` as JSON.

    seqlab bench features --threads 1
    seqlab bench features --threads 2 --mels 80 --format flac
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from seqlab.data.audio import audio_info, read_audio
from seqlab.data.features import FeatureCache, FeatureStats, FilterbankFeatures

FORMATS = {"sphere": ("NIST", ".WAV"), "wav": ("WAV", ".wav"), "flac": ("FLAC", ".flac")}


def synthetic_audio(folder: Path, count: int, fmt: str, seed: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    major, suffix = FORMATS[fmt]
    paths = []
    for i in range(count):
        n = int(rng.uniform(2.0, 5.0) * 16000)
        t = np.arange(n) / 16000
        phase = 2 * np.pi * np.cumsum(110 + 30 * np.sin(2 * np.pi * 2 * t)) / 16000
        x = sum(np.sin(k * phase) / k for k in range(1, 8)) * 3000 + rng.normal(0, 100, n)
        path = folder / f"u{i:04d}{suffix}"
        sf.write(str(path), np.clip(x, -32768, 32767).astype(np.int16), 16000, format=major, subtype="PCM_16")
        paths.append(path)
    return paths


def timed(run: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--mels", type=int, default=40, help="mel channels (40: 123 features, 80: 243)")
    parser.add_argument("--utterances", type=int, default=100, help="synthetic utterances")
    parser.add_argument("--format", choices=sorted(FORMATS), default="sphere", help="synthetic audio format")
    parser.add_argument("--audio-dir", type=Path, default=None, help="time these audio files instead")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the utterances per stage")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/features.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.audio_dir is not None:
            paths = sorted(p for p in args.audio_dir.rglob("*") if p.suffix.lower() in (".wav", ".flac"))
            paths = paths[: args.utterances]
            source = str(args.audio_dir)
        else:
            paths = synthetic_audio(tmp, args.utterances, args.format)
            source = f"synthetic {args.format}"
        seconds = sum(audio_info(p).frames_at(16000) for p in paths) / 16000
        features = FilterbankFeatures(num_mel_bins=args.mels)
        waves = [read_audio(p) for p in paths]
        statics = [features.static(w) for w in waves]
        cache = FeatureCache(features, tmp / "cache")
        for p in paths:
            cache.static(p)  # fill the cache
        stats = FeatureStats.identity(features.feature_size)

        stages: dict[str, Callable[[], object]] = {
            "decode": lambda: [read_audio(p) for p in paths],
            "fbank": lambda: [features.static(w) for w in waves],
            "deltas": lambda: [features.with_deltas(s) for s in statics],
            "extract": lambda: [features(read_audio(p)) for p in paths],
            "cached": lambda: [stats.apply(features.with_deltas(cache.static(p))) for p in paths],
        }
        results = {}
        for name, run in stages.items():
            run()  # warm-up
            times = timed(run, args.repeats)
            median = statistics.median(times)
            results[name] = {
                "median_s": median, "times_s": times,
                "audio_seconds_per_second": seconds / median,
                "ms_per_utterance": 1000 * median / len(paths),
            }

    print(f"\n{len(paths)} utterances, {seconds:.0f} s of audio ({source}); {features.feature_size} features "
          f"per frame; {args.threads} thread(s); median of {args.repeats}")
    print(f"{'stage':<10}{'audio s / s':>14}{'ms / utterance':>16}")
    for name, r in results.items():
        print(f"{name:<10}{r['audio_seconds_per_second']:>14,.0f}{r['ms_per_utterance']:>16.2f}")
    report = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "source": source, "utterances": len(paths), "audio_seconds": seconds,
        "feature_size": features.feature_size, "torch": torch.__version__, "cpu": platform.machine(),
        "cpu_count": os.cpu_count(), "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
