"""Tests of seqlab.nn.hierarchical_mdlstm.HierarchicalMDLSTMEncoder (the encoder interface)."""

from __future__ import annotations

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.nn.hierarchical_mdlstm import HierarchicalMDLSTMEncoder


def _absmax(t: torch.Tensor) -> float:
    """Largest |value|, 0 for an empty tensor (a slice past the edge)."""
    return t.abs().max().item() if t.numel() else 0.0


def _ceil(a: torch.Tensor, b: int) -> torch.Tensor:
    return -(-a // b)


@pytest.mark.parametrize(
    ("pool", "tile", "merge"),
    [
        (((2, 2), (2, 2)), (2, 2), "concat"),
        (((2, 4), (2, 4)), (2, 2), "sum"),
        (((1, 3), (2, 1)), (3, 1), "concat"),
    ],
)
def test_shapes_and_out_lengths(pool: tuple, tile: tuple, merge: str) -> None:
    torch.manual_seed(0)
    enc = HierarchicalMDLSTMEncoder(
        input_size=13, hidden_sizes=(2, 3, 4), conv_channels=(3, 5), pool=pool, tile=tile, merge=merge
    )
    assert enc.output_size == (16 if merge == "concat" else 4)
    sw = enc.subsampling[1]
    lengths = torch.tensor([45, 1, 17, 32])
    x = torch.rand(4, 1, 13, 45)
    features, out_lengths = enc(x, lengths)
    assert features.shape == (4, -(-45 // sw), enc.output_size)
    assert out_lengths.dtype == torch.long
    assert torch.equal(out_lengths, _ceil(lengths, sw))
    for k in range(4):
        assert _absmax(features[k, out_lengths[k] :]) == 0.0


def test_default_architecture() -> None:
    enc = HierarchicalMDLSTMEncoder()
    assert [lstm.hidden_size for lstm in enc.lstms] == [2, 10, 50]
    assert [conv.out_channels for conv in enc.convs] == [6, 20]
    assert enc.lstms[0].input_size == 4  # 2 x 2 tiles of a grey image
    assert enc.subsampling == (8, 8)
    assert enc.output_size == 200


def test_padding_invariance() -> None:
    """An item's features over its valid frames do not depend on the rest of the batch."""
    torch.manual_seed(0)
    enc = HierarchicalMDLSTMEncoder(input_size=12, hidden_sizes=(2, 3, 4), conv_channels=(3, 5)).double().eval()
    lengths = torch.tensor([37, 9, 60, 1])
    x = torch.rand(4, 1, 12, 60, dtype=torch.float64)
    x_padded = x.clone()
    for k, n in enumerate(lengths.tolist()):
        x_padded[k, :, :, n:] = 0.0
    features, out_lengths = enc(x, lengths)  # garbage right of each length: must be ignored
    features_zero, _ = enc(x_padded, lengths)
    assert torch.equal(features, features_zero)
    for k, n in enumerate(lengths.tolist()):
        alone, alone_lengths = enc(x[k : k + 1, :, :, :n], lengths[k : k + 1])
        t = out_lengths[k].item()
        assert alone_lengths.item() == t
        assert (alone[0, :t] - features[k, :t]).abs().max().item() <= 1e-12


def test_backward_reaches_every_parameter() -> None:
    torch.manual_seed(0)
    enc = HierarchicalMDLSTMEncoder(
        input_size=16, hidden_sizes=(2, 3, 4), conv_channels=(3, 5), dropout=0.5, peephole=True
    )
    x = torch.rand(2, 1, 16, 40, requires_grad=True)
    features, out_lengths = enc(x, torch.tensor([40, 23]))
    features.pow(2).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert x.grad[1, :, :, 24:].abs().max().item() == 0.0  # padding gets no gradient
    for name, p in enc.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum().item() > 0, name


def test_bad_settings_and_inputs_raise() -> None:
    with pytest.raises(ConfigError, match="one conv_channels entry"):
        HierarchicalMDLSTMEncoder(hidden_sizes=(2, 10, 50), conv_channels=(6,))
    with pytest.raises(ConfigError, match="dropout"):
        HierarchicalMDLSTMEncoder(dropout=1.0)
    enc = HierarchicalMDLSTMEncoder(input_size=16, hidden_sizes=(2, 3), conv_channels=(3,), pool=((2, 2),))
    with pytest.raises(ConfigError, match="height"):
        enc(torch.rand(1, 1, 20, 10), torch.tensor([10]))
    with pytest.raises(ConfigError, match="lengths must be"):
        enc(torch.rand(2, 1, 16, 10), torch.tensor([10]))
    with pytest.raises(ConfigError, match="every length"):
        enc(torch.rand(1, 1, 16, 10), torch.tensor([11]))


def test_cell_option_selects_peepholes():
    from seqlab.errors import ConfigError
    from seqlab.nn import HierarchicalMDLSTMEncoder

    with_peep = HierarchicalMDLSTMEncoder(cell="peephole")
    without = HierarchicalMDLSTMEncoder(cell="lstm")
    assert sum(p.numel() for p in with_peep.parameters()) > sum(p.numel() for p in without.parameters())
    with pytest.raises(ConfigError, match="cell=lstm|peephole"):
        HierarchicalMDLSTMEncoder(cell="gru")


def test_forget_bias_reaches_every_layer():
    from seqlab.nn import MDLSTM, HierarchicalMDLSTMEncoder

    enc = HierarchicalMDLSTMEncoder(forget_bias=0.0)
    layers = [m for m in enc.modules() if isinstance(m, MDLSTM)]
    ref = [m for m in HierarchicalMDLSTMEncoder(forget_bias=1.0).modules() if isinstance(m, MDLSTM)]
    assert layers and all(not torch.equal(a.bias, b.bias) for a, b in zip(layers, ref))


def test_frames_are_read_as_a_spectrogram_image():
    enc = HierarchicalMDLSTMEncoder(input_size=8, hidden_sizes=(2, 3), conv_channels=(3,), pool=((2, 2),)).double().eval()
    frames = torch.rand(2, 12, 8, dtype=torch.float64)
    lengths = torch.tensor([12, 7])
    with torch.no_grad():
        a, la = enc(frames, lengths)
        b, lb = enc(frames.permute(0, 2, 1).unsqueeze(1), lengths)  # (B, 1, F, T)
    assert torch.equal(a, b) and torch.equal(la, lb)
