"""Tests of seqlab/nn/custom_lstm.py and seqlab/nn/cells.py."""

from __future__ import annotations

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.nn.cells import PRESETS, LSTMVariant, resolve_variant
from seqlab.nn.custom_lstm import CustomLSTM

from .lstm_reference import reference_forward

PRESET_NAMES = list(PRESETS)


def _model(variant: str, **kwargs) -> CustomLSTM:
    """A small float64 model whose parameters are all non-trivial (no constant bias)."""
    torch.manual_seed(0)
    model = CustomLSTM(variant=variant, **kwargs).double()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model


def _grads(model: CustomLSTM, x: torch.Tensor, out: torch.Tensor, weight: torch.Tensor) -> list[torch.Tensor]:
    """Input and parameter gradients of sum(out * weight), then cleared."""
    model.zero_grad()
    x.grad = None
    (out * weight).sum().backward()
    grads = [x.grad.clone()] + [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    x.grad = None
    return grads


def _assert_matches_reference(model: CustomLSTM, x: torch.Tensor, lengths: torch.Tensor) -> None:
    """Outputs and the gradients of x and every parameter agree with the reference to 1e-9."""
    torch.manual_seed(1)
    weight = torch.randn(*x.shape[:2], model.num_directions * model.hidden_size, dtype=torch.float64)
    out = model(x, lengths)
    ref = reference_forward(model, x, lengths)
    assert out.shape == ref.shape
    assert (out - ref).abs().max().item() <= 1e-9
    fast_grads = _grads(model, x, out, weight)
    ref_grads = _grads(model, x, ref, weight)
    names = ["x"] + [name for name, _ in model.named_parameters()]
    for name, g_fast, g_ref in zip(names, fast_grads, ref_grads):
        assert (g_fast - g_ref).abs().max().item() <= 1e-9, name


@pytest.mark.parametrize("variant", PRESET_NAMES)
@pytest.mark.parametrize(
    "config",
    [dict(num_layers=2, bidirectional=True), dict(num_layers=1, bidirectional=False)],
    ids=["2layer-bi", "1layer-uni"],
)
def test_matches_float64_reference(variant: str, config: dict) -> None:
    model = _model(variant, input_size=5, hidden_size=4, **config)
    x = torch.randn(4, 9, 5, dtype=torch.float64, requires_grad=True)
    _assert_matches_reference(model, x, torch.tensor([9, 6, 1, 0]))


@pytest.mark.parametrize("variant", ["vanilla", "FGR", "CIFG"])
def test_single_step_matches_reference(variant: str) -> None:
    model = _model(variant, input_size=3, hidden_size=4, num_layers=2)
    x = torch.randn(2, 1, 3, dtype=torch.float64, requires_grad=True)
    _assert_matches_reference(model, x, torch.tensor([1, 0]))


@pytest.mark.parametrize("variant", PRESET_NAMES)
def test_padding_invariance(variant: str) -> None:
    """An item's outputs and input gradients do not depend on the rest of its batch or its padding."""
    model = _model(variant, input_size=3, hidden_size=5, num_layers=2)
    torch.manual_seed(2)
    alone = torch.randn(1, 4, 3, dtype=torch.float64, requires_grad=True)
    batch = (100.0 * torch.randn(3, 11, 3, dtype=torch.float64)).detach()  # huge padding values
    batch[1, :4] = alone.detach()[0]
    batch.requires_grad_(True)
    lengths = torch.tensor([11, 4, 7])
    weight = torch.randn(3, 11, 10, dtype=torch.float64)

    out_alone = model(alone, torch.tensor([4]))
    out_batch = model(batch, lengths)
    assert torch.allclose(out_batch[1, :4], out_alone[0], rtol=0, atol=1e-12)
    assert torch.all(out_batch[1, 4:] == 0) and torch.all(out_batch[2, 7:] == 0)

    (out_alone * weight[1:2, :4]).sum().backward()
    (out_batch * weight).sum().backward()
    assert torch.allclose(batch.grad[1, :4], alone.grad[0], rtol=0, atol=1e-12)
    assert torch.all(batch.grad[1, 4:] == 0)


@pytest.mark.parametrize("variant", ["vanilla", "NP", "NOG", "CIFG", "NFG"])
def test_forget_bias(variant: str) -> None:
    H = 6
    model = CustomLSTM(3, H, num_layers=2, variant=variant, forget_bias=2.5)
    v = model.variant
    # the forget gate's bias, or for CIFG the input gate's: f = 1 - sigma(b_i) = sigma(-b_i)
    special, value = ("f", 2.5) if v.computes_forget_gate else ("i", -2.5) if v.coupled_input_forget else (None, 0)
    for k in range(2):
        bias = model.layer_parameters(k)["bias"]
        for j, name in enumerate(v.slots):
            block = bias[:, j * H : (j + 1) * H]
            if name == special:
                assert torch.all(block == value)
            else:  # like nn.LSTM: uniform(-1/sqrt(H), 1/sqrt(H))
                assert block.abs().max() <= H**-0.5 and block.std() > 0


def test_flags_override_preset() -> None:
    model = CustomLSTM(3, 4, variant="NP", peephole=True, forget_gate=False)
    assert model.variant == PRESETS["NFG"]
    assert resolve_variant("v") == resolve_variant("VANILLA") == LSTMVariant()
    assert CustomLSTM(3, 4, variant=LSTMVariant(peephole=False)).variant == PRESETS["NP"]
    assert not hasattr(CustomLSTM(3, 4, variant="NP"), "weight_peep_l0")
    assert CustomLSTM(3, 4, variant="FGR").weight_gg_l0.shape == (2, 12, 12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(variant="CIFG", input_gate=False), "coupled_input_forget"),
        (dict(variant="CIFG", forget_gate=False), "coupled_input_forget"),
        (dict(variant="NP", input_gate=False, forget_gate=False, output_gate=False, full_gate_recurrence=True),
         "no gate"),
        (dict(input_gate=False, forget_gate=False, output_gate=False), "peephole"),
        (dict(variant="LSTM-XL"), "unknown LSTM variant"),
        (dict(peepholes=True), "unknown LSTM flag"),
        (dict(peephole="yes"), "true or false"),
        (dict(dropout=1.0), "dropout"),
        (dict(hidden_size=0), "hidden_size"),
    ],
)
def test_invalid_configs_raise(kwargs: dict, message: str) -> None:
    args = dict(input_size=3, hidden_size=4) | kwargs
    with pytest.raises(ConfigError, match=message):
        CustomLSTM(**args)


def test_bad_lengths_raise() -> None:
    model = CustomLSTM(3, 4)
    with pytest.raises(ValueError, match="lengths"):
        model(torch.randn(2, 5, 3), torch.tensor([6, 2]))
    with pytest.raises(ValueError, match="lengths"):
        model(torch.randn(2, 5, 3), torch.tensor([5.0, 2.0]))


@pytest.mark.parametrize("variant", ["vanilla", "FGR", "CIFG"])
def test_bf16_autocast_cpu(variant: str) -> None:
    torch.manual_seed(3)
    model = CustomLSTM(8, 16, num_layers=2, variant=variant)
    x = torch.randn(3, 12, 8, requires_grad=True)
    lengths = torch.tensor([12, 7, 3])
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        out = model(x, lengths)
        loss = out.float().square().mean()
    loss.backward()
    assert out.shape == (3, 12, 32)
    assert torch.isfinite(out).all() and torch.isfinite(x.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())
    with torch.no_grad():  # close to the float32 result (bf16 input projections only)
        assert (model(x, lengths) - out.float()).abs().max() < 0.1


def test_half_precision_module_recurs_in_float32() -> None:
    model = CustomLSTM(4, 8, num_layers=2).bfloat16()
    x = torch.randn(2, 5, 4, dtype=torch.bfloat16, requires_grad=True)
    out = model(x, torch.tensor([5, 3]))
    out.float().square().sum().backward()
    assert out.dtype == torch.bfloat16 and model.weight_hh_l0.grad.dtype == torch.bfloat16
    assert torch.isfinite(x.grad).all() and torch.isfinite(model.weight_hh_l0.grad).all()


def test_float32_close_to_float64() -> None:
    model = _model("vanilla", input_size=5, hidden_size=8, num_layers=3)
    x = torch.randn(4, 20, 5, dtype=torch.float64)
    lengths = torch.tensor([20, 13, 5, 1])
    out64 = model(x, lengths)
    out32 = model.float()(x.float(), lengths)
    assert (out32.double() - out64).abs().max() < 1e-5


def test_backward_twice_with_retain_graph() -> None:
    model = CustomLSTM(3, 4, num_layers=2)
    x = torch.randn(2, 5, 3)
    loss = model(x, torch.tensor([5, 2])).square().sum()
    loss.backward(retain_graph=True)
    first = model.weight_hh_l0.grad.clone()
    loss.backward()
    assert torch.allclose(model.weight_hh_l0.grad, 2 * first)


def test_dropout_between_layers() -> None:
    model = CustomLSTM(4, 8, num_layers=2, dropout=0.5)
    x = torch.randn(2, 6, 4)
    lengths = torch.tensor([6, 3])
    model.eval()
    assert torch.equal(model(x, lengths), model(x, lengths))
    model.train()
    torch.manual_seed(0)
    assert not torch.allclose(model(x, lengths), model.eval()(x, lengths))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("variant", ["vanilla", "FGR", "NOG"])
def test_cuda_matches_cpu(variant: str) -> None:
    model = _model(variant, input_size=5, hidden_size=8, num_layers=2)
    x = torch.randn(3, 10, 5, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([10, 4, 7])
    weight = torch.randn(3, 10, 16, dtype=torch.float64)
    out = model(x, lengths)
    grads = _grads(model, x, out, weight)
    model_gpu = model.cuda()
    x_gpu = x.detach().cuda().requires_grad_(True)
    out_gpu = model_gpu(x_gpu, lengths.cuda())
    grads_gpu = _grads(model_gpu, x_gpu, out_gpu, weight.cuda())
    assert (out_gpu.cpu() - out).abs().max() < 1e-9
    for g, g_gpu in zip(grads, grads_gpu):
        assert (g_gpu.cpu() - g).abs().max() < 1e-9
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
        out_bf16 = model_gpu.float()(x_gpu.detach().float().requires_grad_(True), lengths.cuda())
    out_bf16.float().sum().backward()
    assert torch.isfinite(out_bf16).all()
