"""Callbacks the training entry point adds."""

from __future__ import annotations

import lightning as L

from seqlab.checkpoint import FORMAT_VERSION


class RecipeCallback(L.Callback):
    """Writes the model config and data recipe into every checkpoint.

    Args:
        model: the resolved Hydra config of the model, as plain data.
        data: the data module's preprocessing recipe, as plain data.
    """

    def __init__(self, model: dict, data: dict) -> None:
        self.model = model
        self.data = data

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        seqlab = checkpoint.setdefault("seqlab", {})
        seqlab.update({"format": FORMAT_VERSION, "model": self.model, "data": self.data})
