"""``seqlab train``: compose the Hydra config, fit, evaluate the best checkpoint.

    seqlab train                                       # synthetic handwriting, CPU
    seqlab train data=iam data.root=/data/IAM trainer=gpu
    seqlab train trainer.max_epochs=5 hydra.run.dir=runs/quick
    seqlab train --cfg job                             # print the composed config
    seqlab train init_from=runs/A/checkpoints/best.ckpt data=lines data.root=/data/mine \
        finetune.alphabet=union                        # fine-tune a trained model on new data

Each run writes metrics.json, checkpoints/ (best by the monitored metric, and
last), config.yaml and logs/ into its run directory.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import lightning as L
import torch
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from omegaconf import DictConfig, OmegaConf

from seqlab.checkpoint import CheckpointInfo, trained_preprocessing
from seqlab.atomic import remove_stale_temporaries, write_json_atomic, write_text_atomic
from seqlab.cli.config_fit import fit_to_target
from seqlab.cli.config_types import check_config_types
from seqlab.cli.hydra_app import given_keys, run_hydra
from seqlab.cli.resume import check_resume_config, resume_checkpoint
from seqlab.errors import ConfigError
from seqlab.finetune import Parent, load_parent_weights
from seqlab.lit.callbacks import RecipeCallback
from seqlab.lit.freeze import FreezeEncoder
from seqlab.text import ALPHABET_POLICIES
from seqlab.lit.checkpoint_io import AtomicCheckpointIO
from seqlab.lit.run_checkpoint import RunCheckpoint
from seqlab.lit.throughput import ThroughputMonitor

log = logging.getLogger("seqlab.train")


def _as_float(v) -> float:
    return float(v.item() if isinstance(v, torch.Tensor) else v)


def build(cfg: DictConfig, resuming: bool = False):
    """Data module (set up, with its alphabet), model and trainer from the config."""
    fit_to_target(cfg.data, "data", given_keys("data"))  # an experiment's keys for another group
    fit_to_target(cfg.model.encoder, "model.encoder", given_keys("model.encoder"))
    missing = sorted(OmegaConf.missing_keys(cfg) - {"model.encoder.input_size"})
    if missing:
        raise ConfigError(
            f"set {', '.join(missing)} on the command line, e.g. "
            f"seqlab train {' '.join(f'{k}=...' for k in missing)}"
        )
    plain = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    later = ("model", "callbacks")  # interpolate ${monitor}: checked once it follows the data
    check_config_types({k: v for k, v in plain.items() if k not in later})
    tuning = cfg.get("finetune") or {}
    parent = Parent.read(cfg.init_from) if cfg.get("init_from") else None
    if tuning.get("alphabet", "fail") not in ALPHABET_POLICIES:
        raise ConfigError(f"finetune.alphabet={tuning.get('alphabet')!r}: choose one of {', '.join(ALPHABET_POLICIES)}")
    if parent is None and tuning.get("freeze_encoder"):
        raise ConfigError("finetune.freeze_encoder=true needs init_from=CKPT (the trained model to start from)")
    datamodule = instantiate(cfg.data)
    if parent is not None:
        start_from_parent(cfg, datamodule, parent)
    datamodule.prepare_data()
    datamodule.setup("fit")
    follow_data(cfg, datamodule)
    check_config_types({k: OmegaConf.to_container(cfg[k], resolve=True, throw_on_missing=False)
                        for k in later if cfg.get(k) is not None})
    model = instantiate(cfg.model, alphabet=datamodule.alphabet, metrics=list(datamodule.metrics),
                        head_lr=tuning.get("head_lr"))
    if parent is not None:
        load_parent_weights(model, parent, torch.Generator().manual_seed(cfg.seed))
        log.info("fine-tuning from %s: %s", parent.path, datamodule.alphabet_change.summary())
    data = datamodule.checkpoint_data()
    info = CheckpointInfo(
        alphabet=datamodule.alphabet.to_dict(), model=OmegaConf.to_container(cfg.model, resolve=True),
        frontend=data["frontend"], text=data["text"], unit=data["unit"], metrics=data["metrics"],
        corpus=data["corpus"], config=OmegaConf.to_container(cfg, resolve=True),
        parent=parent.record(datamodule.alphabet_change) if parent is not None else None,
    )
    recipe = RecipeCallback(
        info,
        # a resumed run's config.yaml is rewritten once training has restarted, not before
        config_path=str(Path(cfg.run_dir) / "config.yaml") if resuming else None,
    )
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()] + [recipe]
    if parent is not None and tuning.get("freeze_encoder"):
        callbacks.append(FreezeEncoder(tuning.get("trainable_layers", 0), tuning.get("freeze_steps")))
    plain = [type(c).__name__ for c in callbacks if isinstance(c, ModelCheckpoint) and not isinstance(c, RunCheckpoint)]
    if resuming and plain:
        raise ConfigError(f"resume: the callbacks include {', '.join(plain)}, which would take file paths from the "
                          "checkpoint; use seqlab.lit.run_checkpoint.RunCheckpoint (same arguments)")
    logger = CSVLogger(save_dir=cfg.run_dir, name="logs", version="")
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=logger, plugins=[AtomicCheckpointIO()])
    return datamodule, model, trainer


def follow_data(cfg: DictConfig, datamodule) -> None:
    """What the model config leaves to the data: the encoder's input size and the monitored metric.

    Every encoder takes ``input_size``, the features per step the data module
    gives (image height x channels, or features per frame); ``???`` in the
    model config means "the data's". ``monitor: null`` means the data's primary
    metric; a monitor the run never logs is refused.
    """
    if OmegaConf.is_missing(cfg.model.encoder, "input_size"):  # ("in" is False for a ??? value)
        cfg.model.encoder.input_size = datamodule.feature_size
    if cfg.get("monitor") is None:
        cfg.monitor = datamodule.monitor
    logged = [f"val/{m}" for m in datamodule.metrics] + ["val/loss"]
    if cfg.monitor not in logged:
        raise ConfigError(f"monitor={cfg.monitor}: this data logs {', '.join(logged)}; set monitor= to one of them "
                          "or leave it out (the data's primary metric)")


def start_from_parent(cfg: DictConfig, datamodule, parent: Parent) -> None:
    """Fine-tuning: the parent's preprocessing, alphabet policy and network, before the data are read.

    The data module reads inputs with the parent's frontend (its settings and
    normalisation statistics; the data config's augmentation is kept) and text
    normalisation, and builds its alphabet from the parent's by
    ``finetune.alphabet``; the model config's encoder becomes the parent's.
    """
    kept = trained_preprocessing(parent.info.to_dict()["data"], datamodule.checkpoint_data(), given_keys("data"),
                                 f"init_from={cfg.init_from}")
    for name, value, configured in kept:
        log.info("fine-tuning keeps the parent's preprocessing: data.%s=%r (the data config says %r)",
                 name, value, configured)
        if name in cfg.data:  # the run's config.yaml says what the run did
            cfg.data[name] = value
    datamodule.adopt(datamodule.frontend.trained_like(parent.info.frontend), parent.info.text_normalization())
    datamodule.inherit_alphabet(parent.alphabet, cfg.finetune.alphabet)
    encoder = parent.encoder_config()
    configured = OmegaConf.to_container(cfg.model.encoder, resolve=False)
    changed = sorted(k for k in set(encoder) | set(configured)
                     if k != "input_size" and encoder.get(k) != configured.get(k))
    if changed:
        log.info("fine-tuning builds the parent's network; model.encoder settings taken from it: %s",
                 ", ".join(f"{k}={encoder.get(k)!r}" for k in changed))
    cfg.model.encoder = encoder


def best_checkpoint(trainer) -> str | None:
    """The run's best checkpoint, ``dirpath/best.ckpt`` of its checkpoint callback: a file of this run's own.

    Never a path read from a checkpoint (:class:`RunCheckpoint` keeps none);
    None when the callback has written no best checkpoint (then the final
    weights are evaluated).
    """
    ckpt = trainer.checkpoint_callback
    if not isinstance(ckpt, RunCheckpoint):
        return None
    best = ckpt.best_file()
    return str(best) if best is not None else None


def train(cfg: DictConfig) -> dict:
    """Fit, then evaluate the best checkpoint on val and test; returns the final metrics."""
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    L.seed_everything(cfg.seed, workers=True)
    started = time.monotonic()
    stale = remove_stale_temporaries(run_dir) + remove_stale_temporaries(run_dir / "checkpoints")
    if stale:
        log.info("removed %d temporary file(s) left in %s by a killed run", stale, run_dir)
    ckpt_path = resume_checkpoint(cfg.get("resume"), run_dir)
    datamodule, model, trainer = build(cfg, resuming=ckpt_path is not None)
    if ckpt_path is not None:  # after build: the config is complete (the encoder's input size)
        check_resume_config(ckpt_path, run_dir, OmegaConf.to_container(cfg, resolve=True))
    if trainer.is_global_zero:
        if ckpt_path is None:
            write_text_atomic(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
        n = {s: len(d) for s, d in datamodule.datasets.items()}
        log.info("data: %s %s; alphabet of %d symbols; model: %.2fM parameters", getattr(datamodule, "root", ""), n,
                 len(datamodule.alphabet), sum(p.numel() for p in model.parameters()) / 1e6)
    if ckpt_path is not None:
        log.info("resuming from %s", ckpt_path)
    # weights_only (AtomicCheckpointIO forces it too): resuming never unpickles code,
    # even from a checkpoint someone sent you
    trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
    fit_seconds = time.monotonic() - started

    best = best_checkpoint(trainer)
    metrics: dict = {}
    for stage, run in (("val", trainer.validate), ("test", trainer.test)):
        results = run(model, datamodule=datamodule, ckpt_path=best, verbose=False, weights_only=True)
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
        write_json_atomic(run_dir / "metrics.json", metrics, sort_keys=True)
        shown = "  ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items())
                          if isinstance(v, float) and "/" in k)
        print(f"\nrun directory: {run_dir}\nfinal metrics: {shown}\n"
              f"time: {metrics['total_seconds']:.0f} s; best checkpoint: {best}", flush=True)
    return metrics


def main(argv: list[str] | None = None, prog: str = "seqlab train") -> int:
    return run_hydra(train, "train", argv, prog)
