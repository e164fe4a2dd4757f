"""Deep bidirectional recurrent encoder (Graves et al. 2013, Graves 2008 for lines).

Reads a sequence of feature frames, or an image as a sequence of its pixel
columns (Graves' offline handwriting setup), optionally stacking adjacent
frames to shorten long inputs, through a stack of bidirectional recurrent layers.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlab.errors import ConfigError

# ``lstm`` and ``gru`` are torch's fused layers (cuDNN on GPU); every other
# cell name is a variant of seqlab's own LSTM (peepholes and Greff et al. 2017).
TORCH_CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


def image_to_frames(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) image -> (B, W, C*H): one frame per pixel column."""
    b, c, h, w = x.shape
    return x.permute(0, 3, 1, 2).reshape(b, w, c * h)  # (B, C, H, W) -> (B, W, C*H)


def stack_frames(x: torch.Tensor, lengths: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Concatenate each run of ``k`` frames: (B, T, F) -> (B, ceil(T/k), k*F).

    Frames past an item's length are zero, so the last (partial) stack of an
    item is zero-padded the same way whatever else is in the batch.
    """
    if k == 1:
        return x, lengths
    b, t, f = x.shape
    pad = (-t) % k
    if pad:
        x = torch.nn.functional.pad(x, (0, 0, 0, pad))
    x = x.reshape(b, (t + pad) // k, k * f)  # (B, T, F) -> (B, T/k, k*F)
    return x, torch.div(lengths + k - 1, k, rounding_mode="floor")


class BLSTMEncoder(nn.Module):
    """Stacked bidirectional LSTM (or GRU, or a seqlab LSTM variant) over frames.

    Args:
        input_size: F, features per frame; for images, channels x height.
        hidden_size: units per direction.
        num_layers: recurrent layers.
        dropout: dropout between layers and on the output (Graves 2013 used
            weight noise instead; Puigcerver 2017 dropout 0.5 before every layer).
        input_dropout: dropout on the (stacked) input frames.
        frame_stack: concatenate this many adjacent frames first (subsampling
            in time by the same factor).
        bidirectional: False for a unidirectional encoder.
        cell: ``lstm`` (torch / cuDNN), ``gru``, or a custom LSTM variant
            (``peephole``, or a Greff et al. 2017 preset name) run by
            :class:`seqlab.nn.custom_lstm.CustomLSTM`.
        cell_options: flags for the custom LSTM (``forget_bias``, ``peephole``, ...).

    Shapes:
        forward(x, lengths): x is (B, T, F) frames or (B, C, H, W) images read
        column by column (then T = W and F = C*H); lengths (B,) valid frames.
        Returns (B, T', 2*hidden) features and (B,) lengths, T' = ceil(T / frame_stack);
        features past an item's length are zero.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 256,
        num_layers: int = 3,
        dropout: float = 0.0,
        input_dropout: float = 0.0,
        frame_stack: int = 1,
        bidirectional: bool = True,
        cell: str = "lstm",
        cell_options: dict | None = None,
    ) -> None:
        super().__init__()
        if frame_stack < 1:
            raise ConfigError(f"frame_stack must be >= 1, got {frame_stack}")
        self.input_size = input_size
        self.frame_stack = frame_stack
        self.cell = cell
        rnn_input = input_size * frame_stack
        self.input_dropout = nn.Dropout(input_dropout) if input_dropout > 0 else nn.Identity()
        if cell in TORCH_CELLS:
            if cell_options:
                raise ConfigError(f"cell={cell!r} takes no cell_options (got {sorted(cell_options)})")
            self.rnn = TORCH_CELLS[cell](
                rnn_input, hidden_size, num_layers=num_layers, batch_first=True,
                bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0,
            )
            self._packed = True
        else:
            from seqlab.nn.custom_lstm import CustomLSTM

            self.rnn = CustomLSTM(
                rnn_input, hidden_size, num_layers=num_layers, bidirectional=bidirectional,
                dropout=dropout if num_layers > 1 else 0.0,
                variant="vanilla" if cell == "peephole" else cell, **(cell_options or {}),
            )
            self._packed = False
        self.output_dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.output_size = hidden_size * (2 if bidirectional else 1)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return torch.div(lengths + self.frame_stack - 1, self.frame_stack, rounding_mode="floor")

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() == 4:
            x = image_to_frames(x)
        if x.size(-1) != self.input_size:
            raise ConfigError(
                f"encoder expects {self.input_size} features per frame, got {x.size(-1)}; "
                "set model.encoder.input_size to the data's feature size (image height x channels)"
            )
        x, lengths = stack_frames(x, lengths, self.frame_stack)
        x = self.input_dropout(x)
        t = x.size(1)
        if self._packed:
            # Packing keeps padding out of both directions (the backward pass
            # of each item starts at its own last frame).
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            y, _ = self.rnn(packed)
            y, _ = pad_packed_sequence(y, batch_first=True, total_length=t)
        else:
            y = self.rnn(x, lengths)
        return self.output_dropout(y), lengths
