import torch

from seqlab.decode import greedy_decode


def one_hot_path(path, k=4):
    lp = torch.full((len(path), k), -10.0)
    lp[torch.arange(len(path)), torch.tensor(path)] = 0.0
    return lp


def test_collapse_repeats_and_drop_blanks():
    lp = torch.stack([one_hot_path([1, 1, 0, 1, 2, 2, 0, 0]), one_hot_path([0, 3, 3, 3, 0, 3, 1, 1])])
    out = greedy_decode(lp, torch.tensor([8, 6]))
    assert out == [[1, 1, 2], [3, 3]]


def test_zero_length():
    assert greedy_decode(one_hot_path([1, 2]).unsqueeze(0), torch.tensor([0])) == [[]]
