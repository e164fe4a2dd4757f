#!/usr/bin/env python
"""Start-up: wall time of whole seqlab processes (seqlab --help, transcribing one line), and what they import.

Each command runs ``--runs`` times as a new process (the first run warms the
file cache and is not counted); the table gives the median and the fastest,
and which of the heavy packages (Lightning, Hydra, torchmetrics, matplotlib,
torchaudio) the process imported, read from ``python -X importtime``.

    seqlab bench startup --checkpoint runs/default/checkpoints/best.ckpt --input line.png --runs 7

Without ``--checkpoint`` it builds a random-weight checkpoint of the default
handwriting model (2 x 128 BLSTM over 24-pixel lines) in a temporary folder,
and a line image to read, so it runs on a fresh clone.

``--python`` times the commands under other interpreters too, for instance a
virtual environment with another build of torch (seqlab installed there with
``pip install --no-deps -e .``); their runs alternate, so that a machine that
gets slower or faster during the benchmark affects each the same. A command
that fails under one (it needs a package that environment lacks) is reported
as failed there, with its error, and the others are still timed:

    seqlab bench startup --runs 10 --python .venv/bin/python /tmp/cpu/bin/python
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from seqlab.atomic import write_json_atomic

HEAVY = ("lightning", "hydra", "omegaconf", "torchmetrics", "matplotlib", "torchaudio")


def random_checkpoint(folder: Path) -> tuple[Path, Path]:
    """A checkpoint of the default handwriting model with random weights, and a 48-pixel line image."""
    import numpy as np
    import torch
    from PIL import Image

    from seqlab.checkpoint import CheckpointInfo
    from seqlab.data.frontends import ImageFrontend
    from seqlab.nn import CTCModel, RecurrentEncoder
    from seqlab.text import Alphabet

    torch.manual_seed(0)
    alphabet = Alphabet(tuple(chr(c) for c in range(32, 127)))
    model = CTCModel(RecurrentEncoder(24, 128, 2, dropout=0.2, frame_stack=4), alphabet)
    recipe = {"_target_": "seqlab.lit.CTCModule",
              "encoder": {"_target_": "seqlab.nn.RecurrentEncoder", "input_size": 24, "hidden_size": 128,
                          "num_layers": 2, "dropout": 0.2, "frame_stack": 4}}
    info = CheckpointInfo(alphabet=alphabet.to_dict(), model=recipe, frontend=ImageFrontend(height=24).to_dict())
    ckpt = folder / "random.ckpt"
    torch.save({"seqlab": info.to_dict(), "state_dict": model.state_dict()}, ckpt)
    line = folder / "line.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 660), dtype=np.uint8)).save(line)
    return ckpt, line


def imported(python: str, cmd: list[str]) -> list[str]:
    """The heavy top-level packages the command imports (python -X importtime)."""
    proc = subprocess.run([python, "-X", "importtime", *cmd], capture_output=True, text=True)
    names = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return sorted(h for h in HEAVY if h in names)


def timed(pythons: list[str], cmd: list[str], runs: int) -> dict[str, dict]:
    """Wall times of ``cmd`` under each interpreter, their runs alternating; per interpreter a result."""
    walls: dict[str, list[float]] = {py: [] for py in pythons}
    failed: dict[str, str] = {}
    for i in range(runs + 1):
        for py in pythons:
            if py in failed:
                continue
            start = time.perf_counter()
            proc = subprocess.run([py, *cmd], capture_output=True, text=True)
            if proc.returncode != 0:
                error = proc.stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
                print(f"{py} {' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-500:]}", file=sys.stderr)
                failed[py] = error[0]
            elif i:  # the first run warms the file cache
                walls[py].append(time.perf_counter() - start)
    return {py: {"failed": failed[py]} if py in failed else
            {"median_s": statistics.median(walls[py]), "min_s": min(walls[py]), "walls_s": walls[py],
             "imports": imported(py, cmd)} for py in pythons}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, help="a trained checkpoint (default: a random-weight one)")
    p.add_argument("--input", type=Path, help="the file to transcribe (with --checkpoint)")
    p.add_argument("--runs", type=int, default=7, help="timed runs per command (default: 7)")
    p.add_argument("--python", nargs="+", default=[sys.executable], metavar="PYTHON",
                   help="the interpreters that run the commands, in alternation (default: this one)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/startup.json"))
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.checkpoint is None:
            ckpt, line = random_checkpoint(Path(tmp))
        else:
            if args.input is None:
                p.error("--checkpoint needs --input (an image or audio file it reads)")
            ckpt, line = args.checkpoint, args.input
        commands = {
            "import torch": ["-c", "import torch"],
            "import torch, collector paused (seqlab)": ["-c", "from seqlab.cli.main import import_torch; import_torch()"],
            "seqlab --help": ["-m", "seqlab", "--help"],
            "import seqlab": ["-c", "import seqlab"],
            "import seqlab.recognizer": ["-c", "import seqlab.recognizer"],
            "seqlab transcribe CKPT one line (jsonl)": ["-m", "seqlab", "transcribe", str(ckpt), str(line),
                                                        "--no-progress"],
            "seqlab transcribe CKPT one line (txt)": ["-m", "seqlab", "transcribe", str(ckpt), str(line),
                                                      "--no-progress", "--format", "txt"],
        }
        timings = {name: timed(args.python, cmd, args.runs) for name, cmd in commands.items()}
    runs = []
    for py in args.python:
        torch_version = subprocess.run([py, "-c", "import torch; print(torch.__version__)"],
                                       capture_output=True, text=True).stdout.strip()
        results = {name: by_python[py] for name, by_python in timings.items()}
        runs.append({"python": py, "torch": torch_version, "results": results})
        print(f"\npython: {py} (torch {torch_version})")
        print(f"{'command':<42} {'median s':>9} {'min s':>7}  heavy imports")
        for name, r in results.items():
            if "failed" in r:
                print(f"{name:<42} {'failed':>9} {'':>7}  {r['failed']}")
                continue
            print(f"{name:<42} {r['median_s']:>9.2f} {r['min_s']:>7.2f}  {', '.join(r['imports']) or '-'}")
    write_json_atomic(args.out, {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "python": sys.version.split()[0], "cpu": platform.machine(), "cpu_count": os.cpu_count(),
        "torch": runs[0]["torch"], "results": runs[0]["results"],  # the first interpreter's, as before
        "runs": runs,
    })
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
