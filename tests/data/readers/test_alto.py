"""ALTO v2, v3, v4 and no namespace: text from String/SP/HYP, polygons and boxes, units, filling text back in."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from PIL import Image

from seqlab.data.readers.alto import NAMESPACES, ALTOReader, fill_alto, parse_alto
from seqlab.data.readers.xml import LineText, local
from seqlab.errors import DataFormatError, SeqlabError
from tests.data.readers.damage import damaged_copies


def alto(lines: str, ns: str | None = NAMESPACES["v4"], unit: str = "pixel", image: str = "p.png") -> str:
    xmlns = f' xmlns="{ns}"' if ns else ""
    unit_el = f"<MeasurementUnit>{unit}</MeasurementUnit>" if unit else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<alto{xmlns}><Description>{unit_el}'
            f"<sourceImageInformation><fileName>{image}</fileName></sourceImageInformation></Description>"
            f'<Layout><Page ID="p" WIDTH="400" HEIGHT="200"><PrintSpace><TextBlock ID="b">{lines}'
            "</TextBlock></PrintSpace></Page></Layout></alto>")


LINE = ('<TextLine ID="l1" HPOS="10" VPOS="10.5" WIDTH="290" HEIGHT="30" BASELINE="35">'
        '<String CONTENT="Hello" WC="0.9"/><SP/><String CONTENT="wor"/><HYP CONTENT="-"/></TextLine>')


def setup_page(tmp_path: Path, body: str, dpi=None, **kw) -> Path:
    img = Image.new("L", (400, 200), 240)
    img.save(tmp_path / "p.png", dpi=dpi) if dpi else img.save(tmp_path / "p.png")
    (tmp_path / "p.xml").write_text(alto(body, **kw), encoding="utf-8")
    return tmp_path / "p.xml"


@pytest.mark.parametrize("ns", [*NAMESPACES.values(), None], ids=[*NAMESPACES, "none"])
def test_every_version_reads_strings_spaces_and_hyphens(tmp_path: Path, ns):
    doc = parse_alto(setup_page(tmp_path, LINE, ns=ns))
    (line,) = doc.lines
    assert line.text == "Hello wor-" and line.id == "l1"
    assert line.region.polygon == ((10, 10.5), (300, 10.5), (300, 40.5), (10, 40.5))
    assert line.region.baseline == ((10, 35), (300, 35))  # v2/v3: one y across the box


def test_shape_polygon_and_v4_baseline_points(tmp_path: Path):
    line = ('<TextLine ID="l1" HPOS="10" VPOS="10" WIDTH="290" HEIGHT="30" BASELINE="10,35 150,37 300,36">'
            '<Shape><Polygon POINTS="10 8 300 12 300 42 10 40"/></Shape><String CONTENT="a"/><String CONTENT="b"/>'
            "</TextLine>")
    (doc_line,) = parse_alto(setup_page(tmp_path, line)).lines
    assert doc_line.region.polygon == ((10, 8), (300, 12), (300, 42), (10, 40))
    assert doc_line.region.baseline == ((10, 35), (150, 37), (300, 36))
    assert doc_line.text == "a b"  # a String boundary separates words even without SP


def test_mm10_with_a_given_dpi_and_inch1200_with_the_images_dpi(tmp_path: Path):
    line = '<TextLine ID="l1" HPOS="254" VPOS="254" WIDTH="508" HEIGHT="254"><String CONTENT="x"/></TextLine>'
    (doc_line,) = parse_alto(setup_page(tmp_path, line, unit="mm10"), dpi=100).lines
    assert doc_line.region.bbox == (100, 100, 301, 201)
    (doc_line,) = parse_alto(setup_page(tmp_path, line.replace("254", "1200"), unit="inch1200", dpi=(50, 50))).lines
    assert doc_line.region.polygon[0] == (50.0, 50.0)


def test_a_non_pixel_unit_without_a_dpi_is_refused_with_what_to_do(tmp_path: Path):
    with pytest.raises(DataFormatError, match=r"p.xml: coordinates are in mm10.*data.dpi=300.*--dpi"):
        parse_alto(setup_page(tmp_path, LINE, unit="mm10"))
    with pytest.raises(DataFormatError, match="MeasurementUnit 'furlong'"):
        parse_alto(setup_page(tmp_path, LINE, unit="furlong"))


def test_bad_lines_are_named_and_left_out(tmp_path: Path, caplog):
    lines = ('<TextLine ID="nobox"><String CONTENT="x"/></TextLine>'
             '<TextLine ID="nan" HPOS="a" VPOS="1" WIDTH="2" HEIGHT="3"><String CONTENT="x"/></TextLine>'
             '<TextLine ID="flat" HPOS="1" VPOS="1" WIDTH="0" HEIGHT="30"><String CONTENT="x"/></TextLine>'
             '<TextLine ID="empty" HPOS="10" VPOS="50" WIDTH="100" HEIGHT="30"/>' + LINE)
    path = setup_page(tmp_path, lines)
    doc = parse_alto(path)
    assert [line.id for line in doc.lines] == ["empty", "l1"] and doc.untranscribed == ["empty"]
    problems = "\n".join(doc.problems)
    assert "TextLine nobox: has neither Shape/Polygon nor HPOS" in problems
    assert "TextLine nan: HPOS='a' is not a number" in problems
    assert "TextLine flat: the line polygon has 2 distinct point(s)" in problems
    with caplog.at_level(logging.WARNING, logger="seqlab.data"):
        records = ALTOReader(str(tmp_path), split_fractions=(1.0, 0.0, 0.0)).read("train")
    assert [r.id for r in records] == ["p:l1"] and "skipped 4 item(s)" in caplog.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_any_bytes_give_only_seqlab_errors(tmp_path: Path, data: bytes):
    path = tmp_path / "any.xml"
    path.write_bytes(data)
    try:
        parse_alto(path, dpi=300)
    except SeqlabError:
        pass


VALID = alto(LINE + LINE.replace('ID="l1"', 'ID="l2"').replace('BASELINE="35"', 'BASELINE="1,2 3,4"')).encode()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=damaged_copies(VALID))
def test_damaged_documents_give_only_seqlab_errors(tmp_path: Path, data: bytes):
    (tmp_path / "d.xml").write_bytes(data)
    try:
        parse_alto(tmp_path / "d.xml", dpi=300)
    except SeqlabError:
        pass


def test_fill_replaces_strings_keeps_the_rest_and_puts_sp_between_words(tmp_path: Path):
    line = ('<TextLine ID="l1" HPOS="10" VPOS="10" WIDTH="290" HEIGHT="30" STYLEREFS="s1">'
            '<Shape><Polygon POINTS="10,8 300,12 300,42 10,40"/></Shape><String CONTENT="old"/></TextLine>')
    src = setup_page(tmp_path, line + '<TextLine ID="l2" HPOS="10" VPOS="50" WIDTH="100" HEIGHT="30"/>')
    out = tmp_path / "out" / "p.xml"
    n = fill_alto(src, {"l1": LineText("two words", 0.8, (("two", 0.9, 12.0, 60.0), ("words", 0.7, 70.0, 150.0))),
                        "l2": LineText("", 0.1)}, out)
    assert n == 2
    doc = parse_alto(out)
    assert [(line.id, line.text) for line in doc.lines] == [("l1", "two words"), ("l2", None)]
    tree = etree.parse(str(out))
    l1 = [e for e in tree.iter() if local(e) == "TextLine"][0]
    assert [local(c) for c in l1] == ["Shape", "String", "SP", "String"]
    assert [(s.get("CONTENT"), s.get("WC"), s.get("HPOS"), s.get("WIDTH")) for s in l1 if local(s) == "String"] == [
        ("two", "0.9000", "12", "48"), ("words", "0.7000", "70", "80")]
    before, after = etree.parse(str(src)), tree
    for t in (before, after):
        for e in [e for e in t.iter() if local(e) in ("String", "SP")]:
            e.getparent().remove(e)
    assert etree.tostring(before, method="c14n") == etree.tostring(after, method="c14n")


def test_fill_writes_positions_in_the_files_unit(tmp_path: Path):
    line = '<TextLine ID="l1" HPOS="254" VPOS="254" WIDTH="508" HEIGHT="254"><String CONTENT="x"/></TextLine>'
    src = setup_page(tmp_path, line, unit="mm10")
    fill_alto(src, {"l1": LineText("x", 0.5, (("x", 0.5, 100.0, 200.0),))}, tmp_path / "o.xml", dpi=100)
    (s,) = [e for e in etree.parse(str(tmp_path / "o.xml")).iter() if local(e) == "String"]
    assert (s.get("HPOS"), s.get("WIDTH")) == ("254", "254")
