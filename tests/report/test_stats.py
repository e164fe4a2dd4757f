"""Bootstrap intervals and the paired bootstrap test (Bisani and Ney 2004)."""

from __future__ import annotations

import numpy as np
import pytest

from seqlab.report import stats
from seqlab.report.stats import bootstrap_interval, paired_bootstrap


def corpus(n: int = 200, rate: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(5, 40, n)
    edits = rng.binomial(lengths, rate)
    return edits, lengths


def test_interval_brackets_the_estimate_and_is_reproducible():
    edits, lengths = corpus()
    ci = bootstrap_interval(edits, lengths, resamples=500, seed=3)
    assert ci.estimate == pytest.approx(edits.sum() / lengths.sum())
    assert ci.low < ci.estimate < ci.high
    assert 0.15 < ci.low and ci.high < 0.25  # 200 utterances of ~22 units at 20 %: about +- 1.5 points
    assert bootstrap_interval(edits, lengths, resamples=500, seed=3) == ci
    assert bootstrap_interval(edits, lengths, resamples=500, seed=4) != ci


def test_interval_is_the_documented_numpy_recipe(monkeypatch):
    edits, lengths = corpus(n=50)
    rows = np.random.default_rng(7).integers(0, 50, (300, 50))
    rates = edits[rows].sum(1) / lengths[rows].sum(1)
    low, high = np.percentile(rates, [2.5, 97.5])
    monkeypatch.setattr(stats, "BLOCK_ELEMENTS", 50 * 7)  # blocks of 7 replicates: the same stream
    ci = bootstrap_interval(edits, lengths, resamples=300, seed=7)
    assert (ci.low, ci.high) == pytest.approx((low, high), abs=1e-12)


def test_interval_shrinks_with_more_utterances():
    small = bootstrap_interval(*corpus(n=40), resamples=400)
    large = bootstrap_interval(*corpus(n=1000), resamples=400)
    assert large.high - large.low < (small.high - small.low) / 2


def test_paired_test_tells_clearly_different_systems_apart():
    edits_a, lengths = corpus(rate=0.10, seed=1)
    edits_b = np.minimum(edits_a + np.random.default_rng(2).binomial(lengths, 0.10), lengths)
    test = paired_bootstrap(edits_a, edits_b, lengths, resamples=500, seed=0)
    assert test.prob_a_better == 1.0
    assert test.high < 0 and test.low < test.difference < test.high
    assert test.difference == pytest.approx((edits_a.sum() - edits_b.sum()) / lengths.sum())
    assert test.verdict().startswith("A is better")
    reverse = paired_bootstrap(edits_b, edits_a, lengths, resamples=500, seed=0)
    assert reverse.prob_a_better == 0.0 and reverse.verdict().startswith("B is better")


def test_paired_test_on_equal_systems_finds_no_difference():
    edits_a, lengths = corpus(seed=5)
    rng = np.random.default_rng(6)
    # B: the same errors moved between utterances at random, same total
    edits_b = edits_a.copy()
    for _ in range(100):
        i, j = rng.integers(0, len(edits_b), 2)
        if edits_b[i] > 0 and edits_b[j] < lengths[j]:
            edits_b[i] -= 1
            edits_b[j] += 1
    test = paired_bootstrap(edits_a, edits_b, lengths, resamples=500)
    assert test.difference == 0.0
    assert test.low < 0 < test.high
    assert 0.05 < test.prob_a_better < 0.95
    assert test.verdict().startswith("no significant difference")


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="no utterances"):
        bootstrap_interval([], [])
    with pytest.raises(ValueError, match="one length"):
        bootstrap_interval([1, 2], [3])
