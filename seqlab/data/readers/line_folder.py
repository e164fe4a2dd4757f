"""Line folders: ``NAME.png`` with ``NAME.gt.txt`` beside it (Kraken, Calamari, OCR-D ground truth, GT4HistOCR).

Each image (``.png``, ``.jpg``, ``.jpeg``, ``.tif``, ``.tiff``) is a line; its
transcription is the ``.gt.txt`` of the same name, UTF-8, one line (a trailing
newline is not part of the text). Ocropus-style names work too: ``0001.bin.png``
pairs with ``0001.bin.gt.txt`` or ``0001.gt.txt``; when a folder holds several
renderings of one line (``0001.bin.png`` and ``0001.nrm.png``), each is a line.

A line's page is its folder (relative to the root): the random split keeps a
folder's lines together. A corpus in fewer than three folders cannot be split
that way; its random split is by line, said in a warning.
"""

from __future__ import annotations

from pathlib import Path

from seqlab.data.readers.documents import DocumentReader, Page
from seqlab.data.records import Record
from seqlab.text.files import without_bom

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
GT_SUFFIX = ".gt.txt"


def ground_truth_for(image: Path) -> Path | None:
    """The ``.gt.txt`` of a line image: ``NAME.gt.txt`` for ``NAME.png``, or that of
    the name before the first dot (``0001.bin.png`` -> ``0001.gt.txt``)."""
    stem = image.name[: -len(image.suffix)]
    for name in (stem, stem.split(".", 1)[0]):
        candidate = image.with_name(name + GT_SUFFIX)
        if candidate.is_file():
            return candidate
    return None


def read_ground_truth(path: Path) -> tuple[str | None, str | None]:
    """(text, problem): the one line of a ``.gt.txt`` file, or why it is unusable."""
    try:
        data = without_bom(path.read_bytes())
    except OSError as e:
        return None, f"{path}: cannot be read ({e.strerror or e})"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, f"{path}: not UTF-8 text ({e.reason} at byte {e.start})"
    rows = [r for r in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while rows and not rows[-1].strip():
        rows.pop()
    if not rows or not "".join(rows).strip():
        return None, f"{path}: empty (untranscribed line)"
    if len(rows) > 1:
        return None, f"{path}: holds {len(rows)} lines of text; a line image has one"
    return rows[0].strip(), None


class LineFolderReader(DocumentReader):
    """Every line image under ``root`` that has a ``.gt.txt`` beside it.

    Args: those of :class:`~seqlab.data.readers.documents.DocumentReader`;
    ``glob`` (default ``**/*``) selects the images.

    Left out, each counted and named in one warning: images without a
    ``.gt.txt``, ``.gt.txt`` files without an image, empty, multi-line or
    non-UTF-8 transcriptions, unreadable images.
    """

    default_glob = "**/*"
    format_name = "line folder"

    def pages(self, problems: list[str]) -> list[Page]:
        from seqlab.data.images import image_size
        from seqlab.errors import SeqlabError

        pages: dict[str, Page] = {}
        used: set[Path] = set()
        files = self.files()
        for image in files:
            if not image.name.lower().endswith(IMAGE_SUFFIXES):
                continue
            gt = ground_truth_for(image)
            if gt is None:
                problems.append(f"{image}: no {image.name[: -len(image.suffix)]}{GT_SUFFIX} beside it")
                continue
            used.add(gt)
            text, problem = read_ground_truth(gt)
            if problem:
                problems.append(problem)
                continue
            try:
                image_size(image)
            except SeqlabError as e:
                problems.append(str(e))
                continue
            folder = image.parent.relative_to(self.root).as_posix()
            key = self.key(image)
            page = pages.setdefault(folder, Page(folder, image.parent))
            page.records.append(Record(key, str(image), text, where=str(gt), group=folder))
        for gt in files:
            if gt.name.endswith(GT_SUFFIX) and gt not in used:
                problems.append(f"{gt}: no line image of that name beside it")
        if len(pages) < 3 and all(v is None for v in self.lists.values()):
            # one flat folder (Calamari's usual layout) has no pages to split by
            import logging

            logging.getLogger("seqlab.data").warning(
                "%s: the lines lie in %d folder(s), too few to split by folder; the random split is by line. "
                "Put each page's or document's lines in a folder of their own, or give list files, to keep "
                "lines of one page out of two splits", self.root, len(pages))
            return [Page(r.id, Path(r.source), [r]) for page in pages.values() for r in page.records]
        return list(pages.values())
