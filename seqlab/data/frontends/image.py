"""Text-line images in, (1, H, W) tensors out (ink = 1, paper = 0).

The frontend of every handwriting corpus: a line image file, or a line cut out
of a page image by its polygon (PAGE-XML, ALTO), is decoded as grey
(:func:`~seqlab.data.images.open_grey`), prepared by one
:class:`~seqlab.data.images.LineImageTransform` (binarisation, resizing to the
model's height, deslanting), optionally distorted (training only), and turned
into a tensor. Binarisation uses the corpus' own threshold where it gives one
(IAM's ``graylevel``) and Otsu's otherwise, in training and transcription alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

import torch

from seqlab.data.augment import LineAugmentation
from seqlab.data.frontends.base import Frontend, Prepared, pad_images
from seqlab.data.image_cache import ImageCache
from seqlab.data.images import LineImageTransform, image_size, open_grey, to_grey
from seqlab.data.records import Record, Region
from seqlab.errors import UnreadableFileError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")


class LineImages:
    """Picklable record -> (1, H, W) tensor, for DataLoader workers.

    Args:
        cache: the deterministic preprocessing, and where its output is kept.
        augmentation: random distortions after the preprocessing (training only).
    """

    def __init__(self, cache: ImageCache, augmentation: LineAugmentation | None = None) -> None:
        self.cache = cache
        self.transform = cache.transform
        self.augmentation = augmentation

    def __call__(self, record: Record) -> torch.Tensor:
        img = self.cache.prepared(record.source, record.graylevel, record.region)
        if self.augmentation is not None:
            img = self.augmentation(img, invert=self.transform.invert)
        return self.transform.to_tensor(img)


class _PageJobs:
    """Picklable: job ``i`` caches the lines of the ``i``-th page (for :meth:`ImageFrontend.warm`)."""

    def __init__(self, cache: ImageCache, pages: list[tuple[str, list[Region]]]) -> None:
        self.cache = cache
        self.pages = pages

    def __len__(self) -> int:
        return len(self.pages)

    def __getitem__(self, i: int) -> int:
        image, regions = self.pages[i]
        try:
            return self.cache.prepare_page(image, regions)
        except UnreadableFileError:
            return 0


class ImageFrontend(Frontend):
    """Line images for the handwriting models.

    Args:
        height: line images are resized to this height, aspect ratio kept.
        invert: dark ink on light paper (every corpus seqlab reads): ink becomes 1.
        max_width: squeeze wider lines to this width (0: no limit).
        binarise: threshold each line (at the corpus' ``graylevel`` where given,
            else Otsu's) before resizing.
        deslant: shear each line so its strokes are vertical, after resizing.
        augmentation: random distortions of the training lines (None: none);
            never stored in checkpoints, never applied outside training.
        cache_dir: keep prepared lines in ``cache_dir/images/`` (None: never).
    """

    name = "image"
    suffixes = IMAGE_SUFFIXES
    unit = "pixels"
    noun = "image"  # what one input is called in messages
    training_only = ("augmentation",)
    time_axis = 3  # the padded axis of a batch
    input_layout = "(B, 1, H, W) ink = 1"

    def __init__(
        self,
        height: int = 48,
        invert: bool = True,
        max_width: int = 0,
        binarise: bool = False,
        deslant: bool = False,
        augmentation: LineAugmentation | None = None,
        cache_dir: str | None = None,
    ) -> None:
        self.transform = LineImageTransform(height=height, invert=invert, max_width=max_width,
                                            binarise=binarise, deslant=deslant)
        self.augmentation = augmentation
        self.cache_dir = cache_dir
        self.cache = ImageCache(self.transform, cache_dir)
        self._page_sizes: dict[str, tuple[int, int]] = {}

    @property
    def feature_size(self) -> int:
        return self.transform.height

    def length(self, record: Record) -> int:
        if record.region is None:
            w, h = image_size(record.source)
            return self.transform.width_for(w, h)
        if record.source not in self._page_sizes:  # one header read per page, not per line
            self._page_sizes[record.source] = image_size(record.source)
        page_w, page_h = self._page_sizes[record.source]
        left, top, right, bottom = record.region.bbox
        w, h = min(right, page_w) - max(left, 0), min(bottom, page_h) - max(top, 0)
        if w < 1 or h < 1:
            raise UnreadableFileError(f"{record.where or record.source}: the line's polygon lies outside the "
                                      f"{page_w} x {page_h} page image {record.source}")
        return self.transform.width_for(w, h)

    def warm(self, records: Sequence[Record], num_workers: int = 0) -> None:
        """Cut and cache the lines of page images page by page, each page decoded once.

        Without this, the first epoch would decode a page image once per line
        (a 30-line page: 30 decodes of the whole scan); line image files need
        nothing. Pages that cannot be decoded are left to the loader, which
        names them when it reaches their lines.
        """
        if self.cache.folder is None:
            return
        pages: dict[str, list[Region]] = {}
        for r in records:
            if r.region is not None and r.graylevel is None:
                pages.setdefault(r.source, []).append(r.region)
        if not pages:
            return
        from torch.utils.data import DataLoader

        jobs = _PageJobs(self.cache, sorted(pages.items()))
        for _ in DataLoader(jobs, batch_size=None, num_workers=min(num_workers, len(jobs))):
            pass

    def loader(self, augment: bool = False) -> LineImages:
        return LineImages(self.cache, self.augmentation if augment else None)

    def read_file(self, path: str | Path) -> Prepared:
        try:
            return self.prepare(open_grey(path), str(path))
        except MemoryError:
            # one oversized input must cost only itself, never the files batched with it
            raise UnreadableFileError(f"{path}: not enough memory to prepare this image; crop or downscale it") from None

    def prepare(self, img, source: str = "<image>", region: Region | None = None) -> Prepared:
        """A Pillow image (any mode; a page when ``region`` is given) -> network input.

        Raises:
            UnreadableFileError: when resizing to the model's height would make it too large.
        """
        from seqlab.data.images import crop_region

        grey = img if img.mode == "L" else to_grey(img)
        grey.info.setdefault("source", source)
        if region is not None:
            grey = crop_region(grey, region)
        x = self.transform(grey)
        return Prepared(source, x, int(x.size(-1)), float(grey.width))

    def pad(self, inputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        return pad_images(inputs)

    def positions(self, input_length: int, frames: int, extent: float):
        from seqlab.decode.align import FrameScale

        return FrameScale.for_image(input_length, frames, int(extent))

    def example(self, length: int, batch: int, generator: torch.Generator) -> torch.Tensor:
        return torch.rand(batch, 1, self.transform.height, length, generator=generator)

    def figure(self, record: Record, log_probs, symbols: Sequence[str], title: str) -> bytes:
        """The line as written (cut out of its page when it has a region)."""
        from seqlab.data.images import crop_region
        from seqlab.report.plots import line_image

        img = open_grey(record.source)
        return line_image(crop_region(img, record.region) if record.region is not None else img)

    def to_dict(self) -> dict:
        return {"type": self.name, **self.transform.to_dict()}

    @classmethod
    def from_dict(cls, data: dict, cache_dir: str | Path | None = None) -> ImageFrontend:
        names = {f.name for f in fields(LineImageTransform)}
        unknown = set(data) - names - {"type"}
        if unknown:
            raise ValueError(f"unknown image settings {sorted(unknown)}")
        return cls(**{k: v for k, v in data.items() if k in names}, cache_dir=cache_dir)
