"""Hostile input to the speech readers: only seqlab's own errors come out."""

from __future__ import annotations

import io
import logging
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqlab.data.audio import audio_info, read_audio
from seqlab.data.batch import Skipped
from seqlab.data.features import FeatureCache, FeatureStats, FilterbankFeatures
from seqlab.data.readers.librispeech import read_trans
from seqlab.data import TIMITDataModule
from seqlab.data.readers.timit import read_phn, read_txt, read_wrd
from seqlab.errors import DataFormatError, UnreadableFileError
from tests.data.speech_corpora import make_timit

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ROWS = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.tuples(st.integers(-5, 10**12), st.integers(-5, 10**12), st.sampled_from(["h#", "sh", "xx", "q", "IY", ""]))
        .map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
    ),
    max_size=8,
)


def _write(tmp_path: Path, name: str, rows: list[str], junk: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes("\n".join(rows).encode("utf-8", errors="surrogatepass") + junk)
    return p


@SETTINGS
@given(rows=ROWS, junk=st.binary(max_size=16))
def test_phn_wrd_txt_parsers(tmp_path: Path, rows: list[str], junk: bytes):
    for name, read in (("SI1.PHN", read_phn), ("SI1.WRD", read_wrd), ("SI1.TXT", read_txt)):
        try:
            p = _write(tmp_path, name, rows, junk)
        except UnicodeEncodeError:
            return
        try:
            read(p)
        except DataFormatError as e:
            assert str(p) in str(e)


@SETTINGS
@given(rows=st.lists(st.text(max_size=60), max_size=8), junk=st.binary(max_size=16))
def test_trans_txt_parser(tmp_path: Path, rows: list[str], junk: bytes):
    try:
        p = _write(tmp_path, "19-198.trans.txt", rows, junk)
    except UnicodeEncodeError:
        return
    lines, problems = read_trans(p)  # never raises on content
    assert all(str(p) in m for m in problems)
    assert all(text == " ".join(text.split()) for text, _ in lines.values())


def _audio(fmt: str) -> bytes:
    buf = io.BytesIO()
    x = (np.sin(np.arange(1600) / 5) * 8000).astype(np.int16)
    sf.write(buf, x, 16000, format=fmt, subtype="PCM_16")
    return buf.getvalue()


GOOD = {"NIST": _audio("NIST"), "WAV": _audio("WAV"), "FLAC": _audio("FLAC")}


@SETTINGS
@given(fmt=st.sampled_from(sorted(GOOD)), cut=st.integers(0, 3300),
       flips=st.lists(st.tuples(st.integers(0, 1100), st.integers(0, 255)), max_size=6))
def test_truncated_and_corrupt_audio(tmp_path: Path, fmt: str, cut: int, flips):
    data = bytearray(GOOD[fmt][: max(0, len(GOOD[fmt]) - cut)])
    for pos, value in flips:
        if pos < len(data):
            data[pos] = value
    p = tmp_path / "x.wav"
    p.write_bytes(bytes(data))
    for read in (audio_info, read_audio):
        try:
            out = read(p)
        except UnreadableFileError as e:
            assert str(p) in str(e)
        else:
            if read is read_audio:
                assert out.ndim == 1 and out.numel() > 0


@pytest.mark.parametrize("fmt", sorted(GOOD))
def test_zero_length_audio(tmp_path: Path, fmt: str):
    p = tmp_path / "empty.wav"
    sf.write(p, np.zeros(0, dtype=np.int16), 16000, format=fmt, subtype="PCM_16")
    with pytest.raises(UnreadableFileError, match="empty.wav.*(no samples|not a readable|cannot decode)"):
        audio_info(p)
    with pytest.raises(UnreadableFileError, match="empty.wav"):
        read_audio(p)


def test_read_wrd_and_txt(tmp_path: Path):
    wrd = tmp_path / "SX1.WRD"
    wrd.write_text("2360 5200 she\n5200 9680 had\n")
    assert [(w.start, w.word) for w in read_wrd(wrd)] == [(2360, "she"), (5200, "had")]
    txt = tmp_path / "SX1.TXT"
    txt.write_text("0 46797 She had your dark suit in greasy wash water all year.\n")
    assert read_txt(txt) == (0, 46797, "She had your dark suit in greasy wash water all year.")
    txt.write_text("0 46797\n")
    with pytest.raises(DataFormatError, match="SX1.TXT:1"):
        read_txt(txt)


# --- non-finite samples: refused when read, skipped and counted by the corpus modules ---

def float_wav_with_nans(path: Path, n: int = 16_000, nans: int = 100) -> Path:
    """A RIFF float32 WAV (a valid format) whose first ``nans`` samples are NaN."""
    path.parent.mkdir(parents=True, exist_ok=True)
    x = (np.sin(np.arange(n) / 5) * 0.3).astype(np.float32)
    x[:nans] = np.nan
    sf.write(str(path), x, 16000, format="WAV", subtype="FLOAT")
    return path


def test_non_finite_samples_are_refused_naming_the_file_and_count(tmp_path: Path):
    p = float_wav_with_nans(tmp_path / "nan.wav")
    with pytest.raises(UnreadableFileError, match=r"nan.wav: 100 of 16,000 samples are not finite"):
        read_audio(p)
    x = np.zeros(16_000, dtype=np.float32)
    x[5] = np.inf
    sf.write(str(p), x, 16000, format="WAV", subtype="FLOAT")
    with pytest.raises(UnreadableFileError, match=r"nan.wav: 1 of 16,000 samples"):
        read_audio(p)


def test_a_nan_file_in_the_training_set_is_skipped_and_counted(tmp_path: Path, caplog):
    root = tmp_path / "timit"
    make_timit(root)
    bad = float_wav_with_nans(root / "train" / "dr2" / "marc0" / "si818.wav", n=4800)
    dm = TIMITDataModule(str(root), cache_dir=str(tmp_path / "cache"), batch_size=8)
    with caplog.at_level(logging.WARNING):
        dm.setup()
    assert all(math.isfinite(v) for v in dm.stats.mean + dm.stats.std)
    assert "feature statistics: skipped 1 item(s)" in caplog.text
    assert f"{bad}: 100 of 4,800 samples are not finite" in caplog.text
    train = dm.datasets["train"]
    items = {r.source: train[i] for i, r in enumerate(train.records)}
    assert isinstance(items[str(bad)], Skipped)
    assert all(torch.isfinite(s.input).all() for s in items.values() if not isinstance(s, Skipped))


def test_a_stale_cache_entry_with_nan_features_is_refused(tmp_path: Path):
    p = tmp_path / "x.wav"
    sf.write(str(p), (np.sin(np.arange(4800) / 5) * 0.3).astype(np.float32), 16000, subtype="FLOAT")
    cache = FeatureCache(FilterbankFeatures(), tmp_path / "cache")
    static = cache.static(p).numpy()
    static[3, 0] = np.nan  # as a run before the reader refused NaN samples could have stored it
    np.save(cache.path_for(p), static.astype(np.float16))
    with pytest.raises(UnreadableFileError, match=r"x.wav: 1 of [\d,]+ feature values are not finite"):
        cache.static(p)


def test_feature_statistics_must_be_finite():
    good = torch.randn(50, 3)
    bad = good.clone()
    bad[7, 1] = float("nan")
    assert FeatureStats.accumulate([good]).frames == 50
    with pytest.raises(DataFormatError, match="not finite in 1 of 3 features"):
        FeatureStats.accumulate([good, bad])
    with pytest.raises(DataFormatError, match=r"feature 0: mean inf"):
        FeatureStats([float("inf"), 0.0], [1.0, 1.0], 10)
