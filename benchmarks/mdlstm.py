"""Forward + backward time of the fast MDLSTM against the per-pixel reference.

Headline setting: 32 x 256 images, batch 8, 1 channel, hidden 32, four
directions, float32, on the CPU; target: fast >= 20x faster than the reference.
Sizes 16x64, 32x256 and 64x512 are timed, with and without peepholes, on the
CPU and on CUDA when present. The reference (tests/nn/mdlstm_reference.py, one
cell at a time) only runs where it finishes in reasonable time
(``--reference-max-pixels``). Inside each repeat the fast layer and the
reference run back to back, so that load from other processes hits both alike;
the table reports medians.

Against the limit: next to each case, a cuDNN/oneDNN ``nn.LSTM`` with the same
hidden size N and input size C runs over the same number of steps per
direction (H * W, one sequence per image and direction: batch 4B), forward and
backward. Per pixel and direction the 2-D cell does 5N (C + 2N) multiply-adds
(five gates, two predecessors), the 1-D cell 4N (C + N); the column "per MAC"
is the MDLSTM's time per multiply-add over the LSTM's, the factor by which the
anti-diagonal layer falls short of the CPU's best LSTM kernel.

    seqlab bench mdlstm --threads 2 --repeats 5 --reference-repeats 3
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import torch
from torch import Tensor

from seqlab.atomic import write_json_atomic
from seqlab.nn.mdlstm import MDLSTM

REPO_ROOT = Path(__file__).resolve().parents[1]


def load_reference() -> Callable[[MDLSTM, Tensor], Tensor]:
    """``reference_mdlstm`` from tests/nn/mdlstm_reference.py, loaded by path (not part of the package)."""
    path = REPO_ROOT / "tests" / "nn" / "mdlstm_reference.py"
    spec = importlib.util.spec_from_file_location("mdlstm_reference", path)
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reference_mdlstm


def time_step(run: Callable[[], Tensor], device: torch.device) -> tuple[float, float]:
    """(forward seconds, forward + backward seconds) of one call."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    out = run()
    sync()
    forward = time.perf_counter() - start
    out.sum().backward()
    sync()
    return forward, time.perf_counter() - start


def bench_case(
    args: argparse.Namespace, reference: Callable, device: torch.device, height: int, width: int, peephole: bool
) -> dict:
    torch.manual_seed(0)
    layer = MDLSTM(args.channels, args.hidden, directions=4, peephole=peephole).to(device)
    x = torch.rand(args.batch, args.channels, height, width, device=device, requires_grad=True)  # (B, C, H, W)
    limit = args.reference_max_pixels if device.type == "cpu" else args.cuda_reference_max_pixels
    with_reference = height * width <= limit
    runs: dict[str, Callable[[], Tensor]] = {"fast": lambda: layer(x)}
    lstm = torch.nn.LSTM(args.channels, args.hidden, batch_first=True).to(device)
    seq = torch.rand(4 * args.batch, height * width, args.channels, device=device, requires_grad=True)
    runs["lstm"] = lambda: lstm(seq)[0]
    if with_reference:
        runs["reference"] = lambda: reference(layer, x)
    for _ in range(args.warmup):
        time_step(runs["fast"], device)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for r in range(args.repeats):
        times["fast"].append(time_step(runs["fast"], device))
        if r < args.lstm_repeats:
            times["lstm"].append(time_step(runs["lstm"], device))
        if with_reference and r < args.reference_repeats:
            times["reference"].append(time_step(runs["reference"], device))
    row: dict = {"device": device.type, "size": f"{height}x{width}", "peephole": peephole}
    for name, samples in times.items():
        row[name] = {
            "forward_median_s": statistics.median(f for f, _ in samples),
            "median_s": statistics.median(t for _, t in samples),
            "min_s": min(t for _, t in samples),
            "times_s": [t for _, t in samples],
        }
    row["speedup"] = row["reference"]["median_s"] / row["fast"]["median_s"] if with_reference else None
    n, c = args.hidden, args.channels
    macs = {"fast": 5 * n * (c + 2 * n), "lstm": 4 * n * (c + n)}  # per pixel (step) and direction
    row["macs_per_step"] = macs
    row["per_mac_vs_lstm"] = (row["fast"]["median_s"] / macs["fast"]) / (row["lstm"]["median_s"] / macs["lstm"])
    return row


def print_row(row: dict) -> None:
    fast = row["fast"]
    ref = row.get("reference")
    ref_s = f"{ref['median_s'] * 1e3:12.1f}" if ref else f"{'-':>12s}"
    speedup = f"{row['speedup']:8.1f}x" if row["speedup"] else f"{'-':>9s}"
    print(
        f"{row['device']:6s} {row['size']:>8s} {str(row['peephole']):>9s} "
        f"{fast['forward_median_s'] * 1e3:10.1f} {fast['median_s'] * 1e3:12.1f} {ref_s} {speedup} "
        f"{row['lstm']['median_s'] * 1e3:12.1f} {row['per_mac_vs_lstm']:8.2f}x",
        flush=True,
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads (default: all cores)")
    parser.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: CPU, and CUDA if present"
    )
    parser.add_argument("--sizes", nargs="+", default=["16x64", "32x256", "64x512"], help="H x W image sizes")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--channels", type=int, default=1, help="input channels C")
    parser.add_argument("--hidden", type=int, default=32, help="units per direction N")
    parser.add_argument("--peephole", choices=["both", "off", "on"], default="both")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls of the fast layer per case")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--reference-repeats", type=int, default=3, help="timed reference calls (at most --repeats)")
    parser.add_argument("--lstm-repeats", type=int, default=3, help="timed nn.LSTM calls (at most --repeats)")
    parser.add_argument(
        "--reference-max-pixels", type=int, default=32 * 256, help="largest H * W the reference runs at on the CPU"
    )
    parser.add_argument(
        "--cuda-reference-max-pixels", type=int, default=16 * 64, help="same on CUDA (one launch per op per pixel)"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/mdlstm.json"))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    reference = load_reference()
    devices = ["cpu"] if args.device in ("auto", "cpu") else []
    if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()):
        devices.append("cuda")
    peepholes = {"both": (False, True), "off": (False,), "on": (True,)}[args.peephole]
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes]
    print(
        f"MDLSTM forward+backward, B={args.batch} C={args.channels} N={args.hidden} D=4 float32, "
        f"threads={args.threads}, medians of {args.repeats} (reference: {args.reference_repeats})"
    )
    print(f"{'device':6s} {'size':>8s} {'peephole':>9s} {'fast fwd ms':>10s} {'fast f+b ms':>12s} "
          f"{'ref f+b ms':>12s} {'speed-up':>9s} {'LSTM f+b ms':>12s} {'per MAC':>9s}")
    rows = []
    for device in devices:
        for height, width in sizes:
            for peephole in peepholes:
                rows.append(bench_case(args, reference, torch.device(device), height, width, peephole))
                print_row(rows[-1])
    result = {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cuda_device": torch.cuda.get_device_name() if "cuda" in devices else None,
        "results": rows,
    }
    write_json_atomic(args.out, result)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
