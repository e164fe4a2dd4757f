"""Callbacks the training entry point adds."""

from __future__ import annotations

import lightning as L

from seqlab.checkpoint import CheckpointInfo


class RecipeCallback(L.Callback):
    """Writes :class:`~seqlab.checkpoint.CheckpointInfo` (alphabet, model, frontend, text, config)
    into every checkpoint: the one writer of a checkpoint's ``seqlab`` entry.

    Args:
        info: what the checkpoint holds besides the weights.
        config_path: if given, ``info.config`` is written there as YAML when training
            starts (a resumed run: only once its checkpoint has been restored).
    """

    def __init__(self, info: CheckpointInfo, config_path: str | None = None) -> None:
        self.info = info
        self.config = info.config
        self.config_path = config_path

    def on_train_start(self, trainer, pl_module) -> None:
        if self.config_path and self.config is not None and trainer.is_global_zero:
            from omegaconf import OmegaConf

            from seqlab.atomic import write_text_atomic

            write_text_atomic(self.config_path, OmegaConf.to_yaml(self.config))

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        checkpoint.setdefault("seqlab", {}).update(self.info.to_dict())


class LearningCurves(L.Callback):
    """Draws the learning curves into a PNG: train loss, val loss and val error rates per epoch.

    The training loss is logged per step, so this callback averages it over
    each epoch itself; the validation values are the epoch's logged metrics.
    The figure is redrawn after every training epoch (an interrupted run still
    leaves its curves) and at the end of fit; the history is saved in
    checkpoints, so a resumed run continues it.

    Args:
        path: the PNG to write (``${run_dir}/learning_curves.png``).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.history: dict[int, dict[str, float]] = {}
        self._loss_sum = None
        self._batches = 0

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._loss_sum, self._batches = None, 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is None:  # a skipped batch (non-finite loss)
            return
        loss = loss.detach()  # summed on the device: no host sync per step
        self._loss_sum = loss if self._loss_sum is None else self._loss_sum + loss
        self._batches += 1

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return
        values = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/") and v.numel() == 1}
        self.history.setdefault(trainer.current_epoch, {}).update(values)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if self._batches:
            mean = float(self._loss_sum) / self._batches
            self.history.setdefault(trainer.current_epoch, {})["train/loss"] = mean
        self._draw(trainer)

    def on_fit_end(self, trainer, pl_module) -> None:
        self._draw(trainer)

    def _draw(self, trainer) -> None:
        if not trainer.is_global_zero or not self.history:
            return
        from pathlib import Path

        from seqlab.report.plots import learning_curves
        from seqlab.atomic import write_atomic

        rows = [{"epoch": epoch + 1, **values} for epoch, values in sorted(self.history.items())]
        write_atomic(Path(self.path), learning_curves(rows, title=Path(self.path).parent.name))

    def state_dict(self) -> dict:
        return {"history": {int(k): dict(v) for k, v in self.history.items()}}

    def load_state_dict(self, state_dict: dict) -> None:
        self.history = {int(k): dict(v) for k, v in state_dict.get("history", {}).items()}
