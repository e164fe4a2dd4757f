"""Greedy (best path) CTC decoding: what training and validation score."""

from __future__ import annotations

import torch

from seqlab.decode.base import Hypothesis
from seqlab.text import BLANK, Alphabet


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


class GreedyDecoder:
    """Best path decoding as a :class:`~seqlab.decode.base.Decoder` (it has no settings).

    Args:
        alphabet: the model's symbol table.
    """

    thread_safe = True  # no state between calls: batches may be decoded on several threads at once

    def __init__(self, alphabet: Alphabet) -> None:
        self.alphabet = alphabet

    def __call__(self, log_probs: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
        """(B, T, K) log-probabilities, (B,) lengths -> B hypotheses; score = the best path's log-probability."""
        best, _ = log_probs.detach().float().max(dim=-1)  # (B, T)
        frames = torch.arange(best.size(1), device=best.device) < lengths.to(best.device)[:, None]
        scores = (best * frames).sum(dim=1).tolist()
        return [Hypothesis(labels, self.alphabet.decode(labels), float(score))
                for labels, score in zip(greedy_decode(log_probs, lengths), scores)]

    def describe(self) -> str:
        return "greedy (best path): the most probable class per frame, repeats merged, blanks removed"
