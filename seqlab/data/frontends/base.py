"""The one interface of a frontend: a record (or a file) in, the network's input tensor out.

A frontend holds every preprocessing setting of one kind of input as one typed
object. It is stored in the checkpoint (:meth:`Frontend.to_dict`) and rebuilt
from it (:func:`frontend_from_dict`), so training, evaluation, transcription and
export prepare inputs with the same object, and nothing outside the frontends
asks what kind of input a model reads. A new kind of input is one file in
``seqlab/data/frontends/`` and one entry in :data:`FRONTENDS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from seqlab.data.records import Record
from seqlab.errors import CheckpointError


@dataclass(frozen=True)
class Prepared:
    """One input ready for the network.

    Attributes:
        source: the file (or a name) it came from.
        input: what :meth:`Frontend.pad` batches: (1, H, W) image (ink = 1) or
            (T, F) normalised feature frames.
        length: its length along the padded axis (W or T).
        extent: the original image's width in pixels, or the audio's duration in seconds.
    """

    source: str
    input: torch.Tensor
    length: int
    extent: float


class Frontend:
    """Base of the frontends.

    Class attributes:
        name: the key in :data:`FRONTENDS` and in the stored dict (``type``).
        suffixes: file name endings (lower case) of the files it reads.
        unit: what aligned positions are measured in (``pixels`` or ``seconds``).
        input_layout: the batched input, for export metadata.
        noun: what one input file is called in messages (``image``, ``audio file``).
        time_axis: the batch axis that :meth:`pad` pads (3: W of (B, C, H, W); 1: T of (B, T, F)).
    """

    name: str = ""
    suffixes: tuple[str, ...] = ()
    unit: str = ""
    input_layout: str = ""
    time_axis: int = 1
    noun: str = "input file"
    # attributes that shape training only and are never stored (augmentation)
    training_only: tuple[str, ...] = ()
    cache_dir: str | Path | None = None

    @property
    def feature_size(self) -> int:
        """Values per step the encoder sees (image height, or features per frame)."""
        raise NotImplementedError

    # --- training data ----------------------------------------------------
    def length(self, record: Record) -> int:
        """The record's input length (W or T) from headers only, for bucketing.

        Raises:
            UnreadableFileError: naming the file, when it is unreadable or too short.
        """
        raise NotImplementedError

    def report_inputs(self) -> None:
        """Say once what the inputs measured by :meth:`length` needed (resampling, mixing down); default: nothing."""

    def fit(self, records: Sequence[Record], num_workers: int = 0, seed: int = 0) -> None:
        """Learn what the frontend needs from the training records (normalisation statistics)."""

    def warm(self, records: Sequence[Record], num_workers: int = 0) -> None:
        """Prepare what loading will need, in bulk, before the first epoch (default: nothing)."""

    def loader(self, augment: bool = False):
        """A picklable ``record -> tensor`` callable for DataLoader workers (``augment``: training distortions)."""
        raise NotImplementedError

    def augment_batch(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Masks or distortions applied to a training batch on the device (default: none)."""
        return inputs

    # --- any input ----------------------------------------------------------
    def read_file(self, path: str | Path) -> Prepared:
        """One file as the network sees it (transcription; no augmentation).

        Raises:
            UnreadableFileError: naming the file and the reason.
        """
        raise NotImplementedError

    def pad(self, inputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch inputs with zero padding: (inputs, lengths)."""
        raise NotImplementedError

    def positions(self, input_length: int, frames: int, extent: float):
        """The :class:`~seqlab.decode.align.FrameScale` from output frames to the input's ``unit``."""
        raise NotImplementedError

    def example(self, length: int, batch: int, generator: torch.Generator) -> torch.Tensor:
        """Random inputs of this layout with ``length`` steps, for export checks."""
        raise NotImplementedError

    def figure(self, record: Record, log_probs, symbols: Sequence[str], title: str) -> bytes:
        """A PNG of one input for a report: the line image, or the (T, K) ``log_probs`` posteriorgram."""
        raise NotImplementedError

    def to_dict(self) -> dict:
        """Plain data (``type`` and settings) from which :func:`frontend_from_dict` rebuilds it."""
        raise NotImplementedError

    def trained_like(self, stored: dict) -> Frontend:
        """The stored frontend (a trained model's settings and statistics) with this one's
        training-only settings (augmentation) and cache: what fine-tuning reads inputs with."""
        new = frontend_from_dict(stored, cache_dir=self.cache_dir)
        if type(new) is not type(self):
            raise CheckpointError(f"the model reads {new.noun}s ({new.name}) and this data is {self.name} input")
        for name in self.training_only:
            setattr(new, name, getattr(self, name))
        return new


def pad_images(inputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(C, H, W_i) images -> (B, C, H, max W) padded on the right with 0 (paper), and (B,) widths."""
    lengths = torch.tensor([x.size(-1) for x in inputs], dtype=torch.long)
    first = inputs[0]
    out = first.new_zeros(len(inputs), first.size(0), first.size(1), int(lengths.max()))
    for i, x in enumerate(inputs):
        out[i, :, :, : x.size(-1)] = x
    return out, lengths


def pad_frames(inputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(T_i, F) frames -> (B, max T, F) padded with 0, and (B,) frame counts."""
    lengths = torch.tensor([x.size(0) for x in inputs], dtype=torch.long)
    first = inputs[0]
    out = first.new_zeros(len(inputs), int(lengths.max()), first.size(-1))
    for i, x in enumerate(inputs):
        out[i, : x.size(0)] = x
    return out, lengths


def frontend_from_dict(data: dict, cache_dir: str | Path | None = None) -> Frontend:
    """The frontend a checkpoint stored (:meth:`Frontend.to_dict`).

    Raises:
        CheckpointError: when ``type`` names no frontend or a setting is invalid.
    """
    from seqlab.data.frontends import FRONTENDS, frontend_class

    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in FRONTENDS:
        raise CheckpointError(f"the stored frontend has type {kind!r}; expected one of {sorted(FRONTENDS)}")
    try:
        return frontend_class(kind).from_dict(data, cache_dir=cache_dir)
    except (TypeError, ValueError, KeyError) as e:
        raise CheckpointError(f"the stored {kind} frontend is invalid: {e}") from None
