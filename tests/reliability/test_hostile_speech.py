"""Hostile input to the speech readers: only seqlab's own errors come out."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqlab.data.audio import audio_info, read_audio
from seqlab.data.librispeech import read_trans
from seqlab.data.timit import read_phn, read_txt, read_wrd
from seqlab.errors import DataFormatError, UnreadableFileError

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
