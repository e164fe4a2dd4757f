"""IAM Handwriting Database, line level (Marti and Bunke 2002).

Layout (``../shared/reference/iam.md``)::

    ROOT/lines/a01/a01-000u/a01-000u-00.png
    ROOT/ascii/lines.txt     # id status graylevel n_comp x y w h word|word|...
    split lists              # one line id per row (trainset.txt, ...)

``|`` separates words and becomes a space; ``ok`` and ``err`` lines are both
kept (the status is about word segmentation, not the transcription); ``#``
lines are comments.

Scoring: IAM's transcriptions tokenise punctuation and clitics as words of
their own (``tomorrow|.``, ``It|'s``), so two word error rates are reported:

* ``wer``: IAM's tokens as lines.txt writes them, each punctuation mark and
  clitic counted as a word (``It 's late .`` is four words);
* ``wer_joined``: punctuation and clitics re-attached to their word first
  (``It's late.`` is two words), as a reader splits the line
  (:func:`seqlab.metrics.join_tokens`).

Published IAM WERs differ in this choice (and in case and punctuation
handling), so say which one a comparison uses.

``cer`` counts characters, the word separator (a space) included.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from seqlab.data.augment import LineAugmentation
from seqlab.data.image_cache import ImageCache
from seqlab.data.images import LineImageTransform, image_size
from seqlab.data.module import CTCDataModule, Record, warn_skipped
from seqlab.errors import ConfigError, DataFormatError, UnreadableFileError
from seqlab.text.files import read_text, without_bom

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
STATUSES = ("ok", "err")


@dataclass(frozen=True)
class IAMLine:
    """One row of ``ascii/lines.txt``; ``text`` has ``|`` turned into spaces."""

    id: str
    status: str
    graylevel: int
    bbox: tuple[int, int, int, int]
    text: str
    where: str  # "lines.txt:LINE"

    @property
    def form(self) -> str:
        return self.id.rsplit("-", 1)[0]

    @property
    def writer_folder(self) -> str:
        return self.id[:3]


def parse_lines_row(row: str, where: str) -> IAMLine:
    """Parse one data row of ``lines.txt``.

    Raises:
        DataFormatError: ``lines.txt:12: expected 9 fields, got 7`` and the like.
    """
    fields = row.split()
    if len(fields) < 9:
        raise DataFormatError(
            f"{where}: expected 9 fields (id status graylevel n_components x y w h "
            f"transcription), got {len(fields)}"
        )
    line_id, status = fields[0], fields[1]
    if status not in STATUSES:
        raise DataFormatError(f"{where}: status must be 'ok' or 'err', got {status!r}")
    if line_id.count("-") < 2:
        raise DataFormatError(f"{where}: line id {line_id!r} is not of the form a01-000u-00")
    try:
        graylevel, _, x, y, w, h = (int(v) for v in fields[2:8])
    except ValueError:
        raise DataFormatError(f"{where}: fields 3 to 8 must be integers, got {fields[2:8]}") from None
    # Real transcriptions never hold spaces; should one, keep its words.
    text = " ".join(fields[8:]).replace("|", " ")
    return IAMLine(line_id, status, graylevel, (x, y, w, h), text, where)


def read_lines_txt(path: str | Path) -> tuple[dict[str, IAMLine], list[str]]:
    """All well-formed rows of ``lines.txt``, and one message per malformed row.

    Raises:
        ConfigError: when the file itself is missing.
    """
    path = Path(path)
    try:
        raw = without_bom(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found; data.root must hold ascii/lines.txt") from None
    lines: dict[str, IAMLine] = {}
    problems: list[str] = []
    for n, bline in enumerate(raw.splitlines(), start=1):
        where = f"{path}:{n}"
        try:
            row = bline.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})")
            continue
        if not row.strip() or row.lstrip().startswith("#"):
            continue
        try:
            line = parse_lines_row(row, where)
        except DataFormatError as e:
            problems.append(str(e))
            continue
        if line.id in lines:
            problems.append(f"{where}: duplicate line id {line.id} (first at {lines[line.id].where})")
            continue
        lines[line.id] = line
    return lines, problems


def read_id_list(path: str | Path) -> list[str]:
    """Line ids of a split list file (one per row; blank and ``#`` rows ignored)."""
    path = Path(path)
    try:
        text = read_text(path, errors="replace")
    except FileNotFoundError:
        raise ConfigError(f"{path}: split list not found; set data.train_list / data.val_list / data.test_list") from None
    return [r.split()[0] for r in text.splitlines() if r.strip() and not r.lstrip().startswith("#")]


def find_line_image(root: Path, line: IAMLine) -> Path | None:
    folder = root / "lines" / line.writer_folder / line.form
    for suffix in IMAGE_SUFFIXES:
        p = folder / f"{line.id}{suffix}"
        if p.exists():
            return p
    return None


class ImageLoader:
    """Picklable record -> (1, H, W) tensor loader for DataLoader workers.

    Args:
        cache: the deterministic preprocessing, and where its output is kept.
        graylevels: line id -> binarisation threshold (lines.txt's ``graylevel``).
        augmentation: random distortions after the preprocessing (training only).
    """

    def __init__(self, cache: ImageCache, graylevels: dict[str, int] | None = None,
                 augmentation: LineAugmentation | None = None):
        self.cache = cache
        self.transform = cache.transform
        self.graylevels = graylevels or {}
        self.augmentation = augmentation

    def __call__(self, record: Record) -> torch.Tensor:
        img = self.cache.prepared(record.source, self.graylevels.get(record.id))
        if self.augmentation is not None:
            img = self.augmentation(img, invert=self.transform.invert)
        return self.transform.to_tensor(img)


class IAMDataModule(CTCDataModule):
    """IAM text lines for CTC training and evaluation.

    Args:
        root: folder holding ``lines/`` and ``ascii/lines.txt``.
        train_list, val_list, test_list: split list files (one line id per
            row); relative paths are taken from ``root``.
        height: line images are resized to this height, aspect ratio kept.
        max_width: squeeze wider lines to this width (0: no limit).
        binarise: threshold each line at its ``graylevel`` from lines.txt
            (pixels darker than it are ink) before resizing.
        deslant: shear each line so its strokes are vertical, after resizing.
        augmentation: random distortions of the training lines (None: none);
            validation and test lines are never distorted.
        cache_dir: keep the prepared (decoded, binarised, resized, deslanted)
            images in ``cache_dir/images/`` after their first read
            (:mod:`seqlab.data.image_cache`); None: prepare them every epoch.
        **kwargs: batching and alphabet options of :class:`CTCDataModule`.

    Metrics: ``cer``, ``wer`` (IAM's tokens) and ``wer_joined`` (punctuation
    re-attached); see the module docstring.
    """

    metrics = ("cer", "wer", "wer_joined")
    unit = "char"

    def __init__(
        self,
        root: str,
        train_list: str = "trainset.txt",
        val_list: str = "validationset1.txt",
        test_list: str = "testset.txt",
        height: int = 48,
        max_width: int = 0,
        binarise: bool = False,
        deslant: bool = False,
        augmentation: LineAugmentation | None = None,
        cache_dir: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.root = Path(root)
        self.lists = {"train": train_list, "val": val_list, "test": test_list}
        self.transform = LineImageTransform(height=height, max_width=max_width, binarise=binarise, deslant=deslant)
        self.image_cache = ImageCache(self.transform, cache_dir)
        self.augmentation = augmentation
        self._lines: dict[str, IAMLine] | None = None
        self._plain_loader: ImageLoader | None = None

    @property
    def feature_size(self) -> int:
        return self.transform.height

    def recipe(self) -> dict:
        return {"kind": "image", "image": self.transform.to_dict(), "metrics": list(self.metrics)}

    def graylevels(self) -> dict[str, int]:
        """Line id -> lines.txt's ``graylevel``: what a binarising loader needs (empty otherwise)."""
        if not self.transform.binarise:
            return {}
        return {line_id: line.graylevel for line_id, line in self._all_lines().items()}

    def image_loader(self, augment: bool = False) -> ImageLoader:
        """The picklable loader of the records' images; ``augment``: with the training distortions."""
        if self._plain_loader is None:
            self._plain_loader = ImageLoader(self.image_cache, self.graylevels())
        if augment and self.augmentation is not None:
            return ImageLoader(self.image_cache, self._plain_loader.graylevels, self.augmentation)
        return self._plain_loader

    def load(self, record: Record) -> torch.Tensor:
        """A record's (1, H, W) image, never distorted."""
        return self.image_loader()(record)

    def setup(self, stage: str | None = None) -> None:
        super().setup(stage)
        # small loaders for the workers to unpickle (not the whole module); only training is distorted
        for split, dataset in self.datasets.items():
            dataset.load = self.image_loader(augment=split == "train")

    def _all_lines(self) -> dict[str, IAMLine]:
        if self._lines is None:
            path = self.root / "ascii" / "lines.txt"
            self._lines, problems = read_lines_txt(path)
            warn_skipped(f"{path}", problems)
        return self._lines

    def _list_path(self, split: str) -> Path:
        p = Path(self.lists[split])
        return p if p.is_absolute() else self.root / p

    def read_split(self, split: str) -> list[Record]:
        lines = self._all_lines()
        list_path = self._list_path(split)
        records: list[Record] = []
        problems: list[str] = []
        for line_id in read_id_list(list_path):
            line = lines.get(line_id)
            if line is None:
                problems.append(f"{list_path}: {line_id} is not in ascii/lines.txt (or its row is malformed)")
                continue
            path = find_line_image(self.root, line)
            if path is None:
                problems.append(f"{line.where}: no image lines/{line.writer_folder}/{line.form}/{line.id}.png")
                continue
            try:
                w, h = image_size(path)
            except UnreadableFileError as e:
                problems.append(str(e))
                continue
            records.append(
                Record(line.id, str(path), line.text, self.transform.width_for(w, h), line.where, line.form)
            )
        warn_skipped(f"IAM {split} split ({list_path})", problems)
        return records
