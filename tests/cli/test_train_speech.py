"""The speech recipes end to end through the Hydra entry point, on tiny corpora in the real formats."""

from __future__ import annotations

import json
from pathlib import Path

from seqlab.checkpoint import read_checkpoint
from tests.cli.test_train import run_train
from tests.data.speech_corpora import make_librispeech, make_timit


def test_timit_graves2013_fast_dev_run(tmp_path: Path):
    make_timit(tmp_path / "timit")
    run_dir = tmp_path / "run"
    proc = run_train(
        "experiment=timit_graves2013", "data=timit", f"data.root={tmp_path / 'timit'}", "data.num_workers=0",
        f"cache_dir={tmp_path / 'cache'}", "callbacks.weight_noise.start_epoch=0", "trainer.fast_dev_run=true",
        "trainer.accelerator=cpu", f"hydra.run.dir={run_dir}", cwd=tmp_path,
    )
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("val/per", "val/loss", "test/per", "test/loss"):
        assert key in metrics
    assert "test/per=" in proc.stdout
    assert (tmp_path / "cache" / "features").is_dir()


def test_librispeech_blstm_fast_dev_run_and_checkpoint_recipe(tmp_path: Path):
    make_librispeech(tmp_path / "data")
    run_dir = tmp_path / "run"
    run_train(
        "experiment=librispeech_blstm", f"data.root={tmp_path / 'data'}", "data.num_workers=0",
        f"cache_dir={tmp_path / 'cache'}", "model.encoder.hidden_size=16", "model.encoder.num_layers=1",
        "trainer.max_epochs=1", "trainer.accelerator=cpu", f"hydra.run.dir={run_dir}", cwd=tmp_path,
    )
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("val/cer", "val/wer", "test/cer", "test/wer"):
        assert key in metrics
    info = read_checkpoint(run_dir / "checkpoints" / "best.ckpt")["seqlab"]
    data = info["data"]["frontend"]
    assert data["type"] == "speech" and data["features"]["num_mel_bins"] == 80
    assert len(data["normalization"]["mean"]) == 243 and len(info["alphabet"]["symbols"]) == 28
