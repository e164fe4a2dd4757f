"""Checkpoint writing that never leaves a half-written file in place of a good one."""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from seqlab.atomic import AtomicFile
from seqlab.checkpoint import load_plain


class AtomicCheckpointIO(TorchCheckpointIO):
    """Write to a temporary file in the checkpoint's own folder, fsync, then rename; read only plain data.

    ``os.replace`` within one folder is atomic, so a process killed at any
    moment leaves either the previous checkpoint or the new one, never a torn
    file (Lightning's own writer moves a temporary file from the system temp
    folder, which is a copy when that is another filesystem).

    Every checkpoint Lightning reads through this plugin (resume, and the
    best checkpoint evaluated after fit) is loaded with ``weights_only=True``
    whatever the caller asked, and only from a local file: a URL is refused.
    """

    def load_checkpoint(self, path, map_location: Any = None, weights_only: bool | None = None) -> dict[str, Any]:
        return load_plain(path, map_location=map_location or "cpu")  # weights_only=True, whatever was asked

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        with AtomicFile(path) as f:
            torch.save(checkpoint, f.file)
            f.commit()
