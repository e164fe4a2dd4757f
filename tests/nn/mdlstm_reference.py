"""Slow per-pixel reference of :class:`seqlab.nn.mdlstm.MDLSTM` (tests and benchmarks only).

Shapes: B batch, C channels, H x W image, D directions, N hidden size.

Written to be obviously right rather than fast: no flipping and no skewing.
Each direction walks the pixels in its own scan order with a double loop over
(i, j), takes its predecessors by index arithmetic, and evaluates the equations
of the ``seqlab.nn.mdlstm`` module docstring one by one. Each item is cropped to
its own valid size first (items of the same size are run together), so padding
cannot influence it by construction.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from seqlab.nn.mdlstm import MDLSTM

# Origin -> (scan starts at the bottom, scan starts at the right).
_ORIGIN_FROM = {
    "top-left": (False, False),
    "top-right": (False, True),
    "bottom-left": (True, False),
    "bottom-right": (True, True),
}


def reference_mdlstm(layer: MDLSTM, x: Tensor, sizes: Tensor | None = None) -> Tensor:
    """Same contract as ``layer(x, sizes)``: (B, C, H, W) -> (B, D*N or N, H, W), 0 on padding."""
    b, _, h, w = x.shape
    if sizes is None:
        sizes = torch.tensor([[h, w]] * b)
    groups: dict[tuple[int, int], list[int]] = {}
    for k, (hk, wk) in enumerate(sizes.tolist()):
        groups.setdefault((hk, wk), []).append(k)
    per_item: dict[int, Tensor] = {}
    for (hk, wk), items in groups.items():
        if hk == 0 or wk == 0:
            for k in items:
                per_item[k] = x.new_zeros(layer.output_size, h, w)
            continue
        crop = x[items, :, :hk, :wk]  # (b', C, hk, wk)
        outs = [
            _scan_direction(layer, d, crop, *_ORIGIN_FROM[origin]) for d, origin in enumerate(layer.origins)
        ]  # D x (b', N, hk, wk)
        y = torch.cat(outs, dim=1) if layer.merge == "concat" else torch.stack(outs).sum(0)
        y = F.pad(y, (0, w - wk, 0, h - hk))  # (b', D*N or N, H, W), zeros on padding
        for row, k in enumerate(items):
            per_item[k] = y[row]
    return torch.stack([per_item[k] for k in range(b)])


def _scan_direction(layer: MDLSTM, d: int, x: Tensor, from_bottom: bool, from_right: bool) -> Tensor:
    """One direction over a batch of equal-size items: (b, C, h, w) -> (b, N, h, w)."""
    b, _, h, w = x.shape
    n = layer.hidden_size
    w_x = layer.weight_ih[d]  # (5N, C)
    u_v, u_u = layer.weight_hh[d][:, :n], layer.weight_hh[d][:, n:]  # (5N, N) each
    bias = layer.bias[d]  # (5N,)
    peep = layer.peephole_weight[d] if layer.peephole else None  # (4, N): p_i, p_fv, p_fu, p_o
    zero = x.new_zeros(b, n)
    # Predecessors along the scan: vertical v = (i - di, j), horizontal u = (i, j - dj).
    di = -1 if from_bottom else 1
    dj = -1 if from_right else 1
    rows = range(h - 1, -1, -1) if from_bottom else range(h)
    cols = range(w - 1, -1, -1) if from_right else range(w)
    hs: dict[tuple[int, int], Tensor] = {}
    cs: dict[tuple[int, int], Tensor] = {}
    for i in rows:
        for j in cols:
            h_v, c_v = hs.get((i - di, j), zero), cs.get((i - di, j), zero)
            h_u, c_u = hs.get((i, j - dj), zero), cs.get((i, j - dj), zero)
            a = x[:, :, i, j] @ w_x.T + h_v @ u_v.T + h_u @ u_u.T + bias  # (b, 5N)
            a_i, a_fv, a_fu, a_o, a_g = a.split(n, dim=1)
            if peep is not None:
                a_i = a_i + peep[0] * (c_v + c_u)
                a_fv = a_fv + peep[1] * c_v
                a_fu = a_fu + peep[2] * c_u
            gate_i = torch.sigmoid(a_i)
            f_v = torch.sigmoid(a_fv)
            f_u = torch.sigmoid(a_fu)
            g = torch.tanh(a_g)
            c = f_v * c_v + f_u * c_u + gate_i * g
            if peep is not None:
                a_o = a_o + peep[3] * c
            o = torch.sigmoid(a_o)
            hs[i, j] = o * torch.tanh(c)
            cs[i, j] = c
    # (b, N) per pixel -> (b, N, h, w)
    return torch.stack([torch.stack([hs[i, j] for j in range(w)], dim=-1) for i in range(h)], dim=-2)
