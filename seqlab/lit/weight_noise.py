"""Gaussian weight noise (Graves 2011; Graves, Mohamed and Hinton 2013).

Graves et al. (2013) trained their TIMIT networks in two stages, the second
with Gaussian noise of standard deviation 0.075 added to the weights: for each
training sequence the loss and its gradient are computed at noisy weights, and
the update is applied to the clean ones. Here the noise is drawn once per
training batch: the weights are saved and perturbed before the forward pass,
and restored exactly (copied back, not subtracted) after the backward pass,
before the optimizer step and gradient clipping, which therefore act on the
clean weights with the gradient taken at the noisy ones. Validation, test and
checkpoints always see the clean weights.
"""

from __future__ import annotations

import lightning as L
import torch

from seqlab.errors import ConfigError


class WeightNoise(L.Callback):
    """Adds N(0, std^2) noise to every trainable parameter for each training batch.

    Args:
        std: standard deviation of the noise (Graves et al. 2013: 0.075).
        start_epoch: first epoch with noise (Graves' second stage starts once
            the noise-free network has converged; 0: from the start).
    """

    def __init__(self, std: float = 0.075, start_epoch: int = 0) -> None:
        if std < 0:
            raise ConfigError(f"weight noise std must be >= 0, got {std}")
        if start_epoch < 0:
            raise ConfigError(f"weight noise start_epoch must be >= 0, got {start_epoch}")
        self.std = std
        self.start_epoch = start_epoch
        self._clean: list[tuple[torch.nn.Parameter, torch.Tensor]] = []

    @torch.no_grad()
    def add_noise(self, module: torch.nn.Module) -> None:
        """Save the weights of ``module`` and perturb them (restored by :meth:`remove_noise`)."""
        self.remove_noise()
        for p in module.parameters():
            if p.requires_grad:
                self._clean.append((p, p.detach().clone()))
                p.add_(torch.randn_like(p), alpha=self.std)

    @torch.no_grad()
    def remove_noise(self) -> None:
        """Put the saved clean weights back (no-op when no noise is applied)."""
        for p, clean in self._clean:
            p.copy_(clean)
        self._clean = []

    @property
    def active(self) -> bool:
        return bool(self._clean)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if self.std > 0 and trainer.current_epoch >= self.start_epoch:
            self.add_noise(pl_module)

    def on_after_backward(self, trainer, pl_module) -> None:
        self.remove_noise()  # before gradient clipping and the optimizer step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        self.remove_noise()  # a skipped batch (no backward) still gets its weights back

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        self.remove_noise()
