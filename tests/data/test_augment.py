"""Tests of the training distortions in seqlab.data.augment."""

from __future__ import annotations

import pickle
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from seqlab.data.augment import LineAugmentation
from seqlab.errors import ConfigError

NONE = dict(probability=1.0, rotation=0.0, shear=0.0, stretch=0.0, elastic=0.0, morphology=0)


def line() -> Image.Image:
    img = Image.new("L", (120, 24), 220)
    draw = ImageDraw.Draw(img)
    for x in range(10, 110, 12):
        draw.line([(x, 4), (x + 4, 20)], fill=30, width=2)
    return img


def ink(img: Image.Image) -> int:
    return int((np.asarray(img) < 128).sum())


def test_nothing_enabled_is_the_identity():
    img = line()
    assert np.array_equal(np.asarray(LineAugmentation(**NONE)(img)), np.asarray(img))


def test_affine_keeps_height_and_changes_the_image():
    img = line()
    aug = LineAugmentation(**{**NONE, "rotation": 2.0, "shear": 15.0, "stretch": 0.2})
    outs = [aug(img) for _ in range(5)]
    assert all(o.height == 24 for o in outs)
    assert len({o.width for o in outs}) > 1  # stretch and shear change the width
    assert all(ink(o) > 0.5 * ink(img) for o in outs)  # the whole line stays on the canvas


def test_elastic_moves_pixels_a_little():
    img = line()
    out = LineAugmentation(**{**NONE, "elastic": 1.5, "elastic_grid": 6})(img)
    assert out.size == img.size
    diff = np.abs(np.asarray(out, np.int16) - np.asarray(img, np.int16))
    assert diff.max() > 50 and abs(ink(out) - ink(img)) < 0.5 * ink(img)


def test_dilation_and_erosion_of_dark_ink():
    img = line()
    aug = LineAugmentation(**{**NONE, "morphology": 3})
    counts = {ink(aug(img)) for _ in range(12)}
    assert min(counts) < ink(img) < max(counts)  # some eroded, some dilated
    # light ink on dark paper (invert=False): the ink is the bright part
    dark = Image.fromarray(255 - np.asarray(img))
    bright = [int((np.asarray(aug(dark, invert=False)) > 128).sum()) for _ in range(12)]
    assert min(bright) < ink(img) < max(bright)


def test_same_seed_same_distortions_and_workers_differ(monkeypatch):
    img = line()
    settings = dict(probability=1.0, elastic=1.0, seed=3)
    runs = []
    for _ in range(2):
        torch.manual_seed(7)  # what seed_everything does in the main process
        aug = LineAugmentation(**settings)
        runs.append([np.asarray(aug(img)) for _ in range(3)])
    assert all(np.array_equal(x, y) for x, y in zip(*runs))

    outs = []
    for worker in (0, 1):
        info = SimpleNamespace(id=worker, seed=1000 + worker)
        monkeypatch.setattr(torch.utils.data, "get_worker_info", lambda info=info: info)
        # a worker receives a pickled copy: it must not inherit the parent's generator
        aug = pickle.loads(pickle.dumps(LineAugmentation(**settings)))
        outs.append(np.asarray(aug(img)))
    assert outs[0].shape != outs[1].shape or not np.array_equal(outs[0], outs[1])


def test_bad_settings_say_which():
    with pytest.raises(ConfigError, match="probability"):
        LineAugmentation(probability=1.5)
    with pytest.raises(ConfigError, match="odd"):
        LineAugmentation(morphology=2)
