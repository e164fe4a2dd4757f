"""Hierarchical MDLSTM encoder for text-line images (Graves & Schmidhuber 2009; Pham et al. 2014).

Shapes: B batch, C channels, H x W image, T output frames, F = ``output_size``.

The network of Pham et al. (2014, "Dropout improves recurrent neural networks
for handwriting recognition", Fig. 1), itself the hierarchy of Graves &
Schmidhuber (2009):

    input (B, C, H, W)
    -> tile 2 x 2 blocks into channels                   (B, 4C, H/2, W/2)
    -> MDLSTM, 4 directions, 2 units                     -> dropout
    -> Conv2d 6 features, kernel = stride = pool[0], tanh   (subsampling)
    -> MDLSTM, 4 directions, 10 units                    -> dropout
    -> Conv2d 20 features, kernel = stride = pool[1], tanh
    -> MDLSTM, 4 directions, 50 units                    -> dropout
    -> collapse: sum over the remaining height           (B, T, F)

Choices and where they come from:

* Pham et al. feed each direction of an MDLSTM to its own convolution and
  sum the four results before the tanh ("Sum & Tanh"); that is exactly one
  convolution over the concatenated directions, so ``merge="concat"`` is the
  default and the encoder's output (B, T, 4 * 50) followed by the CTC head's
  linear layer equals their four fully-connected layers summed. ``merge="sum"``
  adds the directions first (fewer features, cheaper convolutions).
* Pham et al. subsample with 2 x 4 windows (32x fewer frames than pixels
  overall). The default here is 2 x 2 (8x): a line normalised to a modest
  height then keeps several frames per character, which CTC needs (a label
  repeated twice needs a blank frame between). ``pool=((2, 4), (2, 4))``
  gives their setting.
* Dropout (Pham et al.) acts on the outputs of the MDLSTM layers only, never
  on the recurrent connections.
* The collapse sums over height, as Graves (2009) does before the output layer.

Widths and padding: every stage rounds up (a partial block at the right edge of
an item is kept), so an item of width w gives ``ceil(w / s)`` frames, with
s = tile width x the pool widths. Each MDLSTM is told the valid size of every
item, zeroes the rest, and its padding never reaches valid cells, so an item's
features over its valid frames do not depend on the rest of the batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.errors import ConfigError
from seqlab.nn.mdlstm import MDLSTM
from seqlab.nn.inputs import as_image, image_height


def _ceil_div(a: Tensor | int, b: int) -> Tensor | int:
    return -(-a // b)

# cell option -> peepholes of the 2-D cell
MDLSTM_CELLS = {"lstm": False, "peephole": True}


class HierarchicalMDLSTMEncoder(nn.Module):
    """MDLSTM / subsampling-convolution hierarchy; see the module docstring.

    Args:
        input_size: features per step, C x H: the image height every batch
            must have times the channels, or the features per frame of speech
            (read as a C-channel spectrogram image, :mod:`seqlab.nn.inputs`);
            None accepts images of any height.
        input_channels: C of the input images (1 for grey levels, ink = 1).
        hidden_sizes: units per direction of each MDLSTM layer.
        conv_channels: features of the subsampling convolution after each
            MDLSTM layer but the last (one fewer than ``hidden_sizes``).
        pool: (kh, kw) kernel = stride of each of those convolutions.
        tile: (th, tw) blocks of pixels stacked into channels first.
        dropout: on the output of every MDLSTM layer (Pham et al. use 0.5).
        peephole: MDLSTM cells with peephole weights.
        cell: the project-wide cell option, for configs shared with the other
            encoders: ``lstm`` (no peepholes) or ``peephole``; None leaves
            ``peephole`` as given. The other LSTM variants and GRU are not
            implemented for the 2-D cell.
        merge: how the four directions are combined, "concat" or "sum".
        forget_bias: initial bias of both forget gates of every MDLSTM layer.
            A 2-D cell adds up its two predecessors' cells, so at 1.0
            (sigmoid = 0.73 per gate) c grows along the diagonals and a small
            network sits on CTC's all-blank plateau for many epochs; 0.0
            (0.5 + 0.5) keeps c bounded.

    Attributes:
        output_size: F, features per frame.
        subsampling: (total vertical, total horizontal) reduction factor.
        inference_workers: batches it is best recognised in at once on the CPU
            (:class:`seqlab.workers.Workers`): 1, since its loop over the
            anti-diagonals is many small operations, each handed over by Python
            under its lock; two batches on two threads were 3-8 % slower than one
            on both (docs/benchmarks.md, "Transcription on every core").
    """

    inference_workers = 1

    def __init__(
        self,
        input_size: int | None = None,
        input_channels: int = 1,
        hidden_sizes: Sequence[int] = (2, 10, 50),
        conv_channels: Sequence[int] = (6, 20),
        pool: Sequence[Sequence[int]] = ((2, 2), (2, 2)),
        tile: Sequence[int] = (2, 2),
        dropout: float = 0.0,
        peephole: bool = False,
        merge: str = "concat",
        cell: str | None = None,
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__()
        if cell is not None:
            if cell not in MDLSTM_CELLS:
                raise ConfigError(
                    f"the MDLSTM encoder takes cell={'|'.join(MDLSTM_CELLS)}, got {cell!r}; "
                    "the other LSTM variants exist for the 1-D encoders (BLSTM, CRNN) only"
                )
            peephole = MDLSTM_CELLS[cell]
        hidden_sizes = tuple(int(n) for n in hidden_sizes)
        conv_channels = tuple(int(n) for n in conv_channels)
        pool = tuple((int(p[0]), int(p[1])) for p in pool)
        tile = (int(tile[0]), int(tile[1]))
        if not hidden_sizes:
            raise ConfigError("HierarchicalMDLSTMEncoder: hidden_sizes must name at least one layer")
        if len(conv_channels) != len(hidden_sizes) - 1 or len(pool) != len(conv_channels):
            raise ConfigError(
                "HierarchicalMDLSTMEncoder: need one conv_channels entry and one pool entry between "
                f"consecutive MDLSTM layers; got {len(hidden_sizes)} hidden_sizes, "
                f"{len(conv_channels)} conv_channels and {len(pool)} pool entries"
            )
        if min(*tile, *(k for p in pool for k in p)) < 1:
            raise ConfigError(f"HierarchicalMDLSTMEncoder: tile {tile} and pool {pool} must be >= 1")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"HierarchicalMDLSTMEncoder: dropout must be in [0, 1), got {dropout}")
        self.input_size = input_size
        self.input_channels = input_channels
        self.input_height = image_height("HierarchicalMDLSTMEncoder", input_size, input_channels)
        self.tile = tile
        self.pool = pool
        self.subsampling = (
            tile[0] * math.prod(p[0] for p in pool),
            tile[1] * math.prod(p[1] for p in pool),
        )

        self.lstms = nn.ModuleList()
        self.convs = nn.ModuleList()
        channels = input_channels * tile[0] * tile[1]
        for k, hidden in enumerate(hidden_sizes):
            lstm = MDLSTM(channels, hidden, directions=4, merge=merge, peephole=peephole, forget_bias=forget_bias)
            self.lstms.append(lstm)
            if k < len(conv_channels):
                self.convs.append(nn.Conv2d(lstm.output_size, conv_channels[k], pool[k], stride=pool[k]))
                channels = conv_channels[k]
        self.dropout = nn.Dropout(dropout)
        self.output_size = self.lstms[-1].output_size

    def recurrent_layers(self) -> list[list[nn.Parameter]]:
        """Each MDLSTM layer's parameters with those of the convolution that follows it, input side first."""
        layers = [list(lstm.parameters()) for lstm in self.lstms]
        for k, conv in enumerate(self.convs):
            layers[k] += list(conv.parameters())
        return layers

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Encode a batch: ``x`` and ``lengths`` as :func:`seqlab.nn.inputs.as_image` takes them.

        Args:
            x: (B, C, H, W) images (ink = 1, zero-padded right) or (B, T, F) frames.
            lengths: (B,) long, each item's valid width (pixels or frames).

        Returns:
            features: (B, T, F) with T = ceil(W / s), s = ``subsampling[1]``;
                frames past an item's length are 0.
            out_lengths: (B,) long, ceil(lengths / s).
        """
        x = as_image("HierarchicalMDLSTMEncoder", x, lengths, self.input_channels, self.input_height)
        if bool(((lengths < 1) | (lengths > x.shape[3])).any()):
            raise ConfigError(f"HierarchicalMDLSTMEncoder: every length must be in 1..{x.shape[3]} (the padded "
                              f"width), got {lengths.tolist()}")
        b, _, h, w = x.shape
        lengths = lengths.to(device=x.device, dtype=torch.long)
        cols = torch.arange(w, device=x.device) < lengths[:, None]  # (B, W)
        x = torch.where(cols[:, None, None, :], x, 0.0)  # padding is zero whatever came in

        # Pad to whole blocks of the total subsampling so every stage divides exactly.
        sv, sw = self.subsampling
        x = F.pad(x, (0, _ceil_div(w, sw) * sw - w, 0, _ceil_div(h, sv) * sv - h))
        th, tw = self.tile
        x = self._tile(x)  # (B, C * th * tw, H / th, W / tw)
        height, widths = _ceil_div(h, th), _ceil_div(lengths, tw)

        for k, lstm in enumerate(self.lstms):
            sizes = torch.stack([torch.full_like(widths, height), widths], dim=1)  # (B, 2)
            x = self.dropout(lstm(x, sizes))  # (B, F_k, H_k, W_k), 0 outside each item
            if k < len(self.convs):
                kh, kw = self.pool[k]
                x = torch.tanh(self.convs[k](x))  # (B, C_k, H_k / kh, W_k / kw)
                height, widths = _ceil_div(height, kh), _ceil_div(widths, kw)
        features = x.sum(dim=2).transpose(1, 2)  # (B, F, H', T) -> (B, F, T) -> (B, T, F)
        return features, widths

    def _tile(self, x: Tensor) -> Tensor:
        """Stack (th, tw) blocks into channels: (B, C, H, W) -> (B, C * th * tw, H / th, W / tw)."""
        th, tw = self.tile
        b, c, h, w = x.shape
        x = x.reshape(b, c, h // th, th, w // tw, tw)  # (B, C, H', th, W', tw)
        x = x.permute(0, 1, 3, 5, 2, 4)  # (B, C, th, tw, H', W')
        return x.reshape(b, c * th * tw, h // th, w // tw)
