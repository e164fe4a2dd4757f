"""A test callback: records which sample ids every training step used."""

from __future__ import annotations

import lightning as L


class BatchTrace(L.Callback):
    def __init__(self, path: str) -> None:
        self.path = path

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        with open(self.path, "a") as f:
            f.write(f"{trainer.global_step} {trainer.current_epoch} {batch_idx} {','.join(batch.ids)}\n")
