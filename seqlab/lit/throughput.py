"""Training throughput per epoch: items and input frames per second, peak memory, GPU utilisation.

:class:`ThroughputMonitor` times each training epoch (without the validation
runs that Lightning makes inside it) and counts what the model read: items
(lines, utterances) and input frames (pixel columns or 10 ms feature frames,
before any frame stacking), summed over all DDP ranks. On a CUDA device it also
records the peak memory torch allocated during the epoch and, when
``nvidia-smi`` is on the PATH, the mean GPU utilisation it reports twice a
second. Each epoch's figures are logged (``throughput/items_per_s``,
``throughput/frames_per_s``) and kept in :attr:`ThroughputMonitor.epochs`;
``seqlab train`` writes them to ``metrics.json`` under ``throughput``.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time

import lightning as L
import torch

log = logging.getLogger(__name__)


class GPUUtilisation:
    """Samples ``nvidia-smi``'s utilisation of one GPU in a background thread.

    Args:
        index: the CUDA device index.
        interval_ms: sampling period.
    """

    def __init__(self, index: int, interval_ms: int = 500) -> None:
        self.index = index
        self.interval_ms = interval_ms
        self.samples: list[float] = []
        self._proc: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Start sampling; False when ``nvidia-smi`` is not available."""
        exe = shutil.which("nvidia-smi")
        if exe is None:
            return False
        self.samples = []
        cmd = [exe, "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", f"--id={self.index}",
               f"--loop-ms={self.interval_ms}"]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return True

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                self.samples.append(float(line.strip()))
            except ValueError:  # "[N/A]" on devices that do not report it
                continue

    def stop(self) -> float | None:
        """Stop sampling; the mean utilisation in percent (None without samples)."""
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=5)
            if self._thread is not None:
                self._thread.join(timeout=5)
        self._proc = self._thread = None
        return sum(self.samples) / len(self.samples) if self.samples else None


class ThroughputMonitor(L.Callback):
    """Per-epoch training throughput (see the module docstring).

    Args:
        gpu_utilisation: sample ``nvidia-smi`` during CUDA epochs.
    """

    def __init__(self, gpu_utilisation: bool = True) -> None:
        self.gpu_utilisation = gpu_utilisation
        self.epochs: list[dict] = []
        self._items = self._frames = 0
        self._start = self._val_start = self._val_seconds = 0.0
        self._gpu: GPUUtilisation | None = None

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._items = self._frames = 0
        self._val_seconds = 0.0
        device = pl_module.device
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            if self.gpu_utilisation:
                self._gpu = GPUUtilisation(device.index or 0)
                if not self._gpu.start():
                    self._gpu = None
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        self._items += len(batch.ids)
        # a tensor sum, read at the epoch's end: int() here would wait for the GPU every step
        self._frames = self._frames + batch.input_lengths.sum()

    def on_validation_start(self, trainer, pl_module) -> None:
        self._val_start = time.perf_counter()

    def on_validation_end(self, trainer, pl_module) -> None:
        self._val_seconds += time.perf_counter() - self._val_start

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        device = pl_module.device
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - self._start - self._val_seconds
        # every rank read its own shard: the epoch's throughput is the sum
        totals = torch.stack([torch.tensor(self._items, dtype=torch.float64, device=device),
                              torch.as_tensor(self._frames, device=device).to(torch.float64)])
        totals = trainer.strategy.reduce(totals, reduce_op="sum")
        items, frames = (int(v) for v in totals.tolist())
        record = {
            "epoch": trainer.current_epoch, "seconds": round(seconds, 3), "items": items, "frames": frames,
            "items_per_s": items / seconds if seconds > 0 else 0.0,
            "frames_per_s": frames / seconds if seconds > 0 else 0.0,
            "devices": trainer.world_size, "precision": str(trainer.precision),
        }
        if device.type == "cuda":
            record["peak_memory_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
            record["device_name"] = torch.cuda.get_device_name(device)
            if self._gpu is not None:
                record["gpu_utilisation_percent"] = self._gpu.stop()
                self._gpu = None
        self.epochs.append(record)
        pl_module.log("throughput/items_per_s", record["items_per_s"], rank_zero_only=True)
        pl_module.log("throughput/frames_per_s", record["frames_per_s"], rank_zero_only=True)
        extra = ""
        if "peak_memory_gib" in record:
            util = record.get("gpu_utilisation_percent")
            extra = f", peak memory {record['peak_memory_gib']:.2f} GiB" + (
                f", GPU utilisation {util:.0f} %" if util is not None else "")
        if trainer.is_global_zero:
            log.info("epoch %d: %d items, %d input frames in %.1f s: %.1f items/s, %.0f frames/s%s",
                     trainer.current_epoch, items, frames, seconds, record["items_per_s"], record["frames_per_s"],
                     extra)

    def teardown(self, trainer, pl_module, stage: str) -> None:
        if self._gpu is not None:  # an epoch interrupted by an exception
            self._gpu.stop()
            self._gpu = None
