"""The LightningModule for every CTC model: one step for train, val and test."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence

import lightning as L
import numpy as np
import torch
from torch import nn

from seqlab.data.batch import Batch
from seqlab.errors import TrainingError
from seqlab.metrics import ErrorRate, splitter
from seqlab.nn.ctc import CTCModel, ctc_loss, min_ctc_frames
from seqlab.text import Alphabet

log = logging.getLogger(__name__)

SHORT_NAMED = 5  # samples too short for CTC named one by one before the rest are only counted


class CTCModule(CTCModel, L.LightningModule):
    """A :class:`~seqlab.nn.ctc.CTCModel` trained with CTC loss, evaluated by greedy decoding.

    Args:
        encoder: any seqlab encoder (``forward(x, lengths) -> (B, T, C), lengths``
            with an ``output_size`` attribute).
        alphabet: the symbol table; the head has ``alphabet.num_classes`` outputs.
        optimizer: a partial taking the parameters (Hydra ``_partial_: true``).
        scheduler: a partial taking the optimizer, or None.
        scheduler_interval: ``epoch`` or ``step``.
        monitor: metric a plateau scheduler watches (``val/cer``, ``val/per``).
        metrics: error rates computed on val and test (``cer``, ``wer``, ``per``).
        max_nonfinite: stop training with a clear error after this many
            training batches with a non-finite loss (each is skipped).
        head_lr: learning rate of the output layer (None: the optimizer's);
            fine-tuning sets it (``finetune.head_lr``). Not part of the stored recipe.
    """

    def __init__(
        self,
        encoder: nn.Module,
        alphabet: Alphabet,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., object] | None = None,
        scheduler_interval: str = "epoch",
        monitor: str = "val/cer",
        metrics: Sequence[str] = ("cer", "wer"),
        max_nonfinite: int = 20,
        head_lr: float | None = None,
    ) -> None:
        super().__init__(encoder, alphabet, metrics)  # CTCModel, then LightningModule
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.scheduler_interval = scheduler_interval
        self.monitor = monitor
        self.scores = nn.ModuleDict(
            {
                stage: nn.ModuleDict({name: ErrorRate(splitter(name)) for name in self.metric_names})
                for stage in ("val", "test")
            }
        )
        self.max_nonfinite = max_nonfinite
        self.head_lr = head_lr
        self.nonfinite_batches = 0
        self._reported: set[str] = set()
        self._short_named = 0  # distinct samples found too short so far
        self._short_unnamed = 0  # of those, not named yet in a summary

    # --- the one step -----------------------------------------------------
    def _step(self, batch: Batch, stage: str) -> torch.Tensor | None:
        self._report_skipped(batch)
        if len(batch) == 0:
            return None
        log_probs, out_lengths = self(batch.inputs, batch.input_lengths)
        feasible = self._feasible(batch, out_lengths)
        losses = ctc_loss(log_probs, out_lengths, batch.targets, batch.target_lengths)
        loss = losses[feasible].mean() if feasible.any() else None
        if stage == "train" and (loss is None or not torch.isfinite(loss)):
            self._count_nonfinite(batch, loss)
            return None
        if loss is not None:
            train = stage == "train"
            self.log(f"{stage}/loss", loss, batch_size=len(batch), prog_bar=train,
                     on_step=train, on_epoch=not train, sync_dist=not train)
        if stage != "train":
            hyps = self.decode(log_probs, out_lengths)
            for name, metric in self.scores[stage].items():
                metric.update(batch.texts, hyps)
                self.log(f"{stage}/{name}", metric, prog_bar=name == self.metric_names[0], on_epoch=True)
        return loss

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor | None:
        return self._step(batch, "train")

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self._step(batch, "test")

    # --- guards -----------------------------------------------------------
    def _feasible(self, batch: Batch, out_lengths: torch.Tensor) -> torch.Tensor:
        """Mask of samples whose output is long enough for CTC.

        The first few are named in a warning each; the rest are counted and
        summed up once per epoch, so a corpus with many short lines does not
        flood the log.
        """
        need = min_ctc_frames(batch.targets.cpu(), batch.target_lengths.cpu())
        ok = out_lengths.cpu() >= need
        for i in (~ok).nonzero().flatten().tolist():
            key = f"short:{batch.ids[i]}"
            if key in self._reported:
                continue
            self._reported.add(key)
            self._short_named += 1
            if self._short_named > SHORT_NAMED:
                self._short_unnamed += 1
                continue
            log.warning(
                "%s (%s): the encoder gives %d frames but its transcription of %d symbols needs "
                "at least %d (length + repeated symbols); it is left out of the loss. The input "
                "is too short (an image too narrow for its text?) or the model subsamples too much.",
                batch.sources[i], batch.ids[i], int(out_lengths[i]), int(batch.target_lengths[i]),
                int(need[i]),
            )
        return ok.to(out_lengths.device)

    def _summarise_short(self) -> None:
        if self._short_unnamed:
            log.warning(
                "%d more samples were too short for CTC and left out of the loss (%d in all; the "
                "first %d are named above); a smaller frame_stack or a larger image height gives "
                "more frames", self._short_unnamed, self._short_named, SHORT_NAMED,
            )
            self._short_unnamed = 0

    def on_train_epoch_end(self) -> None:
        self._summarise_short()

    def on_validation_epoch_end(self) -> None:
        self._summarise_short()

    def on_test_epoch_end(self) -> None:
        self._summarise_short()

    def _report_skipped(self, batch: Batch) -> None:
        for msg in batch.skipped:
            if msg not in self._reported:
                self._reported.add(msg)
                log.warning("skipped an unreadable item: %s", msg)

    def _count_nonfinite(self, batch: Batch, loss: torch.Tensor | None) -> None:
        self.nonfinite_batches += 1
        value = "no feasible sample" if loss is None else f"loss {loss.item()}"
        log.warning(
            "skipped training batch %d (%s; ids %s...): %d skipped so far",
            self.global_step, value, ", ".join(batch.ids[:3]), self.nonfinite_batches,
        )
        if loss is not None and self.nonfinite_batches > self.max_nonfinite:
            raise TrainingError(
                f"{self.nonfinite_batches} training batches had a non-finite loss (limit "
                f"model.max_nonfinite={self.max_nonfinite}); lower the learning rate, enable "
                "gradient clipping (trainer.gradient_clip_val) or check the data"
            )

    # --- optimisation -----------------------------------------------------
    def parameter_groups(self) -> list[dict]:
        """The optimizer's parameter groups: the output layer apart when it has its own ``head_lr``."""
        if self.head_lr is None:
            return [{"params": list(self.parameters())}]
        head = list(self.head.parameters())
        ids = {id(p) for p in head}
        return [{"params": [p for p in self.parameters() if id(p) not in ids]}, {"params": head, "lr": self.head_lr}]

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(self.parameter_groups())
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": self.scheduler_interval, "monitor": self.monitor},
        }

    # --- checkpoint contents ----------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        seqlab = checkpoint.setdefault("seqlab", {})
        seqlab["alphabet"] = self.alphabet.to_dict()
        seqlab["metrics"] = list(self.metric_names)
        seqlab["nonfinite_batches"] = self.nonfinite_batches
        seqlab["rng"] = rng_state()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        seqlab = checkpoint.get("seqlab", {})
        self.nonfinite_batches = int(seqlab.get("nonfinite_batches", 0))
        if "rng" in seqlab:
            set_rng_state(seqlab["rng"])


def rng_state() -> dict:
    """Python, numpy and torch generator states as plain data (safe to load with weights_only)."""
    np_state = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` saved, so a resumed run draws the same dropout masks."""
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state((n[0], np.asarray(n[1], dtype=np.uint32), *n[2:]))
    torch.set_rng_state(state["torch"].cpu())
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
