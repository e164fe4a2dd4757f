#!/usr/bin/env python
"""Lines cut from page images (PAGE-XML): the first epoch's loading cost, per line and per page.

A line of a PAGE-XML or ALTO corpus is a region of a page scan; loading it
decodes the page, cuts the polygon out and prepares the line. Timed on a
synthetic PAGE corpus of scan-sized pages (``--lines-per-page`` lines of
``--line-height`` pixels: 30 x 80 gives about 1,500 x 3,900-pixel pages):

- ``per line, no cache``: every line decodes its page (what each epoch costs
  with ``cache_dir=null``);
- ``warm, page by page``: :meth:`ImageFrontend.warm`, which the data module
  runs at setup: each page decoded once, all its lines cut and cached;
- ``per line, cold cache``: the first epoch without the warm pass (each line
  decodes its page, then caches the line);
- ``cached``: a later epoch (the prepared lines read from the cache).

    seqlab bench pages --pages 20 --lines-per-page 30 --line-height 80

Results print as a table and go to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from seqlab.data.frontends.image import ImageFrontend
from seqlab.data.readers.page import PageXMLReader
from seqlab.data.synthetic_pages import generate_page_corpus


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--lines-per-page", type=int, default=30)
    parser.add_argument("--line-height", type=int, default=80, help="rendered line height (page scale)")
    parser.add_argument("--height", type=int, default=48, help="the model's line height")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/pages.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        root = generate_page_corpus(Path(tmp) / "pages", "page", num_pages=args.pages,
                                    lines_per_page=args.lines_per_page, height=args.line_height)
        reader = PageXMLReader(str(root), split_fractions=(1.0, 0.0, 0.0))
        records = reader.read("train")
        from PIL import Image

        with Image.open(records[0].source) as img:
            page_size = img.size
        page_bytes = sum(p.stat().st_size for p in root.glob("*.png"))

        plain = ImageFrontend(height=args.height)
        results = {"per line, no cache": timed(lambda: [plain.loader()(r) for r in records])}
        cold = ImageFrontend(height=args.height, cache_dir=str(Path(tmp) / "cold"))
        results["per line, cold cache"] = timed(lambda: [cold.loader()(r) for r in records])
        warm = ImageFrontend(height=args.height, cache_dir=str(Path(tmp) / "warm"))
        results["warm, page by page"] = timed(lambda: warm.warm(records))
        results["cached"] = timed(lambda: [warm.loader()(r) for r in records])

    n = len(records)
    print(f"\n{n} lines on {args.pages} pages of {page_size[0]} x {page_size[1]} pixels "
          f"({page_bytes / args.pages / 1e6:.2f} MB PNG each); model height {args.height}; {args.threads} thread(s)")
    print(f"{'stage':<24}{'s':>8}{'lines / s':>12}{'ms / line':>12}")
    for name, s in results.items():
        print(f"{name:<24}{s:>8.2f}{n / s:>12,.0f}{1000 * s / n:>12.2f}")
    first_without = results["per line, cold cache"]
    first_with = results["warm, page by page"] + results["cached"]
    print(f"first epoch's loading: {first_without:.1f} s without the warm pass, {first_with:.1f} s with it "
          f"({first_without / first_with:.1f}x)")
    report = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "lines": n, "page_size": page_size, "torch": torch.__version__, "cpu": platform.machine(),
        "cpu_count": os.cpu_count(), "seconds": results,
        "lines_per_second": {k: n / v for k, v in results.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
