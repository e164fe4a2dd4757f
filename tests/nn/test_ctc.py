import torch

from seqlab.nn import CTCHead, ctc_loss, min_ctc_frames


def test_min_frames_counts_repeats():
    targets = torch.tensor([1, 1, 2, 3, 3, 3, 4])
    lengths = torch.tensor([3, 4])  # "aab" -> 3 + 1; "cccd" -> 4 + 2
    assert min_ctc_frames(targets, lengths).tolist() == [4, 6]


def test_loss_finite_at_the_edge_and_zero_when_infeasible():
    torch.manual_seed(0)
    lp = torch.randn(3, 5, 4).log_softmax(-1)
    targets = torch.tensor([1, 1, 2, 3, 1, 2, 3, 1, 2, 1])
    tl = torch.tensor([2, 3, 5])  # "aa" needs 3 frames; "bcd" 3; 5 symbols w/o repeats 5
    il = torch.tensor([3, 3, 4])  # third item is one frame short
    lp.requires_grad_(True)
    loss = ctc_loss(lp, il, targets, tl)
    assert torch.isfinite(loss).all()
    assert loss[2] == 0  # zero_infinity
    loss.sum().backward()
    assert torch.isfinite(lp.grad).all()
    assert lp.grad[2].abs().sum() == 0


def test_head_outputs_float32_log_probs():
    head = CTCHead(8, 5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = head(torch.randn(2, 7, 8))
    assert out.dtype == torch.float32 and out.shape == (2, 7, 5)
    assert torch.allclose(out.exp().sum(-1), torch.ones(2, 7), atol=1e-5)
