"""Fine-tuning: a new run that starts from a trained model's weights.

``seqlab train init_from=PARENT.ckpt`` (see ``finetune:`` in ``conf/train.yaml``):

1. :meth:`Parent.read` loads the parent checkpoint as data (``weights_only``,
   its model recipe checked like any checkpoint's).
2. :func:`seqlab.checkpoint.trained_preprocessing` keeps the parent's
   preprocessing (image height, filterbank, normalisation statistics, text
   normalisation): the data config's defaults give way, a setting given on
   the command line that contradicts the parent is refused by name.
3. The data module builds its alphabet from the parent's by the alphabet
   policy (:func:`seqlab.text.adapt_alphabet`: ``fail``, ``union``, ``new``).
4. The network is the parent's (:meth:`Parent.encoder_config`);
   :func:`load_parent_weights` copies every weight and :func:`resize_head`
   maps the output layer row by row by symbol.

Only the weights come from the parent: the optimizer, schedule, step and
epoch counters and the run directory are new. Freezing and a separate head
learning rate are :class:`seqlab.lit.freeze.FreezeEncoder` and
``CTCModule(head_lr=...)``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from seqlab.checkpoint import (
    _ENCODERS, _MODULES, CheckpointInfo, _check_targets, _refuse, encoder_recipe, file_sha256, read_checkpoint,
)
from seqlab.errors import CheckpointError
from seqlab.text import BLANK, Alphabet, AlphabetChange

log = logging.getLogger(__name__)

HEAD = "head.proj."
# below every parent bias by this much: a new symbol starts e^-NEW_BIAS_MARGIN times
# less likely than the parent's least likely class, and still gets gradients
NEW_BIAS_MARGIN = 2.0
NEW_WEIGHT_SCALE = 0.1  # new rows' weights: this times the parent rows' standard deviation


@dataclass
class Parent:
    """The model a fine-tuning run starts from.

    Attributes:
        path: the checkpoint file.
        sha256: its hash (recorded in the new checkpoint).
        info: its :class:`CheckpointInfo`.
        state: its weights (``state_dict``).
        alphabet: its symbol table.
    """

    path: Path
    sha256: str
    info: CheckpointInfo
    state: dict[str, torch.Tensor]
    alphabet: Alphabet

    @classmethod
    def read(cls, path: str | Path) -> Parent:
        """Raises CheckpointError naming the file when it is no usable seqlab checkpoint."""
        ckpt = read_checkpoint(path)
        raw = ckpt["seqlab"]
        if not isinstance(raw, dict) or not isinstance(raw.get("model"), dict):
            raise CheckpointError(f"init_from={path}: has no model recipe; was it written by seqlab train?")
        _check_targets(raw["model"])  # a hostile recipe is refused before anything else is read
        if raw["model"].get("_target_") not in _MODULES:
            raise _refuse("model", "is not a CTCModule recipe")
        encoder = raw["model"].get("encoder")
        if not isinstance(encoder, dict) or encoder.get("_target_") not in _ENCODERS:
            raise CheckpointError(f"init_from={path}: its model recipe names no seqlab encoder "
                                  f"(model.encoder._target_ must be one of {', '.join(_ENCODERS[::2])})")
        info = CheckpointInfo.from_dict(raw, path)
        if info.frontend is None:
            raise CheckpointError(f"init_from={path}: stores no preprocessing (seqlab.data), so its inputs "
                                  "cannot be prepared the same way; fine-tune from a checkpoint of seqlab train")
        state = ckpt["state_dict"]
        if f"{HEAD}weight" not in state or f"{HEAD}bias" not in state:
            raise CheckpointError(f"init_from={path}: has no output layer weights ({HEAD}weight, {HEAD}bias)")
        return cls(Path(path), file_sha256(path), info, state, Alphabet.from_dict(info.alphabet))

    def encoder_config(self) -> dict:
        """The parent's encoder recipe: the fine-tuned network has its architecture."""
        return encoder_recipe(self.info.model["encoder"])

    def record(self, change: AlphabetChange) -> dict:
        """What the new checkpoint says about its parent (``seqlab.parent``)."""
        return {"path": str(self.path.resolve()), "sha256": self.sha256, "alphabet": change.to_dict(),
                "corpus": self.info.corpus}


def resize_head(proj: nn.Linear, weight: torch.Tensor, bias: torch.Tensor, old: Alphabet, new: Alphabet,
                generator: torch.Generator | None = None) -> None:
    """Fill the output layer ``proj`` (rows = ``new.num_classes``) from the parent's, row by row by symbol.

    The blank and every symbol ``new`` shares with ``old`` get the parent's row,
    so their logits are the parent's exactly; a new symbol gets small random
    weights (:data:`NEW_WEIGHT_SCALE` times the parent rows' spread) and a bias
    :data:`NEW_BIAS_MARGIN` below the parent's smallest: unlikely at first, but
    trainable.

    Args:
        weight: (K_old, C) and bias: (K_old,) of the parent's output layer.
    """
    if weight.shape != (old.num_classes, proj.in_features) or proj.out_features != new.num_classes:
        raise CheckpointError(
            f"the parent's output layer is {tuple(weight.shape)}, expected ({old.num_classes}, {proj.in_features}) "
            f"for its {len(old)} symbols; the checkpoint's alphabet and weights disagree")
    rows = {s: i + 1 for i, s in enumerate(old.symbols)}
    with torch.no_grad():
        w = torch.randn(proj.weight.shape, generator=generator, dtype=weight.dtype) * (
            NEW_WEIGHT_SCALE * float(weight.std()))
        b = torch.full(proj.bias.shape, float(bias.min()) - NEW_BIAS_MARGIN, dtype=bias.dtype)
        w[BLANK], b[BLANK] = weight[BLANK], bias[BLANK]
        for i, s in enumerate(new.symbols):
            if s in rows:
                w[i + 1], b[i + 1] = weight[rows[s]], bias[rows[s]]
        proj.weight.copy_(w.to(proj.weight.device))
        proj.bias.copy_(b.to(proj.bias.device))


def load_parent_weights(module: nn.Module, parent: Parent, generator: torch.Generator | None = None) -> None:
    """Every weight of the parent into ``module`` (a CTCModule with the new alphabet), the head resized.

    Raises:
        CheckpointError: when the networks differ anywhere but in the output layer.
    """
    body = {k: v for k, v in parent.state.items() if not k.startswith(HEAD)}
    missing, unexpected = module.load_state_dict(body, strict=False)
    missing = [k for k in missing if not k.startswith(HEAD)]
    if missing or unexpected:
        raise CheckpointError(
            f"init_from={parent.path}: the weights do not fit the network built from its recipe "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]})")
    resize_head(module.head.proj, parent.state[f"{HEAD}weight"], parent.state[f"{HEAD}bias"], parent.alphabet,
                module.alphabet, generator)
