"""What a corpus reader lists: one :class:`Record` per line or utterance.

A record says where an input is (a file; a region of a page image; a stretch
of an audio file), its reference text, its writer or speaker and, when the
reader knows it, its split. Turning it into a tensor is a frontend's job
(:mod:`seqlab.data.frontends`).
"""

from __future__ import annotations

from dataclasses import dataclass

Point = tuple[float, float]


@dataclass(frozen=True)
class Region:
    """A text line on a page image, in the page image's pixels.

    Attributes:
        polygon: the line's outline, (x, y) points, at least three.
        baseline: the baseline's points, left to right as written (may be empty).
    """

    polygon: tuple[Point, ...]
    baseline: tuple[Point, ...] = ()

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in whole pixels, right and bottom exclusive."""
        xs = [p[0] for p in self.polygon]
        ys = [p[1] for p in self.polygon]
        return int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1


@dataclass(frozen=True)
class Record:
    """One line or utterance before loading.

    Attributes:
        id: corpus id of the item (unique within the corpus).
        source: the file holding its input: a line image, a page image
            (with ``region``) or an audio file (with ``offset``/``duration``).
        text: the reference transcription, in the alphabet's units.
        where: where the transcription came from (``lines.txt:12``,
            ``page.xml: TextLine l3``), for messages.
        group: writer, page or speaker, for reports and page-wise splits.
        split: ``train``, ``val`` or ``test`` when the reader assigns it.
        region: where the line lies on the page image ``source``; None: the whole image.
        offset: seconds into the audio file where the utterance starts.
        duration: its length in seconds; None: to the end of the file.
        graylevel: a binarisation threshold the corpus gives (IAM's lines.txt).
        length: the input length (resized width, or frames) for bucketing;
            the data module fills it in from the frontend.
    """

    id: str
    source: str
    text: str
    where: str = ""
    group: str = ""
    split: str = ""
    region: Region | None = None
    offset: float = 0.0
    duration: float | None = None
    graylevel: int | None = None
    length: int = 0
