#!/usr/bin/env python
"""Bounded training steps of a recipe on a corpus-sized synthetic input, through the Lightning loop.

A recipe (``timit_graves2013``, ``iam_crnn``, ...) is composed with Hydra as
``seqlab train`` composes it, its CTCModule is built, and a Lightning Trainer
(the recipe's precision or ``--precision``) runs ``--steps`` optimiser steps
after ``--warmup`` untimed ones. The inputs are random tensors with the
corpus' sizes (``--corpus timit``: 123 features per frame, TIMIT's utterance
lengths and phone counts; ``--corpus iam``: 128-pixel lines with IAM's widths and
line lengths), held in memory: the figure is the network, the CTC loss, the
optimiser and the loop, not file decoding or feature extraction (seqlab bench
features / images measure those). Reports steps/s, items/s, input frames/s, peak
GPU memory, mean GPU utilisation (nvidia-smi), whether every loss was finite,
and one epoch's time *extrapolated* from the timed steps.

    seqlab bench train_steps --experiment timit_graves2013 --corpus timit --device cuda --steps 300
    seqlab bench train_steps --experiment iam_crnn --corpus iam --device cuda --precision bf16-mixed
    seqlab bench train_steps --experiment iam_crnn --corpus iam --dry-run     # tiny, on the CPU
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path

import lightning as L
import numpy as np
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch.utils.data import DataLoader

from seqlab.cli.hydra_app import CONFIG_DIR
from seqlab.data.batch import Collate, Sample
from seqlab.data.frontends.base import pad_frames, pad_images
from seqlab.lit.throughput import GPUUtilisation
from seqlab.text import Alphabet

# Training-set geometry of the real corpora (../shared/reference/timit.md, iam.md):
# items per epoch, and the mean / std of the input length and of the target length.
CORPORA = {
    # 3,696 SI+SX training utterances; 3.08 s (308 frames of 10 ms) and 38 phones on average
    "timit": {"items": 3696, "frames": (308, 95), "targets": (38, 12), "features": 123, "classes": 61},
    # 6,161 training lines; at 128 px high a line is about 1,750 px wide and holds 43 characters
    "iam": {"items": 6161, "width": (1750, 420), "targets": (43, 11), "height": 128, "classes": 79},
}


class StepClock(L.Callback):
    """Wall time of each training step (synchronised on CUDA) and the loss it returned."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.times: list[float] = []
        self.losses: list[float] = []
        self.items = self.frames = 0
        self._start = 0.0

    def _sync(self, module: L.LightningModule) -> None:
        if module.device.type == "cuda":
            torch.cuda.synchronize(module.device)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if batch_idx == self.warmup and pl_module.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(pl_module.device)
        self._sync(pl_module)
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        self._sync(pl_module)
        # a step that returned None (no feasible item, or a non-finite loss) comes back as {}
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        self.losses.append(float(loss) if loss is not None else math.nan)
        if batch_idx >= self.warmup:
            self.times.append(time.perf_counter() - self._start)
            self.items += len(batch)
            self.frames += int(batch.input_lengths.sum())


def _lengths(rng: np.random.Generator, mean_std: tuple[float, float], n: int, low: int) -> np.ndarray:
    mean, std = mean_std
    return np.maximum(low, np.rint(rng.normal(mean, std, n))).astype(int)


def input_size(corpus: str, scale: float = 1.0) -> int:
    """Features per frame (speech) or line height in pixels (images): the encoder's input size."""
    spec = CORPORA[corpus]
    return spec["features"] if corpus == "timit" else max(16, int(spec["height"] * scale))


def make_samples(corpus: str, n: int, seed: int, scale: float = 1.0) -> list[Sample]:
    """``n`` random samples with the corpus' geometry (``scale`` < 1 shrinks them for a dry run)."""
    spec = CORPORA[corpus]
    rng = np.random.default_rng(seed)
    targets = np.maximum(2, _lengths(rng, spec["targets"], n, 2) * scale).astype(int)
    samples = []
    if corpus == "timit":
        frames = np.maximum(_lengths(rng, spec["frames"], n, 20) * scale, 3 * targets).astype(int)
        for i in range(n):
            x = torch.randn(int(frames[i]), spec["features"])
            samples.append(Sample(f"u{i}", x, rng.integers(1, spec["classes"] + 1, targets[i]).tolist(), "", "mem"))
        return samples
    height = input_size(corpus, scale)
    widths = np.maximum(_lengths(rng, spec["width"], n, 64) * scale, 12 * targets * scale).astype(int)
    for i in range(n):
        x = torch.rand(1, height, int(widths[i]))
        samples.append(Sample(f"l{i}", x, rng.integers(1, spec["classes"] + 1, targets[i]).tolist(), "", "mem"))
    return samples


def compose_recipe(experiment: str, corpus: str, height: int):
    data = "synth_timit" if corpus == "timit" else "synth_iam"
    overrides = [f"experiment={experiment}", f"data={data}", "run_dir=unused", "cache_dir=unused"]
    if corpus == "iam":
        overrides.append(f"data.height={height}")
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=overrides)


def run(args: argparse.Namespace) -> dict:
    L.seed_everything(0, verbose=False)
    spec = CORPORA[args.corpus]
    scale = 0.25 if args.dry_run else 1.0
    n_steps = args.warmup + args.steps
    size = input_size(args.corpus, scale)
    cfg = compose_recipe(args.experiment, args.corpus, size)
    batch_size = args.batch_size or int(cfg.data.batch_size)
    samples = make_samples(args.corpus, n_steps * batch_size, seed=0, scale=scale)
    if OmegaConf.is_missing(cfg.model.encoder, "input_size"):
        cfg.model.encoder.input_size = size
    if args.dry_run:
        cfg.model.encoder.hidden_size = min(int(cfg.model.encoder.hidden_size), 16)
    alphabet = Alphabet([chr(0x100 + k) for k in range(spec["classes"])])  # any distinct symbols
    model = instantiate(cfg.model, alphabet=alphabet, metrics=["cer"])
    precision = args.precision or str(cfg.trainer.get("precision", "32-true"))
    clock = StepClock(args.warmup)
    trainer = L.Trainer(
        accelerator=args.device, devices=1, precision=precision, max_epochs=1, limit_train_batches=n_steps,
        limit_val_batches=0, num_sanity_val_steps=0, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, callbacks=[clock],
        gradient_clip_val=cfg.trainer.get("gradient_clip_val"),
    )
    pad = pad_frames if args.corpus == "timit" else pad_images  # (T, F) frames or (1, H, W) lines
    loader = DataLoader(samples, batch_size=batch_size, shuffle=False, collate_fn=Collate(pad),
                        pin_memory=args.device == "cuda")
    gpu = GPUUtilisation(torch.cuda.current_device()) if args.device == "cuda" else None
    sampling = gpu.start() if gpu is not None else False
    wall = time.perf_counter()
    trainer.fit(model, train_dataloaders=loader)
    wall = time.perf_counter() - wall
    utilisation = gpu.stop() if sampling else None
    step_s = statistics.median(clock.times)
    items_per_s = clock.items / sum(clock.times)
    return {
        "experiment": args.experiment,
        "corpus": args.corpus,
        "dry_run": args.dry_run,
        "device": torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or "cpu",
        "precision": precision,
        "encoder": type(model.encoder).__name__,
        "parameters": sum(p.numel() for p in model.parameters()),
        "batch_size": batch_size,
        "timed_steps": len(clock.times),
        "warmup_steps": args.warmup,
        "median_step_s": step_s,
        "steps_per_s": len(clock.times) / sum(clock.times),
        "items_per_s": items_per_s,
        "frames_per_s": clock.frames / sum(clock.times),
        "peak_memory_gib": (torch.cuda.max_memory_allocated() / 2**30) if args.device == "cuda" else None,
        "gpu_utilisation_pct": utilisation,
        "all_losses_finite": all(math.isfinite(v) for v in clock.losses),
        "nonfinite_batches": model.nonfinite_batches,
        "epoch_items": spec["items"],
        "epoch_s_extrapolated": spec["items"] / items_per_s,
        "wall_s": wall,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--experiment", required=True, help="a recipe of seqlab/conf/experiment/")
    p.add_argument("--corpus", choices=sorted(CORPORA), required=True, help="the corpus geometry to imitate")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--precision", help="Lightning precision (default: the recipe's), e.g. 32-true, bf16-mixed")
    p.add_argument("--batch-size", type=int, help="default: the recipe's data.batch_size")
    p.add_argument("--steps", type=int, default=200, help="timed optimiser steps")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps first (cuDNN autotuning, allocator)")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--dry-run", action="store_true", help="tiny inputs and network: checks the path, times nothing useful")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/train_steps.json"))
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    mem = "-" if result["peak_memory_gib"] is None else f"{result['peak_memory_gib']:.2f}"
    util = "-" if result["gpu_utilisation_pct"] is None else f"{result['gpu_utilisation_pct']:.0f}"
    print(f"{'experiment':<18} {'precision':<10} {'steps/s':>8} {'items/s':>9} {'peak GiB':>8} {'GPU %':>6} "
          f"{'epoch s (extrapolated)':>22} finite")
    print(f"{result['experiment']:<18} {result['precision']:<10} {result['steps_per_s']:>8.2f} "
          f"{result['items_per_s']:>9.1f} {mem:>8} {util:>6} {result['epoch_s_extrapolated']:>22.1f} "
          f"{result['all_losses_finite']}")
    print(f"wrote {args.out}")
    return 0 if result["all_losses_finite"] else 1


if __name__ == "__main__":
    sys.exit(main())
