"""The learning-curves callback: epoch means of the training loss, validation metrics, a PNG."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from PIL import Image

from seqlab.lit.callbacks import LearningCurves


def test_curves_collect_epochs_draw_a_png_and_survive_a_resume(tmp_path: Path):
    png = tmp_path / "run" / "learning_curves.png"
    cb = LearningCurves(str(png))
    trainer = SimpleNamespace(sanity_checking=True, current_epoch=0, is_global_zero=True, callback_metrics={})
    cb.on_validation_epoch_end(trainer, None)  # the sanity check is not an epoch
    assert cb.history == {}
    trainer.sanity_checking = False
    for epoch, (losses, val) in enumerate([([3.0, 2.0], 2.5), ([1.5, None, 0.5], 1.2)]):
        trainer.current_epoch = epoch
        cb.on_train_epoch_start(trainer, None)
        for loss in losses:  # None: a skipped batch
            cb.on_train_batch_end(trainer, None, None if loss is None else {"loss": torch.tensor(loss)}, None, 0)
        trainer.callback_metrics = {"val/loss": torch.tensor(val), "val/cer": torch.tensor(val / 5),
                                    "train/loss": torch.tensor(9.0)}
        cb.on_validation_epoch_end(trainer, None)
        cb.on_train_epoch_end(trainer, None)
    # the epoch means of the batches seen, not the last logged train/loss
    assert cb.history[0]["train/loss"] == 2.5 and cb.history[1]["train/loss"] == 1.0
    assert cb.history[1]["val/cer"] == torch.tensor(1.2 / 5).item()
    assert set(cb.history[1]) == {"train/loss", "val/loss", "val/cer"}
    img = np.asarray(Image.open(png).convert("L"))
    assert (img < 128).mean() > 0.01

    resumed = LearningCurves(str(png))
    resumed.load_state_dict(cb.state_dict())
    assert resumed.history == cb.history
    not_zero = SimpleNamespace(is_global_zero=False)
    png.unlink()
    resumed.on_fit_end(not_zero, None)  # only rank zero writes
    assert not png.exists()
