#!/usr/bin/env python
"""Training-loop overhead: seqlab's Lightning loop against a bare PyTorch loop.

Both loops train the same model on the same pre-collated batches, with the
same optimizer and gradient clipping; the batches are built once, so data
loading is out of the comparison. Prints a table and writes JSON.

- ``--task handwriting``: the default run's BLSTM-CTC (2 x 128, 4 pixel
  columns per frame) on the synthetic handwriting corpus; lines per second.
- ``--task speech``: the timit_cpu BLSTM-CTC (2 x 128, 3 stacked frames, 123
  features) on the synthetic TIMIT corpus (needs espeak-ng); feature frames
  (10 ms) per second, and seconds of audio per second.

    seqlab bench loop --batches 40 --repeats 3 --out benchmarks/results/loop.json
    seqlab bench loop --task speech --batches 40 --out benchmarks/results/loop_speech.json
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import time
from functools import partial
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader

from seqlab.data import SyntheticIAMDataModule
from seqlab.data import SyntheticTIMITDataModule
from seqlab.lit import CTCModule
from seqlab.nn import RecurrentEncoder, ctc_loss, min_ctc_frames


def make_batches(args) -> tuple[list, object, int]:
    """The first ``args.batches`` training batches, the alphabet, and the input feature size."""
    if args.task == "speech":
        # the timit_cpu corpus (150 training speakers x 8 sentences): the same cache as that preset
        dm = SyntheticTIMITDataModule(cache_dir=args.cache_dir, num_train_speakers=150, num_dev_speakers=20,
                                      num_test_speakers=24, workers=2, batch_size=args.batch_size)
    else:
        dm = SyntheticIAMDataModule(cache_dir=args.cache_dir, num_train=max(200, args.batches * args.batch_size),
                                    num_val=20, num_test=20, height=24, batch_size=args.batch_size)
    dm.prepare_data()
    dm.setup()
    batches = []
    for batch in dm.train_dataloader():
        batches.append(batch)
        if len(batches) == args.batches:
            break
    return batches, dm.alphabet, dm.feature_size


def make_module(alphabet, feature_size: int, task: str, seed: int = 0) -> CTCModule:
    torch.manual_seed(seed)
    stack = 3 if task == "speech" else 4  # timit_cpu / the default run
    enc = RecurrentEncoder(input_size=feature_size, hidden_size=128, num_layers=2, dropout=0.2, frame_stack=stack)
    return CTCModule(enc, alphabet, optimizer=partial(torch.optim.Adam, lr=3e-3))


def bare_loop(module: CTCModule, batches: list, clip: float) -> float:
    """The plain PyTorch loop a user would write: forward, CTC, backward, clip, step."""
    opt = torch.optim.Adam(module.parameters(), lr=3e-3)
    module.train()
    start = time.perf_counter()
    for batch in batches:
        opt.zero_grad(set_to_none=True)
        log_probs, lengths = module(batch.inputs, batch.input_lengths)
        ok = lengths >= min_ctc_frames(batch.targets, batch.target_lengths)
        loss = ctc_loss(log_probs, lengths, batch.targets, batch.target_lengths)[ok].mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
        opt.step()
    return time.perf_counter() - start


class _Timer(L.Callback):
    def on_train_epoch_start(self, trainer, pl_module):
        self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        self.seconds = time.perf_counter() - self.start


def lightning_loop(module: CTCModule, batches: list, clip: float, progress: bool) -> float:
    timer = _Timer()
    trainer = L.Trainer(
        accelerator="cpu", devices=1, max_epochs=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=progress, enable_model_summary=False, gradient_clip_val=clip,
        limit_val_batches=0, num_sanity_val_steps=0, callbacks=[timer], use_distributed_sampler=False,
        log_every_n_steps=20,
    )
    loader = DataLoader(batches, batch_size=None, shuffle=False)  # the same batches, in order
    trainer.fit(module, train_dataloaders=loader)
    return timer.seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=("handwriting", "speech"), default="handwriting")
    ap.add_argument("--batches", type=int, default=40, help="training batches per timed epoch")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3, help="timed epochs per loop (alternating)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "seqlab"))
    ap.add_argument("--out", default="benchmarks/results/loop.json")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    batches, alphabet, feature_size = make_batches(args)
    lines = sum(len(b) for b in batches)
    frames = sum(int(b.input_lengths.sum()) for b in batches)  # pixel columns or 10 ms feature frames
    base = make_module(alphabet, feature_size, args.task)
    make = lambda: copy.deepcopy(base)  # noqa: E731 (identical weights for every epoch)
    bare_loop(make(), batches[:3], 5.0)  # warm-up (oneDNN primitive caches)
    times: dict[str, list[float]] = {"bare PyTorch": [], "seqlab Lightning (no progress bar)": [],
                                     "seqlab Lightning (progress bar)": []}
    for _ in range(args.repeats):
        times["bare PyTorch"].append(bare_loop(make(), batches, 5.0))
        times["seqlab Lightning (no progress bar)"].append(lightning_loop(make(), batches, 5.0, False))
        times["seqlab Lightning (progress bar)"].append(lightning_loop(make(), batches, 5.0, True))
    bare = statistics.median(times["bare PyTorch"])
    rows = []
    unit = "utts/s" if args.task == "speech" else "lines/s"
    print(f"\n{args.task}: {len(batches)} batches, {lines} items, {frames} input frames")
    print(f"{'loop':<38} {'median s':>9} {unit:>9} {'frames/s':>9} {'vs bare':>8}")
    for name, ts in times.items():
        med = statistics.median(ts)
        rows.append({"loop": name, "seconds": ts, "median_s": med, "lines_per_s": lines / med,
                     "frames_per_s": frames / med, "ratio_to_bare": bare / med})
        if args.task == "speech":
            rows[-1]["audio_s_per_s"] = frames / 100 / med  # 10 ms frames
        print(f"{name:<38} {med:>9.2f} {lines / med:>9.1f} {frames / med:>9.0f} {bare / med:>7.2f}x")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "benchmark": "training loop", "task": args.task, "batches": len(batches), "lines": lines,
        "frames": frames, "batch_size": args.batch_size,
        "threads": torch.get_num_threads(), "torch": torch.__version__, "lightning": L.__version__,
        "machine": platform.processor() or platform.machine(), "cpus": torch.get_num_threads(), "results": rows,
    }, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
