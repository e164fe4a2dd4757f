"""Transcriptions back into the page: recognise every line of a PAGE-XML or ALTO file and fill in its text.

>>> from seqlab.pages import transcribe_document
>>> result = transcribe_document(recognizer, "page/0001.xml", "out/0001.xml")

The document is parsed by its reader (:mod:`seqlab.data.readers.page`,
:mod:`seqlab.data.readers.alto`), its image decoded once, each line cut out
by its polygon exactly as training cuts it
(:func:`~seqlab.data.images.crop_region`), the lines recognised in batches,
and the same document written with the text filled in: PAGE
``TextEquiv/Unicode`` with ``conf``; ALTO ``String CONTENT`` with ``WC`` and
``SP`` between words. Every other element and attribute is left as it was;
the file is written atomically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from seqlab.errors import ConfigError, DataFormatError, UnreadableFileError

DOCUMENT_SUFFIXES = (".xml",)


@dataclass
class DocumentResult:
    """What :func:`transcribe_document` did with one file."""

    source: str
    output: str
    format: str  # "page" or "alto"
    lines: int
    filled: int
    transcriptions: list = field(default_factory=list)  # (line id, Transcription)
    problems: list[str] = field(default_factory=list)


def document_format(tree, path: str | Path) -> str:
    """``page`` or ``alto``, from the root element's local name of the parsed document ``tree``.

    Raises:
        DataFormatError: naming the file, when it is neither.
    """
    from seqlab.data.readers.xml import local

    name = local(tree.getroot())
    if name == "PcGts":
        return "page"
    if name.lower() == "alto":
        return "alto"
    raise DataFormatError(f"{path}: the root element is <{name}>, neither PAGE-XML (<PcGts>) nor ALTO (<alto>)")


def transcribe_document(rec, path: str | Path, out: str | Path, dpi: float | None = None) -> DocumentResult:
    """Recognise every line of the PAGE-XML or ALTO file ``path``; write the filled document to ``out``.

    Args:
        rec: a :class:`~seqlab.recognizer.Recognizer` whose frontend reads line images.
        dpi: the image resolution, for ALTO files measured in ``mm10`` or ``inch1200``.

    Raises:
        DataFormatError, UnreadableFileError: naming the file, when the document
            or its image cannot be read (nothing is written then).
        ConfigError: when the model does not read images, or ``out`` is the input itself.
    """
    from seqlab.data.images import open_grey
    from seqlab.data.readers.alto import fill_alto, parse_alto
    from seqlab.data.readers.page import fill_page, parse_page
    from seqlab.data.readers.xml import LineText, parse_xml

    if rec.frontend.name != "image":
        raise ConfigError(f"{path}: PAGE-XML and ALTO pages are for handwriting models; this model reads "
                          f"{rec.frontend.noun}s")
    path, out = Path(path), Path(out)
    if out.resolve() == path.resolve():
        raise ConfigError(f"{out}: is the input page itself; write the filled pages to another folder")
    tree = parse_xml(path)  # parsed once: read for its lines, then filled in and written
    fmt = document_format(tree, path)
    doc = parse_page(path, tree) if fmt == "page" else parse_alto(path, dpi=dpi, tree=tree)
    if doc.image is None:
        raise DataFormatError(doc.problems[0])
    page = open_grey(doc.image)  # one decode for all its lines; errors name the image
    prepared, ids, problems = [], [], list(doc.problems)
    for line in doc.lines:
        try:
            prepared.append(rec.frontend.prepare(page, f"{path}:{line.id}", region=line.region))
            ids.append(line)
        except UnreadableFileError as e:
            problems.append(f"{path}: line {line.id}: {e}")
    results: dict[str, LineText] = {}
    transcriptions = []
    for line, t in zip(ids, rec.recognize(prepared) if prepared else []):
        left = max(0, line.region.bbox[0])  # the crop starts there (clipped to the page)
        words = [(w.text, w.score, left + w.start, left + w.end) for w in t.words if w.text.strip()]
        results[line.id] = LineText(text=t.text, conf=t.confidence, words=tuple(words))
        transcriptions.append((line.id, t))
    out.parent.mkdir(parents=True, exist_ok=True)
    filled = (fill_page(path, results, out, tree=tree) if fmt == "page"
              else fill_alto(path, results, out, dpi=dpi, tree=tree))
    return DocumentResult(str(path), str(out), fmt, len(doc.lines), filled, transcriptions, problems)
