#!/usr/bin/env python
"""Train a CTC model. Hydra composes the config from conf/:

    python scripts/train.py                                  # synthetic handwriting, CPU
    python scripts/train.py data=iam data.root=/data/IAM trainer.accelerator=gpu
    python scripts/train.py trainer.max_epochs=5 hydra.run.dir=runs/quick

Each run writes metrics.json, checkpoints/ (best by the monitored metric, and
last), config.yaml and logs/ into its run directory.
"""

import hydra
from omegaconf import DictConfig

from seqlab.cli.train import train


@hydra.main(config_path="../conf", config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> None:
    train(cfg)


if __name__ == "__main__":
    main()
