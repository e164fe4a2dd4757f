"""A test callback: records which sample ids every training step used (one file per rank)."""

from __future__ import annotations

import lightning as L


class BatchTrace(L.Callback):
    def __init__(self, path: str) -> None:
        self.path = path

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        path = self.path if trainer.world_size == 1 else f"{self.path}.rank{trainer.global_rank}"
        with open(path, "a") as f:
            f.write(f"{trainer.global_step} {trainer.current_epoch} {batch_idx} {','.join(batch.ids)}\n")
