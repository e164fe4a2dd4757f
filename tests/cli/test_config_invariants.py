"""Configs keep their own invariants: every experiment and every model x data pair composes and builds.

The monitored metric follows the data (``val/per`` for TIMIT), every encoder
gets its input size from the data the same way, and an experiment pointed at
another data group leaves out the keys that group does not take.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from seqlab.checkpoint import read_checkpoint
from seqlab.cli.config_fit import fit_to_target
from seqlab.cli.hydra_app import CONFIG_DIR
from seqlab.cli.train import follow_data
from seqlab.errors import ConfigError
from seqlab.text import Alphabet
from tests.cli.test_train import run_train
from tests.data.speech_corpora import make_timit

EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))
DATA = sorted(p.stem for p in (CONFIG_DIR / "data").glob("*.yaml"))
MODELS = sorted(p.stem for p in (CONFIG_DIR / "model").glob("*.yaml"))
SPEECH = {"synth_timit", "timit", "librispeech"}


def build(overrides: list[str], root: Path):
    """Compose ``seqlab train`` with ``overrides``; build the data module and the model as train.build does."""
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[*overrides, f"run_dir={root / 'run'}"])
    if OmegaConf.is_missing(cfg.data, "root"):
        cfg.data.root = str(root)
    fit_to_target(cfg.data, "data", set())
    fit_to_target(cfg.model.encoder, "model.encoder", set())
    datamodule = instantiate(cfg.data)
    follow_data(cfg, datamodule)
    model = instantiate(cfg.model, alphabet=Alphabet(tuple("ab ")), metrics=list(datamodule.metrics))
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()]
    return cfg, datamodule, model, callbacks


@pytest.mark.parametrize("data", [None, *DATA])
@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_builds_on_every_data_group(experiment: str, data: str | None, tmp_path: Path):
    cfg, dm, model, callbacks = build([f"experiment={experiment}", *([f"data={data}"] if data else [])], tmp_path)
    assert cfg.monitor == dm.monitor == f"val/{dm.metrics[0]}"
    assert model.monitor == cfg.monitor
    assert [c.monitor for c in callbacks if type(c).__name__ == "RunCheckpoint" and c.monitor] == [cfg.monitor]
    assert cfg.model.encoder.input_size == dm.feature_size


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("model_group", MODELS)
def test_every_model_reads_every_data_group(model_group: str, data: str, tmp_path: Path):
    """A forward pass over the frontend's own example batch: CRNN and MDLSTM read spectrograms too."""
    cfg, dm, model, _ = build([f"model={model_group}", f"data={data}"], tmp_path)
    x = dm.frontend.example(40, 2, torch.Generator().manual_seed(0))
    lengths = torch.tensor([x.size(dm.frontend.time_axis), 30])
    model.eval()
    with torch.no_grad():
        log_probs, out_lengths = model(x, lengths)
    assert log_probs.shape[0] == 2 and log_probs.shape[-1] == 4 and out_lengths.tolist()[0] == log_probs.shape[1]
    assert torch.isfinite(log_probs).all()


def test_a_monitor_the_data_never_logs_is_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match="monitor=val/cer: this data logs val/per, val/loss"):
        build(["data=synth_timit", "monitor=val/cer"], tmp_path)


def test_an_experiment_key_for_another_data_group_is_left_out(tmp_path: Path, caplog):
    caplog.set_level(logging.INFO, logger="seqlab.train")
    cfg, dm, _, _ = build(["experiment=timit_cpu", "data=timit"], tmp_path)
    assert type(dm).__name__ == "TIMITDataModule" and "num_train_speakers" not in cfg.data
    assert "left out data.num_train_speakers" in caplog.text
    with pytest.raises(ConfigError, match="data.height: TIMITDataModule takes no such setting; it takes .*num_mel_bins"):
        fit_to_target(OmegaConf.create({**OmegaConf.to_container(cfg.data), "height": 32}), "data", {"height"})


def test_timit_cpu_runs_on_a_timit_copy(tmp_path: Path):
    make_timit(tmp_path / "timit")
    run_dir = tmp_path / "run"
    proc = run_train("experiment=timit_cpu", "data=timit", f"data.root={tmp_path / 'timit'}", "data.num_workers=0",
                     f"cache_dir={tmp_path / 'cache'}", "trainer.fast_dev_run=true", f"hydra.run.dir={run_dir}",
                     cwd=tmp_path)
    assert "test/per=" in proc.stdout
    assert "left out data.num_train_speakers" in proc.stdout + proc.stderr


needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (apt-get install espeak-ng): no synthetic speech")
TINY_SYNTH_TIMIT = ["data=synth_timit", "data.num_train_speakers=4", "data.num_dev_speakers=2",
                    "data.num_test_speakers=2", "data.utterances_per_speaker=2", "data.workers=1",
                    "trainer.max_epochs=1"]


@needs_espeak
def test_synthetic_timit_checkpoints_on_per(tmp_path: Path):
    run_dir = tmp_path / "blstm"
    run_train(*TINY_SYNTH_TIMIT, "model.encoder.hidden_size=16", "model.encoder.num_layers=1",
              f"hydra.run.dir={run_dir}", cwd=tmp_path)
    ckpt = read_checkpoint(run_dir / "checkpoints" / "best.ckpt")
    monitors = {v.get("monitor") for k, v in ckpt["callbacks"].items() if k.startswith("ModelCheckpoint")}
    assert "val/per" in monitors and "val/cer" not in monitors
    assert OmegaConf.load(run_dir / "config.yaml").monitor == "val/per"
    assert "val/per" in json.loads((run_dir / "metrics.json").read_text())


@needs_espeak
def test_a_crnn_trains_on_synthetic_speech(tmp_path: Path):
    """Deep Speech 2's idea on seqlab's parts: a CNN over the filterbank image, then BLSTM layers."""
    run_dir = tmp_path / "crnn"
    run_train(*TINY_SYNTH_TIMIT, "model=crnn", "model.encoder.channels=[4,8]", "model.encoder.pool=[[2,2],[2,1]]",
              "model.encoder.hidden_size=16", "model.encoder.num_layers=1", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    recipe = read_checkpoint(run_dir / "checkpoints" / "best.ckpt")["seqlab"]["model"]["encoder"]
    assert recipe["_target_"].endswith("CRNNEncoder") and recipe["input_size"] == 123  # 41 x 3 features
    assert "test/per" in json.loads((run_dir / "metrics.json").read_text())
