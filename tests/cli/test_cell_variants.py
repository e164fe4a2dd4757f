"""Every recurrent-cell choice trains through the entry point, and its checkpoint
transcribes and evaluates like the default one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from seqlab.checkpoint import load_model
from seqlab.recognizer import Recognizer
from tests.cli.test_train import run_train
from tests.conftest import write_iam

WORDS = ["ab", "ba", "abc", "cab", "bca", "ca", "ac", "cb"]


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["peephole", "gru", "cifg"])
def test_cell_variant_checkpoint_transcribes_like_evaluation(tmp_path: Path, cell: str):
    splits = {
        "train": [(f"a01-000-{i:02d}", WORDS[i % 8]) for i in range(16)],
        "val": [(f"b01-000-{i:02d}", WORDS[i]) for i in range(4)],
        "test": [(f"c01-000-{i:02d}", WORDS[i + 4]) for i in range(4)],
    }
    root = write_iam(tmp_path / "iam", splits, height=16)
    run = tmp_path / "run"
    run_train("data=iam", f"data.root={root}", "data.height=16", "data.num_workers=0", "trainer.max_epochs=2",
              f"model.encoder.cell={cell}", "model.encoder.hidden_size=8", "model.encoder.num_layers=2",
              f"hydra.run.dir={run}", cwd=tmp_path)
    metrics = json.loads((run / "metrics.json").read_text())
    assert "test/cer" in metrics
    best = run / "checkpoints" / "best.ckpt"
    model, info = load_model(best)
    assert info.model["encoder"]["cell"] == cell

    dm = instantiate(OmegaConf.load(run / "config.yaml").data)
    dm.setup("fit")
    batch = next(iter(dm.test_dataloader()))
    with torch.inference_mode():
        expected = model.decode(*model(batch.inputs, batch.input_lengths))
    got = Recognizer.from_checkpoint(best).transcribe(batch.sources)
    assert [t.text for t in got] == expected
