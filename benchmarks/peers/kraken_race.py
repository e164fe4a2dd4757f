#!/usr/bin/env python
"""Same-architecture race against Kraken: training lines/s, test CER and transcription lines/s.

Optional, never run by CI: it installs Kraken (``--kraken-version``) into its
own virtual environment under ``--work`` (its own torch and Lightning; seqlab's
environment is not touched), then on one synthetic corpus:

1. renders the lines once (``seqlab make-synthetic handwriting``, IAM layout)
   and gives Kraken the same images as ``NAME.png`` + ``NAME.gt.txt`` pairs;
2. trains seqlab's ``synth_crnn_cpu`` network and a Kraken VGSL network of the
   same shape (below) for the same wall-clock budget, one thread each, no data
   loader workers, batch 16, Adam at 1e-3 with a constant rate, gradient
   clipping at norm 1;
3. transcribes the test lines with the best model of each by validation
   (whole processes, timed), and scores both transcriptions with one scorer
   (character edit distance over the NFC texts, ``editdistance``).

Training speed is lines trained over the training process' wall time (start-up
and validation included, for both); an epoch counts when it finished within
the budget.

The network (seqlab ``model=crnn`` with these settings = Kraken's spec):

    32-pixel lines
    conv 3x3 16 + leaky ReLU, max-pool 2x2      Clr3,3,16 Mp2,2
    conv 3x3 32 + leaky ReLU, max-pool 2x2      Clr3,3,32 Mp2,2
    conv 3x3 48 + leaky ReLU, max-pool 2x1      Clr3,3,48 Mp2,1
    conv 3x3 64 + leaky ReLU                    Clr3,3,64
    columns: 64 x 4 features                    S1(1x0)1,3
    dropout 0.2, BLSTM 128, dropout 0.2,        Do0.2 Lbx128 Do0.2 Lbx128 Do0.2
    BLSTM 128, dropout 0.2, CTC

VGSL has no batch normalisation, so seqlab runs without it too
(``model.encoder.batch_norm=false``); Kraken pads lines with 16 white columns by
default, here ``--pad 0`` as seqlab. Kraken trains in its own precision and
data pipeline (line extraction, its own height normalisation); these are the
differences the race measures.

    python benchmarks/peers/kraken_race.py --work /tmp/race --budget 600 --out benchmarks/results/kraken_race.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import editdistance

REPO = Path(__file__).resolve().parents[2]
SPEC = ("[1,32,0,1 Clr3,3,16 Mp2,2 Clr3,3,32 Mp2,2 Clr3,3,48 Mp2,1 Clr3,3,64 S1(1x0)1,3 "
        "Do0.2 Lbx128 Do0.2 Lbx128 Do0.2]")
SEQLAB_NET = ["experiment=synth_crnn_cpu", "model.encoder.batch_norm=false", "model.scheduler=null",
              "model.optimizer._target_=torch.optim.Adam", "model.optimizer.lr=0.001", "trainer.gradient_clip_val=1.0",
              "data.batch_size=16", "data.num_workers=0", "data.height=32", "data.unknown_symbols=keep"]
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def run(cmd: list[str], log: Path, timeout: float | None = None, env: dict | None = None) -> tuple[int, float]:
    """Run ``cmd`` with its output in ``log``; (exit status or -9 when the budget ended it, wall seconds)."""
    start = time.perf_counter()
    with open(log, "w") as out:
        try:
            code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout,
                                  env={**os.environ, **ONE_THREAD, **(env or {})}).returncode
        except subprocess.TimeoutExpired:
            code = -9
    return code, time.perf_counter() - start


def kraken_env(work: Path, version: str) -> Path:
    venv = work / "kraken-venv"
    if not (venv / "bin" / "ketos").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"kraken=={version}"], check=True)
    return venv


def corpus(work: Path, num_train: int, num_test: int) -> tuple[Path, dict[str, dict[str, str]]]:
    """The IAM-layout corpus and, per split, line id -> text; writes Kraken's NAME.gt.txt pairs beside it."""
    root = work / "corpus"
    subprocess.run([sys.executable, "-m", "seqlab", "make-synthetic", "handwriting", "--out", str(root),
                    "--num-train", str(num_train), "--num-val", str(max(50, num_test // 2)),
                    "--num-test", str(num_test), "--workers", "2"], check=True)
    texts = {}
    for row in (root / "ascii" / "lines.txt").read_text(encoding="utf-8").splitlines():
        if row and not row.startswith("#"):
            fields = row.split(" ", 8)
            texts[fields[0]] = fields[8].replace("|", " ")
    splits = {}
    for split, listed in (("train", "trainset.txt"), ("val", "validationset1.txt"), ("test", "testset.txt")):
        ids = (root / listed).read_text().split()
        folder = work / "kraken-data" / split
        folder.mkdir(parents=True, exist_ok=True)
        for i in ids:
            image = next((root / "lines").glob(f"*/*/{i}.png"))
            if not (folder / f"{i}.png").exists():
                shutil.copy(image, folder / f"{i}.png")
            (folder / f"{i}.gt.txt").write_text(texts[i] + "\n", encoding="utf-8")
        splits[split] = {i: texts[i] for i in ids}
    return root, splits


def read_txt(path: Path) -> dict[str, str]:
    """``seqlab transcribe --format txt`` output: line id (the file name without its suffix) -> text."""
    rows = (line.split("\t", 1) for line in path.read_text(encoding="utf-8").splitlines())
    return {Path(uid).stem: text for uid, text in rows}


def cer(refs: dict[str, str], hyps: dict[str, str]) -> float:
    def norm(s: str) -> str:
        return unicodedata.normalize("NFC", " ".join(s.split()))
    edits = sum(editdistance.eval(norm(r), norm(hyps.get(i, ""))) for i, r in refs.items())
    return edits / sum(len(norm(r)) for r in refs.values())


def race_seqlab(work: Path, root: Path, splits: dict, budget: int) -> dict:
    run_dir = work / "seqlab-run"
    shutil.rmtree(run_dir, ignore_errors=True)
    minutes, seconds = divmod(budget, 60)
    code, wall = run([sys.executable, "-m", "seqlab", "train", *SEQLAB_NET, "data=iam", f"data.root={root}",
                      "trainer.max_epochs=1000", f"trainer.max_time=00:00:{minutes:02d}:{seconds:02d}",
                      "trainer.enable_progress_bar=false", f"hydra.run.dir={run_dir}"], work / "seqlab-train.log")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    epochs = metrics["throughput"]
    lines = sum(e["items"] for e in epochs)
    seconds = sum(e["seconds"] for e in epochs)  # training epochs alone (the throughput monitor)
    test = work / "kraken-data" / "test"
    out = work / "seqlab-test.txt"
    code_t, wall_t = run([sys.executable, "-m", "seqlab", "transcribe", str(run_dir / "checkpoints" / "best.ckpt"),
                          str(test), "--format", "txt", "--output", str(out), "--no-progress", "--batch-size", "16"],
                         work / "seqlab-transcribe.log")
    hyps = read_txt(out)
    return {"exit_status": code, "train_wall_s": wall, "epochs": len(epochs), "lines_trained": lines,
            "train_lines_per_s": lines / wall, "train_lines_per_s_in_epochs": lines / seconds, "transcribe_wall_s": wall_t, "transcribe_exit_status": code_t,
            "transcribe_lines_per_s": len(splits["test"]) / wall_t, "test_cer": cer(splits["test"], hyps)}


def race_kraken(work: Path, venv: Path, splits: dict, budget: int) -> dict:
    data = work / "kraken-data"
    out_dir = work / "kraken-model"
    shutil.rmtree(out_dir, ignore_errors=True)
    train_list, val_list = work / "kraken-train.lst", work / "kraken-val.lst"
    train_list.write_text("".join(f"{data / 'train' / i}.png\n" for i in splits["train"]))
    val_list.write_text("".join(f"{data / 'val' / i}.png\n" for i in splits["val"]))
    code, wall = run([str(venv / "bin" / "ketos"), "--threads", "1", "--workers", "0", "-d", "cpu", "train",
                      "-f", "path", "-t", str(train_list), "-e", str(val_list), "-s", SPEC, "-B", "16",
                      "--pad", "0", "--optimizer", "Adam", "-r", "0.001", "-m", "0", "--schedule", "constant",
                      "--gradient-clip-val", "1.0", "-q", "fixed", "-N", "1000", "-o", str(out_dir)],
                     work / "kraken-train.log", timeout=budget)
    log = (work / "kraken-train.log").read_text(errors="replace")
    done = {int(n) for n, at, of in re.findall(r"stage (\d+)/\d+ \S+ (\d+)/(\d+)", log) if at == of}
    epochs = len(done)  # stages whose progress bar reached its end
    # Kraken keeps its best checkpoints by validation accuracy (checkpoint_EPOCH-ACCURACY.ckpt): take the best
    saved = sorted(out_dir.glob("checkpoint_*-*.ckpt"), key=lambda p: float(p.stem.rsplit("-", 1)[1]))
    if not saved:
        return {"exit_status": code, "train_wall_s": wall, "epochs": epochs, "note": "no model saved within the budget"}
    model = work / "kraken-best.safetensors"
    subprocess.run([str(venv / "bin" / "ketos"), "convert", "-o", str(model), str(saved[-1])], check=True,
                   capture_output=True)
    test = data / "test"
    pairs = [arg for i in splits["test"] for arg in ("-i", str(test / f"{i}.png"), str(work / "kraken-out" / f"{i}.txt"))]
    (work / "kraken-out").mkdir(exist_ok=True)
    code_t, wall_t = run([str(venv / "bin" / "kraken"), "-d", "cpu", *pairs, "ocr", "-m", str(model), "-s",
                          "--pad", "0", "-B", "16", "--num-line-workers", "0"], work / "kraken-transcribe.log")
    hyps = {i: (work / "kraken-out" / f"{i}.txt").read_text(encoding="utf-8").strip()
            for i in splits["test"] if (work / "kraken-out" / f"{i}.txt").exists()}
    return {"exit_status": code, "train_wall_s": wall, "epochs": epochs, "model": str(saved[-1]),
            "lines_trained": epochs * len(splits["train"]), "train_lines_per_s": epochs * len(splits["train"]) / wall,
            "transcribe_wall_s": wall_t, "transcribe_exit_status": code_t,
            "transcribe_lines_per_s": len(splits["test"]) / wall_t, "test_cer": cer(splits["test"], hyps),
            "test_lines_transcribed": len(hyps)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, required=True, help="folder for the corpus, the Kraken venv and the runs")
    p.add_argument("--budget", type=int, default=600, help="training wall seconds for each (default: 600)")
    p.add_argument("--num-train", type=int, default=1500)
    p.add_argument("--num-test", type=int, default=300)
    p.add_argument("--kraken-version", default="7.1.1")
    p.add_argument("--only", choices=("seqlab", "kraken"), help="run one side")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/kraken_race.json"))
    args = p.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    root, splits = corpus(args.work, args.num_train, args.num_test)
    results = {}
    if args.only in (None, "seqlab"):
        results["seqlab"] = race_seqlab(args.work, root, splits, args.budget)
        print("seqlab", json.dumps(results["seqlab"]), flush=True)
    if args.only in (None, "kraken"):
        venv = kraken_env(args.work, args.kraken_version)
        results["kraken"] = race_kraken(args.work, venv, splits, args.budget)
        print("kraken", json.dumps(results["kraken"]), flush=True)
    print(f"\n{'':8} {'epochs':>7} {'train lines/s':>14} {'test CER':>9} {'transcribe lines/s':>19}")
    for name, r in results.items():
        if "test_cer" in r:
            print(f"{name:8} {r['epochs']:>7} {r['train_lines_per_s']:>14.1f} {100 * r['test_cer']:>8.2f}% "
                  f"{r['transcribe_lines_per_s']:>19.1f}")
        else:
            print(f"{name:8} {r.get('note', 'failed')}")
    from seqlab.atomic import write_json_atomic

    write_json_atomic(args.out, {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "spec": SPEC, "seqlab_overrides": SEQLAB_NET, "cpu": platform.machine(), "cpu_count": os.cpu_count(),
        "python": platform.python_version(), "results": results,
    })
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
