"""Independent CPU work on every core: worker threads that each run torch on one thread.

torch splits each operation of one batch over its intra-op threads. For the
small matrix products of a recurrent network at inference batch sizes (a
250-unit LSTM step at batch 16 is a 16 x 250 by 250 x 1000 product) the split
costs much of what it gains: on 2 cores, two batches on two threads of one
core each went 1.35x as fast as one batch at a time on both cores in bfloat16,
1.1x in float32 (docs/benchmarks.md, "Transcription on every core"). So
:class:`~seqlab.recognizer.Recognizer` hands whole batches, and the files to
read, to :class:`Workers`.

torch's thread count is process-wide for threads yet to start but kept per
thread once set, so each worker sets its own to 1 when it starts and the
caller's count is put back for everyone else.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import torch

from seqlab.errors import ConfigError

__all__ = ["Workers", "in_worker"]

T = TypeVar("T")
R = TypeVar("R")

_thread = threading.local()


def in_worker() -> bool:
    """Whether the calling thread is one of the workers (work it hands out runs in place)."""
    return getattr(_thread, "worker", False)


def _become_worker() -> None:
    torch.get_num_threads()  # torch sets a thread's count from the process-wide one on first use: do it first
    torch.set_num_threads(1)
    _thread.worker = True


def _inference(fn: Callable[..., R], *args: Any) -> R:
    with torch.inference_mode():  # grad mode is per thread
        return fn(*args)


class Workers:
    """``count`` threads, started on first use, each running torch on one thread.

    Args:
        count: worker threads; 1 runs everything in the calling thread.

    :meth:`map` runs in the calling thread when there is one item or one
    worker, or when called from a worker (nested work never waits for itself);
    so does :meth:`submit` with one worker or from a worker.
    """

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ConfigError(f"workers must be >= 1 (1: one batch at a time on all of torch's threads), got {count}")
        self.count = count
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``[fn(x) for x in items]`` under inference mode, spread over the workers; results in order.

        The first error raised by ``fn`` (in item order) is raised here; items not yet started are cancelled.
        """
        items = list(items)
        if self.count == 1 or len(items) < 2 or in_worker():
            return [_inference(fn, x) for x in items]
        pool = self._start()
        return list(pool.map(_inference, [fn] * len(items), items))

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        """``fn(*args)`` under inference mode on the next free worker (queued in order); its future."""
        if self.count > 1 and not in_worker():
            return self._start().submit(_inference, fn, *args)
        done: Future[R] = Future()
        try:
            done.set_result(_inference(fn, *args))
        except Exception as e:  # kept in the future, raised by its result(), as from a worker
            done.set_exception(e)
        return done

    @contextlib.contextmanager
    def beside(self) -> Iterator[None]:
        """For work the calling thread does while the workers run: its own torch operations on one thread.

        An idle OpenMP thread spins for a while before it sleeps, so a caller that
        resamples audio on two threads while both workers compute takes cycles from
        them: a 20-minute recording took 12.8 s with two workers instead of 9.6 s
        (docs/benchmarks.md, "Long recordings").
        """
        if self.count == 1 or in_worker():
            yield
            return
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def close(self) -> None:
        """Stop the threads (a later :meth:`map` starts new ones)."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def _start(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                callers = torch.get_num_threads()
                started = threading.Barrier(self.count + 1)
                pool = ThreadPoolExecutor(self.count, thread_name_prefix="seqlab-worker", initializer=_become_worker)
                for _ in range(self.count):  # each waits for the others, so that every thread starts now
                    pool.submit(started.wait)
                started.wait()
                torch.set_num_threads(callers)  # the process-wide count the workers changed, for other threads
                self._pool = pool
            return self._pool
