"""``seqlab evaluate``: score a checkpoint on a data split and write a report.

    seqlab evaluate checkpoint=runs/X/checkpoints/best.ckpt       # synthetic handwriting, test split
    seqlab evaluate checkpoint=... data=timit data.root=/data/TIMIT
    seqlab evaluate checkpoint=A.ckpt compare=B.ckpt split=val

Writes report.json, report.md, report.html (self-contained) and the figures
into report.dir (default: RUN/report-SPLIT beside RUN/checkpoints/).
"""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from seqlab.checkpoint import CheckpointInfo, read_checkpoint, trained_preprocessing
from seqlab.report.decoding import check_split
from seqlab.cli.config_types import check_config_types
from seqlab.cli.hydra_app import given_keys, run_hydra
from seqlab.errors import ConfigError
from seqlab.report import evaluate_checkpoint

log = logging.getLogger("seqlab.evaluate")


def build_datamodule(data_cfg: DictConfig, checkpoint: Path, split: str = "test"):
    """The data module of ``data_cfg`` with the checkpoint's alphabet, frontend and text normalisation,
    set up for ``split`` only.

    The model's own symbol table replaces the one a data module would build
    from its training transcripts; a reference symbol the model cannot write
    is kept as written and scored as an error (``unknown_symbols=keep``, unless
    the command line sets ``data.unknown_symbols``), and the report lists them;
    the stored frontend (with the training set's normalisation statistics)
    replaces the configured one: the data config's preprocessing settings give
    way to the model's, and one given on the command line that contradicts
    the model is refused.
    """
    info = CheckpointInfo.from_dict(read_checkpoint(checkpoint)["seqlab"], checkpoint)
    # references are scored as written: a symbol the model cannot write is an error, not a refusal
    policy = {} if "unknown_symbols" in given_keys("data") else {"unknown_symbols": "keep"}
    datamodule = instantiate(data_cfg, alphabet=list(info.alphabet["symbols"]), **policy)
    trained = info.to_dict()["data"]
    kept = trained_preprocessing(trained, datamodule.checkpoint_data(), given_keys("data"), checkpoint,
                                 "the model reads inputs as it was trained to")
    for name, value, configured in kept:
        log.info("evaluating with the model's preprocessing: data.%s=%r (the data config says %r)", name, value,
                 configured)
    check_split(trained, datamodule.checkpoint_data(), checkpoint)
    datamodule.adopt(info.build_frontend(cache_dir=datamodule.frontend.cache_dir), info.text_normalization())
    datamodule.prepare_data()
    datamodule.setup("test", splits=(split,))
    return datamodule


def evaluate(cfg: DictConfig) -> Path:
    """Evaluate ``cfg.checkpoint`` (against ``cfg.compare`` if given); returns the report folder."""
    checkpoint = Path(cfg.checkpoint)
    if not checkpoint.is_file():
        raise ConfigError(f"checkpoint={cfg.checkpoint}: no such file; give a .ckpt written by seqlab train")
    if cfg.compare is not None and not Path(cfg.compare).is_file():
        raise ConfigError(f"compare={cfg.compare}: no such file; give a second .ckpt or compare=null")
    if cfg.worst < 0 or cfg.bootstrap < 1:
        raise ConfigError(f"worst must be >= 0 and bootstrap >= 1, got worst={cfg.worst}, bootstrap={cfg.bootstrap}")
    check_config_types({"data": OmegaConf.to_container(cfg.data, resolve=True, throw_on_missing=False)})
    if cfg.split not in ("val", "test"):
        raise ConfigError(f"split={cfg.split!r}: evaluate val or test (the training split's loader augments and shuffles)")
    datamodule = build_datamodule(cfg.data, checkpoint, cfg.split)
    out = evaluate_checkpoint(
        checkpoint,
        datamodule,
        split=cfg.split,
        out_dir=cfg.report.dir,
        compare=cfg.compare,
        worst_n=cfg.worst,
        resamples=cfg.bootstrap,
        seed=cfg.seed,
        device=cfg.device,
        data_config=OmegaConf.to_container(cfg.data, resolve=True),
        decoder=OmegaConf.to_container(cfg.decoder, resolve=True) if "decoder" in cfg else None,
        quantize=cfg.get("quantize"),
    )
    print(f"report: {out / 'report.html'}", flush=True)
    return out


def main(argv: list[str] | None = None, prog: str = "seqlab evaluate") -> int:
    return run_hydra(evaluate, "evaluate", argv, prog)
