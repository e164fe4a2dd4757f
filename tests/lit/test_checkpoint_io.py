from pathlib import Path

import pytest
import torch

from seqlab.lit.checkpoint_io import AtomicCheckpointIO


def test_old_checkpoint_survives_a_failed_write(tmp_path: Path, monkeypatch):
    io = AtomicCheckpointIO()
    path = tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"step": 1}, path)
    assert torch.load(path)["step"] == 1

    def dies_half_way(obj, f):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt  # the process is stopped in the middle of the write

    monkeypatch.setattr(torch, "save", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"step": 2}, path)
    monkeypatch.undo()
    assert torch.load(path)["step"] == 1  # the good checkpoint is untouched
    assert [p.name for p in path.parent.iterdir()] == ["last.ckpt"]  # no temporary left behind
    io.save_checkpoint({"step": 3}, path)
    assert torch.load(path)["step"] == 3
