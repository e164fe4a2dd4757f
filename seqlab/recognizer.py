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
batch size (every encoder is padding-invariant). On the CPU, files are read
and batches recognised on every core at once, one batch per core
(:mod:`seqlab.workers`), which is faster than one batch at a time on all of
them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from seqlab.data.batch import Collate, Sample
from seqlab.data.frontends.base import Frontend, Prepared
from seqlab.decode import build_decoder
from seqlab.decode.align import FrameScale, TokenSpan, align_labels, group_words, sequence_confidences
from seqlab.errors import ConfigError, UnreadableFileError
from seqlab.workers import Workers

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
            forward score (:func:`~seqlab.decode.align.sequence_confidences`).
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
        """As ``dataclasses.asdict`` gives it, without its deep copy of every number and string (which
        took longer than recognising a short utterance)."""
        return {**vars(self), "tokens": [dict(vars(s)) for s in self.tokens], "words": [dict(vars(s)) for s in self.words]}


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
        workers: on the CPU, batches recognised and files read at once, each
            on a thread of its own that runs torch on one thread
            (:class:`seqlab.workers.Workers`); None: as many as the threads
            torch uses (``torch.get_num_threads()``, one per core unless
            ``OMP_NUM_THREADS`` says otherwise), or fewer where the encoder
            says it is best run so (its ``inference_workers``: 1 for the
            MDLSTM); 1: one batch at a time on all of torch's threads. On a GPU
            always 1.
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
        workers: int | None = None,
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
        # each class's text, for the aligned tokens (a phone model's words are its tokens too)
        self._symbol_text = [""] + [self._text([k]) for k in range(1, self.alphabet.num_classes)]
        self.batch_size = batch_size
        self.align = align
        self.decoder_name = decoder
        self.decoder = build_decoder(decoder, self.alphabet, **(decoder_settings or {}))
        # a decoder that keeps state between calls (flashlight's beam search) decodes one batch at a time
        self._decoding = contextlib.nullcontext() if getattr(self.decoder, "thread_safe", False) else threading.Lock()
        if self.device.type != "cpu":
            workers = 1
        elif workers is None:
            threads = torch.get_num_threads()
            workers = min(threads, getattr(getattr(model, "encoder", None), "inference_workers", None) or threads)
        self.workers = Workers(workers)
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
        align = self.align if align is None else align
        batches = self._batches(items)
        return _in_order(len(items), batches, self.workers.map(lambda c: self._recognize_batch(items, c, align), batches))

    def _batches(self, items: Sequence[Prepared]) -> list[list[int]]:
        """Indices of ``items`` in batches of ``batch_size``, longest first (least padding)."""
        order = sorted(range(len(items)), key=lambda i: (-items[i].length, i))
        return [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]

    def _recognize_batch(self, items: Sequence[Prepared], chosen: list[int], align: bool) -> list[Transcription]:
        """The items at the indices ``chosen``, as one batch: network, decoder, alignment."""
        batch = self.collate([Sample(str(i), items[i].input, [], "", items[i].source) for i in chosen])
        log_probs, lengths = self.model(batch.inputs.to(self.device), batch.input_lengths.to(self.device))
        log_probs, lengths = log_probs.float().cpu(), lengths.cpu()  # (B, T', K), (B,)
        with self._decoding:
            hyps = [h.labels for h in self.decoder(log_probs, lengths)]
        confidences = sequence_confidences(log_probs, lengths, hyps)
        return [self._describe(items[i], log_probs[j, : int(lengths[j])], hyps[j], confidences[j],
                               int(batch.input_lengths[j]), align)
                for j, i in enumerate(chosen)]

    def transcribe(
        self,
        paths: Iterable[str | Path],
        on_error: Callable[[str, UnreadableFileError], None] | None = None,
        progress: Callable[[int], None] | None = None,
        chunk: int | None = None,
    ) -> list[Transcription]:
        """Transcribe files, in order (:meth:`iter_transcribe`, as a list)."""
        return list(self.iter_transcribe(paths, on_error, progress, chunk))

    def iter_transcribe(
        self,
        paths: Iterable[str | Path],
        on_error: Callable[[str, UnreadableFileError], None] | None = None,
        progress: Callable[[int], None] | None = None,
        chunk: int | None = None,
    ) -> Iterator[Transcription]:
        """Transcribe files; each transcription as soon as its part of the files is done, in input order.

        Files are read ``chunk`` at a time and recognised in batches sorted by
        length; while one chunk is recognised, the next one is read, its files
        queued for the workers between the batches, so that reading (which holds
        Python's lock much of the time) runs beside the network (which mostly
        does not) rather than after it.

        Args:
            paths: image or audio files.
            on_error: called with (path, error) for a file that cannot be read,
                which is then left out of the results; None: the error is raised.
            progress: called with the number of files just done (recognised or failed).
            chunk: files read into memory at a time (default 16 batches; up to
                three chunks are in memory: one whose results are being passed
                on, one queued on the workers, one being read).

        Raises:
            UnreadableFileError: naming the file, when ``on_error`` is None.
        """
        chunk = chunk or 16 * self.batch_size
        paths = [str(p) for p in paths]
        # the first part is one batch per worker, so that the network starts once a few files are read
        first = min(chunk, self.batch_size * self.workers.count)
        parts = [paths[:first]] + [paths[start : start + chunk] for start in range(first, len(paths), chunk)]
        reading = [self.workers.submit(self._read_short, p) for p in parts[0]]
        running: _Queued | None = None  # a part whose batches are queued; its results are collected one part later
        try:
            for k in range(len(parts) + 1):
                queued = None
                if k < len(parts):
                    # this part's files are read (they were queued among the previous part's batches): queue its
                    # batches, with the next part's files between them, before waiting for the previous results
                    read = [f.result() for f in reading]  # in input order: Prepared, None (long audio), the error
                    queued, reading = self._queue(parts[k], read, parts[k + 1] if k + 1 < len(parts) else [])
                if running is not None:
                    yield from self._collect(running, on_error, progress)
                running = queued
        finally:
            for f in reading + (running.recognizing if running is not None else []):
                f.cancel()  # after an error, or when the caller stops early: nothing more is read or recognised

    def _queue(self, part: list[str], read: list, following: list[str]) -> tuple[_Queued, list[Future]]:
        """Queue the batches of a part's prepared files on the workers, and the reading of the
        ``following`` files spread between them; the queued part and the reading futures."""
        prepared = [r for r in read if isinstance(r, Prepared)]
        batches = self._batches(prepared)
        per_batch = -(-len(following) // max(1, len(batches)))
        recognizing: list[Future] = []
        reading: list[Future] = []
        for j, chosen in enumerate(batches):
            recognizing.append(self.workers.submit(self._recognize_batch, prepared, chosen, self.align))
            reading += [self.workers.submit(self._read_short, p) for p in following[j * per_batch : (j + 1) * per_batch]]
        reading += [self.workers.submit(self._read_short, p) for p in following[len(batches) * per_batch :]]
        return _Queued(part, read, batches, recognizing), reading

    def _collect(self, queued: _Queued, on_error, progress) -> list[Transcription]:
        """A queued part's transcriptions in input order: its batches' results, long audio recognised
        piece by piece now, the unreadable files reported (or raised)."""
        recognized = iter(_in_order(sum(isinstance(r, Prepared) for r in queued.read), queued.batches,
                                    [f.result() for f in queued.recognizing]))
        out: list[Transcription] = []
        for p, r in zip(queued.paths, queued.read):
            try:
                if isinstance(r, UnreadableFileError):
                    raise r
                out.append(next(recognized) if r is not None else self.long_audio.transcribe(self, p))
            except UnreadableFileError as e:
                if on_error is None:
                    raise
                on_error(p, e)
            if progress is not None:
                progress(1)
        return out

    def _read_short(self, path: str) -> Prepared | UnreadableFileError | None:
        """One file prepared; None for audio long enough to be cut into pieces; the error of an unreadable one."""
        try:
            return None if self.is_long(path) else self.load(path)
        except UnreadableFileError as e:
            return e

    def is_long(self, path: str | Path) -> bool:
        """Whether an input is audio longer than one piece (:attr:`long_audio`), from its header."""
        if self.long_audio is None or self.frontend.name != "speech":
            return False
        from seqlab.data.audio import audio_info

        info = audio_info(path)
        self.frontend.note_input(path, info)  # for the one message on resampling (report_inputs)
        return info.frames / info.sample_rate > self.long_audio.max_piece

    def _describe(self, item: Prepared, log_probs: torch.Tensor, labels: list[int], confidence: float,
                  input_length: int, align: bool) -> Transcription:
        """Text and aligned tokens and words of one item: (T, K) log-probs, its labels and their confidence."""
        frames = log_probs.size(0)
        scale: FrameScale = self.frontend.positions(input_length, frames, item.extent)
        t = Transcription(
            source=item.source, text=self._text(labels),
            confidence=confidence,
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
            text=self._symbol_text[spans[0].label] if len(spans) == 1 else self._text([s.label for s in spans]),
            start=start, end=end,
            start_frame=spans[0].start, end_frame=spans[-1].end,
            score=sum(s.score for s in spans) / len(spans),
        )


@dataclass
class _Queued:
    """A part of :meth:`Recognizer.transcribe`'s files whose batches are on the workers' queue."""

    paths: list[str]
    read: list  # per path: Prepared, None (long audio, recognised when collected) or UnreadableFileError
    batches: list[list[int]]  # indices into the part's Prepared items
    recognizing: list[Future]  # each batch's transcriptions


def _in_order(count: int, batches: Sequence[Sequence[int]], results: Iterable[list[Transcription]]) -> list[Transcription]:
    """Each batch's results put back at the indices it was made of."""
    out: list[Transcription | None] = [None] * count
    for chosen, done in zip(batches, results):
        for i, t in zip(chosen, done):
            out[i] = t
    return out  # type: ignore[return-value]
