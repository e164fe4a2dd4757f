"""PAGE-XML (PRImA "PAGE content", 2010, 2013, 2017 and 2019 namespaces), as Transkribus, eScriptorium and OCR-D write it.

Layout: any folder of ``.xml`` files, each naming its page image in
``Page@imageFilename`` (beside the XML, or in its parent folder, as Transkribus
exports ``NAME.jpg`` + ``page/NAME.xml``). Every ``TextLine`` under a
``TextRegion`` (nested regions and ``TableRegion > TableCell`` included) is a
line, its ``Coords`` (``points="x,y ..."``, or PAGE 2010's ``Point`` elements)
the polygon it is cut out by, its ``Baseline`` kept. Its text is the line's own
``TextEquiv/Unicode`` of the lowest ``index`` (or the one with none); a line
without one but with transcribed ``Word`` children takes their words. Lines
come in reading order: ``ReadingOrder`` (nested ``OrderedGroup`` /
``UnorderedGroup``), else Transkribus' ``custom="readingOrder {index:N;}"``,
else document order.

:func:`fill_page` writes recognised text back into the same document.
"""

from __future__ import annotations

import re
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
    "2010": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2010-03-19",
    "2013": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15",
    "2017": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2017-07-15",
    "2019": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15",
}
REGIONS = ("TextRegion", "TableRegion", "TableCell")
_CUSTOM_ORDER = re.compile(r"readingOrder\s*\{[^}]*index\s*:\s*(\d+)")
# TextLine's children after TextEquiv in the schema: a new TextEquiv goes before them
_AFTER_TEXT_EQUIV = ("TextStyle", "UserDefined", "Labels", "Roles")


def parse_page(path: str | Path, tree=None) -> Document:
    """The lines of one PAGE-XML file, in reading order (``tree``: the file already parsed).

    Raises:
        DataFormatError: naming the file, when it is not PAGE-XML (no ``PcGts``
            root or no ``Page``) or a point list is malformed beyond skipping.
        UnreadableFileError: when the file cannot be read.
    """
    path = Path(path)
    root = (parse_xml(path) if tree is None else tree).getroot()
    if local(root) != "PcGts":
        raise DataFormatError(f"{path}: the root element is <{local(root)}>, not PAGE-XML's <PcGts>")
    page = child(root, "Page")
    if page is None:
        raise DataFormatError(f"{path}: <PcGts> has no <Page> element")
    name = page.get("imageFilename", "")
    doc = Document(path, find_image(path, name))
    if doc.image is None:
        doc.problems.append(f"{path}: the page image {name!r} is missing (looked beside the XML and in its "
                            "parent folder)" if name else f"{path}: <Page> names no imageFilename")
    order = _reading_order(page)
    seen: set[str] = set()
    keyed = []
    positions = {element: n for n, element in enumerate(page.iter())}
    for position, line in enumerate(descendants(page, "TextLine")):
        line_id = line.get("id") or f"line{position + 1}"
        where = f"{path}: TextLine {line_id}"
        if line_id in seen:
            doc.problems.append(f"{where}: duplicate line id (the first is kept)")
            continue
        seen.add(line_id)
        try:
            region = line_region(_coords(line, "Coords", where), _coords(line, "Baseline", where), where)
        except DataFormatError as e:
            doc.problems.append(str(e))
            continue
        keyed.append((_order_key(line, order, positions), PageLine(line_id, region, _line_text(line), where)))
    doc.lines = [line for _, line in sorted(keyed, key=lambda kv: kv[0])]
    return doc


def _coords(line, name: str, where: str) -> tuple:
    element = child(line, name)
    if element is None:
        if name == "Coords":
            raise DataFormatError(f"{where}: has no Coords (the line polygon)")
        return ()
    points = element.get("points")
    if points is not None:
        return parse_points(points, f"{where} {name}")
    out = []  # PAGE 2010: <Coords><Point x= y=/>...</Coords>
    for p in children(element, "Point"):
        try:
            out.append((float(p.get("x", "")), float(p.get("y", ""))))
        except ValueError:
            raise DataFormatError(f"{where} {name}: a Point has x={p.get('x')!r} y={p.get('y')!r}, "
                                  "not numbers") from None
    return tuple(out)


def _text_equiv(element) -> str | None:
    """The Unicode of the element's primary TextEquiv (lowest index, or none given)."""
    best, best_key = None, None
    for n, te in enumerate(children(element, "TextEquiv")):
        try:
            index = int(te.get("index", "0"))
        except ValueError:
            index = 0
        key = (index, n)
        if best_key is None or key < best_key:
            best, best_key = te, key
    if best is None:
        return None
    unicode = child(best, "Unicode")
    text = unicode.text if unicode is not None else None
    if not text:
        plain = child(best, "PlainText")
        text = plain.text if plain is not None else None
    return text if text and text.strip() else None


def _line_text(line) -> str | None:
    text = _text_equiv(line)
    if text is None:
        words = [w for w in (_text_equiv(word) for word in children(line, "Word")) if w]
        text = " ".join(w.strip() for w in words) if words else None
    if text is None:
        return None
    return " ".join(text.replace("\r\n", "\n").split("\n")).strip() or None


def _reading_order(page) -> dict[str, int]:
    """Region id -> rank, from ``ReadingOrder`` (groups walked depth first, children by ``index``)."""
    ro = child(page, "ReadingOrder")
    ranks: dict[str, int] = {}
    if ro is None:
        return ranks

    def walk(group) -> None:
        items = []
        for n, c in enumerate(group):
            name = local(c)
            if not name:
                continue
            try:
                index = int(c.get("index", n))
            except ValueError:
                index = n
            items.append((index, n, c))
        for _, _, c in sorted(items, key=lambda t: (t[0], t[1])):
            ref = c.get("regionRef")
            if ref is not None and ref not in ranks:
                ranks[ref] = len(ranks)
            if len(c):  # a nested OrderedGroup(Indexed) / UnorderedGroup(Indexed)
                walk(c)

    walk(ro)
    return ranks


def _custom_index(element) -> int | None:
    m = _CUSTOM_ORDER.search(element.get("custom", ""))
    return int(m.group(1)) if m else None


def _order_key(line, order: dict[str, int], positions: dict) -> tuple:
    """Sort key of a line: its regions' ranks, outermost first, then its own.

    A rank is the ``ReadingOrder`` index, else the ``custom`` readingOrder
    index, else the element's position in the document.
    """
    key = []
    for element in [*reversed([a for a in line.iterancestors() if local(a) in REGIONS]), line]:
        eid = element.get("id")
        custom = _custom_index(element)
        if element is not line and eid in order:
            key.append((0, order[eid], 0))
        elif custom is not None:
            key.append((1, custom, positions[element]))
        else:
            key.append((2, positions[element], 0))
    return tuple(key)


class PageXMLReader(DocumentReader):
    """Every transcribed ``TextLine`` of the PAGE-XML files under ``root``, cut out of its page image by its polygon.

    Args: those of :class:`~seqlab.data.readers.documents.DocumentReader`;
    ``glob`` defaults to ``**/*.xml``. Other XML files in the folder (an OCR-D
    ``mets.xml``, ALTO files) are skipped and counted.

    Left out, each counted and named in one warning: files that are not
    PAGE-XML or not well-formed, pages whose image is missing, lines without
    text, lines whose polygon has fewer than three points or no area,
    duplicate line ids.
    """

    default_glob = "**/*.xml"
    format_name = "PAGE-XML"

    def pages(self, problems: list[str]) -> list[Page]:
        return self.xml_pages(parse_page, problems, untranscribed="no text")


def fill_page(path: str | Path, lines: dict[str, LineText], out: str | Path, tree=None) -> int:
    """Write ``path`` to ``out`` with each line's ``TextEquiv`` set to ``lines[id]``.

    The line's ``TextEquiv`` elements are replaced by one ``TextEquiv conf=...``
    holding ``Unicode``, placed where the schema wants it (after ``Word``
    children, before ``TextStyle``/``UserDefined``/``Labels``); every other
    element, attribute, comment and namespace is written back as it was. The
    file is written atomically.

    Args:
        tree: the document already parsed (:func:`parse_xml`), which is then changed; None: read ``path``.

    Returns:
        How many lines were filled in.
    """
    from lxml import etree

    tree = parse_xml(path) if tree is None else tree
    filled = 0
    for line, result, tag, indent, closing in lines_to_fill(tree, lines, "id"):
        for te in children(line, "TextEquiv"):
            line.remove(te)
        te = etree.Element(f"{tag}TextEquiv", conf=confidence_text(result.conf))
        etree.SubElement(te, f"{tag}Unicode").text = result.text
        position = next((n for n, c in enumerate(line) if local(c) in _AFTER_TEXT_EQUIV), len(line))
        if position and position == len(line):
            line[-1].tail = indent
        te.tail = indent
        line.insert(position, te)
        line[-1].tail = closing
        filled += 1
    write_document(tree, out)
    return filled
