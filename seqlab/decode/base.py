"""What every CTC decoder is: log-probabilities and lengths in, one :class:`Hypothesis` per item out.

A decoder is a class whose constructor takes the model's
:class:`~seqlab.text.Alphabet` first and its settings as keyword arguments
with defaults (the one place each default is written), and whose instances
are called on a batch:

    decoder(log_probs (B, T, K), lengths (B,)) -> B hypotheses

A decoder that keeps no state between calls says so with a class attribute
``thread_safe = True``: the recognizer then decodes batches on several threads
at once; any other decoder is called one batch at a time.

:data:`seqlab.decode.DECODERS` registers them by name; ``seqlab transcribe
--decoder``, ``seqlab evaluate decoder.name=`` and :class:`~seqlab.recognizer.Recognizer`
all build them through :func:`seqlab.decode.build_decoder`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch


@dataclass(frozen=True)
class Hypothesis:
    """The best output of one item.

    Attributes:
        labels: class indices (1..K-1) of the output, in the alphabet's units.
        text: the output as text (``alphabet.decode(labels)``; in the model's
            order, before any BiDi reordering is undone).
        score: the decoder's score of it (greedy: the best path's log-probability;
            beam: acoustic + weighted LM + word bonuses).
        words: a lexicon decoder's words; else None.
    """

    labels: list[int]
    text: str
    score: float
    words: list[str] | None = None


@runtime_checkable
class Decoder(Protocol):
    """Turns CTC log-probabilities into hypotheses."""

    def __call__(self, log_probs: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
        """Best hypothesis of each item.

        Args:
            log_probs: (B, T, K) log-probabilities (blank = class 0).
            lengths: (B,) valid frames per item.
        """
        ...

    def describe(self) -> str:
        """One line for reports and logs: the decoder and its settings."""
        ...
