"""Forced alignment, confidences and frame -> seconds / pixels conversion on hand-made posteriors."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from seqlab.decode.align import FrameScale, TokenSpan, align_labels, group_words, min_frames, sequence_confidence
from seqlab.text import Alphabet


def probs(rows: list[list[float]]) -> torch.Tensor:
    """(T, K) log-probabilities from rows of probabilities."""
    return torch.tensor(rows, dtype=torch.float64).log().float()


def test_forced_alignment_spans_and_scores():
    # classes: 0 blank, 1 "a", 2 "b"; frames: _ a a _ b b b _
    lp = probs([
        [0.8, 0.1, 0.1],
        [0.1, 0.7, 0.2],
        [0.2, 0.6, 0.2],
        [0.9, 0.05, 0.05],
        [0.1, 0.1, 0.8],
        [0.1, 0.2, 0.7],
        [0.3, 0.1, 0.6],
        [0.9, 0.05, 0.05],
    ])
    spans = align_labels(lp, [1, 2])
    assert [(s.label, s.start, s.end) for s in spans] == [(1, 1, 3), (2, 4, 7)]
    assert spans[0].score == pytest.approx((0.7 + 0.6) / 2)
    assert spans[1].score == pytest.approx((0.8 + 0.7 + 0.6) / 3)


def test_forced_alignment_puts_a_blank_between_repeats_and_refuses_too_few_frames():
    lp = probs([[0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])  # blank, "a"
    spans = align_labels(lp, [1, 1])
    assert [(s.start, s.end) for s in spans] == [(0, 1), (2, 3)]
    assert min_frames([1, 1]) == 3 and min_frames([1, 2, 2, 2]) == 6
    assert align_labels(lp[:2], [1, 1]) is None
    assert align_labels(lp, []) == []


def brute_force_probability(p: torch.Tensor, labels: list[int]) -> float:
    """P(labels | x): the sum over every frame path that collapses to ``labels``."""
    t, k = p.shape
    total = 0.0
    for path in itertools.product(range(k), repeat=t):
        collapsed = [c for i, c in enumerate(path) if c != 0 and (i == 0 or c != path[i - 1])]
        if collapsed == labels:
            total += math.prod(float(p[i, c]) for i, c in enumerate(path))
    return total


def test_confidence_is_the_per_token_geometric_mean_of_the_ctc_probability():
    p = torch.softmax(torch.randn(5, 3, generator=torch.Generator().manual_seed(1)), dim=-1).double()
    for labels in ([1], [1, 2], [2, 2], [1, 2, 1], []):
        expected = brute_force_probability(p, labels) ** (1 / max(1, len(labels)))
        assert sequence_confidence(p.log().float(), labels) == pytest.approx(expected, rel=1e-4)
    # "a a a" needs five frames; in three it is impossible
    assert sequence_confidence(p[:3].log().float(), [1, 1, 1]) == 0.0


def test_words_split_at_spaces_or_one_per_token():
    chars = Alphabet(tuple(" ab"))
    spans = [TokenSpan(2, 0, 1, 0.9), TokenSpan(3, 1, 2, 0.8), TokenSpan(1, 3, 4, 0.7), TokenSpan(3, 5, 6, 0.6)]
    words = group_words(spans, chars)
    assert [[s.label for s in w] for w in words] == [[2, 3], [3]]
    no_space = Alphabet(tuple("ab"))
    assert len(group_words([TokenSpan(1, 0, 1, 1.0), TokenSpan(2, 1, 2, 1.0)], no_space)) == 1
    phones = Alphabet(("sh", "iy"), unit="token")
    assert len(group_words([TokenSpan(1, 0, 1, 1.0), TokenSpan(2, 1, 2, 1.0)], phones)) == 2


def test_frames_to_seconds_with_subsampling():
    # 100 feature frames of 10 ms, the encoder stacks 2: 50 frames of 20 ms
    scale = FrameScale.for_audio(feature_frames=100, output_frames=50, frame_shift_s=0.010, duration_s=1.015)
    assert scale.unit == "seconds" and scale.per_frame == pytest.approx(0.02)
    assert scale.span(3, 5) == (0.06, 0.1)
    assert scale.span(49, 50) == (0.98, 1.0)


def test_frames_to_pixels_of_the_original_image():
    # an 800 x 128 line resized to height 32 is 200 wide; 4 columns per frame: 50 frames
    scale = FrameScale.for_image(input_width=200, output_frames=50, original_width=800)
    assert scale.unit == "pixels" and scale.per_frame == pytest.approx(16)
    assert scale.span(2, 4) == (32, 64)
    # a partial last frame (width 201 -> 51 frames) is clipped to the image
    last = FrameScale.for_image(input_width=201, output_frames=51, original_width=804)
    assert last.span(50, 51)[1] == 804
