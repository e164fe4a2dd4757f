"""Hostile input to the IAM reader and the image loader: only seqlab's own errors come out."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from seqlab.data.iam import parse_lines_row, read_lines_txt
from seqlab.data.images import MAX_PIXELS, LineImageTransform, image_size, open_grey
from seqlab.errors import DataFormatError, UnreadableFileError

from tests.conftest import render_line

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def png_bytes(fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    render_line("hostile", 24).save(buf, format=fmt)
    return buf.getvalue()


GOOD = {"PNG": png_bytes("PNG"), "JPEG": png_bytes("JPEG"), "TIFF": png_bytes("TIFF")}


@SETTINGS
@given(data=st.binary(max_size=4000))
def test_lines_txt_any_bytes(tmp_path: Path, data: bytes):
    p = tmp_path / "lines.txt"
    p.write_bytes(data)
    lines, problems = read_lines_txt(p)  # never raises on content
    assert all(isinstance(m, str) and str(p) in m for m in problems)
    for line in lines.values():
        assert "|" not in line.text


@SETTINGS
@given(row=st.text(max_size=200))
def test_lines_row_any_text(row: str):
    try:
        parse_lines_row(row, "lines.txt:1")
    except DataFormatError as e:
        assert str(e).startswith("lines.txt:1: ")


@SETTINGS
@given(fmt=st.sampled_from(sorted(GOOD)), cut=st.integers(0, 2000), flips=st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 255)), max_size=8))
def test_corrupted_images_raise_only_unreadable(tmp_path: Path, fmt: str, cut: int, flips):
    data = bytearray(GOOD[fmt][: max(0, len(GOOD[fmt]) - cut)])
    for pos, value in flips:
        if pos < len(data):
            data[pos] = value
    p = tmp_path / f"x.{fmt.lower()}"
    p.write_bytes(bytes(data))
    for read in (image_size, lambda q: LineImageTransform(16)(open_grey(q))):
        try:
            read(p)
        except UnreadableFileError as e:
            assert str(p) in str(e)


@SETTINGS
@given(data=st.binary(max_size=3000))
def test_random_bytes_as_image(tmp_path: Path, data: bytes):
    p = tmp_path / "random.png"
    p.write_bytes(data)
    with pytest.raises(UnreadableFileError, match="random.png"):
        open_grey(p)


def test_decompression_bomb_refused(tmp_path: Path):
    side = int(MAX_PIXELS**0.5) + 100
    p = tmp_path / "bomb.png"
    Image.new("1", (side, side)).save(p)  # a few kB on disk, > MAX_PIXELS when decoded
    assert p.stat().st_size < 1_000_000
    with pytest.raises(UnreadableFileError, match="exceeds the limit"):
        image_size(p)
    with pytest.raises(UnreadableFileError, match="exceeds the limit"):
        open_grey(p)


def test_empty_file(tmp_path: Path):
    p = tmp_path / "empty.png"
    p.write_bytes(b"")
    with pytest.raises(UnreadableFileError, match="empty.png"):
        image_size(p)
