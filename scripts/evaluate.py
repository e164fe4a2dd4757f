#!/usr/bin/env python
"""Evaluate a trained checkpoint on a data split and write a report:

    python scripts/evaluate.py checkpoint=runs/X/checkpoints/best.ckpt       # synthetic handwriting, test split
    python scripts/evaluate.py checkpoint=... data=timit data.root=/data/TIMIT
    python scripts/evaluate.py checkpoint=A.ckpt compare=B.ckpt split=val

Writes report.json, report.md, report.html (self-contained) and the figures
into report.dir (default: RUN/report-SPLIT beside RUN/checkpoints/).
"""

import hydra
from omegaconf import DictConfig

from seqlab.cli.evaluate import evaluate


@hydra.main(config_path="../conf", config_name="evaluate", version_base="1.3")
def main(cfg: DictConfig) -> None:
    evaluate(cfg)


if __name__ == "__main__":
    main()
