"""CTC output layer and loss.

Graves et al. 2006. The head is a linear map to K = symbols + 1 classes followed
by log-softmax; class 0 is the blank (``seqlab.text.BLANK``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.text import BLANK


CUDNN_MAX_TARGET = 256


class CTCHead(nn.Module):
    """Frame features -> per-frame log-probabilities over the classes.

    Args:
        input_size: feature size C of the encoder output.
        num_classes: K, the alphabet's symbols plus the blank.
    """

    def __init__(self, input_size: int, num_classes: int) -> None:
        super().__init__()
        self.proj = nn.Linear(input_size, num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(B, T, C) -> (B, T, K) log-probabilities, always float32.

        Log-softmax runs in float32 even under bf16 autocast: the CTC kernels
        accept float32/float64 only, and the normalisation needs the range.
        """
        logits = self.proj(features)
        return F.log_softmax(logits.float(), dim=-1)


def min_ctc_frames(targets: torch.Tensor, target_lengths: torch.Tensor) -> torch.Tensor:
    """Fewest input frames CTC needs for each target: its length plus its repeats.

    A repeated label (``ll``) needs a blank between its two frames.

    Args:
        targets: (sum(L),) concatenated class indices.
        target_lengths: (B,) lengths L.

    Returns:
        (B,) long tensor.
    """
    out = torch.empty_like(target_lengths)
    start = 0
    for b, n in enumerate(target_lengths.tolist()):
        t = targets[start : start + n]
        repeats = int((t[1:] == t[:-1]).sum()) if n > 1 else 0
        out[b] = n + repeats
        start += n
    return out


def ctc_loss(
    log_probs: torch.Tensor,
    input_lengths: torch.Tensor,
    targets: torch.Tensor,
    target_lengths: torch.Tensor,
) -> torch.Tensor:
    """Per-sample CTC loss divided by the target length.

    Args:
        log_probs: (B, T, K) float log-probabilities (batch first).
        input_lengths: (B,) valid frames.
        targets: (sum(L),) concatenated targets.
        target_lengths: (B,).

    Returns:
        (B,) losses; an infeasible sample (input shorter than its target needs)
        gets 0 and no gradient (``zero_infinity``); callers mask it out.
    """
    if log_probs.is_cuda and targets.numel() and int(target_lengths.max()) < CUDNN_MAX_TARGET:
        # cuDNN's CTC kernel runs only with int32 targets and lengths (and blank 0,
        # float32, targets shorter than 256); otherwise torch's native kernel does
        targets, input_lengths, target_lengths = targets.int(), input_lengths.int(), target_lengths.int()
    losses = F.ctc_loss(
        log_probs.float().transpose(0, 1),  # torch's CTC takes (T, B, K)
        targets,
        input_lengths,
        target_lengths,
        blank=BLANK,
        reduction="none",
        zero_infinity=True,
    )
    return losses / target_lengths.clamp(min=1).to(losses.dtype)
