"""Gaussian weight noise: present for forward and backward, gone before the optimizer step."""

from __future__ import annotations

from types import SimpleNamespace

import lightning as L
import pytest
import torch
from torch import nn

from seqlab.errors import ConfigError
from seqlab.lit.weight_noise import WeightNoise


def test_noise_is_added_then_removed_exactly():
    torch.manual_seed(0)
    net = nn.Linear(50, 40)
    clean = [p.detach().clone() for p in net.parameters()]
    noise = WeightNoise(std=0.075)
    noise.on_train_batch_start(SimpleNamespace(current_epoch=0), net, None, 0)
    assert noise.active
    diff = torch.cat([(p - c).flatten() for p, c in zip(net.parameters(), clean)])
    assert diff.std().item() == pytest.approx(0.075, rel=0.1)
    noise.on_after_backward(None, net)
    assert not noise.active
    assert all(torch.equal(p, c) for p, c in zip(net.parameters(), clean))
    noise.on_train_batch_end(None, net, None, None, 0)  # a second removal is a no-op
    assert all(torch.equal(p, c) for p, c in zip(net.parameters(), clean))


def test_noise_waits_for_its_start_epoch():
    net = nn.Linear(3, 2)
    noise = WeightNoise(std=0.1, start_epoch=2)
    noise.on_train_batch_start(SimpleNamespace(current_epoch=1), net, None, 0)
    assert not noise.active
    noise.on_train_batch_start(SimpleNamespace(current_epoch=2), net, None, 0)
    assert noise.active


def test_bad_settings():
    with pytest.raises(ConfigError):
        WeightNoise(std=-1)
    with pytest.raises(ConfigError):
        WeightNoise(start_epoch=-1)


class _Probe(L.LightningModule):
    """Records the weight during forward and right before the optimizer step."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(4))
        self.seen_forward: list[torch.Tensor] = []
        self.seen_step: list[torch.Tensor] = []

    def training_step(self, batch, batch_idx):
        self.seen_forward.append(self.w.detach().clone())
        return ((self.w - 1.0) ** 2).sum()

    def on_before_optimizer_step(self, optimizer):
        self.seen_step.append(self.w.detach().clone())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.zeros(3, 1), batch_size=1)


def test_in_a_trainer_the_step_sees_clean_weights_and_the_gradient_sees_noisy_ones():
    torch.manual_seed(0)
    probe = _Probe()
    trainer = L.Trainer(max_epochs=1, callbacks=[WeightNoise(std=0.5)], logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    trainer.fit(probe)
    clean = torch.zeros(4)
    for forward, step in zip(probe.seen_forward, probe.seen_step):
        assert not torch.allclose(forward, step)  # forward ran at noisy weights
        assert torch.equal(step, clean)  # the step starts from the clean ones
        clean = clean - 0.1 * 2 * (forward - 1.0)  # SGD with the gradient taken at the noisy weights
    assert torch.allclose(probe.w.detach(), clean)
