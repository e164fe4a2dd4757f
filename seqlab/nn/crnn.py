"""Convolutional + bidirectional recurrent encoder for text lines (Puigcerver 2017).

Shapes: B batch, C channels, H x W image, T output frames, F = ``output_size``.

J. Puigcerver, "Are multidimensional recurrent layers really necessary for
handwritten text recognition?", ICDAR 2017 (the Laia ``egs/iam`` model):

    input (B, 1, 128, W), ink = 1 (or speech frames (B, T, F) as (B, 1, F, T))
    -> 5 conv blocks: [dropout] Conv2d 3x3 (16, 32, 48, 64, 80 filters, stride 1,
       same padding) -> BatchNorm -> LeakyReLU -> [MaxPool 2x2 after blocks 1-3]
       dropout 0.2 before blocks 3, 4 and 5
    -> (B, 80, 16, W / 8) read column by column: (B, W / 8, 80 * 16)
    -> 5 BLSTM layers of 256 units per direction, dropout 0.5 before each
       layer and before the output layer                   (B, T, 512)

The recurrent part is :class:`seqlab.nn.RecurrentEncoder`, so ``cell`` (``lstm``,
``gru``, ``peephole``, a Greff et al. preset) and ``cell_options`` choose its
recurrent unit. Channels, pooling, depth and widths are arguments, so the same
class builds the paper's network and a CPU-sized one.

Widths and padding: max-pooling floors, so an item of width w gives
``floor(w / s)`` frames (s the product of the pool widths, 8 in the paper), the
same rule as ``nn.MaxPool2d``. After every block the feature map is zeroed past
each item's valid width, so what lies right of an item (zero padding, or the
garbage a 3x3 convolution, batch norm and a pooling window spread into it)
never reaches the item's next block: in eval mode an item's valid output does
not depend on the rest of the batch. (In training mode batch norm uses batch
statistics, which depend on the batch by design.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from seqlab.errors import ConfigError
from seqlab.nn.recurrent import RecurrentEncoder, time_mask
from seqlab.nn.inputs import as_image, image_height


def _conv_dropouts(value: float | Sequence[float], n: int) -> tuple[float, ...]:
    """Dropout before each of ``n`` conv blocks.

    A scalar goes where Puigcerver puts it: before every block but the first two.
    """
    if isinstance(value, (int, float)):
        return tuple(0.0 if k < 2 else float(value) for k in range(n))
    values = tuple(float(v) for v in value)
    if len(values) != n:
        raise ConfigError(f"CRNNEncoder: conv_dropout needs one value per conv block ({n}), got {len(values)}")
    return values


def width_mask(lengths: Tensor, width: int) -> Tensor:
    """(B,) valid widths -> (B, 1, 1, W) mask, True on valid columns."""
    return (torch.arange(width, device=lengths.device) < lengths[:, None])[:, None, None, :]


class ConvBlock(nn.Module):
    """[Dropout] -> Conv2d 3x3 -> [BatchNorm] -> LeakyReLU -> [MaxPool].

    Shapes: (B, C_in, H, W) -> (B, C_out, floor(H / kh), floor(W / kw)).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, pool: tuple[int, int],
                 dropout: float, batch_norm: bool, negative_slope: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        # no conv bias before batch norm: its shift would be removed by the mean
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=not batch_norm)
        self.norm = nn.BatchNorm2d(out_channels) if batch_norm else nn.Identity()
        self.act = nn.LeakyReLU(negative_slope)
        self.pool_size = pool
        self.pool = nn.MaxPool2d(pool) if pool != (1, 1) else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.act(self.norm(self.conv(self.dropout(x)))))


class CRNNEncoder(nn.Module):
    """Puigcerver's (2017) conv + BLSTM encoder; see the module docstring.

    Args:
        input_size: features per step, C x H: the image height every batch
            must have times the channels (the paper: 128 x 1), or the features
            per frame of speech (read as a C-channel spectrogram image,
            :mod:`seqlab.nn.inputs`).
        input_channels: C of the input images (1 for grey levels).
        channels: filters of each conv block.
        pool: (kh, kw) max-pooling after each block, (1, 1) for none; one
            pair per block.
        kernel_size: of every convolution (odd; same padding).
        conv_dropout: dropout before the conv blocks: a scalar goes before
            every block from the third on (paper: 0.2 before blocks 3, 4, 5),
            a list gives one value per block.
        batch_norm: batch normalisation after each convolution.
        negative_slope: of the leaky ReLU.
        hidden_size: BLSTM units per direction.
        num_layers: BLSTM layers.
        rnn_dropout: dropout before every BLSTM layer and on the output (paper: 0.5).
        cell: recurrent unit of the BLSTM (see :class:`RecurrentEncoder`).
        cell_options: options of a custom LSTM cell.

    Attributes:
        output_size: F = 2 * hidden_size.
        subsampling: (vertical, horizontal) reduction factor of the conv part.
    """

    def __init__(
        self,
        input_size: int = 128,
        input_channels: int = 1,
        channels: Sequence[int] = (16, 32, 48, 64, 80),
        pool: Sequence[Sequence[int]] = ((2, 2), (2, 2), (2, 2), (1, 1), (1, 1)),
        kernel_size: int = 3,
        conv_dropout: float | Sequence[float] = 0.2,
        batch_norm: bool = True,
        negative_slope: float = 0.01,
        hidden_size: int = 256,
        num_layers: int = 5,
        rnn_dropout: float = 0.5,
        cell: str = "lstm",
        cell_options: dict | None = None,
    ) -> None:
        super().__init__()
        channels = tuple(int(c) for c in channels)
        pool = tuple((int(p[0]), int(p[1])) for p in pool)
        if not channels:
            raise ConfigError("CRNNEncoder: channels must name at least one conv block")
        if len(pool) != len(channels):
            raise ConfigError(
                f"CRNNEncoder: pool needs one (kh, kw) pair per conv block ({len(channels)}), got {len(pool)}"
            )
        if min(k for p in pool for k in p) < 1 or kernel_size < 1 or kernel_size % 2 == 0:
            raise ConfigError(f"CRNNEncoder: pool sizes must be >= 1 and kernel_size odd, got {pool}, {kernel_size}")
        input_height = image_height("CRNNEncoder", input_size, input_channels)
        dropouts = _conv_dropouts(conv_dropout, len(channels))
        self.subsampling = (math.prod(p[0] for p in pool), math.prod(p[1] for p in pool))
        out_height = input_height // self.subsampling[0]
        if out_height < 1:
            raise ConfigError(
                f"CRNNEncoder: input height {input_height} is smaller than the vertical pooling "
                f"{self.subsampling[0]}; raise data.height or pool less"
            )
        self.input_size = input_size
        self.input_height = input_height
        self.input_channels = input_channels
        self.blocks = nn.ModuleList()
        c_in = input_channels
        for c_out, p, d in zip(channels, pool, dropouts):
            self.blocks.append(ConvBlock(c_in, c_out, kernel_size, p, d, batch_norm, negative_slope))
            c_in = c_out
        # channels-last filters: oneDNN's convolutions and max-pooling then run in NHWC, 15-25 % faster
        # training steps on the CPU (docs/benchmarks.md, "Same-architecture race against Kraken")
        self.blocks.to(memory_format=torch.channels_last)
        self.rnn = RecurrentEncoder(
            input_size=channels[-1] * out_height,
            hidden_size=hidden_size,
            num_layers=num_layers,
            dropout=rnn_dropout,
            input_dropout=rnn_dropout,
            cell=cell,
            cell_options=cell_options,
        )
        self.output_size = self.rnn.output_size

    def recurrent_layers(self) -> list[list[nn.Parameter]]:
        """Each BLSTM layer's parameters, input side first (the convolutions are not recurrent)."""
        return self.rnn.recurrent_layers()

    def output_lengths(self, lengths: Tensor) -> Tensor:
        """(B,) input widths -> (B,) frames: each pooling floors."""
        for block in self.blocks:
            lengths = torch.div(lengths, block.pool_size[1], rounding_mode="floor")
        return lengths

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Encode a batch of lines (or of spectrograms).

        Args:
            x, lengths: (B, C, H, W) images (ink = 1) or (B, T, F) frames, zero-padded on the
                right, and their (B,) valid widths; see :func:`seqlab.nn.inputs.as_image`.

        Returns:
            features: (B, T, F) with T = floor(W / s), s = ``subsampling[1]``;
                frames past an item's length are 0.
            out_lengths: (B,) long, floor(lengths / s) (0 for an image
                narrower than s: CTC cannot use it).
        """
        x = as_image("CRNNEncoder", x, lengths, self.input_channels, self.input_height)  # (B, C, H, W)
        if x.shape[3] < self.subsampling[1]:
            raise ConfigError(f"CRNNEncoder: inputs {x.shape[3]} steps wide give no frame after pooling by "
                              f"{self.subsampling[1]}; pad narrow lines or pool less")
        lengths = lengths.to(device=x.device, dtype=torch.long)
        x = x.contiguous(memory_format=torch.channels_last)  # as the filters are
        x = x * width_mask(lengths, x.size(-1)).to(x.dtype)  # padding is zero whatever came in
        for block in self.blocks:
            x = block(x)  # (B, C_k, H_k, W_k)
            lengths = torch.div(lengths, block.pool_size[1], rounding_mode="floor")
            x = x * width_mask(lengths, x.size(-1)).to(x.dtype)  # nothing right of an item reaches the next block
        # RecurrentEncoder reads (B, C, H', T) column by column: frames (B, T, C * H')
        # (an item narrower than s has no frame; the RNN runs it as one, then it is zeroed)
        features, _ = self.rnn(x, lengths.clamp(min=1))
        features = features * time_mask(lengths, features.size(1)).to(features.dtype)
        return features, lengths
