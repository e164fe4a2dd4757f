"""ALTO (Library of Congress, v2, v3, v4.x; and files without a namespace), as eScriptorium, Kraken and OCR engines write it.

Layout: any folder of ``.xml`` files, each naming its page image in
``Description/sourceImageInformation/fileName`` (beside the XML or in its
parent folder; a file with no name falls back to an image of the same stem).
Every ``TextLine`` is a line: its polygon is ``Shape/Polygon@POINTS`` where
present (eScriptorium), else its ``HPOS VPOS WIDTH HEIGHT`` box; its baseline
``BASELINE`` (v2/v3: one y; v4.2+: a point list). Its text is the ``CONTENT``
of its ``String`` children, words separated by ``SP`` (a space; a String
boundary without ``SP`` also separates words), with ``HYP`` (the line-end
hyphen) appended.

Coordinates are in ``Description/MeasurementUnit``: ``pixel`` (also the
default when none is given), ``mm10`` (1/10 mm) or ``inch1200`` (1/1200 inch);
the latter two need the image's resolution: the reader's ``dpi``, else the
image file's own DPI, else a clear error.

:func:`fill_alto` writes recognised text back into the same document.
"""

from __future__ import annotations

from pathlib import Path

from seqlab.data.readers.documents import DocumentReader, Page
from seqlab.data.readers.xml import (
    Document,
    LineText,
    PageLine,
    child,
    children,
    confidence_text,
    descendants,
    find_image,
    line_region,
    lines_to_fill,
    local,
    parse_points,
    parse_xml,
    write_document,
)
from seqlab.errors import DataFormatError

NAMESPACES = {
    "v2": "http://www.loc.gov/standards/alto/ns-v2#",
    "v3": "http://www.loc.gov/standards/alto/ns-v3#",
    "v4": "http://www.loc.gov/standards/alto/ns-v4#",
}
UNITS = {"pixel": None, "mm10": 254.0, "inch1200": 1200.0}  # units per inch
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")


def _unit_scale(root, path: Path, image: Path | None, dpi: float | None) -> float:
    """Pixels per coordinate unit."""
    description = child(root, "Description")
    unit_el = child(description, "MeasurementUnit") if description is not None else None
    unit = (unit_el.text or "").strip() if unit_el is not None else "pixel"
    if unit not in UNITS:
        raise DataFormatError(f"{path}: MeasurementUnit {unit!r} is not one of ALTO's {sorted(UNITS)}")
    per_inch = UNITS[unit]
    if per_inch is None:
        return 1.0
    if dpi is None and image is not None:
        dpi = _image_dpi(image)
    if not dpi or dpi <= 0:
        raise DataFormatError(f"{path}: coordinates are in {unit}, and the image's resolution is unknown "
                              f"(its file gives no DPI); give it: data.dpi=300 "
                              f"(training) or --dpi 300 (transcribe)")
    return float(dpi) / per_inch


def _image_dpi(image: Path) -> float | None:
    from PIL import Image

    try:
        with Image.open(image) as img:
            dpi = img.info.get("dpi")
    except Exception:  # noqa: BLE001 (the image's own errors come when it is read)
        return None
    if not dpi:
        return None
    # PNG stores pixels per metre: 300 dpi comes back as 299.9994
    value = round(float(dpi[0] if isinstance(dpi, tuple) else dpi), 1)
    return value if value > 1 else None


def _image_name(root) -> str:
    description = child(root, "Description")
    info = child(description, "sourceImageInformation") if description is not None else None
    name = child(info, "fileName") if info is not None else None
    return (name.text or "").strip() if name is not None else ""


def _number(element, attribute: str, where: str, default: float | None = None) -> float:
    value = element.get(attribute)
    if value is None:
        if default is not None:
            return default
        raise DataFormatError(f"{where}: has no {attribute}")
    try:
        return float(value)
    except ValueError:
        raise DataFormatError(f"{where}: {attribute}={value!r} is not a number") from None


def _line_text(line) -> str | None:
    words, hyphen = [], ""
    for c in line:
        name = local(c)
        if name == "String":
            content = c.get("CONTENT", "")
            if content.strip():
                words.append(content.strip())
        elif name == "HYP":
            hyphen = c.get("CONTENT", "-")
    if not words:
        return None
    return " ".join(words) + hyphen


def parse_alto(path: str | Path, dpi: float | None = None, tree=None) -> Document:
    """The lines of one ALTO file, in document order, in page-image pixels.

    Args:
        dpi: the image resolution for files measured in ``mm10`` or ``inch1200``
            (None: the image file's own).
        tree: the file already parsed (:func:`parse_xml`); None: read ``path``.

    Raises:
        DataFormatError: naming the file, when it is not ALTO, its unit is
            unknown, or its coordinates cannot be converted to pixels.
        UnreadableFileError: when the file cannot be read.
    """
    path = Path(path)
    root = (parse_xml(path) if tree is None else tree).getroot()
    if local(root).lower() != "alto":
        raise DataFormatError(f"{path}: the root element is <{local(root)}>, not ALTO's <alto>")
    name = _image_name(root)
    image = find_image(path, name) if name else None
    if image is None and not name:  # no fileName: an image of the same stem beside the XML
        for folder in (path.parent, path.parent.parent):
            image = next((folder / (path.stem + s) for s in IMAGE_SUFFIXES if (folder / (path.stem + s)).is_file()),
                         None)
            if image is not None:
                break
    doc = Document(path, image)
    if image is None:
        doc.problems.append(f"{path}: the page image {name!r} is missing (looked beside the XML and in its "
                            "parent folder)" if name else f"{path}: names no image (sourceImageInformation/"
                            f"fileName) and no {path.stem}.png or the like is beside it")
    scale = _unit_scale(root, path, image, dpi)
    seen: set[str] = set()
    for position, line in enumerate(descendants(root, "TextLine")):
        line_id = line.get("ID") or f"line{position + 1}"
        where = f"{path}: TextLine {line_id}"
        if line_id in seen:
            doc.problems.append(f"{where}: duplicate line ID (the first is kept)")
            continue
        seen.add(line_id)
        try:
            polygon, baseline = _geometry(line, where)
            region = line_region(tuple((x * scale, y * scale) for x, y in polygon),
                                 tuple((x * scale, y * scale) for x, y in baseline), where)
        except DataFormatError as e:
            doc.problems.append(str(e))
            continue
        doc.lines.append(PageLine(line_id, region, _line_text(line), where))
    return doc


def _geometry(line, where: str) -> tuple[tuple, tuple]:
    """(polygon, baseline) in the file's units."""
    shape = child(line, "Shape")
    polygon: tuple = ()
    if shape is not None:
        poly = child(shape, "Polygon")
        if poly is not None and poly.get("POINTS"):
            polygon = parse_points(poly.get("POINTS"), f"{where} Shape/Polygon")
    box = None
    if all(line.get(a) is not None for a in ("HPOS", "VPOS", "WIDTH", "HEIGHT")):
        x, y, w, h = (_number(line, a, where) for a in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
        box = (x, y, w, h)
        if not polygon:
            polygon = ((x, y), (x + w, y), (x + w, y + h), (x, y + h))
    if not polygon:
        raise DataFormatError(f"{where}: has neither Shape/Polygon nor HPOS, VPOS, WIDTH and HEIGHT")
    baseline: tuple = ()
    value = (line.get("BASELINE") or "").strip()
    if value:
        numbers = value.replace(",", " ").split()
        if len(numbers) == 1:  # v2/v3: the baseline's y across the line's box
            y = _number(line, "BASELINE", where)
            left = box[0] if box else min(p[0] for p in polygon)
            right = box[0] + box[2] if box else max(p[0] for p in polygon)
            baseline = ((left, y), (right, y))
        else:
            baseline = parse_points(value, f"{where} BASELINE")
    return polygon, baseline


class ALTOReader(DocumentReader):
    """Every transcribed ``TextLine`` of the ALTO files under ``root``, cut out of its page image.

    Args:
        dpi: image resolution for files measured in ``mm10`` or ``inch1200``
            (None: each image's own; a file whose image gives none is refused).
        others: those of :class:`~seqlab.data.readers.documents.DocumentReader`;
            ``glob`` defaults to ``**/*.xml``; other XML files (METS, PAGE-XML)
            are skipped and counted.

    Left out, each counted and named in one warning: files that are not ALTO
    or not well-formed, pages whose image is missing, lines without text, lines
    whose polygon has fewer than three points or no area, duplicate line IDs.
    """

    default_glob = "**/*.xml"
    format_name = "ALTO"

    def __init__(self, root: str, dpi: float | None = None, **kwargs) -> None:
        super().__init__(root, **kwargs)
        self.dpi = dpi

    def pages(self, problems: list[str]) -> list[Page]:
        return self.xml_pages(lambda path: parse_alto(path, dpi=self.dpi), problems, untranscribed="no String with CONTENT")


def _format(value: float) -> str:
    return str(int(round(value))) if abs(value - round(value)) < 1e-6 else f"{value:.2f}"


def fill_alto(path: str | Path, lines: dict[str, LineText], out: str | Path, dpi: float | None = None,
              tree=None) -> int:
    """Write ``path`` to ``out`` with each line's ``String``/``SP``/``HYP`` children replaced by ``lines[ID]``.

    One ``String`` per word (``CONTENT``, ``WC``, and ``HPOS``/``VPOS``/``WIDTH``/
    ``HEIGHT`` in the file's unit, from the word's alignment and the line's
    box), ``SP`` between words; the line's ``Shape`` and every other element
    and attribute stay as they were. Written atomically.

    Args:
        tree: the document already parsed (:func:`parse_xml`), which is then changed; None: read ``path``.

    Returns:
        How many lines were filled in.
    """
    from lxml import etree

    path = Path(path)
    tree = parse_xml(path) if tree is None else tree
    root = tree.getroot()
    name = _image_name(root)
    scale = _unit_scale(root, path, find_image(path, name) if name else None, dpi)
    filled = 0
    for line, result, tag, indent, closing in lines_to_fill(tree, lines, "ID"):
        for c in list(line):
            if local(c) in ("String", "SP", "HYP"):
                line.remove(c)
        vpos, height = line.get("VPOS"), line.get("HEIGHT")
        words = list(result.words) or [(result.text, result.conf, None, None)]
        new = []
        for n, (text, conf, left, right) in enumerate(words):
            if n:
                new.append(etree.Element(f"{tag}SP"))
            attrs = {"CONTENT": text, "WC": confidence_text(conf)}
            if left is not None and right is not None:
                attrs["HPOS"] = _format(left / scale)
                attrs["WIDTH"] = _format(max(right - left, 0) / scale)
                if vpos is not None and height is not None:
                    attrs["VPOS"], attrs["HEIGHT"] = vpos, height
            new.append(etree.Element(f"{tag}String", attrs))
        position = next((n + 1 for n, c in enumerate(line) if local(c) == "Shape"), 0)
        for k, element in enumerate(new):
            element.tail = indent
            line.insert(position + k, element)
        if len(line):
            line[-1].tail = closing if closing is not None else line[-1].tail
        filled += 1
    write_document(tree, out)
    return filled
