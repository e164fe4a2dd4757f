"""A fast multi-layer (bi)directional LSTM with peepholes and the Greff et al. 2017 variants.

Legend: B batch, T time, F input features of the layer, D directions (2 if
bidirectional), H hidden units per direction, G pre-activation blocks of the
variant (``len(variant.slots)``: 4 for vanilla, in the order z, i, f, o),
S computed gates (G - 1). The cell equations (V1-V6, FGR) and the variants are
documented in `seqlab.nn.cells`.

How it is fast
--------------
Each layer is one ``torch.autograd.Function`` (`_LSTMLayer`):

* The backward direction runs on the input reversed *within each item's
  length* (a gather index that is its own inverse), so it starts at the
  item's own last frame and padding never reaches a valid output. Both
  directions are stacked on a leading D axis and run together.
* One matrix product for the input projections W x_t of every step and both
  directions, (D, T*B, F) @ (D, F, G*H), outside the loop.
* Fused gates: one recurrent product per step and direction for all gates,
  ``a_t += y_{t-1} @ R^T``, (B, H) x (H, G*H), in place into the step's
  contiguous slab of A (a single ``baddbmm_`` over the strided (D, B, G*H)
  slab would copy it), then about ten in-place elementwise kernels (V1-V6).
* A hand-written backward-through-time loop: one batched product
  (D, B, G*H) x (D, G*H, H) for both directions and ~18 small kernels per
  step, into preallocated buffers, instead of an autograd graph of thousands
  of nodes. The weight gradients are a few big products after the loop; the
  peephole and bias gradients are accumulated in the loop, while the data is
  in cache; h(c_t) is recomputed rather than stored.

Why this design: forward + backward, T=300, B=32, F=123, H=250, 3 layers,
bidirectional, float32, vanilla peephole cell unless noted, median of 3 after
warm-up, models interleaved in one process (``benchmarks/lstm.py
--alternatives``). The 2-core machine was shared with other jobs: the first
table ran in a quiet spell, the second counts this process's CPU time on one
thread, which other jobs disturb least. Read the ratios, not the seconds::

                                           2 threads, wall    1 thread, CPU time
    nn.LSTM (oneDNN, no peepholes)         1.32 s   1.00      2.21 s   1.00
    nn.GRU                                 1.79 s   1.35      2.46 s   1.11
    Python loop + autograd (same math)     2.36 s   1.79      3.34 s   1.51
    torch.jit.script loop + autograd       2.34 s   1.77      3.31 s   1.50
    this module, hand BPTT                 1.76 s   1.33      2.80 s   1.26
    this module, NP (no peepholes)         1.68 s   1.27      2.55 s   1.15
    this module, CIFG / FGR                  -                2.23 / 4.59 s

TorchScript fuses nothing on CPU, so it matches the Python loop. Steps that
paid off (1 thread, CPU time): one Function per layer owning the projection,
reversal and masking, with the peephole gradients accumulated in the loop
instead of einsum-ed after it (einsum copies): -20%; fewer fresh buffers
(each fresh 4 KiB page faults on its first write) and h(c_t) recomputed
rather than stored: -4%. Writing dP over A would save ~4% more but break
``backward(retain_graph=True)``, so it is not done. torch.compile was not
adopted: it unrolls the Python time loop (compile time and graph size grow
with T, a recompile per new T), and the reference notes report no gain for
LSTM-dominated models. On CUDA the code uses only device-agnostic ops, but
it was not run there (no GPU while writing this; the ``gpu``-marked test
compares it with the CPU), and ~30 small kernels per step will lose to cuDNN.

Mixed precision: under ``torch.autocast`` the input projection and its
gradients run in the autocast dtype (bf16 on CPU, bf16/fp16 on CUDA); the
recurrence always runs in the parameters' dtype (float32 or float64).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from seqlab.errors import ConfigError
from seqlab.nn.cells import LSTMVariant, resolve_variant

__all__ = ["CustomLSTM"]

_sigmoid_backward = torch.ops.aten.sigmoid_backward.grad_input  # out = grad * s * (1 - s)
_tanh_backward = torch.ops.aten.tanh_backward.grad_input  # out = grad * (1 - t^2)


def _reverse_within(t: Tensor, rev: Tensor) -> Tensor:
    """Reverse each item of time-major ``t`` (T, B, ...) within its length; ``rev``: (T, B)."""
    index = rev.view(*rev.shape, *([1] * (t.dim() - 2))).expand_as(t)
    return t.gather(0, index)


def _per_step(t: Tensor, block: int | None = None, H: int = 0, n: int = 1) -> list[Tensor] | list[None]:
    """Views of (D, T, B, N) per time step, made in one call (cheaper than slicing in the loop).

    With ``block``: only the blocks ``block .. block+n-1`` of H columns, (D, B, n*H)
    each; a negative ``block`` (an absent gate) gives None for every step.
    """
    if block is None:
        return list(t.unbind(1))
    if block < 0:
        return [None] * t.shape[1]
    return list(t[..., block * H : (block + n) * H].unbind(1))


def _forward_loop(
    A: Tensor, bias: Tensor, w_rec: Tensor, w_peep: Tensor | None, w_gg: Tensor | None, v: LSTMVariant
) -> tuple[Tensor, Tensor]:
    """Run V1-V6 over time for all directions at once.

    Args:
        A: (D, T, B, G*H) input projections W x_t, blocks in ``v.slots`` order;
            overwritten in place with the activations (z after g, gates after sigma).
        bias: (D, 1, G*H). w_rec: (D, H, G*H) recurrent weights R^T, contiguous.
        w_peep: (D, P, H) peephole weights of ``v.peephole_gates``, or None.
        w_gg: (D, S*H, S*H) FGR weights transposed (source rows), or None.

    Returns:
        C: (D, T, B, H) cell states c_t; Y: (D, T, B, H) block outputs y_t.
    """
    D, T, B, GH = A.shape
    H = w_rec.shape[1]
    n_if = len(v.slots) - 1 - int(v.output_gate)  # computed i and f gates, blocks 1..n_if
    C = A.new_empty(D, T, B, H)
    Y = torch.empty_like(C)
    hc = C.new_empty(D, B, H)  # h(c_t), reused: fresh memory per step costs page faults
    p_if = w_peep[:, :n_if].unsqueeze(1) if w_peep is not None and n_if else None  # (D, 1, n_if, H)
    p_o = w_peep[:, -1:] if w_peep is not None and v.output_gate else None  # (D, 1, H)
    # sigmoid at once: i, f (and o, unless its peephole makes it wait for c_t, V5)
    n_sig = n_if if p_o is not None else len(v.slots) - 1
    a_, c_, y_ = _per_step(A), _per_step(C), _per_step(Y)
    # per direction: A[:, t] is strided over D, and an in-place baddbmm_ on it would copy
    a_dirs, y_dirs, w_dirs = [x.unbind(0) for x in a_], [x.unbind(0) for x in y_], w_rec.unbind(0)
    z_, sig_, gates_ = _per_step(A, 0, H), _per_step(A, 1, H, n_sig), _per_step(A, 1, H, len(v.slots) - 1)
    i_ = _per_step(A, v.slots.index("i") if v.input_gate else -1, H)
    f_ = _per_step(A, v.slots.index("f") if v.computes_forget_gate else -1, H)
    o_ = _per_step(A, len(v.slots) - 1 if v.output_gate else -1, H)
    for t in range(T):
        a, c, y, z, i, f, o = a_[t], c_[t], y_[t], z_[t], i_[t], f_[t], o_[t]  # (D, B, G*H), (D, B, H)
        c_prev = c_[t - 1] if t > 0 else None  # c_0 = 0
        a.add_(bias)
        if t > 0:
            for a_d, y_d, w_d in zip(a_dirs[t], y_dirs[t - 1], w_dirs):
                a_d.addmm_(y_d, w_d)  # + R y_{t-1}, V1-V3, V5 (y_0 = 0)
            if w_gg is not None:  # FGR: + gate activations of step t-1
                gates_[t].baddbmm_(gates_[t - 1], w_gg)
            if p_if is not None:  # peepholes p_i, p_f on c_{t-1}, V2-V3
                a[..., H : (n_if + 1) * H].view(D, B, n_if, H).addcmul_(p_if, c_prev.unsqueeze(2))
        if n_sig:
            sig_[t].sigmoid_()  # V2, V3 (and V5 without an output peephole)
        if v.input_activation:
            z.tanh_()  # V1, g = tanh
        # V4: c_t = z_t * i_t + c_{t-1} * f_t
        if c_prev is None:
            torch.mul(z, i, out=c) if i is not None else c.copy_(z)
        elif v.coupled_input_forget:
            torch.lerp(c_prev, z, i, out=c)  # CIFG, f = 1 - i: c_{t-1} + i (z - c_{t-1})
        elif f is not None:
            torch.mul(c_prev, f, out=c)
            c.addcmul_(z, i) if i is not None else c.add_(z)
        else:  # NFG: f = 1
            torch.addcmul(c_prev, z, i, out=c) if i is not None else torch.add(c_prev, z, out=c)
        # V6: y_t = h(c_t) * o_t
        if o is None:
            torch.tanh(c, out=y) if v.output_activation else y.copy_(c)
            continue
        if p_o is not None:
            o.addcmul_(p_o, c).sigmoid_()  # V5, the peephole sees the new c_t
        torch.mul(torch.tanh(c, out=hc) if v.output_activation else c, o, out=y)
    return C, Y


def _backward_loop(
    dY: Tensor,
    A: Tensor,
    C: Tensor,
    Y: Tensor,
    w_hh: Tensor,
    w_peep: Tensor | None,
    w_gg: Tensor | None,
    v: LSTMVariant,
    dP: Tensor,
) -> tuple[Tensor, Tensor | None]:
    """Backpropagate through time.

    Args:
        dY: (T, D, B, H) dL/dy_t from above, time-major so that dY[t] is
            contiguous; used as a buffer (overwritten).
        A, C, Y: from `_forward_loop`. w_hh: (D, G*H, H), w_gg: (D, S*H, S*H),
            output-major (the parameters themselves).
        dP: (D, T, B, G*H) receives dL/d(pre-activations).

    Returns:
        d_bias: (D, G*H); d_peep: (D, P, H) or None.
    """
    D, T, B, GH = A.shape
    H = C.shape[-1]
    n_if = len(v.slots) - 1 - int(v.output_gate)
    si = v.slots.index("i") if v.input_gate else -1
    sf = v.slots.index("f") if v.computes_forget_gate else -1
    so = len(v.slots) - 1 if v.output_gate else -1
    p_g = w_peep.unsqueeze(1).unbind(2) if w_peep is not None else ()  # P x (D, 1, H)
    acc_bias = A.new_zeros(D, B, GH)  # summed over B after the loop
    acc_peep = A.new_zeros(D, B, len(p_g), H)
    # step t's gradient goes to scratch[t % 2] (in cache), then to dP[:, t]; t - 1 reads it back
    scratch = A.new_empty(D, 2, B, GH)
    hc = C.new_empty(D, B, H)
    d_, dz_, di_ = _per_step(scratch), _per_step(scratch, 0, H), _per_step(scratch, si, H)
    df_, do_, dif_ = _per_step(scratch, sf, H), _per_step(scratch, so, H), _per_step(scratch, 1, H, n_if)
    dgates_ = _per_step(scratch, 1, H, len(v.slots) - 1)
    z_, i_, f_, o_ = _per_step(A, 0, H), _per_step(A, si, H), _per_step(A, sf, H), _per_step(A, so, H)
    if_, dy_, c_, y_, dP_ = _per_step(A, 1, H, n_if), list(dY.unbind(0)), _per_step(C), _per_step(Y), _per_step(dP)
    carry: Tensor | None = None  # dL/dc_t arriving from step t+1 (V4 and the V2-V3 peepholes)
    for t in range(T - 1, -1, -1):
        k, k_next = t % 2, (t + 1) % 2
        d, dz, di, df, do, d_if = d_[k], dz_[k], di_[k], df_[k], do_[k], dif_[k]
        dy, c, z, i, f, o = dy_[t], c_[t], z_[t], i_[t], f_[t], o_[t]
        c_prev = c_[t - 1] if t > 0 else None
        da = None
        if t < T - 1:  # y_t and (FGR) a_t also feed step t+1's pre-activations
            dy.baddbmm_(d_[k_next], w_hh)
            if w_gg is not None:
                da = torch.bmm(dgates_[k_next], w_gg)  # (D, B, S*H)
        if not v.output_activation:
            h_c = c
        elif o is None:
            h_c = y_[t]  # NOG: y_t = h(c_t)
        else:
            h_c = torch.tanh(c, out=hc)  # recomputed rather than stored
        # V6: y = h(c) * o, and V5
        if o is not None:
            torch.mul(dy, h_c, out=do)
            if da is not None:
                do.add_(da[..., -H:])
            _sigmoid_backward(do, o, grad_input=do)
            if w_peep is not None:
                acc_peep[:, :, -1].addcmul_(do, c)  # dL/dp_o, V5 sees c_t
            dh = torch.mul(dy, o)
        else:
            dh = dy.clone()
        dc = _tanh_backward(dh, h_c, grad_input=dh) if v.output_activation else dh
        if carry is not None:
            dc.add_(carry)
        if w_peep is not None and o is not None:
            dc.addcmul_(do, p_g[-1])  # V5 output peephole on c_t
        # V4: c = z * i + c_prev * f, then V1 (z) and V2-V3 (i, f)
        torch.mul(dc, i, out=dz) if i is not None else dz.copy_(dc)
        if v.input_activation:
            _tanh_backward(dz, z, grad_input=dz)
        if i is not None:
            if v.coupled_input_forget and c_prev is not None:
                torch.sub(z, c_prev, out=di).mul_(dc)  # CIFG: dc/di = z - c_prev
            else:
                torch.mul(dc, z, out=di)
        if f is not None:
            torch.mul(dc, c_prev, out=df) if c_prev is not None else df.zero_()
        if n_if:
            if da is not None:
                d_if.add_(da[..., : n_if * H])
            _sigmoid_backward(d_if, if_[t], grad_input=d_if)
            if w_peep is not None and c_prev is not None:  # dL/dp_i, dL/dp_f: V2-V3 see c_{t-1}
                acc_peep[:, :, :n_if].addcmul_(d_if.view(D, B, n_if, H), c_prev.unsqueeze(2))
        acc_bias.add_(d)
        if t > 0:  # dL/dc_{t-1}: through f (V4) and the peepholes of i and f (V2, V3)
            if f is not None:
                carry = dc.mul_(f)
            elif v.coupled_input_forget:
                carry = dc.addcmul_(dc, i, value=-1.0)  # f = 1 - i
            else:
                carry = dc
            if w_peep is not None:
                for g in range(n_if):
                    carry.addcmul_(d_if[..., g * H : (g + 1) * H], p_g[g])
        dP_[t].copy_(d)
    d_peep = acc_peep.sum(1) if w_peep is not None else None
    return acc_bias.sum(1), d_peep


class _LSTMLayer(torch.autograd.Function):
    """One layer, all directions: h (T, B, F) -> (T, B, D*H), zero at padded steps.

    Inputs: h, rev (T, B) the per-item reversal index, mask (T, B) valid steps,
    the layer's parameters (see `CustomLSTM`) and the `LSTMVariant`. Large
    buffers are written in place where possible: fresh memory costs a page
    fault per 4 KiB, which is a visible share of the time on CPU.
    """

    @staticmethod
    def forward(ctx, h, rev, mask, w_ih, bias, w_hh, w_peep, w_gg, variant):  # noqa: D102
        device = h.device.type
        # autocast: the input projection in the autocast dtype, everything else in w_hh's
        proj_dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else w_hh.dtype
        with torch.autocast(device_type=device, enabled=False):
            T, B, n_in = h.shape
            D, GH, H = w_hh.shape
            X = h.new_empty(D, T, B, n_in, dtype=proj_dtype)  # both directions' inputs
            X[0] = h
            if D == 2:  # the backward direction reads each item reversed within its length
                torch.gather(h.to(proj_dtype), 0, rev.unsqueeze(-1).expand_as(h), out=X[1])
            w_proj = w_ih.to(proj_dtype).transpose(1, 2)  # (D, G*H, F) -> (D, F, G*H)
            A = torch.bmm(X.view(D, T * B, n_in), w_proj).to(w_hh.dtype).view(D, T, B, GH)  # W x_t, all t
            w_gg_in = w_gg.transpose(1, 2).contiguous() if w_gg is not None else None
            C, Y = _forward_loop(A, bias.unsqueeze(1), w_hh.transpose(1, 2).contiguous(), w_peep, w_gg_in, variant)
            out = Y[0].clone() if D == 1 else torch.cat([Y[0], _reverse_within(Y[1], rev)], dim=-1)  # (T, B, D*H)
            out.masked_fill_(~mask.unsqueeze(-1), 0.0)
        ctx.variant, ctx.h_dtype = variant, h.dtype
        ctx.save_for_backward(X, rev, mask, w_ih, A, C, Y, w_hh, w_peep, w_gg)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out):  # noqa: D102
        X, rev, mask, w_ih, A, C, Y, w_hh, w_peep, w_gg = ctx.saved_tensors
        v: LSTMVariant = ctx.variant
        D, T, B, GH = A.shape
        H, n_in = w_hh.shape[-1], X.shape[-1]
        with torch.autocast(device_type=d_out.device.type, enabled=False):
            d_out = d_out.to(w_hh.dtype)
            dY = d_out.new_empty(T, D, B, H)  # (T, B, D*H) -> (T, D, B, H)
            dY[:, 0] = d_out[..., :H]
            if D == 2:  # the gather by rev is its own adjoint
                dY[:, 1] = _reverse_within(d_out[..., H:], rev)
            dY.masked_fill_(~mask[:, None, :, None], 0.0)  # padded outputs are constant zeros
            # (writing dP into A, dead step by step, saved ~4% but would break retain_graph=True)
            dP = torch.empty_like(A)
            d_bias, d_peep = _backward_loop(dY, A, C, Y, w_hh, w_peep, w_gg, v, dP)
            d_gg = None
            if w_gg is not None:  # FGR: pre-activations at t >= 1 see a_{t-1}
                dg = dP[:, 1:, :, H:].reshape(D, -1, GH - H)  # (D, (T-1)*B, S*H), a view
                d_gg = torch.bmm(dg.transpose(1, 2), A[:, :-1, :, H:].reshape(D, -1, GH - H))
            # pre-activations at t >= 1 see y_{t-1}: merge (T-1, B) into rows (views)
            d_hh = torch.bmm(dP[:, 1:].reshape(D, -1, GH).transpose(1, 2), Y[:, :-1].reshape(D, -1, H))
            dP_rows = dP.view(D, T * B, GH).to(X.dtype)  # the projection's dtype (autocast)
            d_ih = torch.bmm(dP_rows.transpose(1, 2), X.view(D, T * B, n_in)).to(w_ih.dtype)
            d_h = None
            if ctx.needs_input_grad[0]:
                dX = torch.bmm(dP_rows, w_ih.to(X.dtype)).view(D, T, B, n_in)
                d_h = (dX[0] if D == 1 else dX[0].add_(_reverse_within(dX[1], rev))).to(ctx.h_dtype)
        return d_h, None, None, d_ih, d_bias, d_hh, d_peep, d_gg, None


class CustomLSTM(nn.Module):
    """Multi-layer (bi)directional LSTM with peepholes and the Greff et al. 2017 variants.

    Args:
        input_size: F, features per frame.
        hidden_size: H, cells per direction.
        num_layers: stacked layers; layer k > 0 reads the D*H outputs of layer k-1.
        bidirectional: D = 2 (forward and backward in time) or D = 1.
        dropout: dropout on the inputs of layers 1..num_layers-1, as `nn.LSTM`.
        variant: a preset of `seqlab.nn.cells.PRESETS` ("vanilla", "NIG", ...,
            "FGR") or an `LSTMVariant`.
        forget_bias: initial bias of the forget gate (f = sigma(1) ~ 0.73 for
            1.0); for CIFG the input-gate bias starts at -forget_bias so that
            f = 1 - i starts at the same value.
        **flags: `LSTMVariant` fields overriding the preset (``peephole=False``).

    Parameters of layer k, blocks of H rows in ``variant.slots`` order (z, i,
    f, o for vanilla), G blocks, S computed gates, P peephole gates:
        ``weight_ih_l{k}`` (D, G*H, F_k), ``weight_hh_l{k}`` (D, G*H, H),
        ``bias_l{k}`` (D, G*H) (one bias, as in the paper), ``weight_peep_l{k}``
        (D, P, H) if peepholes, ``weight_gg_l{k}`` (D, S*H, S*H) if FGR (rows:
        target gate, columns: source gate activation at t-1).

    Shape:
        x: (B, T, F), lengths: (B,) integer, 0 <= lengths <= T
        -> (B, T, D*H): forward then backward direction, zero where t >= lengths[b].
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.0,
        variant: str | LSTMVariant = "vanilla",
        forget_bias: float = 1.0,
        **flags: bool,
    ) -> None:
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"CustomLSTM: {name} must be a positive integer, got {value!r}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"CustomLSTM: dropout must be in [0, 1), got {dropout!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1
        self.dropout = float(dropout)
        self.forget_bias = float(forget_bias)
        self.variant = resolve_variant(variant, **flags)
        D, H, v = self.num_directions, hidden_size, self.variant
        G, S, P = len(v.slots), len(v.sigmoid_gates), len(v.peephole_gates)
        for k in range(num_layers):
            f_in = input_size if k == 0 else D * H
            self.register_parameter(f"weight_ih_l{k}", nn.Parameter(torch.empty(D, G * H, f_in)))
            self.register_parameter(f"weight_hh_l{k}", nn.Parameter(torch.empty(D, G * H, H)))
            self.register_parameter(f"bias_l{k}", nn.Parameter(torch.empty(D, G * H)))
            if P:
                self.register_parameter(f"weight_peep_l{k}", nn.Parameter(torch.empty(D, P, H)))
            if v.full_gate_recurrence:
                self.register_parameter(f"weight_gg_l{k}", nn.Parameter(torch.empty(D, S * H, S * H)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform(-1/sqrt(H), 1/sqrt(H)) as `nn.LSTM`, then the forget-gate bias."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)
        H, v = self.hidden_size, self.variant
        with torch.no_grad():
            for k in range(self.num_layers):
                bias = self.get_parameter(f"bias_l{k}")
                if v.computes_forget_gate:
                    s = v.slots.index("f")
                    bias[:, s * H : (s + 1) * H] = self.forget_bias
                elif v.coupled_input_forget:  # f = 1 - sigma(b_i) = sigma(-b_i)
                    s = v.slots.index("i")
                    bias[:, s * H : (s + 1) * H] = -self.forget_bias

    def layer_parameters(self, k: int) -> dict[str, Tensor | None]:
        """Layer k's tensors by role: ``ih``, ``hh``, ``bias``, ``peep``, ``gg`` (None if absent)."""
        return {
            "ih": self.get_parameter(f"weight_ih_l{k}"),
            "hh": self.get_parameter(f"weight_hh_l{k}"),
            "bias": self.get_parameter(f"bias_l{k}"),
            "peep": getattr(self, f"weight_peep_l{k}", None),
            "gg": getattr(self, f"weight_gg_l{k}", None),
        }

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"bidirectional={self.bidirectional}, dropout={self.dropout}, "
            f"forget_bias={self.forget_bias}, variant={self.variant}"
        )

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        """(B, T, F) frames and (B,) lengths -> (B, T, D*H), zero at t >= lengths[b]."""
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"CustomLSTM: expected x of shape (B, T, {self.input_size}), got {tuple(x.shape)}")
        B, T, _ = x.shape
        if lengths.shape != (B,) or lengths.is_floating_point() or lengths.is_complex():
            raise ValueError(
                f"CustomLSTM: expected integer lengths of shape ({B},), got {lengths.dtype} {tuple(lengths.shape)}"
            )
        if B and (int(lengths.min()) < 0 or int(lengths.max()) > T):
            raise ValueError(f"CustomLSTM: lengths must lie in [0, T={T}], got {lengths.tolist()}")
        lengths = lengths.to(device=x.device, dtype=torch.long)
        steps = torch.arange(T, device=x.device).unsqueeze(1)  # (T, 1)
        mask = steps < lengths.unsqueeze(0)  # (T, B): valid steps
        rev = torch.where(mask, lengths.unsqueeze(0) - 1 - steps, steps)  # (T, B): reversal within each length
        h = x.transpose(0, 1).masked_fill(~mask.unsqueeze(-1), 0.0)  # (B, T, F) -> (T, B, F); finite padding
        param_dtype = self.weight_hh_l0.dtype
        half = param_dtype in (torch.float16, torch.bfloat16)  # a half-precision module recurs in float32
        for k in range(self.num_layers):
            if k > 0 and self.dropout > 0.0:
                h = F.dropout(h, self.dropout, self.training)
            p = self.layer_parameters(k)
            if half:
                p = {name: t.float() if t is not None else None for name, t in p.items()}
            h = _LSTMLayer.apply(h, rev, mask, p["ih"], p["bias"], p["hh"], p["peep"], p["gg"], self.variant)
        h = h.to(param_dtype) if half else h
        return h.transpose(0, 1).contiguous()  # (T, B, D*H) -> (B, T, D*H)
