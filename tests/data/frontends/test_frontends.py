"""Frontends: stored and rebuilt exactly, lines cut out of pages by their polygon, one data module for all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from seqlab.data.frontends import ImageFrontend, SpeechFrontend, frontend_from_dict
from seqlab.data.images import crop_region
from seqlab.data.module import CorpusDataModule
from seqlab.data.readers.base import Reader
from seqlab.data.records import Record, Region
from seqlab.errors import CheckpointError, ConfigError


def test_image_frontend_round_trips_through_its_dict():
    f = ImageFrontend(height=32, max_width=900, binarise=True, deslant=True, cache_dir="/tmp/x")
    d = f.to_dict()
    assert d == {"type": "image", "height": 32, "invert": True, "max_width": 900, "binarise": True, "deslant": True}
    g = frontend_from_dict(d)
    assert isinstance(g, ImageFrontend) and g.transform == f.transform and g.to_dict() == d


def test_speech_frontend_round_trips_with_its_statistics():
    from seqlab.data.features import FeatureStats

    f = SpeechFrontend(num_mel_bins=80, delta_order=1)
    f.stats = FeatureStats([0.5] * f.feature_size, [2.0] * f.feature_size, 10)
    g = frontend_from_dict(f.to_dict())
    assert g.feature_size == f.feature_size == 162 and g.stats.mean == f.stats.mean and g.to_dict() == f.to_dict()


@pytest.mark.parametrize("bad", [{"type": "video"}, {}, {"type": "image", "height": 0},
                                 {"type": "image", "height": 24, "colour": True}, {"type": "speech"}])
def test_bad_stored_frontends_are_checkpoint_errors(bad):
    with pytest.raises((CheckpointError, ConfigError)):
        frontend_from_dict(bad)


def _page(tmp_path: Path) -> tuple[Path, Region]:
    """A white page with a line of ink, and a blot inside the line's box but outside its slanted polygon."""
    img = Image.new("L", (200, 120), 255)
    d = ImageDraw.Draw(img)
    d.rectangle((20, 44, 180, 56), fill=20)  # the line's ink
    d.rectangle((11, 56, 15, 61), fill=0)  # bottom-left corner of the box: left of the slanted edge
    path = tmp_path / "page.png"
    img.save(path)
    # left edge from (10, 40) down to (30, 62): at y 56..61 it is at x 24.5..30
    region = Region(polygon=((10, 40), (190, 40), (190, 62), (30, 62)), baseline=((10, 58), (190, 58)))
    return path, region


def test_lines_are_cut_by_their_polygon_and_outside_pixels_become_paper(tmp_path: Path):
    path, region = _page(tmp_path)
    from seqlab.data.images import open_grey

    line = np.asarray(crop_region(open_grey(path), region))
    left, top, right, bottom = region.bbox
    assert line.shape == (bottom - top, right - left)
    # the blot is outside the polygon: paper, though the page has ink there
    assert (line[56 - top:62 - top, 11 - left:16 - left] > 200).all()
    # the line's own ink is kept
    assert line[50 - top, 100 - left] < 50


def test_region_records_load_as_the_cropped_line(tmp_path: Path):
    path, region = _page(tmp_path)
    f = ImageFrontend(height=12)
    r = Record("p/l1", str(path), "ab", region=region)
    assert f.length(r) == f.transform.width_for(181, 23)
    x = f.loader()(r)
    assert x.shape[:2] == (1, 12)
    outside = Record("p/l2", str(path), "ab", region=Region(((500, 500), (600, 500), (600, 520))))
    with pytest.raises(Exception, match="outside"):
        f.length(outside)


class ListReader(Reader):
    """A reader over an in-memory list (the smallest corpus format)."""

    def __init__(self, records: dict[str, list[Record]]):
        super().__init__("mem")
        self.records = records

    def read(self, split: str) -> list[Record]:
        return list(self.records.get(split, []))


def _lines(tmp_path: Path, texts: list[str], split: str) -> list[Record]:
    out = []
    for i, t in enumerate(texts):
        p = tmp_path / f"{split}{i}.png"
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (16, 40 + 7 * i), dtype=np.uint8)).save(p)
        out.append(Record(f"{split}{i}", str(p), t, group=f"g{i % 2}"))
    return out


def test_one_data_module_composes_any_reader_with_a_frontend_and_normalises_text(tmp_path: Path):
    nfd = "cafe\u0301"  # e + combining acute: NFC makes it one symbol
    reader = ListReader({"train": _lines(tmp_path, [nfd, "ab", "ba"], "train"),
                         "val": _lines(tmp_path, ["caf\u00e9"], "val"), "test": _lines(tmp_path, ["ab"], "test")})
    dm = CorpusDataModule(reader, ImageFrontend(height=8), batch_size=2)
    dm.setup()
    assert "\u00e9" in dm.alphabet.symbols and "\u0301" not in dm.alphabet.symbols
    assert dm.datasets["train"].records[0].text == "caf\u00e9" and dm.datasets["train"].records[0].length > 0
    batch = next(iter(dm.val_dataloader()))
    assert batch.inputs.shape[:3] == (1, 1, 8) and batch.texts == ["caf\u00e9"]
    data = dm.checkpoint_data()
    assert data["frontend"]["type"] == "image" and data["text"] == {"form": "NFC", "bidi": False}
    raw = CorpusDataModule(ListReader(reader.records), ImageFrontend(height=8), text_form="none",
                           unknown_symbols="skip")
    raw.setup()
    # no normalisation: the combining mark is a symbol of its own, and the precomposed val line is foreign
    assert "\u0301" in raw.alphabet.symbols and len(raw.datasets["val"]) == 0


def test_empty_split_names_the_reader(tmp_path: Path):
    reader = ListReader({"train": _lines(tmp_path, ["ab"], "train")})
    with pytest.raises(ConfigError, match="ListReader.*val and test"):
        CorpusDataModule(reader, ImageFrontend(height=8)).setup()


def test_evaluation_reads_only_its_split_with_the_trained_frontend(tmp_path: Path):
    reader = ListReader({"test": _lines(tmp_path, ["ab"], "test")})  # no train or val at all
    dm = CorpusDataModule(reader, ImageFrontend(height=8), alphabet=list("ab"))
    dm.adopt(ImageFrontend(height=10), dm.text)
    dm.setup("test", splits=("test",))
    assert list(dm.datasets) == ["test"] and dm.datasets["test"][0].input.shape[1] == 10
    with pytest.raises(ConfigError, match="before setup"):
        dm.adopt(ImageFrontend(height=8), dm.text)


def test_speech_records_with_an_offset_read_only_their_stretch(tmp_path: Path):
    import soundfile as sf

    rate = 16000
    t = np.arange(3 * rate) / rate
    wave = np.where(t < 1.5, 0.3 * np.sin(2 * np.pi * 440 * t), 0.0).astype(np.float32)
    sf.write(tmp_path / "a.wav", wave, rate)
    f = SpeechFrontend(normalize=False)
    whole = Record("a", str(tmp_path / "a.wav"), "x")
    second = Record("a2", str(tmp_path / "a.wav"), "x", offset=1.5, duration=1.0)
    assert f.length(whole) == 298 and f.length(second) == 98
    x = f.loader()(second)
    assert x.shape == (98, f.feature_size)
    tone = f.loader()(Record("a1", str(tmp_path / "a.wav"), "x", offset=0.0, duration=1.0))
    assert x[:, 0].mean() < tone[:, 0].mean() - 1.0  # silence has far less energy than the tone


def test_warm_cuts_every_line_of_a_page_with_one_decode(tmp_path, monkeypatch):
    from seqlab.data import image_cache
    from seqlab.data.frontends.image import ImageFrontend
    from seqlab.data.readers.page import PageXMLReader
    from seqlab.data.synthetic_pages import generate_page_corpus

    root = generate_page_corpus(tmp_path / "pages", "page", num_pages=2, lines_per_page=4, height=32)
    records = PageXMLReader(str(root), split_fractions=(1.0, 0.0, 0.0)).read("train")
    frontend = ImageFrontend(height=24, cache_dir=str(tmp_path / "cache"))
    uncached = [ImageFrontend(height=24).loader()(r) for r in records]  # each line cut on its own
    decodes = []
    real = image_cache.open_grey
    monkeypatch.setattr(image_cache, "open_grey", lambda p: decodes.append(p) or real(p))
    frontend.warm(records)
    assert len(decodes) == 2 and len(records) == 8
    for r, expected in zip(records, uncached):
        assert frontend.loader()(r).equal(expected)
    assert len(decodes) == 2  # every line came from the cache
    frontend.warm(records)
    assert len(decodes) == 2  # nothing left to do
