#!/usr/bin/env python
"""Fine-tuning against training from scratch, on a few hundred lines of a new style with new symbols.

The parent is a model of the default run (``seqlab train``: synthetic
handwriting, 12 fonts). The new data are 480 lines in another style it never
saw, typewriter text (``DejaVuSansMono.ttf``, not among the default corpus'
fonts) with accented vowels (ä é ö ü and their capitals, which its alphabet
lacks), written as a line folder and split by page into 296 / 64 / 120:

    seqlab make-synthetic pages --format lines --fonts DejaVuSansMono.ttf --diacritics 0.15 \\
        --num-pages 60 --lines-per-page 8 --seed 1 --out DIR

Each run is ``seqlab train`` under the same wall-clock budget
(``trainer.max_time``), one after the other on the same machine:

- ``parent as it is``: ``init_from`` with ``trainer.max_steps=0`` (the resized
  head keeps the parent's outputs; the new symbols are never written);
- ``fine-tuned``: ``init_from``, ``finetune.alphabet=union``;
- ``fine-tuned, head first``: the same with the encoder frozen for the first
  ``--freeze-steps`` steps and a head learning rate of ``--head-lr``;
- ``from scratch``: the default model on the same lines, at the parent's line
  height (24) for a like-for-like input;
- ``from scratch, constant lr``: the same without the plateau schedule, which
  on so few lines halves the rate every third epoch while the model is still
  in CTC's all-blank phase (validation CER 100 %).

    seqlab bench finetune --parent runs/DEFAULT/checkpoints/best.ckpt --budget 90

Test CER/WER of each run's best checkpoint print as a table and go to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from seqlab.data.synthetic_pages import generate_page_corpus

SPLIT = "data.split_fractions=[0.625,0.125,0.25]"


def run(name: str, work: Path, corpus: Path, overrides: list[str]) -> dict:
    run_dir = work / name.replace(" ", "_").replace(",", "")
    cmd = [sys.executable, "-m", "seqlab", "train", "data=lines", f"data.root={corpus}", SPLIT,
           "trainer.enable_progress_bar=false", f"hydra.run.dir={run_dir}", *overrides]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{name}: seqlab train failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    m = json.loads((run_dir / "metrics.json").read_text())
    return {"run": name, "command": "seqlab train " + " ".join(cmd[4:]), "test_cer": m["test/cer"],
            "test_wer": m["test/wer"], "val_cer": m["val/cer"], "epochs": m["epochs"], "steps": m["global_step"],
            "fit_s": m["fit_seconds"], "wall_s": round(wall, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parent", type=Path, required=True, help="the parent checkpoint (the default run's best.ckpt)")
    parser.add_argument("--budget", type=int, default=90, help="training seconds per run (trainer.max_time)")
    parser.add_argument("--freeze-steps", type=int, default=40, help="steps with the encoder frozen (head first)")
    parser.add_argument("--head-lr", type=float, default=0.01, help="the head's learning rate (head first)")
    parser.add_argument("--only", nargs="+", default=None, metavar="RUN", help="run only these (names as in the table)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the corpus and runs (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/finetune.json"))
    args = parser.parse_args(argv)
    if not args.parent.is_file():
        parser.error(f"--parent {args.parent}: no such file; train one with: seqlab train hydra.run.dir=runs/default")

    work = args.work or Path(tempfile.mkdtemp(prefix="seqlab-finetune-"))
    corpus = generate_page_corpus(work / "typewriter", "lines", num_pages=60, lines_per_page=8, seed=1,
                                  fonts=("DejaVuSansMono.ttf",), diacritics=0.15)
    hms = f"00:00:{args.budget // 60:02d}:{args.budget % 60:02d}"
    budget = [f"trainer.max_time={hms}", "trainer.max_epochs=100000"]
    parent = [f"init_from={args.parent.resolve()}", "finetune.alphabet=union"]
    runs = [
        ("parent as it is", parent + ["trainer.max_steps=0"]),
        ("fine-tuned", parent + budget),
        ("fine-tuned, head first", parent + budget + [
            "finetune.freeze_encoder=true", f"finetune.freeze_steps={args.freeze_steps}",
            f"finetune.head_lr={args.head_lr}"]),
        ("from scratch", budget + ["data.height=24"]),
        # the default plateau schedule halves the rate while val CER sits at 100 % (CTC's all-blank
        # phase, long on 300 lines): without it, the same model at a constant rate
        ("from scratch, constant lr", budget + ["data.height=24", "model.scheduler=null"]),
    ]
    rows = []
    for name, overrides in runs:
        if args.only and name not in args.only:
            continue
        rows.append(run(name, work, corpus, overrides))
        r = rows[-1]
        print(f"{r['run']:24s} test CER {100 * r['test_cer']:6.2f} %  WER {100 * r['test_wer']:6.2f} %  "
              f"{r['epochs']:4d} epochs  {r['steps']:5d} steps  fit {r['fit_s']:6.1f} s", flush=True)

    print(f"\n| run | test CER | test WER | epochs | steps | training time |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['run']} | {100 * r['test_cer']:.2f} % | {100 * r['test_wer']:.2f} % | {r['epochs']} | "
              f"{r['steps']} | {r['fit_s']:.0f} s |")
    result = {
        "benchmark": "finetune", "parent": str(args.parent.resolve()), "budget_s": args.budget, "corpus": str(corpus),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "torch": torch.__version__, "threads": torch.get_num_threads()},
        "runs": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
