"""A config value of the wrong type is refused before anything is built, naming its key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from seqlab.cli.config_types import check_config_types
from seqlab.errors import ConfigError

TRAINER = {"_target_": "lightning.pytorch.Trainer", "max_epochs": 3, "precision": "32-true", "max_time": None}
DATA = {"_target_": "seqlab.data.IAMDataModule", "root": "/data/IAM", "height": 32, "batch_size": 8}
MODEL = {"_target_": "seqlab.lit.CTCModule",
         "encoder": {"_target_": "seqlab.nn.RecurrentEncoder", "input_size": 32, "hidden_size": 8, "num_layers": 1},
         "optimizer": {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 0.001}}


def test_well_typed_configs_pass():
    check_config_types({"trainer": TRAINER, "data": DATA, "model": MODEL, "seed": 1})


@pytest.mark.parametrize("key, value, expected", [
    ("trainer.max_epochs", "one", "expected int or None, got 'one'"),
    ("trainer.max_epochs", 2.5, "expected int or None, got 2.5"),
    ("trainer.precision", "17-mixed", "expected"),
    ("data.batch_size", "eight", "expected int, got 'eight'"),  # a base-class argument, through **kwargs
    ("model.encoder.hidden_size", "big", "expected int, got 'big'"),
    ("model.optimizer.lr", "fast", "expected float, got 'fast'"),
])
def test_wrong_types_name_the_key(key: str, value, expected: str):
    cfg = {"trainer": dict(TRAINER), "data": dict(DATA), "model": {**MODEL, "encoder": dict(MODEL["encoder"]),
                                                                   "optimizer": dict(MODEL["optimizer"])}}
    node = cfg
    *path, last = key.split(".")
    for part in path:
        node = node[part]
    node[last] = value
    with pytest.raises(ConfigError, match=rf"^{key}: {expected}"):
        check_config_types(cfg)


def test_an_unimportable_target_names_its_key():
    with pytest.raises(ConfigError, match=r"^model.encoder._target_: cannot import 'seqlab.nn.Nope'"):
        check_config_types({"model": {"encoder": {"_target_": "seqlab.nn.Nope"}}})


def test_train_with_max_epochs_one_exits_2(tmp_path: Path):
    proc = subprocess.run([sys.executable, "-m", "seqlab", "train", "trainer.max_epochs=one",
                           f"hydra.run.dir={tmp_path / 'run'}"], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 2
    assert "seqlab train: error: trainer.max_epochs: expected int or None, got 'one'" in proc.stderr
    assert "Traceback" not in proc.stderr
