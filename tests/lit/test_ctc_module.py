"""The CTC LightningModule on tiny data: guards, checkpoint contents, learning."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import lightning as L
import pytest
import torch

from seqlab.data import IAMDataModule
from seqlab.data.batch import Batch
from seqlab.errors import TrainingError
from seqlab.lit import CTCModule
from seqlab.nn import RecurrentEncoder
from seqlab.text import Alphabet

from tests.conftest import write_iam


def make_module(alphabet: Alphabet, input_size: int = 4, **kw) -> CTCModule:
    enc = RecurrentEncoder(input_size=input_size, hidden_size=8, num_layers=1)
    return CTCModule(enc, alphabet, optimizer=partial(torch.optim.Adam, lr=1e-2), **kw)


def frames_batch(alphabet: Alphabet, texts: list[str], frames: list[int]) -> Batch:
    x = torch.randn(len(texts), max(frames), 4)
    targets = [alphabet.encode(t) for t in texts]
    return Batch(
        x, torch.tensor(frames), torch.tensor([c for t in targets for c in t]),
        torch.tensor([len(t) for t in targets]), [f"u{i}" for i in range(len(texts))], texts,
        [f"file{i}.png" for i in range(len(texts))],
    )


def test_too_short_input_is_named_and_left_out(caplog):
    a = Alphabet.from_texts(["abc"])
    m = make_module(a)
    batch = frames_batch(a, ["aab", "abc"], [2, 6])  # "aab" needs 4 frames
    with caplog.at_level(logging.WARNING):
        loss = m._step(batch, "train")
    assert loss is not None and torch.isfinite(loss)
    assert "file0.png (u0)" in caplog.text and "needs at least 4" in caplog.text


def test_nonfinite_loss_skips_batch_then_stops(monkeypatch):
    a = Alphabet.from_texts(["abc"])
    m = make_module(a, max_nonfinite=2)
    batch = frames_batch(a, ["ab"], [5])
    monkeypatch.setattr("seqlab.lit.ctc_module.ctc_loss", lambda *args: torch.tensor([float("nan")]))
    assert m._step(batch, "train") is None
    assert m._step(batch, "train") is None
    with pytest.raises(TrainingError, match="non-finite loss"):
        m._step(batch, "train")


def test_checkpoint_carries_the_alphabet():
    a = Alphabet.from_texts(["xyz"])
    ckpt: dict = {}
    make_module(a).on_save_checkpoint(ckpt)
    assert Alphabet.from_dict(ckpt["seqlab"]["alphabet"]) == a


@pytest.mark.slow
def test_loss_and_cer_fall_on_a_tiny_set(tmp_path: Path):
    words = ["ab", "ba", "abc", "cab", "bca", "ca", "ac", "cb"]
    train = [(f"a01-000-{i:02d}", words[i % len(words)]) for i in range(32)]
    val = [(f"b01-000-{i:02d}", t) for i, (_, t) in enumerate(train[:8])]
    test = [(f"c01-000-{i:02d}", t) for i, (_, t) in enumerate(train[8:16])]
    root = write_iam(tmp_path, {"train": train, "val": val, "test": test}, height=24)
    dm = IAMDataModule(root=str(root), height=16, batch_size=8)
    dm.setup()
    torch.manual_seed(0)
    enc = RecurrentEncoder(input_size=16, hidden_size=32, num_layers=1, frame_stack=2)
    model = CTCModule(enc, dm.alphabet, optimizer=partial(torch.optim.Adam, lr=3e-2))
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, use_distributed_sampler=False, enable_model_summary=False)
    before = trainer.validate(model, datamodule=dm, verbose=False)[0]
    trainer = L.Trainer(accelerator="cpu", max_epochs=50, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, use_distributed_sampler=False, enable_model_summary=False)
    trainer.fit(model, datamodule=dm)
    after = trainer.validate(model, datamodule=dm, verbose=False)[0]
    assert after["val/loss"] < 0.5 * before["val/loss"]
    assert after["val/cer"] < 0.5 * before["val/cer"] and after["val/cer"] < 0.3
