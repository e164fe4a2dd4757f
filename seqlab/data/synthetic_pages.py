"""Synthetic pages in the formats users hold: PAGE-XML (as Transkribus exports it), ALTO v4, line folders.

Each page is a grey image of ``lines_per_page`` rendered handwriting lines
(:func:`~seqlab.data.synthetic_handwriting.render_line`, the styles of the
synthetic IAM corpus) stacked with gaps, on white paper, each line's outline a
polygon that follows its left and right ends with a little jitter, and its
baseline. Written as:

* ``page``: ``NAME.png`` and ``page/NAME.xml`` (PAGE 2013, Transkribus'
  layout: the XML in ``page/`` beside the image), one ``TextRegion`` per
  page, ``ReadingOrder``, ``custom="readingOrder {index:N;}"`` on every line;
* ``alto``: ``NAME.png`` and ``NAME.xml`` (ALTO v4, pixel units,
  ``Shape/Polygon``, one ``String`` per word with ``SP`` between);
* ``lines``: ``NAME/LL.png`` and ``NAME/LL.gt.txt`` (one folder per page).

No split lists are written: the readers' seeded split by page applies. The
texts are distinct across the whole corpus; the output is identical for the
same options.

Another style, for fine-tuning experiments: ``fonts=("Kristi.ttf",)`` renders
with one of the packaged fonts only (or any font file given by its path), and
``diacritics=P`` gives each vowel the chance P of an accent (ä é ö ü and
their capitals), symbols the synthetic IAM corpus never has.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from seqlab.data.corpus_folder import build_atomically, is_complete
from seqlab.errors import ConfigError

FORMATS = ("page", "alto", "lines")
PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15"
ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
MARGIN = 40
PAPER = 250
GENERATOR_VERSION = 1
ACCENTS = {"a": "ä", "e": "é", "o": "ö", "u": "ü", "A": "Ä", "E": "É", "O": "Ö", "U": "Ü"}


def _page_layout(images: list[np.ndarray], rng: np.random.Generator, height: int):
    """Place line images under each other: (page array, [(polygon, baseline, box)] per line)."""
    gap = int(height * 0.6)
    width = max(img.shape[1] for img in images) + 2 * MARGIN
    total = 2 * MARGIN + len(images) * height + (len(images) - 1) * gap
    page = np.full((total, width), PAPER, dtype=np.uint8)
    places = []
    y = MARGIN
    for img in images:
        h, w = img.shape
        x = MARGIN + int(rng.integers(0, max(1, width - 2 * MARGIN - w + 1)))
        page[y:y + h, x:x + w] = np.minimum(page[y:y + h, x:x + w], img)
        j = lambda: int(rng.integers(0, 3))  # noqa: E731 (outline jitter, pixels)
        top, bottom = y - 1 - j(), y + h + j()
        middle = (x + w // 2)
        polygon = ((x - 2 - j(), top), (middle, y - 1 - j()), (x + w + 1 + j(), top),
                   (x + w + 1 + j(), bottom), (middle, y + h + j()), (x - 2 - j(), bottom))
        base_y = y + int(h * 0.72)
        places.append((polygon, ((x, base_y), (x + w, base_y)), (x, y, w, h)))
        y += h + gap
    return page, places


def _points(points) -> str:
    return " ".join(f"{int(x)},{int(y)}" for x, y in points)


def _write_page_xml(path: Path, image_name: str, size: tuple[int, int], places, texts) -> None:
    from lxml import etree

    E = lambda tag, **a: etree.Element(f"{{{PAGE_NS}}}{tag}", {k: str(v) for k, v in a.items()})  # noqa: E731
    root = etree.Element(f"{{{PAGE_NS}}}PcGts", nsmap={None: PAGE_NS})
    meta = etree.SubElement(root, f"{{{PAGE_NS}}}Metadata")
    for tag, text in (("Creator", "seqlab make-synthetic pages"), ("Created", "2026-01-01T00:00:00"),
                      ("LastChange", "2026-01-01T00:00:00")):
        etree.SubElement(meta, f"{{{PAGE_NS}}}{tag}").text = text
    page = E("Page", imageFilename=image_name, imageWidth=size[0], imageHeight=size[1])
    root.append(page)
    order = etree.SubElement(page, f"{{{PAGE_NS}}}ReadingOrder")
    group = etree.SubElement(order, f"{{{PAGE_NS}}}OrderedGroup", id="ro1", caption="Regions reading order")
    etree.SubElement(group, f"{{{PAGE_NS}}}RegionRefIndexed", index="0", regionRef="r1")
    region = E("TextRegion", id="r1", custom="readingOrder {index:0;}")
    page.append(region)
    xs = [p[0] for pl in places for p in pl[0]]
    ys = [p[1] for pl in places for p in pl[0]]
    etree.SubElement(region, f"{{{PAGE_NS}}}Coords",
                     points=_points(((min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys)))))
    for n, ((polygon, baseline, _), text) in enumerate(zip(places, texts)):
        line = E("TextLine", id=f"l{n + 1}", custom=f"readingOrder {{index:{n};}}")
        region.append(line)
        etree.SubElement(line, f"{{{PAGE_NS}}}Coords", points=_points(polygon))
        etree.SubElement(line, f"{{{PAGE_NS}}}Baseline", points=_points(baseline))
        te = etree.SubElement(line, f"{{{PAGE_NS}}}TextEquiv")
        etree.SubElement(te, f"{{{PAGE_NS}}}Unicode").text = text
    etree.indent(root, space="  ")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def _write_alto(path: Path, image_name: str, size: tuple[int, int], places, texts, page_id: str) -> None:
    from lxml import etree

    def E(parent, tag, **a):
        return etree.SubElement(parent, f"{{{ALTO_NS}}}{tag}", {k: str(v) for k, v in a.items()})

    root = etree.Element(f"{{{ALTO_NS}}}alto", nsmap={None: ALTO_NS})
    description = E(root, "Description")
    E(description, "MeasurementUnit").text = "pixel"
    info = E(description, "sourceImageInformation")
    E(info, "fileName").text = image_name
    layout = E(root, "Layout")
    page = E(layout, "Page", ID=page_id, PHYSICAL_IMG_NR=1, WIDTH=size[0], HEIGHT=size[1])
    space = E(page, "PrintSpace", HPOS=0, VPOS=0, WIDTH=size[0], HEIGHT=size[1])
    block = E(space, "TextBlock", ID="b1", HPOS=0, VPOS=0, WIDTH=size[0], HEIGHT=size[1])
    for n, ((polygon, baseline, (x, y, w, h)), text) in enumerate(zip(places, texts)):
        line = E(block, "TextLine", ID=f"l{n + 1}", HPOS=x, VPOS=y, WIDTH=w, HEIGHT=h,
                 BASELINE=_points(baseline))
        shape = E(line, "Shape")
        E(shape, "Polygon", POINTS=_points(polygon))
        for k, word in enumerate(text.split(" ")):
            if k:
                E(line, "SP")
            E(line, "String", CONTENT=word)
    etree.indent(root, space="  ")
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def with_diacritics(text: str, p: float, rng: np.random.Generator) -> str:
    """``text`` with each vowel of :data:`ACCENTS` accented with probability ``p``."""
    return "".join(ACCENTS[c] if c in ACCENTS and rng.random() < p else c for c in text)


def generate_page_corpus(out_dir: str | Path, format: str = "page", num_pages: int = 30, lines_per_page: int = 8,
                         height: int = 48, seed: int = 0, min_chars: int = 15, max_chars: int = 45,
                         fonts: Sequence[str] | None = None, diacritics: float = 0.0) -> Path:
    """Write a synthetic corpus of ``num_pages`` pages in ``format`` to ``out_dir`` (atomically).

    Args:
        fonts: font files to render with (a bare name is one of the packaged fonts
            in ``seqlab/data/fonts/``); None: all of them, as the synthetic IAM corpus.
        diacritics: chance of an accent on each vowel (:func:`with_diacritics`).

    An existing complete corpus made with the same options is kept as it is.

    Raises:
        ConfigError: for an unknown format or sizes below one, or when
            ``out_dir`` holds something else.
    """
    from seqlab.data.synthetic_handwriting import FONT_DIR, _distinct_lines, font_fingerprint, render_line, resolve_fonts

    if format not in FORMATS:
        raise ConfigError(f"--format must be one of {FORMATS}, got {format!r}")
    if num_pages < 1 or lines_per_page < 1 or height < 8:
        raise ConfigError("--num-pages and --lines-per-page must be at least 1, --height at least 8")
    if not 0.0 <= diacritics <= 1.0:
        raise ConfigError(f"--diacritics is a probability in [0, 1], got {diacritics}")
    out_dir = Path(out_dir)
    params = {"kind": "pages", "version": GENERATOR_VERSION, "format": format, "num_pages": num_pages,
              "lines_per_page": lines_per_page, "height": height, "seed": seed, "min_chars": min_chars,
              "max_chars": max_chars}
    if fonts is not None:  # only when given: corpora made before these options keep their identity
        fonts = tuple(str(FONT_DIR / f) if Path(f).name == f else str(f) for f in fonts)
        params["fonts"] = font_fingerprint(resolve_fonts(fonts))
    if diacritics:
        params["diacritics"] = diacritics
    if is_complete(out_dir, params):
        return out_dir
    texts = _distinct_lines(num_pages * lines_per_page, seed, min_chars, max_chars)
    if diacritics:
        rng = np.random.default_rng([seed, 7])
        texts = [with_diacritics(t, diacritics, rng) for t in texts]
    fonts = tuple(resolve_fonts(None)) if fonts is None else tuple(fonts)

    def build(tmp: Path) -> dict:
        for p in range(num_pages):
            name = f"page{p + 1:04d}"
            page_texts = texts[p * lines_per_page:(p + 1) * lines_per_page]
            images = [render_line(t, height=height, rng=np.random.default_rng([seed, p, k]), fonts=fonts)[0]
                      for k, t in enumerate(page_texts)]
            if format == "lines":
                folder = tmp / name
                folder.mkdir()
                for k, (img, text) in enumerate(zip(images, page_texts)):
                    Image.fromarray(img, mode="L").save(folder / f"{k + 1:02d}.png")
                    (folder / f"{k + 1:02d}.gt.txt").write_text(text + "\n", encoding="utf-8")
                continue
            page, places = _page_layout(images, np.random.default_rng([seed, p, 10**6]), height)
            Image.fromarray(page, mode="L").save(tmp / f"{name}.png")
            size = (page.shape[1], page.shape[0])
            if format == "page":
                _write_page_xml(tmp / "page" / f"{name}.xml", f"{name}.png", size, places, page_texts)
            else:
                _write_alto(tmp / f"{name}.xml", f"{name}.png", size, places, page_texts, name)
        return {"lines": len(texts)}

    build_atomically(out_dir, params, build)
    return out_dir
