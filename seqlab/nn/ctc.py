"""CTC output layer and loss.

Graves et al. 2006. The head is a linear map to K = symbols + 1 classes followed
by log-softmax; class 0 is the blank (``seqlab.text.BLANK``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.text import BLANK, Alphabet


CUDNN_MAX_TARGET = 256


class CTCModel(nn.Module):
    """A trained recogniser without its training loop: encoder, CTC head and alphabet.

    What inference needs (:func:`seqlab.checkpoint.load_model` builds one from
    a checkpoint, with neither Lightning nor Hydra); the training module
    :class:`seqlab.lit.CTCModule` is this plus the loss, metrics and optimiser.
    The state dict's keys (``encoder.*``, ``head.*``) are the same in both.

    Args:
        encoder: any seqlab encoder (``forward(x, lengths) -> (B, T, C), lengths``
            with an ``output_size`` attribute).
        alphabet: the symbol table; the head has ``alphabet.num_classes`` outputs.
        metrics: the error rates the model is scored with (``cer``, ``wer``, ``per``).
    """

    def __init__(self, encoder: nn.Module, alphabet: Alphabet, metrics=("cer", "wer")) -> None:
        super().__init__()
        self.encoder = encoder
        self.alphabet = alphabet
        self.head = CTCHead(encoder.output_size, alphabet.num_classes)
        self.metric_names = tuple(metrics)

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs (B, C, H, W) or (B, T, F) -> (B, T', K) log-probabilities and (B,) lengths."""
        features, out_lengths = self.encoder(inputs, lengths)
        return self.head(features), out_lengths

    def decode(self, log_probs: torch.Tensor, lengths: torch.Tensor) -> list[str]:
        """Greedy texts of (B, T, K) log-probabilities: what validation and test score."""
        from seqlab.decode.greedy import GreedyDecoder

        return [h.text for h in GreedyDecoder(self.alphabet)(log_probs, lengths)]


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
