"""Self-contained checkpoints: everything inference needs travels inside.

A seqlab checkpoint is a Lightning checkpoint with one more entry, ``seqlab``,
holding plain data only (strings, numbers, lists, dicts):

- ``alphabet``: the symbol table (:meth:`Alphabet.to_dict`);
- ``model``: the model's Hydra config, resolved (how to rebuild the network);
- ``data``: the preprocessing recipe of the data module (image height, features...);
- ``metrics``: what the model is scored with.

Loading uses ``torch.load(weights_only=True)``, so a checkpoint cannot run code
through pickle, and the model is rebuilt only from ``_target_`` s inside the
packages listed in :data:`TRUSTED_TARGETS`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from seqlab.errors import CheckpointError
from seqlab.text import Alphabet

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
TRUSTED_TARGETS = ("seqlab.", "torch.optim.", "torch.nn.")


def _check_targets(node: Any, where: str = "model") -> None:
    if isinstance(node, dict):
        target = node.get("_target_")
        if target is not None and not (isinstance(target, str) and target.startswith(TRUSTED_TARGETS)):
            raise CheckpointError(
                f"checkpoint {where} names _target_ {target!r}, outside the trusted packages "
                f"{TRUSTED_TARGETS}; refusing to build it"
            )
        for k, v in node.items():
            _check_targets(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _check_targets(v, f"{where}[{i}]")


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu", unsafe: bool = False) -> dict:
    """The checkpoint's dict, loaded without running pickled code.

    Args:
        unsafe: load with full pickle (``weights_only=False``). Only for a
            checkpoint you made yourself with code that stored Python objects
            in it: a pickle can run any code when loaded.

    Raises:
        CheckpointError: naming the file, when it is missing, truncated, holds
            objects that only an unsafe load could build, or is no seqlab checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    if unsafe:
        log.warning("%s: loading with weights_only=False; this runs any code the file holds", path)
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=not unsafe)
    except Exception as e:  # torch raises UnpicklingError, RuntimeError, EOFError... for bad files
        raise CheckpointError(
            f"{path}: cannot be loaded safely (weights_only): {str(e).splitlines()[0]}"
        ) from None
    if not isinstance(ckpt, dict) or "seqlab" not in ckpt or "state_dict" not in ckpt:
        raise CheckpointError(f"{path}: not a seqlab checkpoint (no 'seqlab' entry)")
    return ckpt


def load_model(path: str | Path, map_location: str | torch.device = "cpu", unsafe: bool = False):
    """Rebuild the trained :class:`~seqlab.lit.CTCModule` from a checkpoint alone.

    Returns:
        (module in eval mode, the checkpoint's ``seqlab`` entry).
    """
    from hydra.utils import instantiate

    ckpt = read_checkpoint(path, map_location, unsafe=unsafe)
    info = ckpt["seqlab"]
    if "model" not in info:
        raise CheckpointError(f"{path}: has no model recipe; was it written by seqlab train?")
    _check_targets(info["model"])
    alphabet = Alphabet.from_dict(info["alphabet"])
    module = instantiate(info["model"], alphabet=alphabet, metrics=info.get("metrics", ["cer", "wer"]))
    module.load_state_dict(ckpt["state_dict"])
    module.eval()
    return module, info
