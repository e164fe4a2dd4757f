#!/usr/bin/env python
"""Streaming recognition: per-chunk latency, speed, and whether the final text is the offline one.

Feeds each audio file to :class:`seqlab.streaming.StreamingRecognizer` in
chunks of each ``--chunk-ms`` size (as ``seqlab transcribe --stream`` does),
times every chunk (the compute latency: from the chunk's arrival to its
labels), and compares the final text with the offline transcription of the
same file (``Recognizer``, greedy). Also reports PER against the references
when the inputs are a TIMIT-layout folder (``.PHN`` beside each ``.WAV``).

    # the unidirectional recipe (seqlab train experiment=timit_cpu_streaming)
    seqlab bench streaming --checkpoint runs/uni/checkpoints/best.ckpt ~/.cache/seqlab/synth_timit-*/TEST --threads 1

Prints a table and writes ``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from seqlab.atomic import write_json_atomic


def phones(wav: Path) -> str | None:
    phn = wav.with_suffix(".PHN")
    if not phn.is_file():
        return None
    return " ".join(row.split()[2] for row in phn.read_text().splitlines() if row.strip())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True, help="a unidirectional speech checkpoint")
    p.add_argument("inputs", nargs="+", help="audio files or folders (searched for .wav .WAV .flac)")
    p.add_argument("--chunk-ms", type=float, nargs="+", default=[20.0, 100.0, 500.0])
    p.add_argument("--limit", type=int, default=200, help="at most this many files")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="benchmarks/results/streaming.json")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    from seqlab.data.audio import read_audio
    from seqlab.metrics import corpus_error_rate, fold_39
    from seqlab.recognizer import Recognizer
    from seqlab.streaming import StreamingRecognizer

    files: list[Path] = []
    for item in map(Path, args.inputs):
        if item.is_dir():
            files += sorted(f for f in item.rglob("*") if f.suffix.lower() in (".wav", ".flac"))
        else:
            files.append(item)
    files = files[: args.limit]
    offline = {str(t.source): t.text for t in Recognizer.from_checkpoint(args.checkpoint).transcribe(files)}
    rec = StreamingRecognizer.from_checkpoint(args.checkpoint)
    waves = [read_audio(f, rec.sample_rate) for f in files]
    audio_s = sum(w.numel() for w in waves) / rec.sample_rate
    rows = []
    for chunk_ms in args.chunk_ms:
        n = int(round(rec.sample_rate * chunk_ms / 1000))
        latencies, same, finals = [], 0, {}
        start = time.perf_counter()
        for f, wave in zip(files, waves):
            rec.reset()
            for i in range(0, wave.numel(), n):
                latencies.append(rec.feed(wave[i : i + n]).latency_ms)
            final = rec.finish()
            latencies.append(final.latency_ms)
            finals[str(f)] = final.text
            same += final.text == offline[str(f)]
        wall = time.perf_counter() - start
        row = {"chunk_ms": chunk_ms, "files": len(files), "same_as_offline": same, "x_real_time": audio_s / wall,
               "latency_ms_median": statistics.median(latencies),
               "latency_ms_p95": float(np.percentile(latencies, 95)), "latency_ms_max": max(latencies),
               "delay_ms": rec.delay_s * 1000}
        refs = {str(f): phones(f) for f in files}
        if all(refs.values()):
            row["per"] = 100 * corpus_error_rate([refs[k] for k in finals], list(finals.values()), fold_39)
        rows.append(row)
    print(f"{len(files)} files, {audio_s:.0f} s of audio, {args.threads} thread(s); delay by construction "
          f"{rows[0]['delay_ms']:.0f} ms")
    print(f"{'chunk':>7} {'= offline':>10} {'x real':>7} {'latency median':>15} {'p95':>7} {'max':>7} {'PER':>6}")
    for r in rows:
        per = f"{r['per']:5.2f}%" if "per" in r else "-"
        print(f"{r['chunk_ms']:5.0f}ms {r['same_as_offline']:>5}/{r['files']:<4} {r['x_real_time']:7.1f} "
              f"{r['latency_ms_median']:13.2f}ms {r['latency_ms_p95']:5.2f}ms {r['latency_ms_max']:5.1f}ms {per:>6}")
    write_json_atomic(args.out, {
        "benchmark": "streaming", "checkpoint": args.checkpoint, "threads": args.threads, "rows": rows,
        "machine": {"cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
                    "torch": torch.__version__, "python": platform.python_version()},
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
