"""Checkpoints from a stranger are data: whatever their model recipe names, nothing runs.

Each hostile checkpoint below loads under ``torch.load(weights_only=True)``;
the attack is in the recipe that rebuilds the network. Every one must be
refused before anything is built, with nothing written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seqlab.checkpoint import ALLOWED_TARGETS, load_model
from seqlab.errors import CheckpointError

ALPHABET = {"symbols": ["a", "b"], "unit": "char"}
GOOD_ENCODER = {"_target_": "seqlab.nn.BLSTMEncoder", "input_size": 8, "hidden_size": 4, "num_layers": 1}
GOOD_OPTIMIZER = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 0.001}


def model(**over) -> dict:
    return {"_target_": "seqlab.lit.CTCModule", "encoder": dict(GOOD_ENCODER), "optimizer": dict(GOOD_OPTIMIZER),
            **over}


def save(path: Path, recipe: dict) -> Path:
    torch.save({"seqlab": {"alphabet": ALPHABET, "model": recipe}, "state_dict": {}}, path)
    return path


def write_attack(victim: Path) -> dict:
    """The issue's attack: a seqlab function that writes a file (a .pth would run at the next start)."""
    return {"_target_": "seqlab.atomic.write_text_atomic", "_args_": [str(victim), "import os"]}


HOSTILE = {
    "seqlab function as the encoder": lambda v: model(encoder=write_attack(v)),
    "seqlab function as the module": lambda v: write_attack(v),
    "os.system through a seqlab module": lambda v: model(
        encoder={"_target_": "seqlab.atomic.os.system", "_args_": [f"touch {v}"]}),
    "torch.nn function under the old prefix": lambda v: model(
        encoder={"_target_": "torch.nn.functional.relu", "input": 1}),
    "torch.optim member that is no optimizer": lambda v: model(
        optimizer={"_target_": "torch.optim.Optimizer.__init__", "_partial_": True}),
    "_args_ on an allowed class": lambda v: model(encoder={**GOOD_ENCODER, "_args_": [str(v)]}),
    "_partial_ on the encoder": lambda v: model(encoder={**GOOD_ENCODER, "_partial_": True}),
    "_recursive_ switch": lambda v: model(_recursive_=False),
    "_convert_ switch": lambda v: model(encoder={**GOOD_ENCODER, "_convert_": "all"}),
    "nested target inside an argument": lambda v: model(
        encoder={**GOOD_ENCODER, "hidden_size": write_attack(v)}),
    "target inside a list": lambda v: model(encoder={**GOOD_ENCODER, "cell": [write_attack(v)]}),
    "interpolation in a string": lambda v: model(encoder={**GOOD_ENCODER, "cell": "${oc.env:HOME}"}),
    "an encoder where the module belongs": lambda v: dict(GOOD_ENCODER),
    "no target at all": lambda v: {"encoder": dict(GOOD_ENCODER)},
    "non-string target": lambda v: model(encoder={**GOOD_ENCODER, "_target_": ["seqlab.nn.BLSTMEncoder"]}),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_recipe_is_refused_and_nothing_is_written(name: str, tmp_path: Path):
    victim = tmp_path / "zz.pth"
    ckpt = save(tmp_path / "hostile.ckpt", HOSTILE[name](victim))
    with pytest.raises(CheckpointError, match="refusing to build the model") as err:
        load_model(ckpt)
    assert "weights_only=False" not in str(err.value)
    assert not victim.exists()


def test_every_callable_under_the_old_prefixes_but_the_registry_is_refused(tmp_path: Path):
    """Every public name the old prefix test let through (seqlab.*, torch.nn.*, torch.optim.*) that
    is not in the registry is refused, without being called."""
    import seqlab.atomic
    import seqlab.checkpoint

    names = [f"seqlab.atomic.{n}" for n in dir(seqlab.atomic) if not n.startswith("__")]
    names += [f"seqlab.checkpoint.{n}" for n in dir(seqlab.checkpoint) if not n.startswith("__")]
    names += [f"torch.nn.{n}" for n in dir(torch.nn) if not n.startswith("_")]
    names += [f"torch.optim.{n}" for n in dir(torch.optim) if not n.startswith("_")]
    names = [n for n in names if n not in ALLOWED_TARGETS]
    assert len(names) > 100
    for i, target in enumerate(names):
        ckpt = save(tmp_path / f"{i}.ckpt", model(encoder={"_target_": target}))
        with pytest.raises(CheckpointError, match="not one of the classes seqlab builds"):
            load_model(ckpt)


def test_the_recipes_seqlab_writes_are_allowed(tmp_path: Path):
    recipe = model(scheduler={"_target_": "torch.optim.lr_scheduler.ReduceLROnPlateau", "_partial_": True,
                              "mode": "min", "factor": 0.5, "patience": 2})
    ckpt = tmp_path / "good.ckpt"
    from hydra.utils import instantiate

    from seqlab.text import Alphabet

    state = instantiate(recipe, alphabet=Alphabet(["a", "b"]), metrics=["cer"]).state_dict()
    torch.save({"seqlab": {"alphabet": ALPHABET, "model": recipe}, "state_dict": state}, ckpt)
    module, _ = load_model(ckpt)
    assert type(module.encoder).__name__ == "BLSTMEncoder"


def test_transcribe_refuses_with_status_2(tmp_path: Path):
    victim = tmp_path / "zz.pth"
    ckpt = save(tmp_path / "hostile.ckpt", HOSTILE["seqlab function as the encoder"](victim))
    (tmp_path / "line.png").write_bytes(b"")
    proc = subprocess.run([sys.executable, "-m", "seqlab", "transcribe", str(ckpt), str(tmp_path / "line.png")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2 and "refusing to build the model" in proc.stderr
    assert "weights_only=False" not in proc.stderr and not victim.exists()
