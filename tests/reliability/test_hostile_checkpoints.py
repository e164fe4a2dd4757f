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
GOOD_ENCODER = {"_target_": "seqlab.nn.RecurrentEncoder", "input_size": 8, "hidden_size": 4, "num_layers": 1}
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
    "non-string target": lambda v: model(encoder={**GOOD_ENCODER, "_target_": ["seqlab.nn.RecurrentEncoder"]}),
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
    assert type(module.encoder).__name__ == "RecurrentEncoder"


def test_transcribe_refuses_with_status_2(tmp_path: Path):
    victim = tmp_path / "zz.pth"
    ckpt = save(tmp_path / "hostile.ckpt", HOSTILE["seqlab function as the encoder"](victim))
    (tmp_path / "line.png").write_bytes(b"")
    proc = subprocess.run([sys.executable, "-m", "seqlab", "transcribe", str(ckpt), str(tmp_path / "line.png")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2 and "refusing to build the model" in proc.stderr
    assert "weights_only=False" not in proc.stderr and not victim.exists()


# --- attack 2: resume=PATH, whose callback state names other files -------------------------------

class _TouchWhenUnpickled:
    """Unpickling this (full pickle, not weights_only) creates ``marker``: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _tiny_run(tmp_path: Path) -> tuple[Path, list[str], dict]:
    from tests.conftest import write_iam

    words = ["ab", "ba", "abc", "cab", "bca", "ca", "ac", "cb"]
    root = write_iam(tmp_path / "iam", {"train": [(f"a01-000-{i:02d}", words[i % 8]) for i in range(8)],
                                        "val": [("b01-000-00", "abc")], "test": [("c01-000-00", "cab")]}, height=16)
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "seqlab", "train", "data=iam", f"data.root={root}", "data.height=16",
               "data.batch_size=4", "data.num_workers=0", "model.encoder.hidden_size=16", "model.encoder.num_layers=1",
               "trainer.max_time=null", "trainer.enable_progress_bar=false", f"hydra.run.dir={run_dir}"]
    env = {**__import__("os").environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([*command, "trainer.max_epochs=1"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return run_dir, command, env


BEST_PATHS = {
    "absolute path": lambda d: str(d.parent / "evil.ckpt"),
    "relative path with ..": lambda d: str(d / "checkpoints" / ".." / ".." / "evil.ckpt"),
    "URL": lambda d: "http://127.0.0.1:9/evil.ckpt",
}


@pytest.mark.slow
@pytest.mark.parametrize("variant", sorted(BEST_PATHS))
def test_resume_takes_no_path_from_the_checkpoint(variant: str, tmp_path: Path):
    """A resumed checkpoint whose ModelCheckpoint state names a crafted pickle as the best model, and
    other files as the last and top-k checkpoints: nothing is unpickled, nothing outside the run deleted."""
    run_dir, command, env = _tiny_run(tmp_path)
    marker, keep_last, keep_topk = tmp_path / "code-ran", tmp_path / "precious.txt", tmp_path / "precious2.txt"
    keep_last.write_text("mine")
    keep_topk.write_text("mine too")
    torch.save({"payload": _TouchWhenUnpickled(marker)}, tmp_path / "evil.ckpt")
    last = run_dir / "checkpoints" / "last.ckpt"
    ckpt = torch.load(last, weights_only=True)
    best = BEST_PATHS[variant](run_dir)
    for key, state in ckpt["callbacks"].items():
        if key.startswith("ModelCheckpoint"):
            state.update(best_model_path=best, last_model_path=str(keep_last), kth_best_model_path=str(keep_topk),
                         best_k_models={str(keep_topk): torch.tensor(0.0)}, best_model_score=torch.tensor(0.0))
    hostile = tmp_path / "hostile.ckpt"
    torch.save(ckpt, hostile)
    done = subprocess.run([*command, "trainer.max_epochs=3", f"resume={hostile}"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not marker.exists(), "the crafted best_model_path was unpickled"
    assert keep_last.read_text() == "mine" and keep_topk.read_text() == "mine too"
    metrics = __import__("json").loads((run_dir / "metrics.json").read_text())
    assert metrics["best_checkpoint"] == str(run_dir / "checkpoints" / "best.ckpt")
    assert metrics["global_step"] == 6


def test_lightning_reads_checkpoints_as_plain_data_and_never_from_urls(tmp_path: Path):
    from seqlab.lit.checkpoint_io import AtomicCheckpointIO

    marker = tmp_path / "code-ran"
    torch.save({"payload": _TouchWhenUnpickled(marker)}, tmp_path / "evil.ckpt")
    io = AtomicCheckpointIO()
    with pytest.raises(CheckpointError, match="cannot be loaded safely") as err:
        io.load_checkpoint(tmp_path / "evil.ckpt", weights_only=False)  # asked for full pickle: still refused
    assert "weights_only=False" not in str(err.value) and not marker.exists()
    with pytest.raises(CheckpointError, match="not URLs"):
        io.load_checkpoint("http://127.0.0.1:9/evil.ckpt")


def test_resume_from_a_url_is_refused(tmp_path: Path):
    from seqlab.cli.resume import resume_checkpoint
    from seqlab.errors import ConfigError

    with pytest.raises(ConfigError, match="not URLs"):
        resume_checkpoint("https://example.org/last.ckpt", tmp_path)


def test_run_checkpoint_restores_scores_and_only_its_own_paths(tmp_path: Path):
    from seqlab.lit.run_checkpoint import RunCheckpoint

    dirpath = tmp_path / "checkpoints"
    dirpath.mkdir()
    (dirpath / "best.ckpt").write_bytes(b"")
    cb = RunCheckpoint(dirpath=str(dirpath), filename="best", monitor="val/cer", mode="min", save_top_k=1,
                       save_last=True)
    outside = str(tmp_path / "elsewhere.ckpt")
    cb.load_state_dict({"dirpath": str(dirpath), "best_model_path": outside, "last_model_path": outside,
                        "kth_best_model_path": outside, "best_k_models": {outside: torch.tensor(0.1)},
                        "best_model_score": torch.tensor(0.25), "current_score": torch.tensor(0.3),
                        "kth_value": torch.tensor(0.1), "monitor": "val/cer"})
    assert cb.best_model_path == str(dirpath / "best.ckpt") and cb.kth_best_model_path == cb.best_model_path
    assert list(cb.best_k_models) == [cb.best_model_path] and float(cb.best_model_score) == 0.25
    assert cb.last_model_path == ""  # no last.ckpt in the folder
    with pytest.raises(CheckpointError, match="expected a number"):
        cb.load_state_dict({"best_model_score": "0.1; import os"})
