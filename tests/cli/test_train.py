"""The Hydra entry point, run as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seqlab.checkpoint import load_model, read_checkpoint
from seqlab.errors import CheckpointError



def run_train(*overrides: str, cwd: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "seqlab", "train", "trainer.enable_progress_bar=false", *overrides]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_fast_dev_run_on_an_iam_folder(tiny_iam: Path, tmp_path: Path):
    run_dir = tmp_path / "run"
    proc = run_train(
        "data=iam", f"data.root={tiny_iam}", "data.height=24", "data.num_workers=0",
        "trainer.fast_dev_run=true", f"hydra.run.dir={run_dir}", cwd=tmp_path,
    )
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("val/cer", "val/wer", "val/loss", "test/cer", "test/wer", "test/loss"):
        assert key in metrics
    (epoch,) = metrics["throughput"]  # fast_dev_run: one batch of the 12 training lines
    assert epoch["items"] == 12 and epoch["frames"] > 12 * 24 and epoch["items_per_s"] > 0
    assert (run_dir / "config.yaml").exists()
    assert f"run directory: {run_dir}" in proc.stdout
    assert "test/cer=" in proc.stdout


@pytest.mark.slow
def test_default_synthetic_run_writes_a_self_contained_checkpoint(tmp_path: Path):
    run_dir = tmp_path / "run"
    run_train(
        f"cache_dir={tmp_path / 'cache'}", "data.num_train=48", "data.num_val=16", "data.num_test=16",
        "trainer.max_epochs=2", "model.encoder.hidden_size=16", f"hydra.run.dir={run_dir}", cwd=tmp_path,
    )
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0.0 <= metrics["test/cer"] and metrics["epochs"] == 2
    best = run_dir / "checkpoints" / "best.ckpt"
    assert sorted(p.name for p in best.parent.iterdir()) == ["best.ckpt", "last.ckpt"]
    assert metrics["best_checkpoint"] == str(best)
    corpus = next((tmp_path / "cache").glob("synth_iam-*"))
    assert (corpus / "ascii" / "lines.txt").exists() and (corpus / "trainset.txt").exists()

    # the checkpoint alone rebuilds the model, through a weights_only load
    model, info = load_model(best)
    assert info.frontend["type"] == "image" and info.frontend["height"] == 24 and info.text["form"] == "NFC"
    x = torch.rand(1, 1, 24, 90)
    log_probs, lengths = model(x, torch.tensor([90]))
    assert log_probs.shape[-1] == model.alphabet.num_classes
    assert len(model.alphabet) == len(info.alphabet["symbols"])


def test_checkpoint_that_would_run_code_is_refused(tmp_path: Path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    bad = tmp_path / "evil.ckpt"
    torch.save({"seqlab": {}, "state_dict": {}, "x": Evil()}, bad)
    with pytest.raises(CheckpointError, match="cannot be loaded safely") as err:
        read_checkpoint(bad)
    # it names what the file holds, and never suggests turning the check off
    assert "weights_only=False" not in str(err.value) and "Unsupported global" in str(err.value)


def test_untrusted_target_is_refused(tmp_path: Path):
    ckpt = tmp_path / "t.ckpt"
    torch.save({"seqlab": {"alphabet": {"symbols": ["a"], "unit": "char"},
                           "model": {"_target_": "os.system", "command": "true"}},
                "state_dict": {}}, ckpt)
    with pytest.raises(CheckpointError, match="os.system"):
        load_model(ckpt)
