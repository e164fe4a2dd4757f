"""The throughput monitor: items and frames per training epoch, validation excluded, GPU sampling."""

from __future__ import annotations

import os
import stat
import time
from functools import partial
from pathlib import Path

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

import seqlab.lit.throughput as throughput
from seqlab.data.batch import Sample, collate
from seqlab.lit import CTCModule
from seqlab.lit.throughput import GPUUtilisation, ThroughputMonitor
from seqlab.nn import RecurrentEncoder
from seqlab.text import Alphabet

ALPHABET = Alphabet(tuple("ab "))


def batches(sizes: list[list[int]]) -> list:
    """Collated batches of random (1, 4, W) inputs; ``sizes``: the widths of each batch's items."""
    gen = torch.Generator().manual_seed(0)
    out = []
    for b, widths in enumerate(sizes):
        samples = [Sample(f"b{b}i{i}", torch.rand(1, 4, w, generator=gen), ALPHABET.encode("ab"), "ab", f"src{i}")
                   for i, w in enumerate(widths)]
        out.append(collate(samples))
    return out


class FakeClock:
    """time.perf_counter that advances 1 ms per call, plus what the test adds."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 0.001
        return self.now


def test_counts_items_and_frames_and_leaves_validation_out(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(throughput, "time", clock)
    train = batches([[10, 12], [8, 9, 11], [7]])

    class SlowValidation(L.Callback):  # validation "takes" 100 s of the fake clock
        def on_validation_batch_end(self, *args, **kwargs):
            clock.now += 100.0

    monitor = ThroughputMonitor()
    model = CTCModule(RecurrentEncoder(4, 8, 1), ALPHABET, optimizer=partial(torch.optim.Adam, lr=1e-3))
    trainer = L.Trainer(accelerator="cpu", devices=1, max_epochs=2, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=1,
                        callbacks=[monitor, SlowValidation()])
    trainer.fit(model, train_dataloaders=DataLoader(train, batch_size=None),
                val_dataloaders=DataLoader(batches([[9, 9]]), batch_size=None))
    assert [e["epoch"] for e in monitor.epochs] == [0, 1]
    for e in monitor.epochs:
        assert (e["items"], e["frames"]) == (6, 57)  # 2 + 3 + 1 items; 22 + 28 + 7 columns
        assert 0 < e["seconds"] < 100  # the validation's 100 s are not counted
        assert e["items_per_s"] == pytest.approx(6 / e["seconds"], rel=1e-2)
        assert e["frames_per_s"] == pytest.approx(57 / e["seconds"], rel=1e-2)
        assert e["devices"] == 1 and "peak_memory_gib" not in e  # CPU: no GPU fields


def test_gpu_utilisation_parses_nvidia_smi(tmp_path: Path, monkeypatch):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 50\necho '[N/A]'\necho 70\nsleep 30\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    sampler = GPUUtilisation(0)
    assert sampler.start()
    deadline = time.monotonic() + 10
    while len(sampler.samples) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sampler.stop() == pytest.approx(60.0)


def test_gpu_utilisation_without_nvidia_smi(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not GPUUtilisation(0).start()
