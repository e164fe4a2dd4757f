"""Multidimensional (2-D) LSTM over images, Graves & Schmidhuber (2009), in plain PyTorch.

Shapes: B batch, C input channels, H x W image, D scan directions, N hidden size
(units per direction), T = H + W - 1 anti-diagonals, G = 5 N gate pre-activations.

The cell (Graves 2012, "Supervised Sequence Labelling with Recurrent Neural
Networks", ch. 8, multidimensional LSTM; Graves & Schmidhuber 2009). In the scan
frame of one direction, pixel (i, j) has a vertical predecessor v = (i-1, j) and
a horizontal predecessor u = (i, j-1); a missing predecessor (first row, first
column, or outside the item's valid region) has h = c = 0::

    a       = W x[i,j] + U_v h_v + U_u h_u + b                 (5 N pre-activations)
    i       = sigmoid(a_i  + p_i  * (c_v + c_u))                input gate
    f_v     = sigmoid(a_fv + p_fv * c_v)                        forget gate, vertical axis
    f_u     = sigmoid(a_fu + p_fu * c_u)                        forget gate, horizontal axis
    g       = tanh(a_g)                                         cell input
    c[i,j]  = f_v * c_v + f_u * c_u + i * g
    o       = sigmoid(a_o + p_o * c[i,j])                       output gate
    h[i,j]  = o * tanh(c[i,j])

``*`` is elementwise; p_* are the diagonal peephole weights (present only with
``peephole=True``, otherwise 0). As in Graves' thesis, the input gate has one
peephole weight applied to the sum of both predecessors' cells, each forget
gate sees only the cell of its own axis, and the output gate sees the new cell.
Each direction has its own W, U_v, U_u, b, p.

Directions: the image is scanned from each of its corners (top-left,
top-right, bottom-left, bottom-right origins); "vertical/horizontal predecessor"
is meant along the scan, e.g. for the bottom-right origin v = (i+1, j) and
u = (i, j+1).

Fast scheme (rnn2d by Puigcerver; RETURNN by Voigtlaender et al. 2016;
multi-hare, arXiv 1902.11208): every cell of an anti-diagonal depends only on
the previous anti-diagonal, so

1. the input (with the bias as an extra channel) is flipped into the D scan
   frames, stacked on a new leading axis, and skewed (row i shifted right by i)
   so that anti-diagonals become columns;
2. a loop over the T = H + W - 1 columns does, per step, ONE batched product
   ``[h_v, h_u, x, 1] @ [U_v; U_u; W; b]`` for all cells of the diagonal, all
   items and all directions, plus about ten elementwise ops; rows of a column
   that lie outside the image (the triangles the skew adds) are skipped;
3. the result is unskewed (a strided view) and unflipped.

The input projection rides along in the per-step product (K = 2N + C + 1
instead of 2N) rather than being one big product before the loop: the FLOPs
are the same, but the (D, T, B*H, 5N) pre-activation tensor and its gradient
(188 MB each at 8 x 32 x 256, N = 32; 20 N floats per pixel) are never
materialised, which was about a fifth of the forward + backward time on a
2-core CPU. The backward pass is hand-written (:class:`_DiagonalScan`): it
walks the columns in reverse, recomputes the gates of each column from the
stored h and c, and accumulates the weight gradient with one batched product
per step. Sigmoids are (1 + tanh(a / 2)) / 2, with the halving folded into the
weights, because CPU tanh is several times faster than CPU sigmoid.

Padding. The padded region of an item has zero input and a zero bias channel,
so its pre-activations are exactly the recurrent terms. With zero
pre-activations and zero predecessors a cell gives g = tanh(0) = 0, hence c = 0
and h = 0 exactly. In a flipped scan frame the padding comes first in scan
order and is closed under "predecessor of", so by induction its states are
exactly zero: a valid cell sees the same zeros at its border as when the item
is run alone at its own size. This replaces a per-step state mask at no
per-step cost. Padding that comes after the valid region in scan order can
never reach a valid cell; the output is zeroed there at the end.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from seqlab.errors import ConfigError

# Scan origins and the flips that bring each origin to the top-left corner:
# (flip H, flip W).
_FLIPS = {
    "top-left": (False, False),
    "top-right": (False, True),
    "bottom-left": (True, False),
    "bottom-right": (True, True),
}
# Which origins a layer with 1, 2 or 4 directions scans from.
_ORIGINS = {
    1: ("top-left",),
    2: ("top-left", "bottom-right"),
    4: ("top-left", "top-right", "bottom-left", "bottom-right"),
}
_MERGES = ("concat", "sum")


def _flip(x: Tensor, flip_h: bool, flip_w: bool) -> Tensor:
    """Mirror the last two axes (..., H, W) as asked; returns ``x`` itself when neither."""
    dims = [d for d, on in ((-2, flip_h), (-1, flip_w)) if on]
    return x.flip(dims) if dims else x


def _skew(x: Tensor) -> Tensor:
    """Shift row i right by i: (..., H, W) -> (..., H, H + W - 1), zeros elsewhere.

    ``out[..., i, i + j] = x[..., i, j]``, so each anti-diagonal of ``x`` becomes a column.
    """
    h, w = x.shape[-2:]
    t = h + w - 1
    x = F.pad(x, (0, h))  # (..., H, W + H): H zeros at the end of every row
    x = x.flatten(-2)[..., : h * t]  # (..., H * (W + H)) -> first H * T entries
    return x.unflatten(-1, (h, t))  # (..., H, T): row i now starts i entries later


def _unskew(s: Tensor, width: int) -> Tensor:
    """Inverse of :func:`_skew` as a view: (D, T, B, H, N) contiguous -> (D, B, H, W, N).

    Element (d, b, i, j) is ``s[d, i + j, b, i]``; distinct (i, j) hit distinct
    (t, i), so the strided view does not overlap.
    """
    d, _, b, h, n = s.shape
    st_d, st_t, st_b, st_h, _ = s.stride()
    return s.as_strided((d, b, h, width, n), (st_d, st_b, st_t + st_h, st_t, 1), s.storage_offset())


class _Column:
    """Rows of skewed column t that hold pixels of the image: [lo, hi), R = hi - lo of them.

    Row i of column t is pixel (i, t - i). The rows above lo have finished and
    those from hi on have not started (the two triangles the skew adds), so the
    loops skip them. ``r0`` is 1 when row lo = 0 is active: it has no vertical
    predecessor, so the rows that do are [lo + r0, hi), and their vertical
    predecessors are rows [lo + r0 - 1, hi - 1) of column t - 1 (``v_src``).
    """

    def __init__(self, t: int, height: int, width: int) -> None:
        self.lo, self.hi = max(0, t - width + 1), min(height, t + 1)
        self.r = self.hi - self.lo
        self.r0 = int(self.lo == 0)
        self.rows = slice(self.lo, self.hi)
        self.v_src = slice(self.lo + self.r0 - 1, self.hi - 1)
        self.last = self.hi < height  # row hi exists: the next column's new row; keep it 0


def _view(buffer: Tensor, *shape: int) -> Tensor:
    """The first prod(shape) elements of a reused flat buffer, as a contiguous tensor of that shape."""
    return buffer.view(-1)[: math.prod(shape)].view(shape)


def _step_input(prev: Tensor, x_t: Tensor, col: _Column, buffer: Tensor) -> Tensor:
    """[h_v, h_u, x] of the active rows of one column: (D, B, H, N), (D, B, H, C + 1) -> (D, B, R, 2N + C + 1).

    ``prev`` is h of column t - 1: the horizontal predecessor of row i is its row
    i and the vertical one its row i - 1. Written into a reused buffer (memory
    that is still in cache).
    """
    d, b, _, n = prev.shape
    h_v = prev[:, :, col.v_src]
    if col.r0:
        h_v = F.pad(h_v, (0, 0, 1, 0))  # row 0 has no vertical predecessor
    out = _view(buffer, d, b, col.r, 2 * n + x_t.shape[-1])
    return torch.cat([h_v, prev[:, :, col.rows], x_t[:, :, col.rows]], dim=-1, out=out)


class _Gates:
    """Gate activations of one column, shared by the forward pass and its recomputation in backward.

    Shapes: D directions, B batch, H rows, R active rows, N hidden, K = 2N + C + 1.
    Writes into two reused buffers: the product (D, B * R, 5N) and ``act``
    (D, B, R, 5N), which holds i, f_v, f_u, o after their sigmoid and g after
    its tanh. Sigmoids are (1 + tanh(a / 2)) / 2 with the halving folded into
    the weights here, because CPU tanh is several times faster than CPU sigmoid.
    """

    def __init__(
        self, w: Tensor, peep: Tensor | None, mm_dtype: torch.dtype, cell_dtype: torch.dtype, shape: tuple[int, ...]
    ) -> None:
        d, b, h = shape
        n = w.shape[1] // 5
        opts = {"dtype": cell_dtype, "device": w.device}
        scale = torch.ones(5 * n, 1, **opts)
        scale[: 4 * n] = 0.5  # sigmoid rows
        self.w_t = (w * scale).to(mm_dtype).transpose(1, 2)  # (D, K, 5N)
        self.p = None if peep is None else (peep * 0.5).to(cell_dtype).view(d, 1, 1, 4 * n).chunk(4, dim=-1)
        self.product = torch.empty(d * b * h * 5 * n, dtype=mm_dtype, device=w.device)
        self.act = torch.empty(d * b * h * 5 * n, **opts)
        self.half = torch.tensor(0.5, **opts)
        self.d, self.b, self.n = d, b, n

    def __call__(self, a_in: Tensor, c_prev: Tensor, col: _Column) -> Tensor:
        """a_in: (D, B * R, K) in the product dtype; c_prev: (D, B, H, N) -> act (D, B, R, 5N).

        With peepholes, o is left for :meth:`output_gate` (it sees the new c).
        """
        d, b, n, half = self.d, self.b, self.n, self.half
        gates = torch.bmm(a_in, self.w_t, out=_view(self.product, d, b * col.r, 5 * n))
        gates = gates.view(d, b, col.r, 5 * n)  # i, f_v, f_u, o, g
        act = _view(self.act, d, b, col.r, 5 * n)
        if self.p is None:
            torch.tanh(gates, out=act)
            torch.add(half, act[..., : 4 * n], alpha=0.5, out=act[..., : 4 * n])
            return act
        # Peepholes (Graves 2012, ch. 8): i sees c_v + c_u, f_v sees c_v, f_u sees c_u.
        gates = self.gates = gates.to(act.dtype)
        p_i, p_fv, p_fu, _ = self.p
        a_i, a_fv, a_fu, _, a_g = gates.chunk(5, dim=-1)
        c_u, c_v = c_prev[:, :, col.rows], c_prev[:, :, col.v_src]
        a_i.addcmul_(c_u, p_i)
        a_i[:, :, col.r0 :].addcmul_(c_v, p_i)
        a_fv[:, :, col.r0 :].addcmul_(c_v, p_fv)
        a_fu.addcmul_(c_u, p_fu)
        torch.tanh(gates[..., : 3 * n], out=act[..., : 3 * n])
        torch.add(half, act[..., : 3 * n], alpha=0.5, out=act[..., : 3 * n])
        torch.tanh(a_g, out=act[..., 4 * n :])
        self.act_view = act
        return act

    def output_gate(self, c: Tensor) -> None:
        """Peepholes only: o from its pre-activation and the new c (D, B, R, N), into ``act``."""
        n = self.n
        o = self.act_view[..., 3 * n : 4 * n]
        torch.tanh(self.gates[..., 3 * n : 4 * n].addcmul_(c, self.p[3]), out=o)
        torch.add(self.half, o, alpha=0.5, out=o)


class _DiagonalScan(torch.autograd.Function):
    """The recurrence over the skewed columns, with a hand-written backward.

    Shapes: D directions, T columns, B batch, H rows, R active rows of a column,
    N hidden, K = 2N + C + 1.

    forward(xs: (D, T, B, H, C + 1) skewed input with the bias channel,
            w: (D, 5N, K) weights [U_v | U_u | W | b],
            peep: (D, 4, N) peepholes or None, width: int W, keep: bool)
        -> (D, B, H, W, N) hidden states (an unskewed view of a (D, T, B, H, N) buffer).

    Each column computes only its R active rows (see :class:`_Column`).
    Memory: only h and c of every cell are kept for backward (``keep``); the
    gates are recomputed there, one extra product per column, because writing
    5N activations per cell to fresh memory cost more than recomputing them
    (and took 3.5x the memory). Under autocast the products run in the autocast
    dtype and everything else in float32.
    """

    @staticmethod
    def forward(ctx, xs: Tensor, w: Tensor, peep: Tensor | None, width: int, keep: bool) -> Tensor:
        d, t_len, b, h, _ = xs.shape
        n = w.shape[1] // 5
        dev = xs.device
        mm_dtype = torch.get_autocast_dtype(dev.type) if torch.is_autocast_enabled(dev.type) else w.dtype
        cell_dtype = torch.promote_types(w.dtype, torch.float32)
        opts = {"dtype": cell_dtype, "device": dev}
        in_dtype = xs.dtype
        hs = torch.empty(d, t_len, b, h, n, **opts)
        # c of each column, (D, B, H, N): a list of small tensors that the
        # allocator reuses from call to call, unlike one buffer of many MB.
        cs: list[Tensor] = []
        zero = torch.zeros(d, b, h, n, **opts)
        with torch.autocast(dev.type, enabled=False):
            xs = xs.to(cell_dtype)
            gates = _Gates(w, peep, mm_dtype, cell_dtype, (d, b, h))
            a_buf = torch.empty(d * b * h * w.shape[-1], **opts)
            h_prev, c_prev = zero, zero  # (D, B, H, N): states of column t - 1
            for t in range(t_len):
                col = _Column(t, h, width)
                a_in = _step_input(h_prev, xs[:, t], col, a_buf).view(d, b * col.r, -1)  # (D, B * R, K)
                act = gates(a_in.to(mm_dtype), c_prev, col)
                i, f_v, f_u, o = act[..., : 4 * n].chunk(4, dim=-1)
                c_col = torch.empty(d, b, h, n, **opts)
                c = torch.mul(i, act[..., 4 * n :], out=c_col[:, :, col.rows])
                c[:, :, col.r0 :].addcmul_(f_v[:, :, col.r0 :], c_prev[:, :, col.v_src])  # + f_v c_v
                c.addcmul_(f_u, c_prev[:, :, col.rows])  # c = f_v c_v + f_u c_u + i g
                if peep is not None:
                    gates.output_gate(c)
                torch.mul(o, torch.tanh(c), out=hs[:, t, :, col.rows])
                if col.last:  # the next column's new row has no horizontal predecessor
                    c_col[:, :, col.hi].zero_()
                    hs[:, t, :, col.hi].zero_()
                h_prev, c_prev = hs[:, t], c_col
                if keep:
                    cs.append(c_col)
        if keep:
            ctx.save_for_backward(xs, w, peep, hs)
            ctx.cs, ctx.mm_dtype, ctx.width, ctx.in_dtype = cs, mm_dtype, width, in_dtype
        return _unskew(hs, width)

    @staticmethod
    @once_differentiable
    def backward(ctx, d_y: Tensor) -> tuple[Tensor | None, ...]:
        with torch.autocast(d_y.device.type, enabled=False):
            state = _ScanBackward(ctx, d_y)
            for t in range(state.hs.shape[1] - 1, -1, -1):
                state.column(t)
        return state.grads()


class _ScanBackward:
    """The backward pass of :class:`_DiagonalScan`, column by column from the last.

    Shapes as there. Per column: recompute the gates, turn dL/dh and dL/dc into
    dL/da (a: the unhalved pre-activations), accumulate dL/dw += da^T [h_v, h_u, x],
    and pass dL/d[h_v, h_u, x] = da @ w back to column t - 1 and to the input.
    """

    def __init__(self, ctx, d_y: Tensor) -> None:
        xs, w, peep, hs = ctx.saved_tensors
        d, _, b, h, n = hs.shape
        k = w.shape[-1]
        opts = {"dtype": hs.dtype, "device": hs.device}
        self.xs, self.w, self.peep, self.hs, self.cs = xs, w, peep, hs, ctx.cs
        self.width, self.mm_dtype, self.in_dtype = ctx.width, ctx.mm_dtype, ctx.in_dtype
        self.gates = _Gates(w, peep, ctx.mm_dtype, hs.dtype, (d, b, h))
        self.w_mm = w.to(ctx.mm_dtype)  # (D, 5N, K): da @ w -> d[h_v, h_u, x]
        self.p = None if peep is None else peep.to(hs.dtype).view(d, 1, 1, 4 * n).chunk(4, dim=-1)
        self.d_peep = None if peep is None else torch.zeros(d, b, h, 4 * n, **opts)  # summed over (B, H) at the end
        # d_hs[:, t] collects dL/dh of column t: from the output, then from column t + 1.
        self.d_hs = torch.zeros_like(hs)
        _unskew(self.d_hs, ctx.width).copy_(d_y)
        self.d_xs = torch.zeros_like(xs)
        self.d_w = torch.zeros(d, 5 * n, k, **opts)
        self.a_buf = torch.empty(d * b * h * k, **opts)
        self.da_buf = torch.empty(d * b * h * 5 * n, **opts)
        self.one = torch.ones((), **opts)
        self.zero = torch.zeros(d, b, h, n, **opts)
        self.dc_next = self.zero  # (D, B, H, N): dL/dc of column t from column t + 1
        self.d, self.b, self.h, self.n, self.k = d, b, h, n, k

    def column(self, t: int) -> None:
        d, b, n, k = self.d, self.b, self.n, self.k
        col = _Column(t, self.h, self.width)
        h_prev, c_prev = (self.hs[:, t - 1], self.cs[t - 1]) if t else (self.zero, self.zero)
        a_in = _step_input(h_prev, self.xs[:, t], col, self.a_buf).view(d, b * col.r, k).to(self.mm_dtype)
        c = self.cs[t][:, :, col.rows]
        act = self.gates(a_in, c_prev, col)  # bit for bit as in forward
        if self.peep is not None:
            self.gates.output_gate(c)
        da, dc = self._pre_activation_grads(t, col, act, c, c_prev)
        da_m = da.view(d, b * col.r, 5 * n)
        if self.mm_dtype == self.d_w.dtype:
            self.d_w.baddbmm_(da_m.transpose(1, 2), a_in)
        else:
            self.d_w += torch.bmm(da_m.transpose(1, 2).to(self.mm_dtype), a_in)
        d_in = torch.bmm(da_m.to(self.mm_dtype), self.w_mm).view(d, b, col.r, k)  # d[h_v, h_u, x]
        self.d_xs[:, t, :, col.rows].copy_(d_in[..., 2 * n :])
        if t:
            self._pass_back(t, col, act, da, dc, d_in)

    def _pre_activation_grads(
        self, t: int, col: _Column, act: Tensor, c: Tensor, c_prev: Tensor
    ) -> tuple[Tensor, Tensor]:
        """dL/da (D, B, R, 5N) into a reused buffer, and dL/dc (D, B, R, N), of the active rows."""
        n, rows, r0 = self.n, col.rows, col.r0
        sig, g = act[..., : 4 * n], act[..., 4 * n :]
        i, _, _, o = sig.chunk(4, dim=-1)
        c_u, c_v = c_prev[:, :, rows], c_prev[:, :, col.v_src]
        h_t, dh = self.hs[:, t, :, rows], self.d_hs[:, t, :, rows]
        da = _view(self.da_buf, self.d, self.b, col.r, 5 * n)
        da_i, da_fv, da_fu, da_o, da_g = da.chunk(5, dim=-1)
        ds = torch.addcmul(sig, sig, sig, value=-1)  # sigmoid' = s (1 - s)
        tc = torch.tanh(c)
        # h = o tanh(c): dc = dc_next + dh o (1 - tanh(c)^2) = dc_next + dh (o - h tanh(c))
        dc = torch.addcmul(self.dc_next[:, :, rows], dh, torch.addcmul(o, h_t, tc, value=-1))
        torch.mul(dh, tc, out=da_o)
        if self.peep is not None:
            da_o.mul_(ds[..., 3 * n :])
            dc.addcmul_(da_o, self.p[3])  # peephole o <- c
        # c = f_v c_v + f_u c_u + i g
        torch.mul(dc, g, out=da_i)
        torch.mul(dc[:, :, r0:], c_v, out=da_fv[:, :, r0:])
        if r0:
            da_fv[:, :, 0].zero_()  # row 0 has no c_v
        torch.mul(dc, c_u, out=da_fu)
        n_sig = 3 * n if self.peep is not None else 4 * n
        da[..., :n_sig].mul_(ds[..., :n_sig])
        torch.mul(dc, i, out=da_g).mul_(torch.addcmul(self.one, g, g, value=-1))  # tanh' = 1 - g^2
        if self.peep is not None:
            dp_i, dp_fv, dp_fu, dp_o = self.d_peep.chunk(4, dim=-1)
            dp_i[:, :, rows].addcmul_(da_i, c_u)
            dp_i[:, :, col.lo + r0 : col.hi].addcmul_(da_i[:, :, r0:], c_v)
            dp_fv[:, :, col.lo + r0 : col.hi].addcmul_(da_fv[:, :, r0:], c_v)
            dp_fu[:, :, rows].addcmul_(da_fu, c_u)
            dp_o[:, :, rows].addcmul_(da_o, c)
        return da, dc

    def _pass_back(self, t: int, col: _Column, act: Tensor, da: Tensor, dc: Tensor, d_in: Tensor) -> None:
        """dL/dh and dL/dc of column t - 1 from column t."""
        n, rows, r0 = self.n, col.rows, col.r0
        _, f_v, f_u, _ = act[..., : 4 * n].chunk(4, dim=-1)
        # h_u of row i is h of row i of column t - 1; h_v of row i is its row i - 1.
        d_prev = self.d_hs[:, t - 1]
        d_prev[:, :, rows].add_(d_in[..., n : 2 * n])
        d_prev[:, :, col.v_src].add_(d_in[:, :, r0:, :n])
        # Likewise c_u and c_v, through the forget gates (and the peepholes).
        dc_v = dc[:, :, r0:] * f_v[:, :, r0:]
        self.dc_next = torch.zeros_like(self.zero)
        dc_u = torch.mul(dc, f_u, out=self.dc_next[:, :, rows])
        if self.peep is not None:
            p_i, p_fv, p_fu, _ = self.p
            da_i, da_fv, da_fu, _, _ = da.chunk(5, dim=-1)
            dc_v.addcmul_(da_i[:, :, r0:], p_i).addcmul_(da_fv[:, :, r0:], p_fv)
            dc_u.addcmul_(da_i, p_i).addcmul_(da_fu, p_fu)
        self.dc_next[:, :, col.v_src].add_(dc_v)

    def grads(self) -> tuple[Tensor | None, ...]:
        """Gradients for (xs, w, peep, width, keep)."""
        d_p = None
        if self.peep is not None:
            d_p = self.d_peep.sum((1, 2)).view(self.d, 4, self.n).to(self.peep.dtype)
        return self.d_xs.to(self.in_dtype), self.d_w.to(self.w.dtype), d_p, None, None


class MDLSTM(nn.Module):
    """Multidirectional 2-D LSTM layer (see the module docstring for the equations).

    Args:
        input_size: C, channels of the input image.
        hidden_size: N, units per direction.
        directions: D in {1, 2, 4}; origins top-left (1); top-left and
            bottom-right (2); top-left, top-right, bottom-left, bottom-right (4).
        merge: "concat" (output D * N channels, direction-major) or "sum" (N).
        peephole: add the diagonal peephole weights p_i, p_fv, p_fu, p_o.
        forget_bias: initial bias of both forget gates.

    Parameters (gate order within 5 N: i, f_v, f_u, o, g):
        weight_ih: (D, 5 N, C); weight_hh: (D, 5 N, 2 N), columns [h_v | h_u];
        bias: (D, 5 N); peephole_weight: (D, 4, N), rows [p_i, p_fv, p_fu, p_o], or None.

    Precision: float32 and float64 run in their own dtype. Under bf16/fp16
    autocast the matrix products run in the autocast dtype and the cell
    (gates, c, h) in float32, so the output is float32.

    Memory and cost: training keeps h and c of every pixel and direction (2 N
    floats) plus the output; the H + W - 1 sequential steps each cost one
    batched product. The backward is hand-written, so second derivatives
    (double backward) are not available. With forget gates near 1 (large
    ``forget_bias``) c can grow along the diagonals, as it sums over two
    predecessors; that is the cell of Graves (2009), unchanged.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        directions: int = 4,
        merge: str = "concat",
        peephole: bool = False,
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ConfigError(
                f"MDLSTM: input_size and hidden_size must be >= 1, got {input_size} and {hidden_size}"
            )
        if directions not in _ORIGINS:
            raise ConfigError(f"MDLSTM: directions must be one of 1, 2, 4, got {directions}")
        if merge not in _MERGES:
            raise ConfigError(f"MDLSTM: merge must be 'concat' or 'sum', got {merge!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.directions = directions
        self.merge = merge
        self.peephole = peephole
        self.forget_bias = forget_bias
        self.origins = _ORIGINS[directions]
        self.output_size = hidden_size * directions if merge == "concat" else hidden_size
        d, n = directions, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(d, 5 * n, input_size))
        self.weight_hh = nn.Parameter(torch.empty(d, 5 * n, 2 * n))
        self.bias = nn.Parameter(torch.empty(d, 5 * n))
        if peephole:
            self.peephole_weight = nn.Parameter(torch.empty(d, 4, n))
        else:
            self.register_parameter("peephole_weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(N), 1/sqrt(N)) weights as in ``nn.LSTM``; bias 0 except the forget gates."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        n = self.hidden_size
        with torch.no_grad():
            for w in (self.weight_ih, self.weight_hh, self.peephole_weight):
                if w is not None:
                    w.uniform_(-bound, bound)
            self.bias.zero_()
            self.bias[:, n : 3 * n] = self.forget_bias  # f_v and f_u (Gers et al. 2000)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, directions={self.directions}, "
            f"merge={self.merge!r}, peephole={self.peephole}"
        )

    def forward(self, x: Tensor, sizes: Tensor | None = None) -> Tensor:
        """Scan ``x`` in all directions.

        Args:
            x: (B, C, H, W) images, padded to a common H x W.
            sizes: (B, 2) long, each item's valid (height, width) from the
                top-left corner; None means every item fills H x W.

        Returns:
            (B, D * N, H, W) with merge="concat" (channel d * N + k is unit k of
            direction ``self.origins[d]``) or (B, N, H, W) with merge="sum";
            0 at padded positions.
        """
        mask = self._check(x, sizes)  # (B, 1, H, W) bool or None
        b, _, h, w = x.shape
        # Bias as an extra input channel that is 1 on valid pixels and 0 on padding.
        if mask is None:
            ones = x.new_ones(b, 1, h, w)
        else:
            ones = mask.to(x.dtype)
            x = torch.where(mask, x, 0.0)
        x = torch.cat([x, ones], dim=1)  # (B, C + 1, H, W)
        flips = [_FLIPS[o] for o in self.origins]
        x = torch.stack([_flip(x, *f) for f in flips])  # (D, B, C + 1, H, W), one scan frame each
        x = _skew(x)  # (D, B, C + 1, H, T), anti-diagonals are columns
        x = x.permute(0, 4, 1, 3, 2).contiguous()  # (D, T, B, H, C + 1)

        weight = torch.cat([self.weight_hh, self.weight_ih, self.bias.unsqueeze(-1)], dim=-1)  # (D, 5N, 2N + C + 1)
        keep = torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad)
        y = _DiagonalScan.apply(x, weight, self.peephole_weight, w, keep)  # (D, B, H, W, N)
        y = y.permute(0, 1, 4, 2, 3)  # (D, B, N, H, W)
        parts = [_flip(part, *f) for part, f in zip(y.unbind(0), flips)]  # D x (B, N, H, W), image frame
        if self.merge == "concat":
            out = torch.cat(parts, dim=1)  # (B, D * N, H, W)
        else:
            out = torch.stack(parts).sum(0)  # (B, N, H, W)
        if mask is not None:
            out = torch.where(mask, out, 0.0)  # padding that follows the valid region in scan order
        return out

    def _check(self, x: Tensor, sizes: Tensor | None) -> Tensor | None:
        """Validate the input; return the (B, 1, H, W) validity mask, or None when all is valid."""
        if x.dim() != 4 or x.shape[1] != self.input_size:
            raise ConfigError(
                f"MDLSTM: expected input (B, {self.input_size}, H, W), got {tuple(x.shape)}"
            )
        b, _, h, w = x.shape
        if h == 0 or w == 0:
            raise ConfigError(f"MDLSTM: empty image {h} x {w}; pad every batch to at least 1 x 1")
        if sizes is None:
            return None
        if sizes.shape != (b, 2) or sizes.dtype.is_floating_point:
            raise ConfigError(
                f"MDLSTM: sizes must be a (B, 2) integer tensor of (height, width), "
                f"got {tuple(sizes.shape)} {sizes.dtype} for B = {b}"
            )
        sizes = sizes.to(x.device)
        limit = torch.tensor([h, w], device=x.device)
        if bool(((sizes < 0) | (sizes > limit)).any()):
            raise ConfigError(
                f"MDLSTM: every size must lie within the padded image 0..{h} x 0..{w}, got {sizes.tolist()}"
            )
        rows = torch.arange(h, device=x.device) < sizes[:, :1]  # (B, H)
        cols = torch.arange(w, device=x.device) < sizes[:, 1:]  # (B, W)
        return (rows[:, :, None] & cols[:, None, :]).unsqueeze(1)  # (B, 1, H, W)
