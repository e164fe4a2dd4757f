"""The recurrent encoder: deep bidirectional LSTM (Graves et al. 2013, Graves 2008 for lines), GRU,
peephole and Greff et al. LSTM variants, bidirectional or not.

Reads a sequence of feature frames, or an image as a sequence of its pixel
columns (Graves' offline handwriting setup), optionally stacking adjacent
frames to shorten long inputs, through a stack of bidirectional recurrent layers.
"""

from __future__ import annotations

import torch
from torch import nn

from seqlab.errors import ConfigError

# ``lstm`` and ``gru`` are torch's fused layers (cuDNN on GPU); every other
# cell name is a variant of seqlab's own LSTM (peepholes and Greff et al. 2017).
TORCH_CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


def image_to_frames(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) image -> (B, W, C*H): one frame per pixel column."""
    b, c, h, w = x.shape
    return x.permute(0, 3, 1, 2).reshape(b, w, c * h)  # (B, C, H, W) -> (B, W, C*H)


def reverse_within_lengths(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each item's first ``lengths[b]`` frames, leave its padding in place.

    (B, T, F) -> (B, T, F); applying it twice gives ``x`` back.
    """
    b, t, f = x.shape
    steps = torch.arange(t, device=x.device).expand(b, t)
    last = (lengths.to(x.device) - 1).unsqueeze(1)
    index = torch.where(steps <= last, last - steps, steps)  # (B, T): the frame each position takes
    # rows of the flattened (B*T, F) batch: index_select moves whole frames, 3-16x faster on the
    # CPU than a gather with the index expanded over F (benchmarks: docs/benchmarks.md, "bf16")
    rows = (index + torch.arange(b, device=x.device).unsqueeze(1) * t).reshape(-1)
    return x.reshape(b * t, f).index_select(0, rows).view(b, t, f)


def time_mask(lengths: torch.Tensor, t: int) -> torch.Tensor:
    """(B,) lengths -> (B, T, 1) float mask, 1 on valid frames."""
    return (torch.arange(t, device=lengths.device) < lengths.unsqueeze(1)).unsqueeze(-1)


class BidirectionalLayer(nn.Module):
    """One bidirectional layer from two unidirectional torch RNNs.

    The forward RNN runs over the padded batch as it is (padding comes after
    every valid frame, so it cannot reach them); the backward RNN runs over each
    item reversed within its own length, so it starts at the item's last frame.
    Dense calls instead of packed sequences: on the CPU, the backward pass of a
    packed ``nn.LSTM`` is over 10x slower than a dense one (oneDNN); on the GPU
    both are cuDNN.
    """

    def __init__(self, rnn: type[nn.Module], input_size: int, hidden_size: int, bidirectional: bool) -> None:
        super().__init__()
        self.fwd = rnn(input_size, hidden_size, batch_first=True)
        self.bwd = rnn(input_size, hidden_size, batch_first=True) if bidirectional else None

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, F) -> (B, T, D*hidden), zero past each item's length."""
        y, _ = self.fwd(x)
        if self.bwd is not None:
            r, _ = self.bwd(reverse_within_lengths(x, lengths))
            y = torch.cat([y, reverse_within_lengths(r, lengths)], dim=-1)
        return y * time_mask(lengths, x.size(1)).to(y.dtype)


class TorchRNN(nn.Module):
    """Stack of :class:`BidirectionalLayer` with dropout between layers.

    Shapes: forward(x (B, T, F), lengths (B,)) -> (B, T, D*hidden).
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_layers: int,
                 bidirectional: bool, dropout: float) -> None:
        super().__init__()
        d = 2 if bidirectional else 1
        self.layers = nn.ModuleList(
            BidirectionalLayer(TORCH_CELLS[cell], input_size if i == 0 else d * hidden_size, hidden_size, bidirectional)
            for i in range(num_layers)
        )
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(self.dropout(x) if i else x, lengths)
        return x


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


class RecurrentEncoder(nn.Module):
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
        cell: ``lstm`` (torch's fused LSTM: oneDNN on CPU, cuDNN on GPU), ``gru``,
            or a custom LSTM variant (``peephole``, or a Greff et al. 2017 preset
            name) run by :class:`seqlab.nn.custom_lstm.CustomLSTM`.
        cell_options: flags for the custom LSTM (``forget_bias``, ``peephole``, ...).

    Shapes:
        forward(x, lengths): x is (B, T, F) frames or (B, C, H, W) images read
        column by column (then T = W and F = C*H); lengths (B,) valid frames.
        Returns (B, T', D*hidden) features and (B,) lengths, T' = ceil(T / frame_stack);
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
        between = dropout if num_layers > 1 else 0.0
        self.input_dropout = nn.Dropout(input_dropout) if input_dropout > 0 else nn.Identity()
        if cell in TORCH_CELLS:
            if cell_options:
                raise ConfigError(f"cell={cell!r} takes no cell_options (got {sorted(cell_options)})")
            self.rnn = TorchRNN(cell, rnn_input, hidden_size, num_layers, bidirectional, between)
        else:
            from seqlab.nn.custom_lstm import CustomLSTM

            self.rnn = CustomLSTM(
                rnn_input, hidden_size, num_layers=num_layers, bidirectional=bidirectional,
                dropout=between, variant="vanilla" if cell == "peephole" else cell, **(cell_options or {}),
            )
        self.output_dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.output_size = hidden_size * (2 if bidirectional else 1)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return torch.div(lengths + self.frame_stack - 1, self.frame_stack, rounding_mode="floor")

    def recurrent_layers(self) -> list[list[nn.Parameter]]:
        """Each recurrent layer's parameters, input side first (fine-tuning trains the last N)."""
        if isinstance(self.rnn, TorchRNN):
            return [list(layer.parameters()) for layer in self.rnn.layers]
        return [[p for p in self.rnn.layer_parameters(k).values() if p is not None]
                for k in range(self.rnn.num_layers)]

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() == 4:
            x = image_to_frames(x)
        if x.size(-1) != self.input_size:
            raise ConfigError(
                f"encoder expects {self.input_size} features per frame, got {x.size(-1)}; "
                "set model.encoder.input_size to the data's feature size (image height x channels)"
            )
        x, lengths = stack_frames(x, lengths, self.frame_stack)
        y = self.rnn(self.input_dropout(x), lengths)
        return self.output_dropout(y), lengths

    def streaming_problem(self) -> str | None:
        """Why this encoder cannot run chunk by chunk with :meth:`step` (None: it can)."""
        if not isinstance(self.rnn, TorchRNN):
            return (f"its {self.cell} cells run through seqlab's own LSTM, which takes no carried state; "
                    "train with model.encoder.cell=lstm or gru")
        if any(layer.bwd is not None for layer in self.rnn.layers):
            return ("it is bidirectional: its backward layers read each input from its end, so nothing can be "
                    "emitted before the audio is complete; train a unidirectional model "
                    "(model.encoder.bidirectional=false, e.g. experiment=timit_cpu_streaming)")
        return None

    def step(self, x: torch.Tensor, state: list | None = None) -> tuple[torch.Tensor, list]:
        """Run stacked frames through a unidirectional encoder, carrying the recurrent state (eval mode).

        Shapes: x (1, T, frame_stack * F): frames already stacked (:func:`stack_frames`);
        returns (1, T, hidden) and the state to pass with the next chunk. Feeding an
        input in chunks gives the outputs of one :meth:`forward` over it.
        """
        problem = self.streaming_problem()
        if problem:
            raise ConfigError(f"this encoder cannot stream: {problem}")
        state = state or [None] * len(self.rnn.layers)
        out = []
        for layer, h in zip(self.rnn.layers, state):
            x, h = layer.fwd(x, h)
            out.append(h)
        return x, out
