import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.nn import RecurrentEncoder
from seqlab.nn.recurrent import image_to_frames, stack_frames


@pytest.mark.parametrize("cell", ["lstm", "gru", "peephole"])
@pytest.mark.parametrize("stack", [1, 3])
def test_shapes(cell, stack):
    enc = RecurrentEncoder(input_size=6, hidden_size=5, num_layers=2, frame_stack=stack, cell=cell)
    y, lengths = enc(torch.randn(3, 10, 6), torch.tensor([10, 7, 1]))
    assert y.shape == (3, -(-10 // stack), 10)
    assert lengths.tolist() == [-(-n // stack) for n in (10, 7, 1)]
    assert enc.output_size == 10


def test_image_columns_are_frames():
    x = torch.arange(2 * 1 * 3 * 4, dtype=torch.float).reshape(2, 1, 3, 4)
    frames = image_to_frames(x)
    assert frames.shape == (2, 4, 3)
    assert torch.equal(frames[1, 2], x[1, 0, :, 2])


def test_stack_frames_pads_with_zero():
    x = torch.arange(5.0).reshape(1, 5, 1)
    y, n = stack_frames(x, torch.tensor([5]), 2)
    assert y.tolist() == [[[0, 1], [2, 3], [4, 0]]] and n.tolist() == [3]


@pytest.mark.parametrize("cell", ["lstm", "gru", "peephole", "cifg", "nfg"])
def test_padding_invariance(cell):
    """An item's output does not depend on the other items in its batch."""
    torch.manual_seed(0)
    enc = RecurrentEncoder(input_size=4, hidden_size=6, num_layers=2, frame_stack=2, cell=cell).double().eval()
    lengths = torch.tensor([9, 4, 6])
    x = torch.randn(3, 9, 4, dtype=torch.double)
    for i, n in enumerate(lengths.tolist()):
        x[i, n:] = 0.0
    y, out_len = enc(x, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone, m = enc(x[i : i + 1, :n], torch.tensor([n]))
        assert m.item() == out_len[i]
        assert torch.allclose(y[i, :m], alone[0], atol=1e-12)
        assert y[i, m:].abs().sum() == 0


def test_wrong_feature_size_is_a_config_error():
    enc = RecurrentEncoder(input_size=4, hidden_size=3, num_layers=1)
    with pytest.raises(ConfigError, match="input_size"):
        enc(torch.randn(1, 5, 7), torch.tensor([5]))
