"""Training throughput of the handwriting encoders, in text lines per second.

One training step = encoder + CTC head forward, CTC loss, backward and an
optimizer step, on batches shaped like the synthetic handwriting corpus
(lines of 15 to 45 characters, about 0.33 x height pixels of width per
character, zero-padded to the widest line of the batch). The models come from
the Hydra configs, so the numbers are those of the recipes:

    blstm       experiment=synth_blstm_cpu   (seqlab/conf/model/blstm.yaml, 24-pixel lines)
    crnn_cpu    experiment=synth_crnn_cpu    (CPU-sized CRNN)
    mdlstm_cpu  experiment=synth_mdlstm_cpu  (CPU-sized hierarchical MDLSTM)
    crnn_paper  experiment=iam_crnn          (Puigcerver 2017 sizes, 128-pixel lines)
    mdlstm_paper experiment=iam_mdlstm       (Pham et al. 2014 sizes, 64-pixel lines)

    seqlab bench handwriting --threads 1 --steps 5
    seqlab bench handwriting --cases blstm crnn_cpu --device cuda

Prints a table and writes JSON to benchmarks/results/handwriting.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from seqlab.cli.hydra_app import CONFIG_DIR
from seqlab.nn.ctc import CTCHead, ctc_loss

REPO_ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "blstm": ["experiment=synth_blstm_cpu"],
    "crnn_cpu": ["experiment=synth_crnn_cpu"],
    "mdlstm_cpu": ["experiment=synth_mdlstm_cpu"],
    "crnn_paper": ["experiment=iam_crnn", "data.root=unused"],
    "mdlstm_paper": ["experiment=iam_mdlstm", "data.root=unused"],
}
NUM_CLASSES = 80  # the synthetic corpus' symbols + blank
PIXELS_PER_CHAR = 0.33  # width per character / line height, synthetic corpus


def build(case: str) -> tuple[torch.nn.Module, CTCHead, object, int]:
    """(encoder, head, optimizer factory, line height) from the case's Hydra config."""
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[*CASES[case], "run_dir=unused", "cache_dir=unused"])
    height = int(cfg.data.height)
    enc_cfg = cfg.model.encoder
    if OmegaConf.is_missing(enc_cfg, "input_size"):
        enc_cfg.input_size = height  # what seqlab train fills in from the data module
    encoder = instantiate(enc_cfg)
    return encoder, CTCHead(encoder.output_size, NUM_CLASSES), instantiate(cfg.model.optimizer), height


def make_batch(rng: np.random.Generator, batch: int, height: int, device: torch.device):
    chars = rng.integers(15, 46, size=batch)
    widths = np.maximum(8, np.rint(chars * PIXELS_PER_CHAR * height)).astype(np.int64)
    x = torch.zeros(batch, 1, height, int(widths.max()))
    for i, w in enumerate(widths):
        x[i, :, :, :w] = torch.rand(1, height, int(w))
    targets = torch.from_numpy(rng.integers(1, NUM_CLASSES, size=int(chars.sum())))
    return (x.to(device), torch.from_numpy(widths).to(device), targets.to(device),
            torch.from_numpy(chars).to(device), int(widths.sum()))


def bench_case(case: str, args: argparse.Namespace, device: torch.device) -> dict:
    torch.manual_seed(0)
    encoder, head, optimizer_factory, height = build(case)
    encoder, head = encoder.to(device).train(), head.to(device).train()
    params = list(encoder.parameters()) + list(head.parameters())
    optimizer = optimizer_factory(params)
    rng = np.random.default_rng(0)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times, frames, pixels = [], [], []
    for step in range(args.warmup + args.steps):
        x, lengths, targets, target_lengths, npix = make_batch(rng, args.batch, height, device)
        sync()
        start = time.perf_counter()
        features, out_lengths = encoder(x, lengths)
        loss = ctc_loss(head(features), out_lengths, targets, target_lengths).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sync()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
            frames.append(float(out_lengths.float().mean()))
            pixels.append(npix / args.batch)
    median = statistics.median(times)
    return {
        "case": case,
        "overrides": CASES[case],
        "encoder": type(encoder).__name__,
        "parameters": sum(p.numel() for p in params),
        "height": height,
        "mean_width": round(statistics.mean(pixels), 1),
        "mean_frames": round(statistics.mean(frames), 1),
        "median_step_s": median,
        "times_s": times,
        "lines_per_s": args.batch / median,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (CPU)")
    parser.add_argument("--batch", type=int, default=16, help="lines per batch (the recipes' batch size)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per case")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--out", default=str(REPO_ROOT / "benchmarks" / "results" / "handwriting.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          "cpu" if args.device == "auto" else args.device)

    results = []
    print(f"{'case':13} {'params':>8} {'H':>4} {'width':>6} {'frames':>7} {'s/step':>8} {'lines/s':>8}", flush=True)
    for case in args.cases:
        r = bench_case(case, args, device)
        results.append(r)
        print(f"{case:13} {r['parameters'] / 1e6:7.2f}M {r['height']:4d} {r['mean_width']:6.0f} "
              f"{r['mean_frames']:7.1f} {r['median_step_s']:8.3f} {r['lines_per_s']:8.1f}", flush=True)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "config": {k: v for k, v in vars(args).items()},
        "torch": torch.__version__,
        "cpu": platform.machine(),
        "cpu_count": os.cpu_count(),
        "device": str(device),
        "cuda_device": torch.cuda.get_device_name() if device.type == "cuda" else None,
        "results": results,
    }
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
