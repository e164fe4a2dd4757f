"""Streaming recognition: audio arrives chunk by chunk, phones or characters come out as it does.

Only a unidirectional recurrent encoder can do this (a bidirectional one reads
each input from its end too; :meth:`RecurrentEncoder.streaming_problem` says
why a model cannot). Everything the offline path computes over a whole file is
computed here incrementally, so the final text is the offline transcription's:

- filterbank frames as soon as their 25 ms window is complete (the samples of
  an unfinished frame wait for the next chunk), rounded through float16 as
  the offline frontend does;
- deltas and delta-deltas once the frames they look ahead to have arrived
  (``delta_order x delta_window // 2`` frames: 40 ms with the defaults), the
  start of the input padded as ``compute_deltas`` pads it, the end at :meth:`finish`;
- normalisation with the checkpoint's statistics, ``frame_stack`` frames to a
  step (the last stack zero-padded at the end, as in training);
- the LSTM layers' state carried from chunk to chunk, and greedy CTC decoding
  carrying the previous frame's label.

Latency: the *algorithmic* delay is what the features wait for
(:attr:`StreamingRecognizer.delay_s`); the *compute* latency is the wall time
from a chunk's arrival to its labels, which ``seqlab transcribe --stream``
reports per chunk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from seqlab.errors import ConfigError
from seqlab.text.alphabet import BLANK


@dataclass
class Partial:
    """The state after one chunk: all the text so far, the audio heard (s), the compute latency (ms)."""

    text: str
    heard_s: float
    latency_ms: float
    labels: list[int] = field(default_factory=list)


class StreamingRecognizer:
    """A unidirectional speech model fed raw audio chunk by chunk.

    Args:
        model: a :class:`~seqlab.nn.CTCModel` whose encoder can stream.
        frontend: its :class:`~seqlab.data.frontends.SpeechFrontend`.
        text: the checkpoint's text normalisation (hypotheses back to logical order).

    Raises:
        ConfigError: when the model cannot stream, saying why.
    """

    def __init__(self, model, frontend, text=None) -> None:
        encoder = model.encoder
        if frontend.name != "speech":
            raise ConfigError(f"--stream is for speech models; this one reads {frontend.noun}s")
        why = encoder.streaming_problem() if hasattr(encoder, "streaming_problem") else (
            f"its {type(encoder).__name__} reads whole inputs; only the recurrent encoder "
            "(model=blstm with model.encoder.bidirectional=false) streams")
        if why:
            raise ConfigError(f"this model cannot stream: {why}")
        self.model = model.eval()
        self.frontend = frontend
        self.features = frontend.features
        self.text = text
        self.alphabet = model.alphabet
        self.lookahead = self.features.delta_order * (self.features.delta_window // 2)
        self.reset()

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> StreamingRecognizer:
        from seqlab.checkpoint import load_model

        model, info = load_model(path, map_location="cpu")
        return cls(model, info.build_frontend(), text=info.text_normalization())

    @property
    def sample_rate(self) -> int:
        return self.features.sample_rate

    @property
    def delay_s(self) -> float:
        """How far behind the audio the last label can be, by construction: one analysis window, the
        deltas' look-ahead and a frame stack."""
        hop = self.features.frame_shift_ms / 1000
        return self.features.frame_length_ms / 1000 + (self.lookahead + self.model.encoder.frame_stack - 1) * hop

    def reset(self) -> None:
        """Forget the audio so far (a new utterance)."""
        self._samples = torch.zeros(0)    # samples of frames not yet complete
        self._static = torch.zeros(0, self.features.static_size)  # kept for the deltas' context
        self._static_start = 0            # index of _static[0] among all static frames
        self._done = 0                    # feature frames finished
        self._stack: list[torch.Tensor] = []  # finished frames waiting for a full stack
        self._state = None
        self._previous = BLANK
        self.labels: list[int] = []
        self.heard = 0

    @torch.inference_mode()
    def feed(self, wave: torch.Tensor) -> Partial:
        """(N,) samples at :attr:`sample_rate` (full scale 1.0) -> the text so far."""
        start = time.perf_counter()
        self.heard += wave.numel()
        self._samples = torch.cat([self._samples, wave.float().reshape(-1)])
        n = self.features.num_frames(self._samples.numel())
        if n:
            used = (n - 1) * self.features.hop + self.features.window
            static = self.features.static(self._samples[:used]).half().float()  # as the offline frontend rounds
            self._samples = self._samples[n * self.features.hop :]
            self._static = torch.cat([self._static, static])
        self._advance(self._static_start + self._static.size(0) - self.lookahead)
        return self._partial(start)

    @torch.inference_mode()
    def finish(self) -> Partial:
        """The end of the audio: the last frames (their deltas padded as offline) and the final text."""
        start = time.perf_counter()
        self._advance(self._static_start + self._static.size(0), final=True)
        if self._stack:  # the last, partial stack: zero-padded like the offline batch
            pad = [torch.zeros_like(self._stack[0])] * (self.model.encoder.frame_stack - len(self._stack))
            self._run(torch.cat(self._stack + pad))
            self._stack = []
        return self._partial(start)

    def _advance(self, until: int, final: bool = False) -> None:
        """Finish feature frames ``_done`` .. ``until - 1`` and feed the encoder the full stacks."""
        if until <= self._done:
            return
        x = self.features.with_deltas(self._static)  # rows _static_start .. ; right where context is complete
        rows = x[self._done - self._static_start : until - self._static_start]
        if self.frontend.stats is not None:
            rows = self.frontend.stats.apply(rows)
        self._done = until
        keep_from = max(0, self._done - self.lookahead)  # what later frames' deltas still read
        self._static = self._static[keep_from - self._static_start :]
        self._static_start = keep_from
        self._stack.extend(rows)
        k = self.model.encoder.frame_stack
        full = len(self._stack) // k * k
        if full:
            self._run(torch.cat(self._stack[:full]))
            self._stack = self._stack[full:]

    def _run(self, frames: torch.Tensor) -> None:
        """(n * frame_stack * F,) finished frames, in order -> labels (greedy, carried across chunks)."""
        k = self.model.encoder.frame_stack
        x = frames.reshape(1, -1, k * self.features.feature_size)  # (1, steps, k*F): frames stacked
        y, self._state = self.model.encoder.step(x, self._state)
        best = self.model.head(y)[0].argmax(-1).tolist()
        for label in best:
            if label != self._previous and label != BLANK:
                self.labels.append(label)
            self._previous = label

    def _partial(self, start: float) -> Partial:
        text = self.alphabet.decode(list(self.labels))
        if self.text is not None:
            text = self.text.from_model(text)
        return Partial(text, self.heard / self.sample_rate, (time.perf_counter() - start) * 1000, list(self.labels))
