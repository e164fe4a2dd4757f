"""The checkpoint callback of a run: resuming restores scores, never file paths.

Lightning's :class:`~lightning.pytorch.callbacks.ModelCheckpoint` saves the
paths of its best, top-k and last checkpoints into every checkpoint and, on
resume, takes them back from the file. A checkpoint is data from whoever wrote
it: a ``best_model_path`` naming a crafted pickle (or a URL) would be loaded
by ``trainer.validate(ckpt_path=best)``, and a ``last_model_path`` or a top-k
entry naming any file would be *deleted* when the next checkpoint replaces it.
:class:`RunCheckpoint` keeps the scores (so a resumed run still knows which
model is best) and derives every path from its own ``dirpath`` and
``filename``: the files a run has are the files in its run directory.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from seqlab.checkpoint import is_url
from seqlab.errors import CheckpointError


def _score(value: Any, key: str) -> torch.Tensor | None:
    """A restored score: a finite-or-inf number (as a tensor) or None; anything else is refused."""
    if value is None:
        return None
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        return value.detach().cpu()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value):
        return torch.tensor(float(value))
    raise CheckpointError(f"resume: ModelCheckpoint.{key} is {type(value).__name__}, expected a number; "
                          "the checkpoint was not written by seqlab train")


class RunCheckpoint(ModelCheckpoint):
    """:class:`ModelCheckpoint` whose resumed state holds no paths taken from the file.

    Takes exactly :class:`ModelCheckpoint`'s arguments; ``dirpath`` is required
    (the run's ``checkpoints/`` folder) and, when ``save_top_k`` is used, so is a
    fixed ``filename`` (``best``): the best checkpoint is then always
    ``dirpath/filename.ckpt``.
    """

    def __init__(self, dirpath: str, **kwargs: Any) -> None:
        if not dirpath or is_url(dirpath):
            raise CheckpointError(f"checkpoint dirpath={dirpath!r}: must be a local folder (the run's checkpoints/)")
        super().__init__(dirpath=dirpath, **kwargs)

    @property
    def state_key(self) -> str:
        # Same key as ModelCheckpoint's, so runs checkpointed before this class existed resume their scores.
        return self._generate_state_key(
            monitor=self.monitor, mode=self.mode, every_n_train_steps=self._every_n_train_steps,
            every_n_epochs=self._every_n_epochs, train_time_interval=self._train_time_interval,
        ).replace(type(self).__qualname__, ModelCheckpoint.__qualname__, 1)

    def own_path(self, name: str | None) -> Path | None:
        """``dirpath/name.ckpt`` if that file exists, else None."""
        if not name:
            return None
        path = Path(self.dirpath) / f"{name}{self.FILE_EXTENSION}"
        return path if path.is_file() else None

    def best_file(self) -> Path | None:
        """``dirpath/filename.ckpt``, the best checkpoint, if this callback keeps one and it exists."""
        return self.own_path(self.filename) if self.save_top_k and self.monitor else None

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the scores; set the best/last paths to this run's own files (if they exist), ignore the file's."""
        best = self.best_file()
        last = self.own_path(self.CHECKPOINT_NAME_LAST) if self.save_last else None
        best_score = _score(state_dict.get("best_model_score"), "best_model_score")
        self.current_score = _score(state_dict.get("current_score"), "current_score")
        self.best_model_path = str(best) if best else ""
        self.last_model_path = str(last) if last else ""
        if best is not None and best_score is not None:
            self.best_model_score = best_score
            self.best_k_models = {str(best): best_score}
            self.kth_best_model_path = str(best)
            self.kth_value = best_score
        else:  # nothing trustworthy to compare against: the next validation writes best.ckpt afresh
            self.best_model_score = None
            self.best_k_models = {}
            self.kth_best_model_path = ""
