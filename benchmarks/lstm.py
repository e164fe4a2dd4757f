"""Forward + backward time of CustomLSTM against nn.LSTM and nn.GRU.

Default size: the issue's acceptance setting, T=300, B=32, F=123, H=250 per
direction, 3 bidirectional layers. The models run round-robin inside each
repeat (so that load from other processes hits them alike) after warm-up, and
the table reports the median. On CUDA (when present) each model also runs
under bf16 autocast. ``--alternatives`` adds the two loops CustomLSTM's
hand-written backward was chosen over: the same vanilla peephole recurrence as
a plain Python loop and as a TorchScript loop, both differentiated by autograd.

    seqlab bench lstm --threads 2 --repeats 5 --alternatives
    seqlab bench lstm --threads 1 --clock process   # on a busy machine
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

from seqlab.nn.cells import PRESETS
from seqlab.nn.custom_lstm import CustomLSTM


def vanilla_loop(xp: Tensor, w_hh: Tensor, w_peep: Tensor) -> Tensor:
    """Vanilla peephole recurrence (V1-V6) left to autograd: (D, T, B, 4H) -> (D, T, B, H)."""
    H = w_hh.shape[-1]
    w_rec = w_hh.transpose(1, 2)  # (D, 4H, H) -> (D, H, 4H)
    p_i, p_f, p_o = w_peep.unsqueeze(1).unbind(2)  # (D, 3, H) -> 3 x (D, 1, H)
    y = torch.zeros_like(xp[:, 0, :, :H])
    c = torch.zeros_like(y)
    ys: list[Tensor] = []
    for x_t in xp.unbind(1):  # unbind, not xp[:, t]: one backward node instead of T full-size zeros
        z, i, f, o = torch.baddbmm(x_t, y, w_rec).chunk(4, dim=-1)  # slots z, i, f, o
        i = torch.sigmoid(i + p_i * c)
        f = torch.sigmoid(f + p_f * c)
        c = f * c + i * torch.tanh(z)
        y = torch.tanh(c) * torch.sigmoid(o + p_o * c)
        ys.append(y)
    return torch.stack(ys, dim=1)


class AutogradLSTM(CustomLSTM):
    """CustomLSTM's layout and padding handling with ``loop`` differentiated by autograd (comparison only)."""

    def __init__(self, loop: Callable[[Tensor, Tensor, Tensor], Tensor], *args, **kwargs) -> None:
        super().__init__(*args, variant="vanilla", bidirectional=True, **kwargs)
        self.loop = loop

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        B, T, _ = x.shape
        steps = torch.arange(T, device=x.device).unsqueeze(1)  # (T, 1)
        lengths = lengths.to(x.device)
        mask = (steps < lengths).unsqueeze(-1)  # (T, B, 1)
        rev = torch.where(mask[..., 0], lengths - 1 - steps, steps).unsqueeze(-1)  # (T, B, 1)
        h = x.transpose(0, 1) * mask  # (B, T, F) -> (T, B, F)
        for k in range(self.num_layers):
            p = self.layer_parameters(k)
            X = torch.stack([h, h.gather(0, rev.expand_as(h))])  # (D, T, B, F)
            xp = torch.baddbmm(p["bias"].unsqueeze(1), X.flatten(1, 2), p["ih"].transpose(1, 2))
            Y = self.loop(xp.view(2, T, B, -1), p["hh"], p["peep"])  # (D, T, B, H)
            h = torch.cat([Y[0], Y[1].gather(0, rev.expand_as(Y[1]))], dim=-1) * mask
        return h.transpose(0, 1)


def build_models(args: argparse.Namespace) -> dict[str, tuple[nn.Module, bool]]:
    """name -> (module, takes lengths); nn.LSTM first, it is the unit of the ratio."""
    size = dict(num_layers=args.layers, bidirectional=True)
    models: dict[str, tuple[nn.Module, bool]] = {
        "nn.LSTM": (nn.LSTM(args.input, args.hidden, batch_first=True, **size), False)
    }
    if not args.no_gru:
        models["nn.GRU"] = (nn.GRU(args.input, args.hidden, batch_first=True, **size), False)
    for variant in args.variants:
        models[f"CustomLSTM[{variant}]"] = (CustomLSTM(args.input, args.hidden, variant=variant, **size), True)
    if args.alternatives:
        layers = dict(num_layers=args.layers)
        models["python loop + autograd"] = (AutogradLSTM(vanilla_loop, args.input, args.hidden, **layers), True)
        models["jit.script loop + autograd"] = (
            AutogradLSTM(torch.jit.script(vanilla_loop), args.input, args.hidden, **layers),
            True,
        )
    return models


def time_models(
    models: dict[str, tuple[nn.Module, bool]], args: argparse.Namespace, device: torch.device, autocast: bool
) -> dict[str, dict]:
    """Median forward+backward seconds per model, models interleaved within each repeat."""
    x = torch.randn(args.batch, args.T, args.input, device=device, requires_grad=True)  # (B, T, F)
    lengths = torch.full((args.batch,), args.T, dtype=torch.long)

    # process CPU time resists other processes' load on a shared machine (use with --threads 1)
    clock = time.process_time if args.clock == "process" and device.type == "cpu" else time.perf_counter

    def step(module: nn.Module, takes_lengths: bool) -> float:
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        sync()
        start = clock()
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=autocast):
            out = module(x, lengths) if takes_lengths else module(x)[0]
        out.float().sum().backward()
        sync()
        return clock() - start

    times: dict[str, list[float]] = {}
    errors: dict[str, str] = {}
    for name, (module, takes_lengths) in models.items():
        module.to(device)
        try:
            for _ in range(args.warmup):
                step(module, takes_lengths)
            times[name] = []
        except RuntimeError as err:  # e.g. cuDNN without bf16 RNNs: report, do not hide
            errors[name] = str(err).splitlines()[0]
    for _ in range(args.repeats):
        for name in times:
            times[name].append(step(*models[name]))
    base = statistics.median(times["nn.LSTM"]) if "nn.LSTM" in times else None
    rows = {}
    for name in models:
        if name in errors:
            rows[name] = {"error": errors[name]}
            continue
        median = statistics.median(times[name])
        rows[name] = {
            "median_s": median,
            "min_s": min(times[name]),
            "times_s": times[name],
            "ratio_to_nn_lstm": median / base if base else None,
        }
    return rows


def print_table(title: str, rows: dict[str, dict]) -> None:
    print(f"\n{title}")
    print(f"{'model':32s} {'median s':>10s} {'min s':>10s} {'x nn.LSTM':>10s}")
    for name, row in rows.items():
        if "error" in row:
            print(f"{name:32s} {'n/a':>10s}  {row['error'][:60]}")
        else:
            ratio = f"{row['ratio_to_nn_lstm']:.2f}" if row["ratio_to_nn_lstm"] is not None else "-"
            print(f"{name:32s} {row['median_s']:10.3f} {row['min_s']:10.3f} {ratio:>10s}")


def _cores() -> int:
    """Cores this process may use (the affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=_cores(), help="CPU threads (default: all usable cores)")
    parser.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: CPU, and CUDA if present"
    )
    parser.add_argument("--T", type=int, default=300, help="time steps")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--input", type=int, default=123, help="input features F")
    parser.add_argument("--hidden", type=int, default=250, help="hidden units per direction H")
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--variants", nargs="+", default=["vanilla", "NP"], choices=list(PRESETS))
    parser.add_argument("--no-gru", action="store_true", help="skip nn.GRU")
    parser.add_argument(
        "--alternatives", action="store_true", help="also time the autograd Python and TorchScript loops"
    )
    parser.add_argument(
        "--clock",
        choices=["wall", "process"],
        default="wall",
        help="CPU timing: wall clock, or this process's CPU time (robust on a shared machine with --threads 1)",
    )
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/lstm.json"))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    models = build_models(args)
    devices = ["cpu"] if args.device in ("auto", "cpu") else []
    if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()):
        devices.append("cuda")
    runs = {}
    for device in devices:
        for autocast in (False, True) if device == "cuda" else (False,):
            key = f"{device}-{'bf16-autocast' if autocast else 'fp32'}"
            runs[key] = time_models(models, args, torch.device(device), autocast)
            title = (
                f"{key}: T={args.T} B={args.batch} F={args.input} H={args.hidden} layers={args.layers} "
                f"bidirectional, forward+backward, threads={args.threads}, clock={args.clock}"
            )
            print_table(title, runs[key])
    result = {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cuda_device": torch.cuda.get_device_name() if "cuda" in devices else None,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
