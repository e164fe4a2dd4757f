"""Named samples and batches shared by every data module."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import torch


class Sample(NamedTuple):
    """One item as a dataset yields it.

    ``input`` is an image (C, H, W) or a feature sequence (T, F) tensor.
    """

    id: str
    input: torch.Tensor
    target: list[int]
    text: str
    source: str


@dataclass
class Batch:
    """A padded batch.

    Attributes:
        inputs: (B, C, H, W) images padded on the right with 0 (background),
            or (B, T, F) feature frames padded with 0.
        input_lengths: (B,) valid widths (images) or frames (features).
        targets: (sum(L),) concatenated class indices (blank excluded).
        target_lengths: (B,) transcription lengths L.
        ids: sample ids (IAM line id, TIMIT ``SPEAKER/UTT``, LibriSpeech utterance id).
        texts: reference transcriptions, as scored.
        sources: the file each sample was read from (for messages).
        skipped: ``"source: reason"`` for items of this batch that could not be
            read and were left out.
    """

    inputs: torch.Tensor
    input_lengths: torch.Tensor
    targets: torch.Tensor
    target_lengths: torch.Tensor
    ids: list[str]
    texts: list[str]
    sources: list[str]
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


class Skipped(NamedTuple):
    """What a dataset returns instead of a :class:`Sample` it could not read."""

    source: str
    reason: str


class Collate:
    """Picklable ``collate_fn``: samples -> :class:`Batch`, inputs padded by the frontend's ``pad``
    (:meth:`seqlab.data.frontends.Frontend.pad`), so nothing here asks what kind of input it is."""

    def __init__(self, pad: Callable[[Sequence[torch.Tensor]], tuple[torch.Tensor, torch.Tensor]]) -> None:
        self.pad = pad

    def __call__(self, items: list[Sample | Skipped]) -> Batch:
        samples = [s for s in items if isinstance(s, Sample)]
        skipped = [f"{s.source}: {s.reason}" for s in items if isinstance(s, Skipped)]
        if not samples:
            empty = torch.zeros(0)
            return Batch(empty, empty.long(), empty.long(), empty.long(), [], [], [], skipped)
        inputs, lengths = self.pad([s.input for s in samples])
        return Batch(
            inputs=inputs,
            input_lengths=lengths,
            targets=torch.tensor([c for s in samples for c in s.target], dtype=torch.long),
            target_lengths=torch.tensor([len(s.target) for s in samples], dtype=torch.long),
            ids=[s.id for s in samples],
            texts=[s.text for s in samples],
            sources=[s.source for s in samples],
            skipped=skipped,
        )


def collate(items: list[Sample | Skipped], pad=None) -> Batch:
    """:class:`Collate` with ``pad`` (default: images (C, H, W) padded along W, for tests and benchmarks
    of the image models; speech passes :func:`~seqlab.data.frontends.base.pad_frames`)."""
    if pad is None:
        from seqlab.data.frontends.base import pad_images

        pad = pad_images
    return Collate(pad)(items)
