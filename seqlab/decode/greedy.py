"""Greedy (best path) CTC decoding."""

from __future__ import annotations

import torch

from seqlab.text import BLANK


def greedy_decode(log_probs: torch.Tensor, lengths: torch.Tensor) -> list[list[int]]:
    """Best path: argmax per frame, merge repeats, drop blanks.

    Args:
        log_probs: (B, T, K) frame scores (K classes, blank = 0).
        lengths: (B,) valid frames per item.

    Returns:
        B lists of class indices (1..K-1).
    """
    best = log_probs.argmax(dim=-1).cpu()  # (B, T)
    out: list[list[int]] = []
    for row, n in zip(best, lengths.tolist()):
        path = row[:n]
        if n:
            keep = torch.ones(n, dtype=torch.bool)
            keep[1:] = path[1:] != path[:-1]  # first frame of each run
            path = path[keep & (path != BLANK)]
        out.append(path.tolist())
    return out
