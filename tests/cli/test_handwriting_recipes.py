"""The handwriting recipes (seqlab/conf/experiment/iam_*.yaml, synth_*_cpu.yaml) compose and run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf
from omegaconf.errors import MissingMandatoryValue

from seqlab.cli.hydra_app import CONFIG_DIR
from seqlab.nn.crnn import CRNNEncoder
from seqlab.nn.hierarchical_mdlstm import HierarchicalMDLSTMEncoder
from tests.cli.test_config_invariants import build


def config(*overrides: str):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=["run_dir=unused", *overrides])


def test_iam_crnn_has_the_papers_settings(tmp_path):
    cfg, _, model, _ = build(["experiment=iam_crnn"], tmp_path)  # as seqlab train builds it: monitor, input size
    assert cfg.data._target_ == "seqlab.data.IAMDataModule" and cfg.data.height == 128
    assert cfg.data.batch_size == 16 and cfg.monitor == "val/cer"
    assert cfg.model.optimizer._target_ == "torch.optim.RMSprop" and cfg.model.optimizer.lr == 3e-4
    assert cfg.callbacks.early_stopping.monitor == "val/cer"
    assert cfg.trainer.accelerator == "auto" and cfg.trainer.max_time is None
    enc = model.encoder
    assert isinstance(enc, CRNNEncoder) and enc.input_size == 128 and enc.output_size == 512
    assert instantiate(cfg.data.augmentation).morphology == 3


def test_iam_mdlstm_is_the_hierarchy_of_pham_et_al(tmp_path):
    cfg, _, model, _ = build(["experiment=iam_mdlstm", "data.train_list=/lists/train.txt"], tmp_path)
    assert cfg.data.train_list == "/lists/train.txt" and cfg.monitor == "val/cer"
    enc = model.encoder
    assert isinstance(enc, HierarchicalMDLSTMEncoder)
    assert [lstm.hidden_size for lstm in enc.lstms] == [2, 10, 50]
    assert enc.dropout.p == 0.5


@pytest.mark.parametrize("experiment", ["iam_crnn", "iam_mdlstm"])
def test_iam_recipes_need_a_root(experiment):
    cfg = config(f"experiment={experiment}")
    with pytest.raises(MissingMandatoryValue):
        OmegaConf.to_container(cfg.data, resolve=True, throw_on_missing=True)


def test_iam_crnn_on_an_iam_sized_synthetic_corpus():
    # the GPU benchmark's command (docs/benchmarks.md): the paper recipe, synthetic lines instead of IAM
    cfg = config("experiment=iam_crnn", "data=synth_iam", "data.num_train=6161", "data.corpus_height=128")
    assert cfg.data._target_ == "seqlab.data.SyntheticIAMDataModule" and "root" not in cfg.data
    assert cfg.data.height == 128 and cfg.data.batch_size == 16 and cfg.data.num_train == 6161
    assert cfg.model.optimizer._target_ == "torch.optim.RMSprop"
    OmegaConf.to_container(cfg.data, resolve=True, throw_on_missing=True)  # nothing left to set


@pytest.mark.parametrize("experiment", ["synth_blstm_cpu", "synth_crnn_cpu", "synth_mdlstm_cpu"])
def test_cpu_presets_stay_in_the_default_budget(experiment, tmp_path):
    cfg = config(f"experiment={experiment}")
    default = config()
    assert cfg.data._target_ == "seqlab.data.SyntheticIAMDataModule"
    assert cfg.trainer.accelerator == "cpu" and cfg.trainer.max_time == default.trainer.max_time
    if experiment == "synth_blstm_cpu":
        assert OmegaConf.to_container(cfg, resolve=False) == OmegaConf.to_container(default, resolve=False)
        return
    enc = build([f"experiment={experiment}"], tmp_path)[2].encoder
    x = torch.rand(2, 1, cfg.data.height, 200)
    features, lengths = enc(x, torch.tensor([200, 120]))
    assert features.shape == (2, int(lengths.max()), enc.output_size)


@pytest.mark.parametrize("experiment", ["iam_crnn", "iam_mdlstm"])
def test_fast_dev_run_of_the_iam_recipes(experiment, tiny_iam: Path, tmp_path: Path):
    """End to end on an IAM folder; the lines are 32 pixels high to keep it quick."""
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "seqlab", "train", f"experiment={experiment}", f"data.root={tiny_iam}",
           "data.height=32", "data.num_workers=0", "trainer.fast_dev_run=true", "trainer.accelerator=cpu",
           "trainer.enable_progress_bar=false", f"hydra.run.dir={run_dir}"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("val/cer", "val/wer", "val/wer_joined", "test/cer", "test/wer", "test/wer_joined"):
        assert key in metrics
