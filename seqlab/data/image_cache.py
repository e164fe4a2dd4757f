"""Preprocessed line images, decoded once and kept on disk.

Decoding a line image and preparing it (binarisation, resizing, deslanting:
:meth:`~seqlab.data.images.LineImageTransform.prepare`) happens every epoch
otherwise; deslanting alone tries a dozen shears per line. The cache keeps the
prepared grey image, before the random training distortions, as a uint8
``.npy`` that loads with one read.

Files live in ``cache_dir/images/lines-<settings hash>/ab/<key>.npy``: the
settings hash covers the transform (height, binarisation, deslanting, ...), the
key the image file's path, size and modification time and, when binarising,
the line's threshold (:mod:`seqlab.data.disk_cache`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from PIL import Image

from seqlab.data.disk_cache import entry_path, file_key, read_npy, write_npy_atomic
from seqlab.data.images import LineImageTransform, crop_region, open_grey
from seqlab.data.records import Region
from seqlab.errors import UnreadableFileError

IMAGE_CACHE_VERSION = 1  # bump when preparation changes: old entries are then ignored


class ImageCache:
    """Prepared grey line images of a :class:`LineImageTransform`, on disk.

    Args:
        transform: the deterministic preprocessing whose output is cached.
        cache_dir: root of the cache; None prepares every time.
    """

    def __init__(self, transform: LineImageTransform, cache_dir: str | Path | None) -> None:
        self.transform = transform
        self.folder = None
        if cache_dir is not None:
            settings = json.dumps({"version": IMAGE_CACHE_VERSION, **transform.to_dict()}, sort_keys=True)
            digest = hashlib.sha1(settings.encode()).hexdigest()[:10]
            self.folder = Path(cache_dir).expanduser() / "images" / f"lines-{digest}"

    def path_for(self, image: str | Path, graylevel: int | None, region: Region | None = None) -> Path | None:
        if self.folder is None:
            return None
        key = file_key(image)
        if self.transform.binarise and graylevel is not None:
            key = hashlib.sha1(f"{key}\0{graylevel}".encode()).hexdigest()
        if region is not None:  # one entry per line of a page image
            key = hashlib.sha1(f"{key}\0{region.polygon!r}".encode()).hexdigest()
        return entry_path(self.folder, key)

    def prepared(self, image: str | Path, graylevel: int | None = None, region: Region | None = None) -> Image.Image:
        """The prepared grey image (height ``transform.height``), from the cache when there.

        ``region``: the line is cut out of the page image ``image`` first (:func:`crop_region`).

        Raises:
            UnreadableFileError: naming the file, when it cannot be decoded.
        """
        cached = self.path_for(image, graylevel, region)
        stored = read_npy(cached) if cached is not None else None
        if stored is not None and stored.dtype == np.uint8 and stored.ndim == 2:
            return Image.fromarray(stored)
        grey = open_grey(image)  # its errors name the file
        if region is not None:
            grey = crop_region(grey, region)
        img = self.transform.prepare(grey, graylevel)
        if cached is not None:
            write_npy_atomic(cached, np.asarray(img, dtype=np.uint8))
        return img

    def prepare_page(self, image: str | Path, regions: list[Region]) -> int:
        """Cache every line of ``regions`` on the page image ``image`` not cached yet, decoding the page once.

        Returns:
            How many lines were prepared (0 when all were cached, or there is no cache).

        Raises:
            UnreadableFileError: naming the file, when the page cannot be decoded.
        """
        if self.folder is None:
            return 0
        missing = [(r, p) for r in regions if (p := self.path_for(image, None, r)) is not None and not p.is_file()]
        if not missing:
            return 0
        page = open_grey(image)
        for region, path in missing:
            try:
                line = crop_region(page, region)
            except UnreadableFileError:
                continue  # the loader names it when it reaches the line
            write_npy_atomic(path, np.asarray(self.transform.prepare(line, None), dtype=np.uint8))
        return len(missing)
