#!/usr/bin/env python
"""One summary table (and summary.json) of the JSON files benchmarks/gpu_check.sh wrote.

    python benchmarks/gpu_summary.py benchmarks/results/gpu [--dry-run]

Exits 1 when a step failed or a training step gave a non-finite loss.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def lstm_rows(result: dict) -> list[dict]:
    """Per device/precision: each model's forward+backward median and its ratio to nn.LSTM."""
    rows = []
    for key, models in result["runs"].items():
        for name, m in models.items():
            rows.append({"run": key, "model": name, "error": m.get("error"),
                         "median_ms": m["median_s"] * 1e3 if "median_s" in m else None,
                         "vs_nn_lstm": m.get("ratio_to_nn_lstm")})
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out_dir", type=Path)
    p.add_argument("--dry-run", action="store_true")
    args = p.parse_args(argv)
    status = [line.split() for line in (args.out_dir / "status.txt").read_text().splitlines() if line.strip()]
    summary: dict = {"dry_run": args.dry_run, "steps": [{"name": n, "exit_status": int(rc), "wall_s": int(s)}
                                                       for n, rc, s in status]}
    print(f"\n{'step':<26} {'status':>7} {'wall s':>7}")
    for s in summary["steps"]:
        print(f"{s['name']:<26} {'ok' if s['exit_status'] == 0 else 'FAILED':>7} {s['wall_s']:>7}")

    lstm = _load(args.out_dir / "lstm.json")
    if lstm:
        summary["lstm"] = lstm_rows(lstm)
        print(f"\n{'LSTM run':<22} {'model':<22} {'f+b ms':>9} {'x nn.LSTM':>10}")
        for r in summary["lstm"]:
            if r["error"]:
                print(f"{r['run']:<22} {r['model']:<22} failed: {r['error']}")
                continue
            ratio = "-" if r["vs_nn_lstm"] is None else f"{r['vs_nn_lstm']:.2f}"
            print(f"{r['run']:<22} {r['model']:<22} {r['median_ms']:>9.2f} {ratio:>10}")

    md = _load(args.out_dir / "mdlstm.json")
    if md:
        summary["mdlstm"] = md["results"]
        print(f"\n{'MDLSTM device':<14} {'size':>9} {'peephole':>9} {'fast f+b ms':>12} {'ref f+b ms':>11}")
        for r in md["results"]:
            ref = r.get("reference")
            ref_ms = "-" if not ref else f"{ref['median_s'] * 1e3:.1f}"
            print(f"{r['device']:<14} {r['size']:>9} {str(r['peephole']):>9} "
                  f"{r['fast']['median_s'] * 1e3:>12.2f} {ref_ms:>11}")

    train = [t for f in sorted(args.out_dir.glob("train_*.json")) if (t := _load(f))]
    summary["train_steps"] = train
    if train:
        print(f"\n{'training':<18} {'precision':<11} {'steps/s':>8} {'items/s':>9} {'peak GiB':>9} {'GPU %':>6} "
              f"{'epoch s (extrapolated)':>23} {'finite':>7}")
        for t in train:
            mem = "-" if t["peak_memory_gib"] is None else f"{t['peak_memory_gib']:.2f}"
            util = "-" if t["gpu_utilisation_pct"] is None else f"{t['gpu_utilisation_pct']:.0f}"
            print(f"{t['experiment']:<18} {t['precision']:<11} {t['steps_per_s']:>8.2f} {t['items_per_s']:>9.1f} "
                  f"{mem:>9} {util:>6} {t['epoch_s_extrapolated']:>23.1f} {str(t['all_losses_finite']):>7}")
    (args.out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nwrote {args.out_dir / 'summary.json'}" + (" (dry run: sizes too small to mean anything)"
                                                       if args.dry_run else ""))
    failed = [s["name"] for s in summary["steps"] if s["exit_status"] != 0]
    failed += [f"{t['experiment']}-{t['precision']} (non-finite loss)" for t in train if not t["all_losses_finite"]]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
