"""Offline transcription with a trained checkpoint: files in, text, timings and confidences out.

The checkpoint alone is enough: the alphabet, the network, the frontend that
prepares inputs and the text normalisation all come from it
(:class:`seqlab.checkpoint.CheckpointInfo`).

>>> from seqlab.recognizer import Recognizer
>>> rec = Recognizer.from_checkpoint("runs/.../checkpoints/best.ckpt")
>>> for t in rec.transcribe(["line1.png", "line2.jpg"]):
...     print(t.source, t.text, t.confidence)

Inputs are prepared by the frontend the model was trained with
(:mod:`seqlab.data.frontends`), exactly as evaluation prepares them (no
augmentation): line images decoded grey and resized (a binarising frontend
thresholds at Otsu's level where no corpus threshold is given), audio read
mono at the features' rate, filterbank features rounded through float16 as
the training cache stores them, deltas, the training set's normalisation.

Items are batched ``batch_size`` at a time in order of length (least padding),
and the results come back in input order; the output does not depend on the
batch size (every encoder is padding-invariant).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from PIL import Image

from seqlab.data.batch import Collate, Sample
from seqlab.data.frontends.base import Frontend, Prepared
from seqlab.decode import build_decoder
from seqlab.decode.align import FrameScale, TokenSpan, align_labels, group_words, sequence_confidence
from seqlab.errors import ConfigError, UnreadableFileError

__all__ = ["Prepared", "Recognizer", "Segment", "Transcription"]


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
        aligned: False when the recognizer does not align (``align=False``) or
            the hypothesis needs more frames than the input has (possible with
            a lexicon only): then there are no tokens or words.
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
    """A trained CTC model with its frontend and a decoder.

    Args:
        model: a :class:`~seqlab.lit.CTCModule`.
        frontend: the checkpoint's :class:`~seqlab.data.frontends.Frontend`
            (:meth:`CheckpointInfo.build_frontend`).
        device: where the network runs (decoding and alignment run on the CPU).
        decoder: a name in :data:`seqlab.decode.DECODERS` (``greedy``, best path
            as evaluation decodes, or ``beam``).
        decoder_settings: that decoder's settings (for beam: ``beam_size``,
            ``lexicon``, ``lm``, ``lm_weight``, ``word_score``); what is left
            out takes the decoder's default.
        batch_size: inputs per forward pass.
        text: the checkpoint's :class:`~seqlab.text.normalize.TextNormalization`;
            hypotheses are turned back from the model's order (:meth:`from_model`).
        align: align each hypothesis to its frames (the tokens' and words'
            positions); False leaves ``tokens`` and ``words`` empty, for output
            that needs only text and confidence.
        quantize: ``int8`` runs the recurrent and linear layers in int8 on the
            CPU, ``bf16`` the network in bfloat16 (:mod:`seqlab.nn.quantize`);
            None keeps float32.
        long_audio: how audio files longer than its ``max_piece`` seconds are
            cut into pieces (:class:`seqlab.long_audio.LongAudio`; None: its
            defaults, voice activity detection, 30 s pieces).
    """

    def __init__(
        self,
        model,
        frontend: Frontend,
        device: str | torch.device = "cpu",
        decoder: str = "greedy",
        decoder_settings: dict | None = None,
        batch_size: int = 16,
        text=None,
        align: bool = True,
        quantize: str | None = None,
        long_audio=None,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        self.frontend = frontend
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        if quantize is not None:
            from seqlab.nn.quantize import quantize as quantized

            self.model = quantized(self.model, quantize)
        self.alphabet = model.alphabet
        self.text = text
        self.batch_size = batch_size
        self.align = align
        self.decoder_name = decoder
        self.decoder = build_decoder(decoder, self.alphabet, **(decoder_settings or {}))
        self.collate = Collate(frontend.pad)
        if long_audio is None and frontend.name == "speech":
            from seqlab.long_audio import LongAudio

            long_audio = LongAudio()
        self.long_audio = long_audio

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu", **kwargs) -> Recognizer:
        """A recognizer from a checkpoint written by ``seqlab train`` (loaded with weights_only).

        Raises:
            CheckpointError: naming the file, when it cannot be loaded or has no frontend.
        """
        from seqlab.checkpoint import load_model

        model, info = load_model(path, map_location="cpu")
        return cls(model, info.build_frontend(), device=device, text=info.text_normalization(), **kwargs)

    @property
    def suffixes(self) -> tuple[str, ...]:
        """File name endings of this model's inputs (lower case)."""
        return self.frontend.suffixes

    # --- inputs -------------------------------------------------------------
    def load(self, path: str | Path) -> Prepared:
        """Read and preprocess one file (:meth:`Frontend.read_file`).

        Raises:
            UnreadableFileError: naming the file and the reason.
        """
        return self.frontend.read_file(path)

    def prepare_image(self, img: Image.Image, source: str = "<image>") -> Prepared:
        """A Pillow line image (any mode) -> network input, for models that read images."""
        if not hasattr(self.frontend, "prepare") or self.frontend.name != "image":
            raise ConfigError(f"this model reads {self.frontend.name} input, not images")
        return self.frontend.prepare(img, source)

    def prepare_audio(self, wave: torch.Tensor, sample_rate: int, source: str = "<audio>") -> Prepared:
        """(N,) mono waveform (full scale 1.0) -> normalised features, for models that read audio."""
        if self.frontend.name != "speech":
            raise ConfigError(f"this model reads {self.frontend.name} input, not audio")
        return self.frontend.prepare(wave, sample_rate, source)

    # --- recognition --------------------------------------------------------
    @torch.inference_mode()
    def recognize(self, items: Sequence[Prepared], align: bool | None = None) -> list[Transcription]:
        """Transcribe prepared inputs, ``batch_size`` at a time in order of length; results in input order.

        ``align`` overrides the recognizer's setting (long audio needs the words' times to stitch pieces)."""
        order = sorted(range(len(items)), key=lambda i: (-items[i].length, i))
        out: list[Transcription | None] = [None] * len(items)
        for start in range(0, len(order), self.batch_size):
            chosen = order[start : start + self.batch_size]
            batch = self.collate([Sample(str(i), items[i].input, [], "", items[i].source) for i in chosen])
            log_probs, lengths = self.model(batch.inputs.to(self.device), batch.input_lengths.to(self.device))
            log_probs, lengths = log_probs.float().cpu(), lengths.cpu()
            hyps = [h.labels for h in self.decoder(log_probs, lengths)]
            for j, i in enumerate(chosen):
                n = int(lengths[j])
                out[i] = self._describe(items[i], log_probs[j, :n], hyps[j], int(batch.input_lengths[j]),
                                        self.align if align is None else align)
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
            done: list[Transcription | Prepared] = []  # in input order: long files recognised, the others prepared
            for p in paths[start : start + chunk]:
                try:
                    if self.is_long(p):
                        done.append(self.long_audio.transcribe(self, p))
                        if progress is not None:
                            progress(1)
                    else:
                        done.append(self.load(p))
                except UnreadableFileError as e:
                    if on_error is None:
                        raise
                    on_error(p, e)
                    if progress is not None:
                        progress(1)
            short = iter(self.recognize([d for d in done if isinstance(d, Prepared)]))
            out.extend(d if isinstance(d, Transcription) else next(short) for d in done)
            if progress is not None:
                progress(sum(isinstance(d, Prepared) for d in done))
        return out

    def is_long(self, path: str | Path) -> bool:
        """Whether an input is audio longer than one piece (:attr:`long_audio`), from its header."""
        if self.long_audio is None or self.frontend.name != "speech":
            return False
        from seqlab.data.audio import audio_info

        info = audio_info(path)
        self.frontend.note_input(path, info)  # for the one message on resampling (report_inputs)
        return info.frames / info.sample_rate > self.long_audio.max_piece

    def _describe(self, item: Prepared, log_probs: torch.Tensor, labels: list[int], input_length: int,
                  align: bool) -> Transcription:
        """Text, confidence and aligned tokens and words of one item: (T, K) log-probs, its labels."""
        frames = log_probs.size(0)
        scale: FrameScale = self.frontend.positions(input_length, frames, item.extent)
        t = Transcription(
            source=item.source, text=self._text(labels),
            confidence=sequence_confidence(log_probs, labels),
            unit=scale.unit, frames=frames, extent=item.extent,
        )
        if not align:
            t.aligned = False
            return t
        spans = align_labels(log_probs, labels)
        if spans is None:
            t.aligned = False
            return t
        t.tokens = [self._segment([s], scale) for s in spans]
        t.words = [self._segment(w, scale) for w in group_words(spans, self.alphabet)]
        return t

    def _text(self, labels: Sequence[int]) -> str:
        """Labels -> text in logical order (the BiDi reordering of training undone)."""
        text = self.alphabet.decode(list(labels))
        return self.text.from_model(text) if self.text is not None else text

    def _segment(self, spans: Sequence[TokenSpan], scale: FrameScale) -> Segment:
        start, end = scale.span(spans[0].start, spans[-1].end)
        return Segment(
            text=self._text([s.label for s in spans]), start=start, end=end,
            start_frame=spans[0].start, end_frame=spans[-1].end,
            score=sum(s.score for s in spans) / len(spans),
        )
