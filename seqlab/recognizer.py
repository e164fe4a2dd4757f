"""Offline transcription with a trained checkpoint: files in, text, timings and confidences out.

The checkpoint alone is enough: the alphabet, the network and the input
recipe (image height and preprocessing, or filterbank settings and
normalisation statistics) all come from it (:func:`seqlab.checkpoint.load_model`).

>>> from seqlab.recognizer import Recognizer
>>> rec = Recognizer.from_checkpoint("runs/.../checkpoints/best.ckpt")
>>> for t in rec.transcribe(["line1.png", "line2.jpg"]):
...     print(t.source, t.text, t.confidence)

Inputs are read the way the data modules read them for evaluation (no
augmentation):

- images (PNG, JPEG, TIFF): :func:`~seqlab.data.images.open_grey`, then the
  checkpoint's :class:`~seqlab.data.images.LineImageTransform`. A binarising
  recipe thresholds at Otsu's level (evaluation on IAM uses the ``graylevel``
  of lines.txt, which a lone image does not have);
- audio (NIST SPHERE, RIFF WAV, FLAC; any name): :func:`~seqlab.data.audio.read_audio`
  (mono, resampled to the features' rate), the checkpoint's filterbank, the
  static features rounded through float16 as the training feature cache
  stores them, deltas, then the training set's normalisation.

Items are batched ``batch_size`` at a time in order of length (least padding),
and the results come back in input order; the output does not depend on the
batch size (every encoder is padding-invariant).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torchaudio.functional as AF
from PIL import Image

from seqlab.data.batch import Sample, collate
from seqlab.decode.align import FrameScale, TokenSpan, align_labels, group_words, sequence_confidence
from seqlab.decode import DECODERS
from seqlab.decode.greedy import greedy_decode
from seqlab.errors import CheckpointError, ConfigError, UnreadableFileError

INPUT_SUFFIXES = {
    "image": (".png", ".jpg", ".jpeg", ".tif", ".tiff"),
    "speech": (".wav", ".sph", ".flac"),
}


@dataclass(frozen=True)
class Prepared:
    """One input ready for the network.

    Attributes:
        source: the file (or a name) it came from.
        input: (1, H, W) image (ink = 1) or (T, F) normalised feature frames.
        extent: the original image's width in pixels, or the audio's duration in seconds.
    """

    source: str
    input: torch.Tensor
    extent: float

    @property
    def length(self) -> int:
        return int(self.input.size(-1) if self.input.dim() == 3 else self.input.size(0))


@dataclass
class Segment:
    """An aligned token or word: ``start`` .. ``end`` in the transcription's ``unit``."""

    text: str
    start: float
    end: float
    start_frame: int
    end_frame: int  # one past the last frame
    score: float


@dataclass
class Transcription:
    """What the recognizer says about one input.

    Attributes:
        source: the input file (or the name it was given).
        text: the hypothesis.
        confidence: P(text | input) ** (1 / number of tokens), from the CTC
            forward score (:func:`~seqlab.decode.align.sequence_confidence`).
        tokens: every output symbol (spaces included) with its frames and its
            score, the mean posterior of its class over those frames.
        words: the words (split at spaces; each phone for token alphabets), with
            the mean of their tokens' scores.
        unit: ``seconds`` (audio) or ``pixels`` (x in the original image).
        frames: encoder output frames.
        extent: the input's duration (s) or original width (pixels).
        aligned: False when the hypothesis needs more frames than the input has
            (possible with a lexicon only): then there are no tokens or words.
    """

    source: str
    text: str
    confidence: float
    unit: str
    frames: int
    extent: float
    tokens: list[Segment] = field(default_factory=list)
    words: list[Segment] = field(default_factory=list)
    aligned: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


class Recognizer:
    """A trained CTC model with its input recipe and a decoder.

    Args:
        model: a :class:`~seqlab.lit.CTCModule`.
        recipe: the checkpoint's ``seqlab.data`` entry (``kind`` image or speech).
        device: where the network runs (decoding and alignment run on the CPU).
        decoder: ``greedy`` (best path, as evaluation decodes) or ``beam``.
        beam_size, lexicon, lm, lm_weight, word_score: beam search settings
            (:class:`~seqlab.decode.beam.BeamSearchDecoder`); beam only.
        batch_size: inputs per forward pass.
    """

    def __init__(
        self,
        model,
        recipe: dict,
        device: str | torch.device = "cpu",
        decoder: str = "greedy",
        beam_size: int = 50,
        lexicon: str | Path | None = None,
        lm: str | Path | None = None,
        lm_weight: float = 2.0,
        word_score: float = 0.0,
        batch_size: int = 16,
    ) -> None:
        if decoder not in DECODERS:
            raise ConfigError(f"decoder must be one of {DECODERS}, got {decoder!r}")
        if decoder == "greedy" and (lexicon is not None or lm is not None):
            raise ConfigError("a lexicon or language model needs decoder='beam'")
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        self.kind = recipe.get("kind")
        if self.kind not in INPUT_SUFFIXES:
            raise CheckpointError(f"checkpoint data recipe has kind {self.kind!r}; expected 'image' or 'speech'")
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.alphabet = model.alphabet
        self.recipe = recipe
        self.batch_size = batch_size
        self.decoder_name = decoder
        self.beam = None
        if decoder == "beam":
            from seqlab.decode.beam import BeamSearchDecoder

            self.beam = BeamSearchDecoder(self.alphabet, beam_size=beam_size, lexicon=lexicon, lm=lm,
                                          lm_weight=lm_weight, word_score=word_score)
        if self.kind == "image":
            from seqlab.data.images import LineImageTransform

            self.transform = LineImageTransform(**recipe["image"])
        else:
            from seqlab.data.features import FeatureStats, FilterbankFeatures

            self.features = FilterbankFeatures.from_dict(recipe["features"])
            stats = recipe.get("normalization")
            self.stats = FeatureStats(stats["mean"], stats["std"], stats.get("frames", 0)) if stats else None

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu", **kwargs) -> Recognizer:
        """A recognizer from a checkpoint written by ``seqlab train`` (loaded with weights_only).

        Raises:
            CheckpointError: naming the file, when it cannot be loaded or has no input recipe.
        """
        from seqlab.checkpoint import load_model

        model, info = load_model(path, map_location="cpu")
        recipe = info.get("data")
        if not isinstance(recipe, dict) or "kind" not in recipe:
            raise CheckpointError(f"{path}: has no data recipe (seqlab.data); was it written by seqlab train?")
        return cls(model, recipe, device=device, **kwargs)

    @property
    def suffixes(self) -> tuple[str, ...]:
        """File name endings of this model's inputs (lower case)."""
        return INPUT_SUFFIXES[self.kind]

    # --- inputs -------------------------------------------------------------
    def load(self, path: str | Path) -> Prepared:
        """Read and preprocess one file.

        Raises:
            UnreadableFileError: naming the file and the reason, also when
                preparing this one input runs out of memory.
        """
        if self.kind == "image":
            from seqlab.data.images import open_grey

            try:
                return self.prepare_image(open_grey(path), str(path))
            except MemoryError:
                # one oversized input must cost only itself, never the files batched with it
                raise UnreadableFileError(f"{path}: not enough memory to prepare this image; "
                                          "crop or downscale it") from None
        from seqlab.data.audio import read_audio

        wave = read_audio(path, self.features.sample_rate)
        try:
            return self.prepare_audio(wave, self.features.sample_rate, str(path))
        except UnreadableFileError as e:
            raise UnreadableFileError(f"{path}: {e}") from None

    def prepare_image(self, img: Image.Image, source: str = "<image>") -> Prepared:
        """A grey ("L") line image -> network input (other modes are converted to grey first,
        transparency onto white paper).

        Raises:
            UnreadableFileError: when resizing to the model's height would make it too large.
        """
        if self.kind != "image":
            raise ConfigError("this model reads audio, not images")
        from seqlab.data.images import to_grey

        grey = img if img.mode == "L" else to_grey(img)
        return Prepared(source, self.transform(grey), grey.width)

    def prepare_audio(self, wave: torch.Tensor, sample_rate: int, source: str = "<audio>") -> Prepared:
        """(N,) mono waveform (full scale 1.0) -> normalised features.

        Raises:
            UnreadableFileError: when it is shorter than one analysis window.
        """
        if self.kind != "speech":
            raise ConfigError("this model reads images, not audio")
        wave = wave.float().reshape(-1)
        if sample_rate != self.features.sample_rate:
            wave = AF.resample(wave, sample_rate, self.features.sample_rate)
        # the training feature cache keeps static features in float16 (seqlab.data.features.FeatureCache)
        static = self.features.static(wave).half().float()
        x = self.features.with_deltas(static)
        if self.stats is not None:
            x = self.stats.apply(x)
        return Prepared(source, x, wave.numel() / self.features.sample_rate)

    # --- recognition --------------------------------------------------------
    @torch.inference_mode()
    def recognize(self, items: Sequence[Prepared]) -> list[Transcription]:
        """Transcribe prepared inputs, ``batch_size`` at a time in order of length; results in input order."""
        order = sorted(range(len(items)), key=lambda i: (-items[i].length, i))
        out: list[Transcription | None] = [None] * len(items)
        for start in range(0, len(order), self.batch_size):
            chosen = order[start : start + self.batch_size]
            batch = collate([Sample(str(i), items[i].input, [], "", items[i].source) for i in chosen])
            log_probs, lengths = self.model(batch.inputs.to(self.device), batch.input_lengths.to(self.device))
            log_probs, lengths = log_probs.float().cpu(), lengths.cpu()
            if self.beam is None:
                hyps = greedy_decode(log_probs, lengths)
            else:
                hyps = [r.labels for r in self.beam(log_probs, lengths)]
            for j, i in enumerate(chosen):
                n = int(lengths[j])
                out[i] = self._describe(items[i], log_probs[j, :n], hyps[j], int(batch.input_lengths[j]))
        return out  # type: ignore[return-value]

    def transcribe(
        self,
        paths: Iterable[str | Path],
        on_error: Callable[[str, UnreadableFileError], None] | None = None,
        progress: Callable[[int], None] | None = None,
        chunk: int | None = None,
    ) -> list[Transcription]:
        """Transcribe files, in order.

        Args:
            paths: image or audio files.
            on_error: called with (path, error) for a file that cannot be read,
                which is then left out of the results; None: the error is raised.
            progress: called with the number of files just done (read or failed).
            chunk: files read into memory at a time (default 16 batches).

        Raises:
            UnreadableFileError: naming the file, when ``on_error`` is None.
        """
        chunk = chunk or 16 * self.batch_size
        paths = [str(p) for p in paths]
        out: list[Transcription] = []
        for start in range(0, len(paths), chunk):
            prepared = []
            for p in paths[start : start + chunk]:
                try:
                    prepared.append(self.load(p))
                except UnreadableFileError as e:
                    if on_error is None:
                        raise
                    on_error(p, e)
                    if progress is not None:
                        progress(1)
            out.extend(self.recognize(prepared))
            if progress is not None:
                progress(len(prepared))
        return out

    def _describe(self, item: Prepared, log_probs: torch.Tensor, labels: list[int], input_length: int) -> Transcription:
        """Text, confidence and aligned tokens and words of one item: (T, K) log-probs, its labels."""
        frames = log_probs.size(0)
        if self.kind == "image":
            scale = FrameScale.for_image(input_length, frames, int(item.extent))
        else:
            scale = FrameScale.for_audio(input_length, frames, self.features.frame_shift_ms / 1000, item.extent)
        t = Transcription(
            source=item.source, text=self.alphabet.decode(labels),
            confidence=sequence_confidence(log_probs, labels),
            unit=scale.unit, frames=frames, extent=item.extent,
        )
        spans = align_labels(log_probs, labels)
        if spans is None:
            t.aligned = False
            return t
        t.tokens = [self._segment([s], scale) for s in spans]
        t.words = [self._segment(w, scale) for w in group_words(spans, self.alphabet)]
        return t

    def _segment(self, spans: Sequence[TokenSpan], scale: FrameScale) -> Segment:
        start, end = scale.span(spans[0].start, spans[-1].end)
        return Segment(
            text=self.alphabet.decode([s.label for s in spans]), start=start, end=end,
            start_frame=spans[0].start, end_frame=spans[-1].end,
            score=sum(s.score for s in spans) / len(spans),
        )
