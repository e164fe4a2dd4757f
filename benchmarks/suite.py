#!/usr/bin/env python
"""Run seqlab's benchmarks one after the other and gather their results in one JSON file.

Each benchmark is its own script (``benchmarks/*.py``: run one alone for its
options); this runs them in turn, in fresh processes, on an otherwise idle
machine, with the same thread count and device, and writes each one's JSON
into ``--out-dir`` plus ``suite.json``: the command, wall time, exit status
and result of every benchmark, with the machine's description.

    seqlab bench suite --threads 2                 # everything, CPU
    seqlab bench suite --quick --threads 2         # smaller sizes, a few minutes
    seqlab bench suite --device cuda --only lstm mdlstm handwriting
    seqlab bench suite --list

Benchmarks (see docs/benchmarks.md for what each measures):
  loop         Lightning loop against a bare PyTorch loop, handwriting (lines/s)
  loop_speech  the same for speech (frames/s); needs espeak-ng for its corpus
  lstm         peephole / custom LSTM cells against nn.LSTM (and cuDNN on a GPU)
  mdlstm       anti-diagonal MDLSTM against the per-pixel reference
  handwriting  training steps of the BLSTM, CRNN and MDLSTM encoders (lines/s)
  features     speech feature extraction and the feature cache (audio s/s)
  images       line-image loading and the prepared-image cache (lines/s)
  transcribe   Recognizer throughput, random-weight models (x real time, lines/s), float32 and int8
  startup      wall time of whole processes: seqlab --help, transcribing one line
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from seqlab.atomic import write_text_atomic

SCRIPTS = Path(__file__).resolve().parent


def commands(args: argparse.Namespace) -> dict[str, list[str]]:
    """Benchmark name -> its script and arguments (``OUT`` is replaced by its JSON path)."""
    t = ["--threads", str(args.threads)]
    dev = ["--device", args.device]
    quick = args.quick
    return {
        "loop": ["loop.py", *t, "--batches", "20" if quick else "40", "--repeats", "3"],
        "loop_speech": ["loop.py", "--task", "speech", *t, "--batches", "20" if quick else "40",
                        "--repeats", "3"],
        "lstm": ["lstm.py", *t, *dev, "--repeats", "2" if quick else "3"],
        "mdlstm": ["mdlstm.py", *t, *dev, "--sizes", *(["16x64", "32x256"] if quick else
                                                           ["16x64", "32x256", "64x512"]),
                   "--repeats", "2" if quick else "3", "--reference-repeats", "1"],
        "handwriting": ["handwriting.py", *t, "--device", args.device, "--steps", "5" if quick else "20",
                        *(["--cases", "blstm", "crnn_cpu", "mdlstm_cpu"] if quick else [])],
        "features": ["features.py", *t, "--utterances", "30" if quick else "100"],
        "images": ["images.py", *t, "--lines", "300" if quick else "1000"],
        "transcribe": ["transcribe.py", "--synthetic", *t, "--quantize", "int8"],
        "startup": ["startup.py", "--runs", "3" if quick else "7"],
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads for every benchmark")
    p.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto",
                   help="for the benchmarks with a GPU path (lstm, mdlstm, handwriting)")
    p.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats")
    p.add_argument("--only", nargs="+", metavar="NAME", help="run these benchmarks only")
    p.add_argument("--out-dir", type=Path, default=Path("benchmarks/results/suite"))
    p.add_argument("--list", action="store_true", help="print the commands and exit")
    args = p.parse_args(argv)
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    todo = commands(args)
    unknown = sorted(set(args.only or []) - set(todo))
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(todo)}")
    if args.only:
        todo = {k: v for k, v in todo.items() if k in args.only}

    args.out_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    runs = {}
    for name, (script, *rest) in todo.items():
        out = args.out_dir / f"{name}.json"
        cmd = [sys.executable, str(SCRIPTS / script), *rest, "--out", str(out)]
        shown = " ".join(["seqlab bench", script.removesuffix(".py"), *rest, "--out", str(out)])
        if args.list:
            print(shown)
            continue
        print(f"\n=== {name}: {shown}", flush=True)
        out.unlink(missing_ok=True)
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env)
        runs[name] = {"command": shown, "exit_status": proc.returncode,
                      "wall_s": round(time.perf_counter() - start, 1),
                      "result": json.loads(out.read_text()) if proc.returncode == 0 and out.is_file() else None}
    if args.list:
        return 0
    suite = {
        "threads": args.threads, "device": args.device, "quick": args.quick,
        "cuda_device": torch.cuda.get_device_name() if args.device == "cuda" else None,
        "machine": {"processor": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
                    "python": platform.python_version(), "torch": torch.__version__},
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "benchmarks": runs,
    }
    write_text_atomic(args.out_dir / "suite.json", json.dumps(suite, indent=2) + "\n")
    print(f"\n{'benchmark':<12} {'status':>6} {'wall s':>8}")
    for name, r in runs.items():
        print(f"{name:<12} {'ok' if r['exit_status'] == 0 else 'FAILED':>6} {r['wall_s']:>8.1f}")
    print(f"wrote {args.out_dir / 'suite.json'} and one JSON per benchmark")
    return 0 if all(r["exit_status"] == 0 for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
