"""The prepared-image cache (seqlab/data/image_cache.py) and its use by the IAM data module."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

import seqlab.data.image_cache as image_cache
from seqlab.data import IAMDataModule
from seqlab.data.image_cache import ImageCache
from seqlab.data.images import LineImageTransform


def _entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "images").rglob("*.npy"))


def _no_decoding(monkeypatch):
    def refuse(path):
        raise AssertionError(f"{path} decoded although it is cached")

    monkeypatch.setattr(image_cache, "open_grey", refuse)


def test_second_read_comes_from_the_cache_and_equals_the_first(tiny_iam, tmp_path, monkeypatch):
    png = tiny_iam / "lines/a01/a01-000u/a01-000u-00.png"
    cache = ImageCache(LineImageTransform(height=24, deslant=True), tmp_path / "cache")
    first = np.asarray(cache.prepared(png))
    assert first.shape[0] == 24 and len(_entries(tmp_path / "cache")) == 1
    assert not list((tmp_path / "cache").rglob(".*tmp*"))  # renamed into place
    _no_decoding(monkeypatch)
    again = np.asarray(ImageCache(LineImageTransform(height=24, deslant=True), tmp_path / "cache").prepared(png))
    np.testing.assert_array_equal(again, first)


def test_settings_image_edits_and_thresholds_are_new_entries(tiny_iam, tmp_path):
    png = tiny_iam / "lines/a01/a01-000u/a01-000u-01.png"
    ImageCache(LineImageTransform(height=24), tmp_path).prepared(png)
    ImageCache(LineImageTransform(height=32), tmp_path).prepared(png)  # other settings: other folder
    assert len({p.parent.parent for p in _entries(tmp_path)}) == 2
    binarising = ImageCache(LineImageTransform(height=24, binarise=True), tmp_path)
    dark, light = binarising.prepared(png, 0), binarising.prepared(png, 255)  # a threshold per line
    assert np.asarray(dark).min() == 255 and np.asarray(light).min() == 0  # 0: no ink; 255: all ink
    assert len(_entries(tmp_path)) == 4
    # the image is replaced: its size and mtime change, so the cache entry is not reused
    os.replace(tiny_iam / "lines/a01/a01-000u/a01-000u-02.png", png)
    ImageCache(LineImageTransform(height=24), tmp_path).prepared(png)
    assert len(_entries(tmp_path)) == 5


def test_a_damaged_entry_is_rebuilt(tiny_iam, tmp_path):
    png = tiny_iam / "lines/a01/a01-000u/a01-000u-00.png"
    cache = ImageCache(LineImageTransform(height=24), tmp_path)
    first = np.asarray(cache.prepared(png))
    (entry,) = _entries(tmp_path)
    entry.write_bytes(entry.read_bytes()[:20])  # truncated by a crash of another program
    np.testing.assert_array_equal(np.asarray(cache.prepared(png)), first)
    np.testing.assert_array_equal(np.load(entry), first)


def test_datamodule_batches_are_the_same_with_and_without_the_cache(tiny_iam, tmp_path, monkeypatch):
    def inputs(cache_dir):
        dm = IAMDataModule(root=str(tiny_iam), height=24, deslant=True, batch_size=4, cache_dir=cache_dir)
        dm.setup()
        ds = dm.datasets["train"]
        return [ds[i].input for i in range(len(ds))]

    plain = inputs(None)
    assert not (tmp_path / "c" / "images").exists()
    filled = inputs(str(tmp_path / "c"))
    assert len(_entries(tmp_path / "c")) == 12
    _no_decoding(monkeypatch)
    cached = inputs(str(tmp_path / "c"))
    for a, b, c in zip(plain, filled, cached):
        assert torch.equal(a, b) and torch.equal(a, c)


def test_an_unreadable_image_is_named_and_never_cached(tiny_iam, tmp_path):
    bad = tiny_iam / "lines/a01/a01-000u/a01-000u-03.png"
    bad.write_bytes(b"\x89PNG garbage")
    from seqlab.errors import UnreadableFileError

    with pytest.raises(UnreadableFileError, match="a01-000u-03.png"):
        ImageCache(LineImageTransform(height=24), tmp_path).prepared(bad)
    assert _entries(tmp_path) == []
