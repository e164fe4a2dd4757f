"""A DataLoader that can resume in the middle of an epoch.

Lightning stores the ``state_dict`` of a stateful training loader in every
checkpoint and hands it back on resume. Ours records the sampler's epoch and
how many batches the loop has taken in it; on resume the sampler skips exactly
those batches of the same (seeded) epoch order, so a killed run neither repeats
nor loses a batch. Skipped batches are never loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from torch.utils.data import DataLoader


class ResumableDataLoader(DataLoader):
    """DataLoader over a :class:`~seqlab.data.bucketing.BucketBatchSampler` with mid-epoch state."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._taken = 0

    def __iter__(self) -> Iterator:
        # the sampler applies a pending skip when the iterator asks it for batches
        self._taken = getattr(self.batch_sampler, "pending_skip", 0)
        for batch in super().__iter__():
            self._taken += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": int(getattr(self.batch_sampler, "epoch", 0)), "batches": self._taken}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.batch_sampler.set_epoch(int(state["epoch"]))
        self.batch_sampler.skip_next(int(state["batches"]), epoch=int(state["epoch"]))
