"""Where each output symbol is, and how sure the model is of it.

Given a hypothesis (from greedy or beam decoding) and the frame posteriors it
came from:

- :func:`align_labels`: CTC forced alignment (Viterbi, ``torchaudio.functional.forced_align``)
  of the hypothesis; each token gets its first and last frame and a score, the
  mean posterior of its label over those frames (``merge_tokens``);
- :func:`group_words`: words of a hypothesis: runs of tokens between spaces for
  character alphabets, every token its own word for token alphabets (phones);
- :func:`sequence_confidence`: one number per line/utterance, the geometric
  mean per token of P(hypothesis | input), from the CTC forward score
  (``ctc_loss``, the sum over every path that spells the hypothesis):
  ``exp(-ctc_loss / max(1, L))``, in (0, 1]; :func:`sequence_confidences`
  for a whole batch in one pass;
- :class:`FrameScale`: encoder frames to seconds (audio) or to pixels of the
  original image.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from seqlab.text import BLANK, Alphabet


@dataclass(frozen=True)
class TokenSpan:
    """One aligned token: class ``label`` on frames ``start`` .. ``end - 1``, mean posterior ``score``."""

    label: int
    start: int
    end: int
    score: float


def min_frames(labels: Sequence[int]) -> int:
    """Frames CTC needs to emit ``labels``: one per label, plus a blank between repeats."""
    return len(labels) + sum(1 for a, b in zip(labels, labels[1:]) if a == b)


def align_labels(log_probs: torch.Tensor, labels: Sequence[int]) -> list[TokenSpan] | None:
    """Forced alignment of ``labels`` to the frames of one item.

    Args:
        log_probs: (T, K) log-probabilities of the item's valid frames (blank = 0).
        labels: the hypothesis, class indices 1..K-1.

    Returns:
        One :class:`TokenSpan` per label, in order; None when the item has
        fewer frames than the labels need (:func:`min_frames`), which only a
        lexicon-constrained beam search can produce.
    """
    if not labels:
        return []
    if log_probs.size(0) < min_frames(labels):
        return None
    emissions = log_probs.detach().float().cpu().unsqueeze(0)  # (T, K) -> (1, T, K)
    targets = torch.tensor([list(labels)], dtype=torch.int32)
    import torchaudio.functional as AF  # here, not at import: a handwriting model's start-up never loads it

    path, scores = AF.forced_align(emissions, targets, blank=BLANK)
    spans = AF.merge_tokens(path[0], scores[0].exp(), blank=BLANK)
    return [TokenSpan(s.token, s.start, s.end, float(s.score)) for s in spans]


def sequence_confidence(log_probs: torch.Tensor, labels: Sequence[int]) -> float:
    """P(labels | x) ** (1 / max(1, L)): the per-token geometric mean of the CTC probability.

    Args:
        log_probs: (T, K) log-probabilities of one item's valid frames.
        labels: the hypothesis (L class indices; may be empty: then it is the
            probability of an all-blank output).

    Returns:
        A number in [0, 1]; 0 when the hypothesis cannot be emitted in T frames.
    """
    return sequence_confidences(log_probs.unsqueeze(0), torch.tensor([log_probs.size(0)]), [labels])[0]


def sequence_confidences(log_probs: torch.Tensor, lengths: torch.Tensor, labels: Sequence[Sequence[int]]) -> list[float]:
    """:func:`sequence_confidence` of every item of a batch, from one CTC forward pass over it.

    Args:
        log_probs: (B, T, K) log-probabilities.
        lengths: (B,) valid frames per item.
        labels: B hypotheses.
    """
    lengths = lengths.cpu()
    out = [1.0 if not hyp else 0.0 for hyp in labels]  # what zero frames give
    scored = [b for b in range(len(labels)) if int(lengths[b]) > 0]
    if not scored:
        return out
    nll = F.ctc_loss(
        log_probs.detach()[scored].double().cpu().transpose(0, 1),  # (B, T, K) -> (T, B, K): torch's CTC layout
        torch.tensor([c for b in scored for c in labels[b]], dtype=torch.long),  # the targets, concatenated
        lengths[scored],
        torch.tensor([len(labels[b]) for b in scored]),
        blank=BLANK,
        reduction="none",
    ).tolist()
    for b, value in zip(scored, nll):
        out[b] = 0.0 if not math.isfinite(value) else math.exp(-value / max(1, len(labels[b])))
    return out


def group_words(spans: Sequence[TokenSpan], alphabet: Alphabet) -> list[list[TokenSpan]]:
    """The words of an aligned hypothesis.

    Character alphabets: runs of tokens between space tokens (a line without a
    space symbol in its alphabet is one word). Token alphabets: one word per token.
    """
    if alphabet.unit != "char":
        return [[s] for s in spans]
    space = alphabet.symbols.index(" ") + 1 if " " in alphabet.symbols else None
    words: list[list[TokenSpan]] = [[]]
    for s in spans:
        if s.label == space:
            words.append([])
        else:
            words[-1].append(s)
    return [w for w in words if w]


@dataclass(frozen=True)
class FrameScale:
    """Encoder output frames -> positions in the input, in ``unit``.

    Attributes:
        unit: ``seconds`` (audio) or ``pixels`` (x in the original image).
        per_frame: input units covered by one output frame.
        limit: the input's extent (duration, original width): spans are clipped to it.
    """

    unit: str
    per_frame: float
    limit: float

    @classmethod
    def for_audio(cls, feature_frames: int, output_frames: int, frame_shift_s: float, duration_s: float) -> FrameScale:
        """Output frame j covers feature frames j*s .. (j+1)*s - 1, s = the encoder's subsampling
        (``feature_frames / output_frames``), each ``frame_shift_s`` long."""
        subsampling = feature_frames / max(1, output_frames)
        return cls("seconds", subsampling * frame_shift_s, duration_s)

    @classmethod
    def for_image(cls, input_width: int, output_frames: int, original_width: int) -> FrameScale:
        """Output frame j covers columns j*s .. (j+1)*s - 1 of the resized line (s =
        ``input_width / output_frames``), scaled back to the original image's width."""
        subsampling = input_width / max(1, output_frames)
        return cls("pixels", subsampling * original_width / max(1, input_width), float(original_width))

    def span(self, start: int, end: int) -> tuple[float, float]:
        """Frames ``start`` .. ``end - 1`` -> (start, end) in ``unit``: seconds to the millisecond,
        whole pixels (rounded, so that adjacent spans share their boundary)."""
        a, b = start * self.per_frame, min(end * self.per_frame, self.limit)
        if self.unit == "pixels":
            return round(a), round(b)
        return round(a, 3), round(b, 3)
