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

from seqlab.data.readers.base import Reader, warn_skipped
from seqlab.data.records import Record
from seqlab.errors import ConfigError, DataFormatError
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


class IAMReader(Reader):
    """IAM text lines: ids, line images, transcriptions, forms (the writer's page) and graylevels.

    Args:
        root: folder holding ``lines/`` and ``ascii/lines.txt``.
        train_list, val_list, test_list: split list files (one line id per
            row); relative paths are taken from ``root``.

    Metrics: ``cer``, ``wer`` (IAM's tokens) and ``wer_joined`` (punctuation
    re-attached); see the module docstring.
    """

    metrics = ("cer", "wer", "wer_joined")
    unit = "char"
    kind = "image"
    group_label = "form"

    def __init__(self, root: str, train_list: str = "trainset.txt", val_list: str = "validationset1.txt",
                 test_list: str = "testset.txt") -> None:
        super().__init__(root)
        self.lists = {"train": train_list, "val": val_list, "test": test_list}
        self._lines: dict[str, IAMLine] | None = None

    def describe(self) -> dict:
        return {**super().describe(), "corpus": "iam"}

    def all_lines(self) -> dict[str, IAMLine]:
        """Every well-formed row of ``ascii/lines.txt`` (malformed ones reported once)."""
        if self._lines is None:
            path = self.root / "ascii" / "lines.txt"
            self._lines, problems = read_lines_txt(path)
            warn_skipped(f"{path}", problems)
        return self._lines

    def _list_path(self, split: str) -> Path:
        p = Path(self.lists[split])
        return p if p.is_absolute() else self.root / p

    def read(self, split: str) -> list[Record]:
        lines = self.all_lines()
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
            records.append(Record(line.id, str(path), line.text, where=line.where, group=line.form, split=split,
                                  graylevel=line.graylevel))
        warn_skipped(f"IAM {split} split ({list_path})", problems)
        return records
