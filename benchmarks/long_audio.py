#!/usr/bin/env python
"""Long recordings: peak memory, speed, utterance times and PER of VAD pieces against fixed windows.

Builds one long recording out of the synthetic TIMIT test utterances (played
in turn, as often as needed, with 1-3 s of silence between them, resampled to
44.1 kHz and made stereo: the left channel as it is, the right at 0.7 of it),
written to disk a stretch at a time, and remembers where each utterance and
each of its phones (from the .PHN files) really is. Then, each in a process
of its own (``seqlab transcribe`` with ``os.wait4`` for its peak RSS):

- ``vad``: ``--segment vad`` (the default), pieces cut in pauses;
- ``windows``: ``--segment windows``, 20 s windows overlapping by 4 s;
- ``whole``: no cutting (``--max-piece`` longer than the file), for reference;
- ``one by one``: the test utterances as separate files at 16 kHz.

Scores: each recognised phone goes to the utterance whose stretch (to the
middle of the silences either side) holds its middle; PER (39 phones) per
utterance as evaluation scores it; and for each utterance the error of the
recognised start of its first and end of its last non-silence phone against
the .PHN truth.

    # the timit_cpu model (seqlab train experiment=timit_cpu), 20 minutes
    seqlab bench long_audio --checkpoint runs/timit_cpu/checkpoints/best.ckpt --minutes 20
    # the two-hour file, memory and speed only
    seqlab bench long_audio --checkpoint best.ckpt --minutes 120 --methods vad windows --no-one-by-one

Prints a table and writes ``--out`` (JSON). The corpus is the one ``seqlab
train experiment=timit_cpu`` generates (``--cache-dir``, default the seqlab cache).
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from seqlab.atomic import write_json_atomic
from seqlab.metrics import corpus_error_rate, fold_39

SILENCE = {"h#", "pau", "epi"}


def test_utterances(cache_dir: str) -> list[dict]:
    """The timit_cpu corpus's test utterances: id, file, reference phones, non-silence phone span (s)."""
    from seqlab.data.readers.synthetic import SyntheticTIMITReader

    reader = SyntheticTIMITReader(cache_dir, num_train_speakers=150, num_dev_speakers=20, num_test_speakers=24,
                                  utterances_per_speaker=8)
    reader.prepare()
    out = []
    for r in reader.read("test"):
        rows = [line.split() for line in Path(r.source).with_suffix(".PHN").read_text().splitlines() if line.strip()]
        speech = [(int(a), int(b)) for a, b, p in rows if p not in SILENCE]
        wrd = Path(r.source).with_suffix(".WRD").read_text().splitlines()
        words = [(int(a) / 16000, int(b) / 16000) for a, b, *_ in (w.split() for w in wrd if w.strip())]
        out.append({"id": r.id, "source": r.source, "text": r.text, "words": words,
                    "speech": (speech[0][0] / 16000, speech[-1][1] / 16000)})
    return out


def build(path: Path, utterances: list[dict], minutes: float, rate: int, seed: int) -> list[dict]:
    """Write the long recording (stereo, ``rate``) and return where each utterance lies in it."""
    rng = random.Random(seed)
    placed = []
    t = 0.0
    total = minutes * 60
    with sf.SoundFile(str(path), "w", samplerate=rate, channels=2, subtype="PCM_16") as f:
        k = 0
        while True:
            u = utterances[k % len(utterances)]
            gap = rng.uniform(1.0, 3.0)
            wave, file_rate = sf.read(u["source"], dtype="float32")
            length = len(wave) / file_rate
            if t + gap + length > total:
                break
            silence = np.zeros(int(round(gap * rate)), dtype=np.float32)
            up = AF.resample(torch.from_numpy(wave), file_rate, rate).numpy()
            t += len(silence) / rate
            placed.append({**u, "start": t, "end": t + len(up) / rate,
                           "speech": (t + u["speech"][0], t + u["speech"][1]),
                           "words": [(t + a, t + b) for a, b in u["words"]]})
            for block in (silence, up):
                f.write(np.stack([block, 0.7 * block], axis=1))
            t += len(up) / rate
            k += 1
        f.write(np.zeros((int(round(rng.uniform(1.0, 3.0) * rate)), 2), dtype=np.float32))
    return placed


def run(cmd: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MiB, exit status) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def per(pairs: list[tuple[str, str]]) -> float:
    """PER in percent of (reference, hypothesis) phone strings, as evaluation scores it."""
    return 100 * corpus_error_rate([r for r, _ in pairs], [h for _, h in pairs], fold_39)


def score_long(result: dict, placed: list[dict]) -> dict:
    """Assign the recognised phones to utterances by time; PER and time errors."""
    bounds = [0.0] + [(a["end"] + b["start"]) / 2 for a, b in zip(placed, placed[1:])] + [float("inf")]
    phones: list[list[dict]] = [[] for _ in placed]
    j = 0
    for w in result["words"]:
        mid = (w["start"] + w["end"]) / 2
        while mid >= bounds[j + 1]:
            j += 1
        phones[j].append(w)
    starts, ends = [], []
    for u, got in zip(placed, phones):
        speech = [w for w in got if w["text"] not in SILENCE]
        if speech:
            starts.append(abs(speech[0]["start"] - u["speech"][0]))
            ends.append(abs(speech[-1]["end"] - u["speech"][1]))
    errors = starts + ends
    return {
        "per": per([(u["text"], " ".join(w["text"] for w in got)) for u, got in zip(placed, phones)]),
        "utterances_found": len(starts),
        "time_error_median_s": statistics.median(errors) if errors else None,
        "time_error_p95_s": float(np.percentile(errors, 95)) if errors else None,
        "time_error_max_s": max(errors) if errors else None,
        "within_0_1_s": 100 * sum(e <= 0.1 for e in errors) / len(errors) if errors else None,
    }


def pieces_against_words(audio: Path, placed: list[dict], method: str) -> dict:
    """How the pieces ``seqlab transcribe`` cuts (default settings) lie against the .WRD words:
    words a piece boundary falls inside (10 ms from either end), words in no piece."""
    from seqlab.long_audio import AudioStream, LongAudio

    pieces = list(LongAudio(segment=method).pieces(AudioStream(audio, 16000)))
    # windows: the stitching boundaries (middles of the overlaps); VAD: both ends of each piece
    cuts = sorted({p.keep[1] for p in pieces[:-1]} if method == "windows" else
                  {b for p in pieces for b in (p.start, p.end)})
    words = [w for u in placed for w in u["words"]]
    inside = sum(any(a + 0.01 < c < b - 0.01 for c in cuts[bisect.bisect_left(cuts, a):bisect.bisect_right(cuts, b)])
                 for a, b in words)
    starts = [p.start for p in pieces]
    outside = 0
    for a, b in words:
        k = bisect.bisect_right(starts, (a + b) / 2) - 1
        outside += k < 0 or not pieces[k].start <= (a + b) / 2 < pieces[k].end
    return {"pieces": len(pieces), "words": len(words), "words_cut": inside, "words_in_no_piece": outside}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True, help="a speech checkpoint trained on the synthetic TIMIT corpus")
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--rate", type=int, default=44_100)
    p.add_argument("--methods", nargs="+", default=["vad", "windows", "whole"], choices=("vad", "windows", "whole"))
    p.add_argument("--no-one-by-one", action="store_true", help="skip transcribing the utterances one by one")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, nargs="+", metavar="N",
                   help="run each method with each of these seqlab transcribe --workers (default: its own)")
    p.add_argument("--work", default="/tmp/seqlab-long-audio", help="where the recording and outputs go")
    p.add_argument("--cache-dir", default=os.environ.get("SEQLAB_CACHE", str(Path.home() / ".cache" / "seqlab")))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="benchmarks/results/long_audio.json")
    args = p.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    utterances = test_utterances(args.cache_dir)
    audio = work / f"long_{args.minutes:g}min.wav"
    t0 = time.perf_counter()
    placed = build(audio, utterances, args.minutes, args.rate, args.seed)
    duration = sf.info(str(audio)).duration
    print(f"built {audio} ({duration / 60:.1f} min, {len(placed)} utterances, {audio.stat().st_size / 2**20:.0f} MiB) "
          f"in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    base = [sys.executable, "-m", "seqlab", "transcribe", args.checkpoint, "--no-progress", "--format", "jsonl"]
    rows = []
    for method, workers in [(m, w) for m in args.methods for w in (args.workers or [None])]:
        out = work / f"{method}.jsonl"
        extra = {"vad": ["--segment", "vad"], "windows": ["--segment", "windows"],
                 "whole": ["--max-piece", str(duration + 60)]}[method]
        if workers is not None:
            extra += ["--workers", str(workers)]
        wall, rss, status = run([*base, str(audio), *extra, "-o", str(out)])
        row = {"method": method if workers is None else f"{method}, {workers}w", "exit_status": status,
               "wall_s": wall, "peak_rss_mib": rss, "x_real_time": duration / wall, "command": " ".join(["seqlab transcribe", "CKPT", audio.name, *extra])}
        if status == 0:
            row.update(score_long(json.loads(out.read_text().splitlines()[0]), placed))
        if method != "whole":
            row.update(pieces_against_words(audio, placed, method))
        rows.append(row)
    if not args.no_one_by_one:
        listing = work / "utterances.lst"
        played = list(dict.fromkeys(u["source"] for u in placed))
        listing.write_text("".join(source + "\n" for source in played))
        out = work / "one_by_one.jsonl"
        wall, rss, status = run([*base, str(listing), "-o", str(out)])
        got = {json.loads(line)["source"]: json.loads(line) for line in out.read_text().splitlines()}
        # the same scoring over the utterances of the recording (as often as it plays them), each
        # utterance's words moved to where the recording has it
        words = [{**w, "start": w["start"] + u["start"], "end": w["end"] + u["start"]}
                 for u in placed for w in got[u["source"]]["words"]]
        rows.append({"method": "one by one", "exit_status": status, "wall_s": wall, "peak_rss_mib": rss,
                     "x_real_time": sum(sf.info(source).duration for source in played) / wall,
                     **score_long({"words": words}, placed),
                     "command": "seqlab transcribe CKPT utterances.lst"})
    print(f"\n{duration / 60:.1f} min at {args.rate} Hz stereo, {len(placed)} utterances, {args.threads} thread(s)")
    print(f"{'method':<11} {'peak RSS':>9} {'wall':>7} {'x real':>7} {'PER':>6} {'|t err| med':>11} {'p95':>6} "
          f"{'max':>6} {'<=0.1 s':>7}")
    for r in rows:
        def f(key, fmt):
            return format(r[key], fmt) if r.get(key) is not None else "-"
        print(f"{r['method']:<11} {f('peak_rss_mib', '8.0f')}M {f('wall_s', '6.1f')}s {f('x_real_time', '7.1f')} "
              f"{f('per', '5.2f')}% {f('time_error_median_s', '10.3f')}s {f('time_error_p95_s', '5.3f')} "
              f"{f('time_error_max_s', '5.3f')} {f('within_0_1_s', '6.1f')}%  "
              + (f"{r['pieces']} pieces, {r['words_cut']} of {r['words']} words cut, "
                 f"{r['words_in_no_piece']} in no piece" if "pieces" in r else ""))
    result = {
        "benchmark": "long_audio", "checkpoint": args.checkpoint, "minutes": duration / 60, "rate": args.rate,
        "utterances": len(placed), "threads": args.threads, "rows": rows,
        "machine": {"cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
                    "torch": torch.__version__, "python": platform.python_version()},
    }
    write_json_atomic(args.out, result)
    return 0 if all(r["exit_status"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
