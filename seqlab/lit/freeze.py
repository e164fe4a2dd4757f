"""Freezing the encoder while a fine-tuned model's output layer adapts (Kraken's ``--freeze-backbone``)."""

from __future__ import annotations

import logging

import lightning as L
from torch import nn

from seqlab.errors import ConfigError

log = logging.getLogger(__name__)


class FreezeEncoder(L.Callback):
    """Train only the output layer, and the encoder's last ``trainable_layers`` recurrent layers.

    Frozen parameters get no gradients (``requires_grad`` off; the optimizer
    skips them) and frozen batch normalisation layers keep their running
    statistics. After ``steps`` optimizer steps the whole network trains;
    ``steps=None`` keeps it frozen for the whole run. The state follows
    ``trainer.global_step``, so a resumed run is frozen exactly as before.

    Args:
        trainable_layers: recurrent layers, counted from the output side, that
            train with the head (0: the head only).
        steps: unfreeze after this many optimizer steps (None: never).
    """

    def __init__(self, trainable_layers: int = 0, steps: int | None = None) -> None:
        if trainable_layers < 0:
            raise ConfigError(f"finetune.trainable_layers must be >= 0, got {trainable_layers}")
        if steps is not None and steps < 1:
            raise ConfigError(f"finetune.freeze_steps must be >= 1 or null (the whole run), got {steps}")
        self.trainable_layers = trainable_layers
        self.steps = steps
        self.frozen: list[nn.Parameter] = []
        self._norms: list[nn.Module] = []

    def frozen_parameters(self, encoder: nn.Module) -> list[nn.Parameter]:
        """The encoder's parameters outside its last ``trainable_layers`` recurrent layers."""
        trainable: set[int] = set()
        if self.trainable_layers:
            layers = encoder.recurrent_layers()
            if self.trainable_layers > len(layers):
                raise ConfigError(f"finetune.trainable_layers={self.trainable_layers}, but the encoder has "
                                  f"{len(layers)} recurrent layers")
            trainable = {id(p) for layer in layers[-self.trainable_layers:] for p in layer}
        return [p for p in encoder.parameters() if id(p) not in trainable]

    def on_train_start(self, trainer, pl_module) -> None:
        if self.steps is not None and trainer.global_step >= self.steps:
            return
        self.frozen = self.frozen_parameters(pl_module.encoder)
        for p in self.frozen:
            p.requires_grad_(False)
        ids = {id(p) for p in self.frozen}
        self._norms = [m for m in pl_module.encoder.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
                       and all(id(p) in ids for p in m.parameters(recurse=False))]
        trained = sum(p.numel() for p in pl_module.parameters() if p.requires_grad)
        until = f"for the first {self.steps} steps" if self.steps is not None else "for the whole run"
        what = (f"the output layer and the last {self.trainable_layers} recurrent layer(s) train"
                if self.trainable_layers else "only the output layer trains")
        log.info("fine-tuning: the encoder is frozen %s: %s (%d of %d parameters)", until, what, trained,
                 sum(p.numel() for p in pl_module.parameters()))

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if not self.frozen:
            return
        if self.steps is not None and trainer.global_step >= self.steps:
            for p in self.frozen:
                p.requires_grad_(True)
            self.frozen, self._norms = [], []
            log.info("fine-tuning: step %d, the whole network trains from now on", trainer.global_step)
            return
        for m in self._norms:  # Lightning puts the module back in train mode after each validation
            m.eval()
