"""Filterbank features, their cache, normalisation statistics and SpecAugment."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import seqlab.data.features as features_module
from seqlab.data.audio import read_audio
from seqlab.data.batch import Batch
from seqlab.data.features import FeatureCache, FeatureStats, FilterbankFeatures, SpecAugment
from seqlab.data.frontends import frontend_from_dict
from seqlab.data import TIMITDataModule
from seqlab.errors import ConfigError, UnreadableFileError
from tests.data.speech_corpora import make_timit, signal, write_riff, write_sphere


@pytest.mark.parametrize(("mels", "size"), [(40, 123), (80, 243)])
def test_shapes(mels: int, size: int):
    f = FilterbankFeatures(num_mel_bins=mels)
    wave = torch.from_numpy(signal(16000).astype(np.float32) / 32768)
    x = f(wave)
    assert f.feature_size == size and x.shape == (f.num_frames(16000), size) == (98, size)
    s = f.static_size
    # deltas of the statics are the second block, computed with compute_deltas
    assert torch.allclose(x[:, s:2 * s], _deltas(x[:, :s]), atol=1e-5)
    assert torch.allclose(x[:, 2 * s:], _deltas(_deltas(x[:, :s])), atol=1e-5)
    assert FilterbankFeatures(delta_order=0).feature_size == 41


def _deltas(static: torch.Tensor) -> torch.Tensor:
    import torchaudio.functional as AF

    return AF.compute_deltas(static.T, win_length=5).T


def test_settings_are_checked_and_round_trip():
    with pytest.raises(ConfigError):
        FilterbankFeatures(delta_order=3)
    f = FilterbankFeatures(num_mel_bins=80)
    assert FilterbankFeatures.from_dict(f.to_dict()) == f
    assert f.key() != FilterbankFeatures().key()


def test_other_sample_rates_are_resampled(tmp_path: Path):
    write_riff(tmp_path / "a8k.wav", signal(8000), rate=8000)
    wave = read_audio(tmp_path / "a8k.wav")
    assert abs(wave.numel() - 16000) <= 1


def test_cache_hit_on_second_pass_and_atomic_files(tmp_path: Path, monkeypatch):
    audio = tmp_path / "x.wav"
    write_sphere(audio, signal(8000))
    cache = FeatureCache(FilterbankFeatures(), tmp_path / "cache")
    first = cache.static(audio)
    entry = cache.path_for(audio)
    assert entry.is_file() and entry.suffix == ".npy" and entry.parent.parent.name.startswith("fbank-")
    assert not [p for p in entry.parent.iterdir() if ".tmp-" in p.name]

    def no_decoding(*args, **kwargs):
        raise AssertionError("audio decoded again")

    monkeypatch.setattr(features_module, "read_audio", no_decoding)
    second = cache.static(audio)
    assert torch.equal(first, second)  # float16 on disk, both times
    # an edited file is a different key, so it is decoded again
    write_sphere(audio, signal(8000, seed=3))
    os.utime(audio, ns=(1, 1))
    with pytest.raises(AssertionError, match="decoded again"):
        cache.static(audio)


def test_unreadable_audio_names_the_file(tmp_path: Path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"nothing")
    cache = FeatureCache(FilterbankFeatures(), None)
    with pytest.raises(UnreadableFileError, match="bad.wav"):
        cache.static(bad)
    with pytest.raises(UnreadableFileError, match="missing.wav"):
        cache.static(tmp_path / "missing.wav")
    short = tmp_path / "short.wav"
    write_sphere(short, signal(100))
    with pytest.raises(UnreadableFileError, match="short.wav: 100 samples is shorter"):
        cache.static(short)


def test_normalisation_statistics_come_from_training_and_travel_in_the_recipe(tmp_path: Path):
    root = tmp_path / "timit"
    make_timit(root)
    dm = TIMITDataModule(str(root), cache_dir=str(tmp_path / "cache"), batch_size=8)
    dm.setup()
    recipe = dm.checkpoint_data()["frontend"]
    stats = recipe["normalization"]
    assert isinstance(stats["mean"], list) and len(stats["mean"]) == 123 and isinstance(stats["mean"][0], float)
    assert recipe["features"]["num_mel_bins"] == 40 and recipe["type"] == "speech"
    # the training features, normalised, have zero mean and unit variance
    train = torch.cat([dm.datasets["train"][i].input for i in range(len(dm.datasets["train"]))])
    assert train.shape[0] == stats["frames"]
    assert torch.allclose(train.mean(0), torch.zeros(123), atol=1e-3)
    assert torch.allclose(train.std(0, unbiased=False), torch.ones(123), atol=2e-2)
    # a second module (here with DataLoader workers) reads the statistics back
    again = TIMITDataModule(str(root), cache_dir=str(tmp_path / "cache"), num_workers=2)
    again.setup()
    assert again.stats.mean == stats["mean"]
    # the recipe alone (as a checkpoint holds it) rebuilds the features of new audio
    record = dm.datasets["test"].records[0]
    trained_on = dm.datasets["test"][0].input
    assert torch.equal(frontend_from_dict(recipe, tmp_path / "cache").loader()(record), trained_on)
    # without the cache: the same up to the float16 rounding of the cached values (in raw units)
    fresh = frontend_from_dict(recipe).read_file(record.source).input
    assert ((fresh - trained_on) * torch.tensor(stats["std"])).abs().max() < 0.05
    assert FeatureStats.identity(3).apply(torch.ones(2, 3)).eq(1).all()


def test_spec_augment_masks_within_lengths_and_the_same_channels_in_every_block():
    torch.manual_seed(0)
    aug = SpecAugment(freq_masks=1, freq_mask_param=5, time_masks=1, time_mask_param=6, max_time_fraction=0.5)
    x = torch.randn(3, 20, 3 * 41) + 10  # nothing is 0 before masking
    lengths = torch.tensor([20, 12, 0])
    y = aug(x, lengths, blocks=3)
    assert torch.equal(y[1, 12:], x[1, 12:]) and torch.equal(y[2], x[2])  # padding untouched
    assert (y == 0).any()
    for b in range(2):
        n = int(lengths[b])
        masked_cols = (y[b, :n] == 0).all(0).reshape(3, 41)  # channels masked over all frames
        assert torch.equal(masked_cols[0], masked_cols[1]) and torch.equal(masked_cols[0], masked_cols[2])


def test_spec_augment_only_on_training_batches(tmp_path: Path):
    dm = TIMITDataModule(str(tmp_path), spec_augment=SpecAugment(freq_masks=2, time_masks=2))

    def batch() -> Batch:
        torch.manual_seed(1)
        x = torch.randn(2, 50, 123) + 10
        return Batch(x, torch.tensor([50, 40]), torch.tensor([1, 2]), torch.tensor([1, 1]), ["a", "b"], [], [])

    dm.trainer = SimpleNamespace(training=False)
    assert torch.equal(dm.on_after_batch_transfer(batch(), 0).inputs, batch().inputs)
    dm.trainer = SimpleNamespace(training=True)
    assert not torch.equal(dm.on_after_batch_transfer(batch(), 0).inputs, batch().inputs)
    dm.frontend.spec_augment = None
    assert torch.equal(dm.on_after_batch_transfer(batch(), 0).inputs, batch().inputs)


def test_a_damaged_cache_entry_is_recomputed(tmp_path: Path):
    audio = tmp_path / "x.wav"
    write_riff(audio, signal(8000))
    cache = FeatureCache(FilterbankFeatures(), tmp_path / "cache")
    first = cache.static(audio)
    entry = cache.path_for(audio)
    entry.write_bytes(entry.read_bytes()[:100])  # truncated, as by a full disk
    assert torch.equal(cache.static(audio), first)
    assert torch.equal(cache.static(audio), first)
