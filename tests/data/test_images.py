"""Tests of the line-image preprocessing in seqlab.data.images."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from seqlab.data.images import (
    LineImageTransform, binarise, estimate_slant, ink_mask, otsu_threshold, shear,
)


def slanted_strokes(slant: float, h: int = 40, w: int = 220) -> Image.Image:
    """Dark strokes on grey paper whose tops lie ``slant`` x height right of their bottoms."""
    img = Image.new("L", (w, h), 225)
    draw = ImageDraw.Draw(img)
    for x0 in range(20, w - 40, 22):
        draw.line([(x0, h - 3), (x0 + slant * (h - 6), 2)], fill=25, width=3)
    return img


def column_sharpness(img: Image.Image) -> float:
    cols = ink_mask(img).sum(axis=0).astype(np.float64)
    return float((cols**2).sum())


def test_default_transform_is_resize_and_invert():
    g = np.random.default_rng(0).integers(0, 256, (30, 90), dtype=np.uint8)
    x = LineImageTransform(height=20)(Image.fromarray(g))
    expected = 1.0 - np.asarray(Image.fromarray(g).resize((60, 20), Image.Resampling.BILINEAR), np.float32) / 255.0
    assert x.shape == (1, 20, 60) and torch.equal(x[0], torch.from_numpy(expected))


def test_otsu_separates_two_levels():
    g = np.full((10, 10), 200, np.uint8)
    g[:, :3] = 40
    t = otsu_threshold(g)
    assert 40 < t <= 200
    assert otsu_threshold(np.full((4, 4), 7, np.uint8)) == 128  # one level: no split to find


def test_binarise_at_the_lines_graylevel():
    g = Image.fromarray(np.array([[10, 120, 153, 154, 155, 250]], np.uint8))
    b = np.asarray(binarise(g, 154))
    assert b.tolist() == [[0, 0, 0, 255, 255, 255]]  # darker than 154 is ink
    x = LineImageTransform(height=1, binarise=True)(g, graylevel=154)
    assert x.tolist() == [[[1.0, 1.0, 1.0, 0.0, 0.0, 0.0]]]
    # without a graylevel Otsu's threshold is used
    x = LineImageTransform(height=1, binarise=True)(g)
    assert set(x.flatten().tolist()) == {0.0, 1.0}


@pytest.mark.parametrize("slant", [0.35, -0.25, 0.0])
def test_estimate_slant_finds_the_stroke_angle(slant):
    k = estimate_slant(slanted_strokes(slant))
    assert abs(k + slant) < 0.05  # the shear that undoes it


def test_deslant_makes_strokes_vertical_and_keeps_the_ink():
    img = slanted_strokes(0.4)
    t = LineImageTransform(height=40, deslant=True)
    out = t.prepare(img)
    assert out.height == 40 and out.width > img.width  # the canvas widens to fit
    assert column_sharpness(out) > 2 * column_sharpness(img)
    assert abs(ink_mask(out).sum() / ink_mask(img).sum() - 1) < 0.15
    x = t(img)
    assert x.shape == (1, 40, out.width) and 0 <= x.min() and x.max() <= 1


def test_shear_by_zero_is_the_identity_and_fills_with_paper():
    img = slanted_strokes(0.2)
    assert shear(img, 0.0, 225) is img
    out = np.asarray(shear(img, 0.5, 225))
    assert out[0, 0] == 225  # uncovered corner


def test_max_width_squeezes_after_deslanting():
    img = slanted_strokes(0.4, w=400)
    x = LineImageTransform(height=20, max_width=150, deslant=True)(img)
    assert x.shape == (1, 20, 150)


def test_very_wide_line_is_read_whole():
    """6000 pixels: wider than any IAM line, well under the pixel limit."""
    img = Image.new("L", (6000, 120), 230)
    ImageDraw.Draw(img).line([(10, 60), (5990, 60)], fill=20, width=5)
    x = LineImageTransform(height=32)(img)
    assert x.shape == (1, 32, 1600) and x[0, :, -20:].max() > 0.5
    assert LineImageTransform(height=32, max_width=1000)(img).shape == (1, 32, 1000)
