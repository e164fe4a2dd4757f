#!/usr/bin/env python
"""Line-image loading throughput: lines per second, with and without the prepared-image cache.

Stages timed, each over the same lines of an IAM-layout folder:

- ``decode``: Pillow reads the file to a grey image (``open_grey``);
- ``prepare``: decode + binarisation / resizing / deslanting (what every epoch
  costs without the cache);
- ``cached``: the prepared image from ``cache_dir/images`` (later epochs with
  the cache; :mod:`seqlab.data.image_cache`);
- ``tensor``: cached read + conversion to the (1, H, W) float tensor the model
  sees: the loader's whole cost per line with the cache.

    # the default run's corpus and preprocessing (24-pixel lines)
    seqlab bench images --threads 1
    # your IAM copy at the paper height, deslanted
    seqlab bench images --root /data/IAM --height 128 --deslant --lines 500

Results print as a table and go to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from seqlab.data.readers.iam import find_line_image, read_id_list, read_lines_txt
from seqlab.data.image_cache import ImageCache
from seqlab.data.images import LineImageTransform, open_grey


def line_images(root: Path, count: int) -> list[Path]:
    lines, _ = read_lines_txt(root / "ascii" / "lines.txt")
    paths = []
    for line_id in read_id_list(root / "trainset.txt"):
        if line_id in lines and (p := find_line_image(root, lines[line_id])) is not None:
            paths.append(p)
        if len(paths) == count:
            break
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None,
                        help="IAM-layout folder (default: the synthetic corpus of the default run, generated if needed)")
    parser.add_argument("--lines", type=int, default=1000, help="training lines to time")
    parser.add_argument("--height", type=int, default=24)
    parser.add_argument("--binarise", action="store_true")
    parser.add_argument("--deslant", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the lines per stage")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/images.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = args.root
    if root is None:
        from seqlab.data import SyntheticIAMDataModule

        dm = SyntheticIAMDataModule(cache_dir=os.environ.get("SEQLAB_CACHE", str(Path.home() / ".cache/seqlab")),
                                    workers=2)
        dm.prepare_data()
        root = dm.root
    paths = line_images(root, args.lines)
    transform = LineImageTransform(height=args.height, binarise=args.binarise, deslant=args.deslant)

    with tempfile.TemporaryDirectory() as tmp:
        cache = ImageCache(transform, tmp)
        for p in paths:
            cache.prepared(p)  # fill the cache
        stages = {
            "decode": lambda: [open_grey(p) for p in paths],
            "prepare": lambda: [transform.prepare(open_grey(p)) for p in paths],
            "cached": lambda: [cache.prepared(p) for p in paths],
            "tensor": lambda: [transform.to_tensor(cache.prepared(p)) for p in paths],
        }
        results = {}
        for name, run in stages.items():
            run()  # warm-up (file system cache)
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                run()
                times.append(time.perf_counter() - start)
            median = statistics.median(times)
            results[name] = {"median_s": median, "times_s": times, "lines_per_second": len(paths) / median,
                             "ms_per_line": 1000 * median / len(paths)}
        cached_bytes = sum(f.stat().st_size for f in Path(tmp).rglob("*.npy"))
    source_bytes = sum(p.stat().st_size for p in paths)

    print(f"\n{len(paths)} lines of {root}; height {args.height}, binarise {args.binarise}, deslant {args.deslant}; "
          f"{args.threads} thread(s); median of {args.repeats}")
    print(f"{'stage':<10}{'lines / s':>12}{'ms / line':>12}")
    for name, r in results.items():
        print(f"{name:<10}{r['lines_per_second']:>12,.0f}{r['ms_per_line']:>12.3f}")
    print(f"disk: {source_bytes / 1e6:.1f} MB of images, {cached_bytes / 1e6:.1f} MB in the cache")
    report = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "root": str(root), "lines": len(paths), "source_bytes": source_bytes, "cache_bytes": cached_bytes,
        "torch": torch.__version__, "cpu": platform.machine(), "cpu_count": os.cpu_count(), "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
