"""Tests of seqlab.nn.crnn.CRNNEncoder (the encoder interface)."""

from __future__ import annotations

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.nn.crnn import CRNNEncoder

SMALL = dict(channels=(3, 4, 5), pool=((2, 2), (2, 1), (1, 2)), hidden_size=6, num_layers=2)


def _randomise_batch_norm(enc: CRNNEncoder) -> None:
    """Non-trivial running statistics and affine terms, so that padding turns non-zero after batch norm."""
    g = torch.Generator().manual_seed(1)
    for m in enc.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g))
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.randn(m.num_features, generator=g))
            m.bias.data.copy_(torch.randn(m.num_features, generator=g))


def test_paper_architecture() -> None:
    enc = CRNNEncoder()
    convs = [b.conv for b in enc.blocks]
    assert [c.out_channels for c in convs] == [16, 32, 48, 64, 80]
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert [b.pool_size for b in enc.blocks] == [(2, 2)] * 3 + [(1, 1)] * 2
    assert [b.dropout.p if isinstance(b.dropout, torch.nn.Dropout) else 0.0 for b in enc.blocks] == [0, 0, 0.2, 0.2, 0.2]
    assert enc.subsampling == (8, 8)
    assert enc.rnn.input_size == 80 * 16  # 128 / 8 rows of 80 features
    assert len(enc.rnn.rnn.layers) == 5 and enc.output_size == 512
    assert enc.rnn.input_dropout.p == 0.5 and enc.rnn.output_dropout.p == 0.5


@pytest.mark.parametrize("widths", [[45, 4, 17, 32], [8, 9, 10, 11]])
def test_shapes_and_out_lengths(widths: list[int]) -> None:
    enc = CRNNEncoder(input_size=12, **SMALL)
    assert enc.subsampling == (4, 4) and enc.output_size == 12
    lengths = torch.tensor(widths)
    w = max(widths)
    features, out_lengths = enc(torch.rand(4, 1, 12, w), lengths)
    assert features.shape == (4, w // 2 // 2, 12)
    assert out_lengths.dtype == torch.long
    assert torch.equal(out_lengths, lengths // 2 // 2)  # floors, as nn.MaxPool2d does
    assert torch.equal(out_lengths, enc.output_lengths(lengths))
    for k in range(4):
        assert features[k, out_lengths[k]:].abs().sum() == 0


def test_odd_widths_floor_at_every_pooling() -> None:
    enc = CRNNEncoder(input_size=8, channels=(2, 2, 2), pool=((2, 3), (2, 2), (1, 2)), hidden_size=3, num_layers=1)
    lengths = torch.tensor([47, 12, 13])
    _, out_lengths = enc(torch.rand(3, 1, 8, 47), lengths)
    assert out_lengths.tolist() == [47 // 3 // 2 // 2, 12 // 3 // 2 // 2, 13 // 3 // 2 // 2]


def test_padding_invariance_in_eval_mode() -> None:
    """An item's valid features do not depend on the rest of the batch (float64, eval)."""
    torch.manual_seed(0)
    enc = CRNNEncoder(input_size=12, **SMALL).double().eval()
    _randomise_batch_norm(enc)
    lengths = torch.tensor([37, 9, 60, 5])
    x = torch.rand(4, 1, 12, 60, dtype=torch.float64)
    x_zero = x.clone()
    for k, n in enumerate(lengths.tolist()):
        x_zero[k, :, :, n:] = 0.0
    features, out_lengths = enc(x, lengths)  # garbage right of each length must be ignored
    features_zero, _ = enc(x_zero, lengths)
    assert torch.allclose(features, features_zero, rtol=0, atol=1e-12)
    for k, n in enumerate(lengths.tolist()):
        alone, alone_lengths = enc(x[k : k + 1, :, :, :n], lengths[k : k + 1])
        t = out_lengths[k].item()
        assert alone_lengths.item() == t and t >= 1
        assert (alone[0, :t] - features[k, :t]).abs().max().item() <= 1e-10


def test_padding_would_leak_without_the_mask() -> None:
    """The test above is not vacuous: batch norm makes zero padding non-zero."""
    enc = CRNNEncoder(input_size=12, **SMALL).double().eval()
    _randomise_batch_norm(enc)
    block = enc.blocks[0]
    out = block(torch.zeros(1, 1, 12, 8, dtype=torch.float64))
    assert out.abs().max() > 1e-3


def test_backward_reaches_every_parameter() -> None:
    torch.manual_seed(0)
    enc = CRNNEncoder(input_size=16, conv_dropout=(0.1, 0.2, 0.2), rnn_dropout=0.5, **SMALL).train()
    x = torch.rand(3, 1, 16, 40, requires_grad=True)
    features, out_lengths = enc(x, torch.tensor([40, 23, 16]))
    features.pow(2).sum().backward()
    assert x.grad is not None and x.grad[:, :, :, :40].abs().sum() > 0
    assert x.grad[1, :, :, 23:].abs().sum() == 0  # the padding gets no gradient
    for name, p in enc.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


@pytest.mark.parametrize("cell", ["gru", "peephole"])
def test_cell_is_passed_to_the_recurrent_part(cell: str) -> None:
    enc = CRNNEncoder(input_size=8, channels=(2, 3), pool=((2, 2), (2, 1)), hidden_size=4, num_layers=2, cell=cell)
    assert enc.rnn.cell == cell
    features, _ = enc(torch.rand(2, 1, 8, 20), torch.tensor([20, 11]))
    assert features.shape == (2, 10, 8)


def test_very_wide_line() -> None:
    """A 6000-pixel line (IAM's widest are about 3,500 at 300 dpi) goes through in one piece."""
    enc = CRNNEncoder(input_size=16, channels=(2, 3), pool=((2, 2), (2, 2)), hidden_size=4, num_layers=1).eval()
    with torch.no_grad():
        features, out_lengths = enc(torch.rand(1, 1, 16, 6000), torch.tensor([6000]))
    assert features.shape == (1, 1500, 8) and out_lengths.item() == 1500


def test_config_errors_say_what_to_do() -> None:
    with pytest.raises(ConfigError, match="one .kh, kw. pair per conv block"):
        CRNNEncoder(channels=(4, 4), pool=((2, 2),))
    with pytest.raises(ConfigError, match="one value per conv block"):
        CRNNEncoder(channels=(4, 4), pool=((2, 2), (2, 2)), conv_dropout=(0.1,))
    with pytest.raises(ConfigError, match="raise data.height"):
        CRNNEncoder(input_size=4)
    enc = CRNNEncoder(input_size=8, channels=(2,), pool=((2, 2),), hidden_size=2, num_layers=1)
    with pytest.raises(ConfigError, match="built for input_size 8 .height 8 x 1 channels., got inputs of 9"):
        enc(torch.rand(1, 1, 9, 10), torch.tensor([10]))
    with pytest.raises(ConfigError, match="pool less"):
        enc(torch.rand(1, 1, 8, 1), torch.tensor([1]))


@pytest.mark.parametrize("channels", [1, 3])
def test_frames_are_read_as_a_spectrogram_image(channels: int):
    """(B, T, F) speech frames are the (B, C, F / C, T) image: time along the width, frequency up it."""
    enc = CRNNEncoder(input_size=12, input_channels=channels, channels=(2, 3), pool=((2, 2), (2, 1)),
                      hidden_size=3, num_layers=1).double().eval()
    frames = torch.rand(2, 20, 12, dtype=torch.float64)
    lengths = torch.tensor([20, 13])
    image = frames.reshape(2, 20, channels, 12 // channels).permute(0, 2, 3, 1)
    with torch.no_grad():
        a, la = enc(frames, lengths)
        b, lb = enc(image, lengths)
    assert torch.equal(a, b) and torch.equal(la, lb) and a.shape == (2, 10, 6)
    with pytest.raises(ConfigError, match="input_size 12 .* must be a positive multiple of input_channels 5"):
        CRNNEncoder(input_size=12, input_channels=5)
