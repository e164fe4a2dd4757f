"""A slow, plain reference for `seqlab.nn.custom_lstm.CustomLSTM`.

One item at a time, one direction at a time, one time step at a time, with
the equations of Greff et al. 2017 written out per gate (V1-V6 and FGR in
`seqlab.nn.cells`). It reads a CustomLSTM's parameters through their
documented layout (blocks of H rows in ``variant.slots`` order) and relies on
autograd for gradients, so that the hand-written backward of CustomLSTM is
checked against something independent.

Legend: T time, F features, H hidden units per direction.
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqlab.nn.cells import LSTMVariant
from seqlab.nn.custom_lstm import CustomLSTM


def _blocks(t: Tensor, names: tuple[str, ...], H: int) -> dict[str, Tensor]:
    """Split the first dim of ``t`` (len(names)*H, ...) into named blocks of H rows."""
    return {name: t[k * H : (k + 1) * H] for k, name in enumerate(names)}


def reference_direction(
    x: Tensor, params: dict[str, Tensor | None], d: int, v: LSTMVariant, H: int
) -> Tensor:
    """One direction of one layer over one item, forward in time: x (T, F) -> y (T, H)."""
    W = _blocks(params["ih"][d], v.slots, H)  # each (H, F)
    R = _blocks(params["hh"][d], v.slots, H)  # each (H, H)
    b = _blocks(params["bias"][d], v.slots, H)  # each (H,)
    p = dict(zip(v.peephole_gates, params["peep"][d])) if params["peep"] is not None else {}
    gates = v.sigmoid_gates
    if params["gg"] is not None:  # FGR: R_gg[target][source], each (H, H)
        rows = _blocks(params["gg"][d], gates, H)  # each (H, S*H): one target gate
        R_gg = {g: {s: rows[g][:, k * H : (k + 1) * H] for k, s in enumerate(gates)} for g in gates}
    g_act = torch.tanh if v.input_activation else (lambda u: u)
    h_act = torch.tanh if v.output_activation else (lambda u: u)
    y = x.new_zeros(H)
    c = x.new_zeros(H)
    prev = {g: x.new_zeros(H) for g in gates}  # gate activations at t-1 (FGR), zero at t = 0
    outs = []
    for t in range(x.shape[0]):

        def pre(name: str) -> Tensor:
            """W x_t + R y_{t-1} + b (+ FGR terms) for block ``name``."""
            s = W[name] @ x[t] + R[name] @ y + b[name]
            if params["gg"] is not None and name in gates:
                for src in gates:
                    s = s + R_gg[name][src] @ prev[src]
            return s

        z = g_act(pre("z"))  # V1
        i = torch.sigmoid(pre("i") + p.get("i", 0.0) * c) if v.input_gate else 1.0  # V2
        if v.coupled_input_forget:
            f = 1.0 - i  # CIFG
        elif v.forget_gate:
            f = torch.sigmoid(pre("f") + p.get("f", 0.0) * c)  # V3
        else:
            f = 1.0  # NFG
        c = z * i + c * f  # V4
        o = torch.sigmoid(pre("o") + p.get("o", 0.0) * c) if v.output_gate else 1.0  # V5 (new c)
        y = h_act(c) * o  # V6
        prev = {"i": i, "f": f, "o": o}
        outs.append(y)
    return torch.stack(outs) if outs else x.new_zeros(0, H)


def reference_forward(model: CustomLSTM, x: Tensor, lengths: Tensor) -> Tensor:
    """The reference for ``model(x, lengths)`` (no dropout): (B, T, F) -> (B, T, D*H)."""
    B, T, _ = x.shape
    H, v = model.hidden_size, model.variant
    items = []
    for bi in range(B):
        n = int(lengths[bi])
        h = x[bi, :n]  # (n, F): the valid frames only
        for k in range(model.num_layers):
            params = model.layer_parameters(k)
            y_fwd = reference_direction(h, params, 0, v, H)
            ys = [y_fwd]
            if model.bidirectional:  # run on the reversed item, then reverse back
                ys.append(reference_direction(h.flip(0), params, 1, v, H).flip(0))
            h = torch.cat(ys, dim=-1)  # (n, D*H)
        pad = h.new_zeros(T - n, h.shape[-1])
        items.append(torch.cat([h, pad]))
    return torch.stack(items)
