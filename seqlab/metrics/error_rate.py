"""Corpus-level error rates: total edits over total reference length.

CER counts characters (spaces included), WER whitespace-separated words, PER
phones (after the 39-phone folding for TIMIT, done by the caller). An error
rate over a corpus is the sum of the edit distances divided by the sum of the
reference lengths (not the mean of per-line rates), as every published IAM,
TIMIT and LibriSpeech figure is computed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence

import editdistance
import torch
from torchmetrics import Metric


def edit_distance(reference: Sequence[Hashable], hypothesis: Sequence[Hashable]) -> int:
    """Levenshtein distance (substitutions + deletions + insertions)."""
    return int(editdistance.eval(reference, hypothesis))


def chars(text: str) -> list[str]:
    return list(text)


def words(text: str) -> list[str]:
    return text.split()


def corpus_error_rate(
    references: Iterable[str], hypotheses: Iterable[str], units: Callable[[str], Sequence] = chars
) -> float:
    """Sum of edits over sum of reference lengths; ``units`` splits a text (chars, words, ...)."""
    edits = total = 0
    for ref, hyp in zip(references, hypotheses, strict=True):
        r = units(ref)
        edits += edit_distance(r, units(hyp))
        total += len(r)
    return edits / total if total else float("nan")


class ErrorRate(Metric):
    """Accumulates edits and reference lengths over a corpus; syncs across DDP ranks.

    Args:
        units: splits a transcription into the units scored (``chars``, ``words``,
            or a phone folding).
    """

    full_state_update = False
    higher_is_better = False

    def __init__(self, units: Callable[[str], Sequence] = chars) -> None:
        super().__init__()
        self.units = units
        self.add_state("edits", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, references: Sequence[str], hypotheses: Sequence[str]) -> None:  # type: ignore[override]
        edits = total = 0
        for ref, hyp in zip(references, hypotheses, strict=True):
            r = self.units(ref)
            edits += edit_distance(r, self.units(hyp))
            total += len(r)
        self.edits = self.edits + edits  # not in place: states may be inference tensors
        self.total = self.total + total

    def compute(self) -> torch.Tensor:
        if self.total == 0:
            return torch.tensor(float("nan"))
        return self.edits.double() / self.total.double()
