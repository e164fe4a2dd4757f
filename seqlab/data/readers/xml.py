"""XML of page formats, read safely, and what PAGE-XML and ALTO readers share.

Pages come from strangers: the parser resolves no entities, loads no DTD,
touches no network and refuses huge trees, so a document can neither read
local files (XXE) nor expand itself to gigabytes ("billion laughs"). Elements
are matched by local name, since every PAGE and ALTO version has its own
namespace (and some files have none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from seqlab.data.records import Point, Region
from seqlab.errors import DataFormatError, UnreadableFileError

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def xml_parser():
    """The one lxml parser seqlab reads documents with (hardened; comments and whitespace kept)."""
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_blank_text=False, remove_comments=False)


def parse_xml(path: str | Path):
    """The element tree of ``path``.

    Raises:
        UnreadableFileError: when the file cannot be read.
        DataFormatError: naming the file (and the line), when it is not well-formed XML.
    """
    from lxml import etree

    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise UnreadableFileError(f"{path}: cannot be read ({e.strerror or e})") from None
    try:
        root = etree.fromstring(data, parser=xml_parser())
    except etree.XMLSyntaxError as e:
        raise DataFormatError(f"{path}: not well-formed XML ({e})") from None
    except ValueError as e:  # lxml refuses some inputs (e.g. unicode with an encoding declaration)
        raise DataFormatError(f"{path}: not readable as XML ({e})") from None
    if root is None:
        raise DataFormatError(f"{path}: empty XML document")
    return root.getroottree()


def local(element) -> str:
    """The element's name without its namespace (``""`` for comments and processing instructions)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def children(element, name: str) -> list:
    """Direct children called ``name`` (any namespace)."""
    return [c for c in element if local(c) == name]


def child(element, name: str):
    """The first direct child called ``name``, or None."""
    for c in element:
        if local(c) == name:
            return c
    return None


def descendants(element, name: str) -> list:
    """Every element called ``name`` below ``element``, in document order."""
    return [e for e in element.iter() if local(e) == name]


def parse_points(text: str, where: str) -> tuple[Point, ...]:
    """``"x,y x,y ..."`` or ``"x y x y ..."`` -> ((x, y), ...).

    Raises:
        DataFormatError: naming ``where``, when the numbers do not make pairs
            or are not numbers.
    """
    values = text.replace(",", " ").split()
    numbers = []
    for v in values:
        if not _NUMBER.fullmatch(v):
            raise DataFormatError(f"{where}: {v!r} in the point list {_short(text)!r} is not a number")
        numbers.append(float(v))
    if len(numbers) % 2:
        raise DataFormatError(f"{where}: the point list {_short(text)!r} has an odd count of numbers")
    return tuple(zip(numbers[0::2], numbers[1::2]))


def polygon_area(points: tuple[Point, ...]) -> float:
    """Absolute area of a polygon (shoelace formula)."""
    s = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]):
        s += x0 * y1 - x1 * y0
    return abs(s) / 2


def line_region(polygon: tuple[Point, ...], baseline: tuple[Point, ...], where: str) -> Region:
    """A :class:`Region`, after checking the polygon is a real outline.

    Raises:
        DataFormatError: naming ``where``, for a polygon with fewer than three
            distinct points or no area.
    """
    distinct = set(polygon)
    if len(distinct) < 3:
        raise DataFormatError(f"{where}: the line polygon has {len(distinct)} distinct point(s); "
                              "a line needs at least three")
    if polygon_area(polygon) < 1.0:
        raise DataFormatError(f"{where}: the line polygon has no area (its points lie on one line)")
    return Region(tuple(polygon), tuple(baseline))


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[:n] + "..."


@dataclass
class PageLine:
    """One text line of a document.

    Attributes:
        id: the line's id in the document (PAGE ``id``, ALTO ``ID``).
        region: its polygon and baseline in page-image pixels.
        text: its transcription (None: the line is not transcribed).
        where: ``FILE: TextLine ID``, for messages.
    """

    id: str
    region: Region
    text: str | None
    where: str


@dataclass
class Document:
    """A parsed page: its image, its lines in reading order, and what was wrong.

    Attributes:
        path: the XML file.
        image: the page image it names (resolved; None when missing).
        lines: the lines with a usable polygon, in reading order.
        problems: one message per line or element left out (bad polygon,
            duplicate id...), naming the file and element.
        untranscribed: ids of lines without text (usable for transcription,
            not for training).
    """

    path: Path
    image: Path | None
    lines: list[PageLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def untranscribed(self) -> list[str]:
        return [line.id for line in self.lines if not line.text]


def find_image(xml_path: Path, name: str) -> Path | None:
    """The page image a document names: beside the XML, in its parent folder
    (Transkribus keeps the XML in ``page/``), by the name as given or its base name."""
    name = name.strip()
    if name.startswith("file://"):
        name = name[len("file://"):]
    if not name:
        return None
    given = Path(name)
    candidates = [given] if given.is_absolute() else []
    for folder in (xml_path.parent, xml_path.parent.parent):
        if not given.is_absolute():
            candidates.append(folder / given)
        candidates.append(folder / given.name)
    for c in candidates:
        if c.is_file():
            return c
    return None


@dataclass(frozen=True)
class LineText:
    """A recognised line, to write into a document.

    Attributes:
        text: the line's text (logical order).
        conf: its confidence, 0..1.
        words: (text, confidence, left, right) per word, left/right in page-image pixels.
    """

    text: str
    conf: float
    words: tuple[tuple[str, float, float, float], ...] = ()


def lines_to_fill(tree, lines: dict[str, LineText], id_attribute: str):
    """Each ``TextLine`` of ``tree`` that ``lines`` holds a result for, as
    ``(element, result, tag, indent, closing)``: ``tag`` is the ``{namespace}``
    prefix for new children, ``indent`` the whitespace before its first child and
    ``closing`` the whitespace before ``</TextLine>`` (so that what a writer
    inserts is indented like the rest)."""
    for line in descendants(tree.getroot(), "TextLine"):
        result = lines.get(line.get(id_attribute))
        if result is None:
            continue
        namespace = line.tag[1:].split("}", 1)[0] if line.tag.startswith("{") else ""
        indent = line.text if line.text is not None and not line.text.strip() else None
        closing = line[-1].tail if len(line) else None
        yield line, result, f"{{{namespace}}}" if namespace else "", indent, closing


def confidence_text(value: float) -> str:
    """A 0..1 confidence as PAGE ``conf`` and ALTO ``WC`` write it (clipped, four decimals)."""
    return f"{min(max(value, 0.0), 1.0):.4f}"


def write_document(tree, out: str | Path) -> None:
    """Write ``tree`` to ``out`` atomically, with its own encoding and declaration."""
    from seqlab.atomic import write_atomic

    write_atomic(out, serialise(tree))


def serialise(tree) -> bytes:
    """The document as bytes, with its own encoding and declaration."""
    from lxml import etree

    info = tree.docinfo
    encoding = info.encoding or "UTF-8"
    return etree.tostring(tree, xml_declaration=True, encoding=encoding,
                          standalone=info.standalone if info.standalone is not None else None)
