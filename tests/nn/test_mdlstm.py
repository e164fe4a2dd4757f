"""Tests of seqlab.nn.mdlstm.MDLSTM against the per-pixel reference in mdlstm_reference.py."""

from __future__ import annotations

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.nn.mdlstm import MDLSTM

from .mdlstm_reference import reference_mdlstm

# Valid (height, width) of the items of one padded 5 x 6 batch: a full item,
# 1 x N, N x 1, 1 x 1 and odd sizes.
SIZES = [(5, 6), (1, 5), (4, 1), (1, 1), (3, 5), (5, 3)]


def _absmax(t: torch.Tensor) -> float:
    """Largest |value|, 0 for an empty tensor (a slice past the edge)."""
    return t.abs().max().item() if t.numel() else 0.0


def _layer(peephole: bool, merge: str, directions: int = 4, c: int = 2, n: int = 3) -> MDLSTM:
    """A float64 layer with weights large enough to drive the gates away from 0.5."""
    torch.manual_seed(0)
    layer = MDLSTM(c, n, directions=directions, merge=merge, peephole=peephole).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.normal_(0.0, 0.7)
    return layer


def _grads(y: torch.Tensor, inputs: list[torch.Tensor], upstream: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return torch.autograd.grad(y, inputs, upstream)


@pytest.mark.parametrize("peephole", [False, True])
@pytest.mark.parametrize("merge", ["concat", "sum"])
def test_matches_reference_on_padded_batch(peephole: bool, merge: str) -> None:
    layer = _layer(peephole, merge)
    x = torch.randn(len(SIZES), 2, 5, 6, dtype=torch.float64, requires_grad=True)
    sizes = torch.tensor(SIZES)
    y = layer(x, sizes)
    y_ref = reference_mdlstm(layer, x, sizes)
    assert (y - y_ref).abs().max().item() <= 1e-9

    params = list(layer.parameters())
    upstream = torch.randn_like(y)
    grads = _grads(y, [x, *params], upstream)
    grads_ref = _grads(y_ref, [x, *params], upstream)
    for name, g, g_ref in zip(["x", *(n for n, _ in layer.named_parameters())], grads, grads_ref):
        assert (g - g_ref).abs().max().item() <= 1e-9, name


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (3, 4), (4, 3)])
@pytest.mark.parametrize("directions", [1, 2, 4])
def test_matches_reference_full_images(shape: tuple[int, int], directions: int) -> None:
    layer = _layer(peephole=True, merge="concat", directions=directions, c=1, n=2)
    x = torch.randn(2, 1, *shape, dtype=torch.float64, requires_grad=True)
    y = layer(x)
    y_ref = reference_mdlstm(layer, x)
    assert (y - y_ref).abs().max().item() <= 1e-9
    upstream = torch.randn_like(y)
    params = list(layer.parameters())
    for g, g_ref in zip(_grads(y, [x, *params], upstream), _grads(y_ref, [x, *params], upstream)):
        assert (g - g_ref).abs().max().item() <= 1e-9


@pytest.mark.parametrize("peephole", [False, True])
def test_padding_invariance(peephole: bool) -> None:
    """An item's output and gradients do not depend on the other items or on padding content."""
    layer = _layer(peephole, "concat")
    x = torch.randn(len(SIZES), 2, 5, 6, dtype=torch.float64)
    sizes = torch.tensor(SIZES)
    x_batch = x.clone().requires_grad_()
    y = layer(x_batch, sizes)
    upstream = torch.randn_like(y)
    params = list(layer.parameters())
    g_x, *g_params = _grads(y, [x_batch, *params], upstream)

    summed = [torch.zeros_like(p) for p in params]
    for k, (h, w) in enumerate(SIZES):
        x_k = x[k : k + 1, :, :h, :w].clone().requires_grad_()
        y_k = layer(x_k)
        assert (y_k[0] - y[k, :, :h, :w]).abs().max().item() <= 1e-12
        assert _absmax(y[k, :, h:]) == 0.0
        assert _absmax(y[k, :, :, w:]) == 0.0
        g_x_k, *g_params_k = _grads(y_k, [x_k, *params], upstream[k : k + 1, :, :h, :w])
        assert (g_x_k[0] - g_x[k, :, :h, :w]).abs().max().item() <= 1e-12
        assert _absmax(g_x[k, :, h:]) == 0.0
        assert _absmax(g_x[k, :, :, w:]) == 0.0
        summed = [s + g for s, g in zip(summed, g_params_k)]
    for s, g in zip(summed, g_params):
        assert (s - g).abs().max().item() <= 1e-10

    # Garbage in the padded region changes nothing.
    noisy = x.clone()
    for k, (h, w) in enumerate(SIZES):
        noisy[k, :, h:] = 7.0
        noisy[k, :, :, w:] = -3.0
    assert torch.equal(layer(noisy, sizes), y.detach())


@pytest.mark.parametrize("merge", ["concat", "sum"])
@pytest.mark.parametrize("directions", [1, 2, 4])
def test_output_shape_contract(merge: str, directions: int) -> None:
    layer = MDLSTM(3, 4, directions=directions, merge=merge)
    channels = 4 * directions if merge == "concat" else 4
    assert layer.output_size == channels
    x = torch.rand(2, 3, 6, 9)
    y = layer(x, torch.tensor([[6, 9], [2, 5]]))
    assert y.shape == (2, channels, 6, 9)
    assert y.dtype == torch.float32
    assert y[1, :, 2:].abs().max().item() == 0.0
    assert y[1, :, :, 5:].abs().max().item() == 0.0
    assert torch.equal(layer(x), layer(x, torch.tensor([[6, 9], [6, 9]])))


def test_no_grad_matches_grad_path() -> None:
    layer = MDLSTM(2, 5, peephole=True)
    x = torch.randn(3, 2, 4, 7)
    sizes = torch.tensor([[4, 7], [3, 2], [1, 7]])
    with torch.no_grad():
        y_inference = layer(x, sizes)
    assert torch.equal(y_inference, layer(x, sizes).detach())


def test_bf16_autocast_keeps_float32_cells() -> None:
    torch.manual_seed(0)
    layer = MDLSTM(2, 8, peephole=True)
    x = torch.randn(2, 2, 6, 10, requires_grad=True)
    y32 = layer(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y16 = layer(x)
    assert y16.dtype == torch.float32
    assert (y16 - y32).abs().max().item() < 0.05
    y16.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in layer.parameters())


def test_forget_bias_initialisation() -> None:
    layer = MDLSTM(1, 4, forget_bias=2.5)
    assert torch.equal(layer.bias[:, 4:12], torch.full((4, 8), 2.5))
    assert layer.bias[:, :4].abs().max().item() == 0.0
    assert layer.bias[:, 12:].abs().max().item() == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"input_size": 0, "hidden_size": 3},
        {"input_size": 1, "hidden_size": 3, "directions": 3},
        {"input_size": 1, "hidden_size": 3, "merge": "mean"},
    ],
)
def test_bad_settings_raise(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        MDLSTM(**kwargs)


def test_bad_inputs_raise() -> None:
    layer = MDLSTM(2, 3)
    with pytest.raises(ConfigError, match="expected input"):
        layer(torch.rand(1, 3, 4, 4))
    with pytest.raises(ConfigError, match="sizes must be"):
        layer(torch.rand(2, 2, 4, 4), torch.tensor([4, 4]))
    with pytest.raises(ConfigError, match="within the padded image"):
        layer(torch.rand(1, 2, 4, 4), torch.tensor([[5, 4]]))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu() -> None:
    layer = _layer(peephole=True, merge="concat")
    x = torch.randn(len(SIZES), 2, 5, 6, dtype=torch.float64, requires_grad=True)
    sizes = torch.tensor(SIZES)
    y = layer(x, sizes)
    upstream = torch.randn_like(y)
    grads = _grads(y, [x, *layer.parameters()], upstream)
    layer_gpu = layer.cuda()
    x_gpu = x.detach().cuda().requires_grad_()
    y_gpu = layer_gpu(x_gpu, sizes.cuda())
    assert (y_gpu.cpu() - y).abs().max().item() <= 1e-9
    grads_gpu = _grads(y_gpu, [x_gpu, *layer_gpu.parameters()], upstream.cuda())
    for g, g_gpu in zip(grads, grads_gpu):
        assert (g_gpu.cpu() - g).abs().max().item() <= 1e-9
    with torch.autocast("cuda", dtype=torch.bfloat16):
        y16 = layer_gpu.float()(x_gpu.detach().float(), sizes.cuda())
    assert y16.dtype == torch.float32 and torch.isfinite(y16).all()
