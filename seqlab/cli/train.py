"""``seqlab train``: compose the Hydra config, fit, evaluate the best checkpoint.

    seqlab train                                       # synthetic handwriting, CPU
    seqlab train data=iam data.root=/data/IAM trainer=gpu
    seqlab train trainer.max_epochs=5 hydra.run.dir=runs/quick
    seqlab train --cfg job                             # print the composed config

Each run writes metrics.json, checkpoints/ (best by the monitored metric, and
last), config.yaml and logs/ into its run directory.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import lightning as L
import torch
from hydra.utils import instantiate
from lightning.pytorch.loggers import CSVLogger
from omegaconf import DictConfig, OmegaConf

from seqlab.atomic import write_text_atomic
from seqlab.cli.hydra_app import run_hydra
from seqlab.errors import ConfigError
from seqlab.lit.callbacks import RecipeCallback
from seqlab.lit.checkpoint_io import AtomicCheckpointIO
from seqlab.lit.throughput import ThroughputMonitor

log = logging.getLogger("seqlab.train")


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON through a temporary file and a rename: never a half-written file."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _as_float(v) -> float:
    return float(v.item() if isinstance(v, torch.Tensor) else v)


def resume_checkpoint(resume: str | None, run_dir: Path) -> str | None:
    """The checkpoint to resume from: ``auto`` takes ``RUN_DIR/checkpoints/last.ckpt`` if present."""
    if resume in (None, "", "none", "never"):
        return None
    if resume == "auto":
        last = run_dir / "checkpoints" / "last.ckpt"
        return str(last) if last.exists() else None
    path = Path(resume)
    if not path.is_file():
        raise ConfigError(f"resume={resume}: no such checkpoint; use resume=auto or a path to a .ckpt file")
    return str(path)


def build(cfg: DictConfig):
    """Data module (set up, with its alphabet), model and trainer from the config."""
    missing = sorted(OmegaConf.missing_keys(cfg) - {"model.encoder.input_size"})
    if missing:
        raise ConfigError(
            f"set {', '.join(missing)} on the command line, e.g. "
            f"seqlab train {' '.join(f'{k}=...' for k in missing)}"
        )
    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    if OmegaConf.is_missing(cfg.model.encoder, "input_size"):
        cfg.model.encoder.input_size = datamodule.feature_size
    model = instantiate(cfg.model, alphabet=datamodule.alphabet, metrics=list(datamodule.metrics))
    recipe = RecipeCallback(
        model=OmegaConf.to_container(cfg.model, resolve=True), data=datamodule.recipe()
    )
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()] + [recipe]
    logger = CSVLogger(save_dir=cfg.run_dir, name="logs", version="")
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=logger, plugins=[AtomicCheckpointIO()])
    return datamodule, model, trainer


def train(cfg: DictConfig) -> dict:
    """Fit, then evaluate the best checkpoint on val and test; returns the final metrics."""
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    L.seed_everything(cfg.seed, workers=True)
    started = time.monotonic()
    datamodule, model, trainer = build(cfg)
    if trainer.is_global_zero:
        (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        n = {s: len(d) for s, d in datamodule.datasets.items()}
        log.info("data: %s %s; alphabet of %d symbols; model: %.2fM parameters", getattr(datamodule, "root", ""), n,
                 len(datamodule.alphabet), sum(p.numel() for p in model.parameters()) / 1e6)
    ckpt_path = resume_checkpoint(cfg.get("resume"), run_dir)
    if ckpt_path is not None:
        log.info("resuming from %s", ckpt_path)
    # weights_only: resuming never unpickles code, even from a checkpoint someone sent you
    trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
    fit_seconds = time.monotonic() - started

    ckpt = trainer.checkpoint_callback
    best = ckpt.best_model_path if ckpt is not None and ckpt.best_model_path else None
    metrics: dict = {}
    for stage, run in (("val", trainer.validate), ("test", trainer.test)):
        results = run(model, datamodule=datamodule, ckpt_path=best, verbose=False)
        for k, v in (results[0] if results else {}).items():
            metrics[k] = _as_float(v)
    metrics.update(
        {
            "best_checkpoint": best,
            "epochs": trainer.current_epoch,
            "global_step": trainer.global_step,
            "fit_seconds": round(fit_seconds, 1),
            "total_seconds": round(time.monotonic() - started, 1),
            "nonfinite_batches": model.nonfinite_batches,
        }
    )
    monitors = [c for c in trainer.callbacks if isinstance(c, ThroughputMonitor)]
    if monitors:
        metrics["throughput"] = monitors[0].epochs
    if trainer.is_global_zero:
        write_json_atomic(run_dir / "metrics.json", metrics)
        shown = "  ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items())
                          if isinstance(v, float) and "/" in k)
        print(f"\nrun directory: {run_dir}\nfinal metrics: {shown}\n"
              f"time: {metrics['total_seconds']:.0f} s; best checkpoint: {best}", flush=True)
    return metrics


def main(argv: list[str] | None = None, prog: str = "seqlab train") -> int:
    return run_hydra(train, "train", argv, prog)
