"""Bootstrap confidence intervals for corpus error rates (Bisani and Ney 2004).

M. Bisani and H. Ney, "Bootstrap estimates for confidence intervals in ASR
performance evaluation", ICASSP 2004. The utterance, not the unit, is the
sampling unit: errors within an utterance are not independent. One bootstrap
replicate draws ``n`` utterances with replacement from the ``n`` of the test
set and recomputes the corpus rate, sum of edits / sum of reference lengths.
The interval is the percentile interval of the replicates.

The paired test gives both systems the same replicate (the same utterances) and
counts how often system A's rate is below B's: Bisani and Ney's "probability of
improvement".

Replicates come from ``numpy.random.default_rng(seed).integers(0, n, (B, n))``,
drawn in blocks of rows (same stream, less memory), so a result can be
reproduced outside seqlab from the per-utterance counts a report lists.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

import numpy as np

# rows of resampled indices held in memory at once
BLOCK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class Interval:
    """A point estimate and its bootstrap percentile interval."""

    estimate: float
    low: float
    high: float
    level: float
    resamples: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PairedTest:
    """Paired bootstrap of A against B over the same utterances.

    Attributes:
        difference: rate(A) - rate(B) on the whole set (negative: A makes fewer errors).
        prob_a_better: share of replicates where A's rate < B's.
        low, high: percentile interval of the difference.
    """

    rate_a: float
    rate_b: float
    difference: float
    low: float
    high: float
    prob_a_better: float
    level: float
    resamples: int

    def verdict(self, name_a: str = "A", name_b: str = "B") -> str:
        """One sentence: which system is better and how sure the test is."""
        p = self.prob_a_better
        sure = self.level
        if p >= sure:
            return f"{name_a} is better: it makes fewer errors in {p:.1%} of the bootstrap replicates"
        if 1 - p >= sure:
            return f"{name_b} is better: it makes fewer errors in {1 - p:.1%} of the bootstrap replicates"
        return (f"no significant difference at the {sure:.0%} level: {name_a} makes fewer errors in "
                f"{p:.1%} of the bootstrap replicates")

    def to_dict(self) -> dict:
        return asdict(self)


def _replicates(n: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Blocks of rows of resampled utterance indices, each row one replicate: (b, n)."""
    rng = np.random.default_rng(seed)
    rows = max(1, BLOCK_ELEMENTS // max(n, 1))
    done = 0
    while done < resamples:
        b = min(rows, resamples - done)
        yield rng.integers(0, n, size=(b, n))
        done += b


def _rates(edits: np.ndarray, lengths: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Corpus rate of each replicate; a replicate with no reference units has rate nan."""
    e, n = edits[idx].sum(axis=1), lengths[idx].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, e / np.maximum(n, 1), np.nan)


def _check(edits: Sequence[int], lengths: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    e, n = np.asarray(edits, dtype=np.int64), np.asarray(lengths, dtype=np.int64)
    if e.shape != n.shape or e.ndim != 1:
        raise ValueError(f"edits and lengths must be two 1-D sequences of one length, got {e.shape} and {n.shape}")
    if len(e) == 0:
        raise ValueError("no utterances to resample")
    return e, n


def bootstrap_interval(
    edits: Sequence[int], lengths: Sequence[int], resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> Interval:
    """Corpus error rate sum(edits) / sum(lengths) and its percentile interval over utterances.

    Args:
        edits: (n,) errors of each utterance.
        lengths: (n,) reference units of each utterance.
        resamples: bootstrap replicates B.
        level: coverage of the interval (0.95: the 2.5 and 97.5 percentiles).
        seed: seed of the replicates.
    """
    e, n = _check(edits, lengths)
    estimate = float(e.sum() / n.sum()) if n.sum() else float("nan")
    rates = np.concatenate([_rates(e, n, idx) for idx in _replicates(len(e), resamples, seed)])
    alpha = (1 - level) / 2
    low, high = np.nanpercentile(rates, [100 * alpha, 100 * (1 - alpha)])
    return Interval(estimate, float(low), float(high), level, resamples)


def paired_bootstrap(
    edits_a: Sequence[int], edits_b: Sequence[int], lengths: Sequence[int],
    resamples: int = 1000, level: float = 0.95, seed: int = 0,
) -> PairedTest:
    """Paired bootstrap test of system A against system B on the same utterances.

    Args:
        edits_a, edits_b: (n,) errors of each utterance for A and for B.
        lengths: (n,) reference units of each utterance (shared).
    """
    a, n = _check(edits_a, lengths)
    b, _ = _check(edits_b, lengths)
    total = n.sum()
    rate_a, rate_b = float(a.sum() / total), float(b.sum() / total)
    diffs, wins = [], 0
    for idx in _replicates(len(a), resamples, seed):
        d = _rates(a, n, idx) - _rates(b, n, idx)
        wins += int(np.sum(d < 0))
        diffs.append(d)
    d = np.concatenate(diffs)
    alpha = (1 - level) / 2
    low, high = np.nanpercentile(d, [100 * alpha, 100 * (1 - alpha)])
    return PairedTest(rate_a, rate_b, rate_a - rate_b, float(low), float(high), wins / resamples, level, resamples)
