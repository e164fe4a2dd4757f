"""Length-bucketed batch sampling, shard-aware under DDP.

Items of similar length go into the same batch so little compute is spent on
padding. Under DDP every rank takes a distinct shard of the batches (Lightning
does not re-wrap a custom batch sampler, so the trainer runs with
``use_distributed_sampler=False`` and the sharding happens here).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch
import torch.distributed as dist

from seqlab.errors import ConfigError


def _world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(), dist.get_rank()
    return 1, 0


class BucketBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Batches of indices of similar length.

    Args:
        lengths: length of every item (width, frames).
        batch_size: items per batch.
        shuffle: shuffle within buckets and the order of batches (training);
            otherwise batches go in ascending length, deterministically.
        bucket_size: items per bucket before batching, as a multiple of
            ``batch_size`` (larger: less padding, less randomness).
        drop_last: drop the incomplete last batch of each epoch.
        seed: base seed; epoch ``e`` uses ``seed + e`` (call :meth:`set_epoch`,
            Lightning does it for you).
        num_replicas, rank: DDP shard; read from ``torch.distributed`` when None.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        shuffle: bool = True,
        bucket_size: int = 50,
        drop_last: bool = False,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        self.lengths = torch.as_tensor(list(lengths), dtype=torch.long)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.bucket_size = max(1, bucket_size)
        self.drop_last = drop_last
        self.seed = seed
        self.epoch = 0
        self._skip: tuple[int, int] | None = None  # (epoch, batches) to leave out on resume
        self._replicas = num_replicas
        self._rank = rank

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    @property
    def sampler(self) -> BucketBatchSampler:
        """Itself: Lightning calls ``set_epoch`` on ``dataloader.batch_sampler.sampler``
        at the start of every epoch (and with the restored epoch on resume), never
        on the batch sampler, so without this every epoch would repeat epoch 0's order."""
        return self

    def skip_next(self, n: int, epoch: int) -> None:
        """Leave out the first ``n`` batches of ``epoch`` (resuming mid-epoch).

        The skip applies only if the next iteration is of that same epoch: a
        run resumed from an end-of-epoch checkpoint goes on with the next epoch,
        whole.
        """
        self._skip = (epoch, n)

    @property
    def pending_skip(self) -> int:
        """Batches the next iteration will leave out."""
        return self._skip[1] if self._skip is not None and self._skip[0] == self.epoch else 0

    def _shard(self) -> tuple[int, int]:
        world, rank = _world()
        return (self._replicas or world), (self._rank if self._rank is not None else rank)

    def _all_batches(self) -> list[list[int]]:
        n = len(self.lengths)
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            # random tie-breaking, then a stable sort by length
            perm = torch.randperm(n, generator=g)
            order = perm[torch.sort(self.lengths[perm], stable=True).indices]
        else:
            order = torch.sort(self.lengths, stable=True).indices
        # consecutive runs of the sorted order are the buckets; with shuffling,
        # the random tie-break varies the batches and their order is shuffled
        batches: list[list[int]] = []
        span = self.bucket_size * self.batch_size
        for start in range(0, n, span):
            bucket = order[start : start + span]
            for b in range(0, len(bucket), self.batch_size):
                batch = bucket[b : b + self.batch_size].tolist()
                if len(batch) == self.batch_size or not self.drop_last:
                    batches.append(batch)
        if self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._all_batches()
        skip, self._skip = self.pending_skip, None
        replicas, rank = self._shard()
        if replicas > 1:
            if self.shuffle:
                # equal batch counts on every rank, or DDP's gradient sync hangs
                per_rank = len(batches) // replicas
                batches = batches[rank * per_rank : (rank + 1) * per_rank]
            else:
                batches = batches[rank::replicas]
        yield from batches[skip:]

    def __len__(self) -> int:
        replicas, rank = self._shard()
        n = len(self.lengths)
        span = self.bucket_size * self.batch_size
        per_bucket = (lambda m: m // self.batch_size) if self.drop_last else (
            lambda m: math.ceil(m / self.batch_size)
        )
        total = sum(per_bucket(min(span, n - s)) for s in range(0, n, span))
        if replicas > 1:
            if self.shuffle:
                return total // replicas
            return len(range(rank, total, replicas))
        return total
