"""Hostile input to the IAM reader and the image loader: only seqlab's own errors come out."""

from __future__ import annotations

import io
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from seqlab.data.readers.iam import parse_lines_row, read_lines_txt
from seqlab.data.images import MAX_PIXELS, LineImageTransform, image_size, open_grey
from seqlab.errors import DataFormatError, UnreadableFileError
from seqlab.lit import CTCModule
from seqlab.nn import RecurrentEncoder
from seqlab.data.frontends import ImageFrontend
from seqlab.recognizer import Recognizer
from seqlab.text import Alphabet

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


# --- extreme aspect ratios: refused before resizing, one file at a time ---

def ribbon(path: Path, width: int = 2_000_000) -> Path:
    """A PNG of ``width`` x 1 white pixels: a few kB on disk, 24 x 48,000,000 at line height 24."""
    Image.new("L", (width, 1), 255).save(path)
    return path


def test_extreme_aspect_is_refused_before_resizing(tmp_path: Path):
    p = ribbon(tmp_path / "ribbon.png")
    assert p.stat().st_size < 20_000
    img = open_grey(p)  # 2 megapixels as decoded: under the limit
    transform = LineImageTransform(24)
    with pytest.raises(UnreadableFileError, match=r"ribbon.png: 2000000 x 1 pixels would be 48,000,000 x 24"):
        transform(img)
    with pytest.raises(UnreadableFileError, match="ribbon.png.*after resizing"):
        transform.prepare(img)
    assert LineImageTransform(24, max_width=500)(img).shape == (1, 24, 500)  # squeezed: no danger


def tiny_image_recognizer():
    """An untrained 1 x 8 BLSTM over 24-pixel columns: enough to run transcribe end to end."""
    torch.manual_seed(0)
    model = CTCModule(RecurrentEncoder(input_size=24, hidden_size=8, num_layers=1), Alphabet(list("abc ")),
                      optimizer=partial(torch.optim.SGD, lr=0.1))
    return Recognizer(model, ImageFrontend(24), batch_size=2)


def test_one_extreme_image_costs_only_itself_in_transcription(tmp_path: Path):
    good = []
    for i, text in enumerate(["a cab", "bad", "cc a"]):
        good.append(tmp_path / f"line{i}.png")
        render_line(text, 24, seed=i).save(good[-1])
    bad = ribbon(tmp_path / "ribbon.png")
    rec = tiny_image_recognizer()
    errors = []
    got = rec.transcribe([good[0], bad, good[1], good[2]], on_error=lambda p, e: errors.append((p, str(e))))
    assert [t.source for t in got] == [str(p) for p in good]
    assert [p for p, _ in errors] == [str(bad)]
    assert "48,000,000 x 24" in errors[0][1]
    with pytest.raises(UnreadableFileError, match="ribbon.png"):
        rec.transcribe([good[0], bad])


# --- images that decoded silently wrong ---

@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparent_background_becomes_white_paper(tmp_path: Path, mode: str):
    if mode == "P":  # palette index 0: transparent black (the background), 1: opaque black (the ink)
        img = Image.new("P", (60, 20), 0)
        img.putpalette([0, 0, 0, 0, 0, 0])
        img.paste(1, (10, 5, 30, 15))
        extra = {"transparency": 0}
    else:
        clear, ink = ((0, 0, 0, 0), (0, 0, 0, 255)) if mode == "RGBA" else ((0, 0), (0, 255))
        img = Image.new(mode, (60, 20), clear)
        img.paste(ink, (10, 5, 30, 15))
        extra = {}
    p = tmp_path / f"{mode}.png"
    img.save(p, **extra)
    g = np.asarray(open_grey(p), dtype=np.float64)
    assert g[:, 35:].min() == 255 and g[5:15, 10:30].max() == 0  # white paper, black ink
    x = LineImageTransform(20)(open_grey(p))
    assert x[0, :, 35:].max() == 0 and x[0, 5:15, 10:30].min() == 1  # ink = 1, paper = 0


@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "JPEG", "WEBP"])
@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_orientation_is_applied_in_every_format(tmp_path: Path, fmt: str, orientation: int):
    img = Image.new("L", (60, 20), 255)
    img.paste(0, (0, 0, 10, 20))  # ink at the left edge, as stored
    exif = Image.Exif()
    exif[0x0112] = orientation  # 6: shown rotated 90 degrees clockwise; 8: counter-clockwise
    p = tmp_path / f"rotated.{fmt.lower()}"
    img.save(p, format=fmt, exif=exif.tobytes())
    g = np.asarray(open_grey(p), dtype=np.float64)
    assert g.shape == (60, 20)  # (H, W): upright
    top, bottom = g[:10].mean(), g[-10:].mean()
    # turned clockwise the left edge is on top; counter-clockwise at the bottom
    assert (top < 60 < 200 < bottom) if orientation == 6 else (bottom < 60 < 200 < top)


@pytest.mark.parametrize("fmt", ["TIFF", "GIF"])
def test_multi_page_images_are_refused(tmp_path: Path, fmt: str):
    pages = [render_line(t, 24, seed=i) for i, t in enumerate(["one", "two", "six"])]
    p = tmp_path / f"pages.{fmt.lower()}"
    pages[0].save(p, format=fmt, save_all=True, append_images=pages[1:])
    for read in (open_grey, image_size):
        with pytest.raises(UnreadableFileError, match=r"pages\.\w+: has 3 pages.*one image per"):
            read(p)
    pages[0].save(p, format=fmt)  # one page is fine
    assert open_grey(p).size == pages[0].size and image_size(p) == pages[0].size
