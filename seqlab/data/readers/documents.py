"""What the readers of users' own handwriting (PAGE-XML, ALTO, line folders) share: pages and splits.

Such a corpus is a folder of pages; each page holds lines. A split is a set of
pages, never of lines, so that lines of one page (one hand, one sheet) never
land in both training and test:

* by list files (``train_list``, ``val_list``, ``test_list``; one name per
  row: a page's file name, its stem, its path relative to the root, or one
  line id ``PAGE:LINE``), or
* none given: a seeded random split of the pages (``split_seed``,
  ``split_fractions``), the same on every machine and every run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqlab.data.readers.base import SPLITS, Reader, warn_skipped
from seqlab.data.records import Record
from seqlab.errors import ConfigError, SeqlabError
from seqlab.text.files import read_text


@dataclass
class Page:
    """One page of a corpus: its key (path relative to the root, no suffix), file and lines."""

    key: str
    path: Path
    records: list[Record] = field(default_factory=list)

    def names(self) -> set[str]:
        """What a list file may call this page."""
        return {self.key, self.path.name, self.path.stem, Path(self.key).name}


def read_list(path: Path) -> list[str]:
    """Names in a list file, one per row (blank rows and ``#`` comments ignored; a BOM stripped).

    Raises:
        ConfigError: when the file is missing.
    """
    try:
        text = read_text(path, errors="replace")
    except FileNotFoundError:
        raise ConfigError(f"{path}: split list not found; set data.train_list, data.val_list and "
                          "data.test_list to existing files, or all to null for a random split by page") from None
    return [r.strip() for r in text.splitlines() if r.strip() and not r.lstrip().startswith("#")]


def split_counts(n: int, fractions: tuple[float, float, float]) -> tuple[int, int, int]:
    """Pages per split: val and test rounded up from their fractions (at least one
    each when there are three pages or more and the fraction is not zero), train the rest."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
        raise ConfigError(f"data.split_fractions must be three non-negative numbers (train, val, test) "
                          f"summing to 1, got {list(fractions)}")
    val = math.ceil(n * fractions[1] - 1e-9) if fractions[1] else 0
    test = math.ceil(n * fractions[2] - 1e-9) if fractions[2] else 0
    while val + test > max(n - 1, 0) and (val or test):
        if val >= test and val:
            val -= 1
        else:
            test -= 1
    return n - val - test, val, test


def random_split(keys: list[str], seed: int, fractions: tuple[float, float, float]) -> dict[str, str]:
    """Page key -> split, shuffled by ``seed`` (independent of the order the keys come in)."""
    ordered = sorted(keys)
    order = np.random.default_rng(seed).permutation(len(ordered))
    n_train, n_val, _ = split_counts(len(ordered), fractions)
    out = {}
    for rank, i in enumerate(order):
        out[ordered[i]] = "train" if rank < n_train else "val" if rank < n_train + n_val else "test"
    return out


class DocumentReader(Reader):
    """Base of the readers of pages of lines; subclasses list the pages (:meth:`pages`).

    Args:
        root: the corpus folder.
        glob: which files under ``root`` to read (relative pattern, ``**`` recursive).
        train_list, val_list, test_list: split list files (relative paths are
            taken from ``root``); all None: a seeded random split by page.
        split_seed: seed of the random split.
        split_fractions: (train, val, test) shares of the pages in the random split.
    """

    metrics = ("cer", "wer")
    unit = "char"
    kind = "image"
    group_label = "page"
    default_glob = "**/*"
    format_name = "document"

    def __init__(self, root: str, glob: str | None = None, train_list: str | None = None,
                 val_list: str | None = None, test_list: str | None = None, split_seed: int = 0,
                 split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> None:
        super().__init__(root)
        if not str(root):
            raise ConfigError(f"data.root: give the folder of the {self.format_name} corpus")
        self.glob = glob or self.default_glob
        self.lists = {"train": train_list, "val": val_list, "test": test_list}
        self.split_seed = int(split_seed)
        self.split_fractions = tuple(float(f) for f in split_fractions)
        split_counts(3, self.split_fractions)  # checks them before any file is read
        self._pages: list[Page] | None = None
        self._splits: dict[str, list[Record]] | None = None

    def describe(self) -> dict:
        split = ({"lists": self.lists} if any(v is not None for v in self.lists.values())
                 else {"seed": self.split_seed, "fractions": list(self.split_fractions)})
        return {**super().describe(), "format": self.format_name, "glob": self.glob, "split": split}

    # -- what a format provides -------------------------------------------------------

    def pages(self, problems: list[str]) -> list[Page]:
        """Every page under the root with its transcribed lines (records without a split);
        what is left out goes into ``problems``, one message per item."""
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------

    def xml_pages(self, parse: Callable, problems: list[str], untranscribed: str = "no text") -> list[Page]:
        """The pages of every ``.xml`` file, parsed by ``parse(path)`` into a
        :class:`~seqlab.data.readers.xml.Document` (PAGE-XML, ALTO): lines with
        text become records of the page image; the rest go into ``problems``."""
        from seqlab.data.images import image_size

        pages = []
        for path in self.files((".xml",)):
            try:
                doc = parse(path)
            except SeqlabError as e:
                problems.append(str(e))
                continue
            problems.extend(doc.problems)
            if doc.image is None:
                continue
            try:
                image_size(doc.image)
            except SeqlabError as e:
                problems.append(f"{path}: its page image cannot be used: {e}")
                continue
            key = self.key(path)
            page = Page(key, path)
            for line in doc.lines:
                if not line.text:
                    problems.append(f"{line.where}: {untranscribed} (untranscribed line)")
                    continue
                page.records.append(Record(f"{key}:{line.id}", str(doc.image), line.text, where=line.where,
                                           group=key, region=line.region))
            if page.records:
                pages.append(page)
        return pages

    def files(self, suffixes: tuple[str, ...] | None = None) -> list[Path]:
        """Files under the root matching the glob (and ``suffixes``), sorted.

        Raises:
            ConfigError: when the root is not a folder.
        """
        if not self.root.is_dir():
            raise ConfigError(f"data.root={self.root}: not a folder; point it at the {self.format_name} corpus")
        out = []
        for p in sorted(self.root.glob(self.glob)):
            if p.name.startswith(".") or not p.is_file():
                continue
            if suffixes is None or p.name.lower().endswith(suffixes):
                out.append(p)
        return out

    def key(self, path: Path) -> str:
        """A page's key: its path relative to the root, without the suffix."""
        rel = path.relative_to(self.root).as_posix()
        return rel[: -len(path.suffix)] if path.suffix else rel

    def all_pages(self) -> list[Page]:
        if self._pages is None:
            problems: list[str] = []
            self._pages = self.pages(problems)
            warn_skipped(f"{self.format_name} corpus {self.root}", problems)
            if not self._pages:
                raise ConfigError(f"data.root={self.root}: no {self.format_name} pages with transcribed lines "
                                  f"match {self.glob!r}" + (f" ({len(problems)} item(s) skipped, see the warning)"
                                                            if problems else ""))
        return self._pages

    def read(self, split: str) -> list[Record]:
        if self._splits is None:
            self._splits = self._assign()
        return self._splits[split]

    def _assign(self) -> dict[str, list[Record]]:
        pages = self.all_pages()
        out: dict[str, list[Record]] = {s: [] for s in SPLITS}
        if all(v is None for v in self.lists.values()):
            which = random_split([p.key for p in pages], self.split_seed, self.split_fractions)
            for p in pages:
                out[which[p.key]].extend(_with_split(p.records, which[p.key]))
            return out
        by_name: dict[str, list[Page]] = {}
        for p in pages:
            for name in p.names():
                by_name.setdefault(name, []).append(p)
        by_line = {r.id: r for p in pages for r in p.records}
        seen: dict[str, str] = {}  # record id -> split
        problems: list[str] = []
        for split in SPLITS:
            list_file = self.lists[split]
            if list_file is None:
                continue
            path = Path(list_file) if Path(list_file).is_absolute() else self.root / list_file
            for n, name in enumerate(read_list(path), start=1):
                name = name.removesuffix("/")
                if name not in by_line and name not in by_name and Path(name).suffix:
                    name = name[: -len(Path(name).suffix)]  # an image's file name: the line id
                if name in by_line:
                    chosen = [by_line[name]]
                elif name in by_name:
                    if len(by_name[name]) > 1:
                        problems.append(f"{path}:{n}: {name!r} names {len(by_name[name])} pages "
                                        f"({', '.join(p.key for p in by_name[name][:3])}); use the path")
                        continue
                    chosen = by_name[name][0].records
                else:
                    problems.append(f"{path}:{n}: {name!r} is no page or line with transcribed lines under {self.root}")
                    continue
                for r in chosen:
                    if r.id in seen:
                        if seen[r.id] != split:
                            raise ConfigError(f"{path}:{n}: {r.id} is also in the {seen[r.id]} list; "
                                              "a line must be in one split only")
                        continue
                    seen[r.id] = split
                    out[split].append(_with_split([r], split)[0])
        warn_skipped(f"{self.format_name} split lists", problems)
        return out

    def missing_split_hint(self, empty: list[str]) -> str:
        if all(v is None for v in self.lists.values()):
            return (f"the random split by page put no page into {', '.join(empty)}: the corpus has "
                    f"{len(self.all_pages())} page(s); add pages, change data.split_fractions, or give list files")
        return "check data.train_list, data.val_list and data.test_list: each must name pages or lines"


def _with_split(records: list[Record], split: str) -> list[Record]:
    import dataclasses

    return [dataclasses.replace(r, split=split) for r in records]
