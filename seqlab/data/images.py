"""Reading and normalising text-line images.

A line image becomes a float tensor (1, H, W) with ink = 1 and background = 0,
so that zero padding on the right reads as empty paper.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageOps

from seqlab.errors import ConfigError, UnreadableFileError

# Decompression-bomb limit: a text line at 300 dpi is about 3,000 x 300 pixels;
# 50 megapixels leaves room for whole pages and refuses crafted bombs. It holds
# for the decoded image and again for the image resized to the line height.
MAX_PIXELS = 50_000_000
# Widest line after resizing: a page-wide line is under 10,000 pixels at any
# model's height; a 100,000-pixel ribbon is no text line, and a batch of them
# would exhaust memory in the network.
MAX_LINE_WIDTH = 100_000


def open_grey(path: str | Path) -> Image.Image:
    """Decode a one-page image file as 8-bit grey ("L"), upright and on white paper.

    The EXIF orientation is applied (any format), transparent pixels become
    white paper (dropping the alpha channel would turn them black), and
    ``info["source"]`` holds the path, so that later errors can name the file.

    Raises:
        UnreadableFileError: naming the file, when it is missing, truncated,
            not an image, larger than :data:`MAX_PIXELS`, or has several pages.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # From a file object, not a name: Pillow then never memory-maps the pixels,
            # which for an uncompressed TIFF with an orientation tag (5-8) garbles them
            with open(path, "rb") as f, Image.open(f) as img:
                _check_header(img, path)
                img.load()
                grey = to_grey(ImageOps.exif_transpose(img))
    except UnreadableFileError:
        raise
    except FileNotFoundError:
        raise UnreadableFileError(f"{path}: file not found") from None
    except Exception as e:  # noqa: BLE001
        # Pillow's decoders report corrupt data as OSError, SyntaxError, ValueError,
        # struct.error, IndexError...: every one of them means "this file is unreadable"
        raise UnreadableFileError(f"{path}: cannot decode image ({type(e).__name__}: {e})") from None
    grey.info["source"] = str(path)
    return grey


def to_grey(img: Image.Image) -> Image.Image:
    """Any Pillow image -> 8-bit grey ("L"); transparency is composited onto white."""
    if img.mode in ("I;16", "I"):  # 16-bit grey: Pillow's own conversion would clip at 255
        return Image.fromarray((np.asarray(img, dtype=np.float64) / 257).astype(np.uint8))
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        img = Image.alpha_composite(Image.new("RGBA", img.size, "white"), img.convert("RGBA"))
    return img.convert("L")


def _check_header(img: Image.Image, path: str | Path) -> None:
    """Refuse, before decoding, an image over :data:`MAX_PIXELS` or with several pages."""
    if img.width * img.height > MAX_PIXELS:
        raise UnreadableFileError(
            f"{path}: {img.width} x {img.height} pixels exceeds the limit of "
            f"{MAX_PIXELS:,}; crop or downscale the image"
        )
    # An MPO (a camera JPEG) holds previews or a second view after the picture; any
    # other multi-frame file (TIFF pages, GIF or APNG frames) would be read as its first page only.
    pages = getattr(img, "n_frames", 1)
    if pages > 1 and img.format != "MPO":
        raise UnreadableFileError(
            f"{path}: has {pages} pages (frames) and only the first would be read; "
            "split it into one image per line or page"
        )


def crop_region(page: Image.Image, region) -> Image.Image:
    """Cut a text line out of a grey page image by its polygon (Kraken's polygonal extraction).

    The crop is the polygon's bounding box (clipped to the page); pixels
    outside the polygon become the paper's grey level (the 90th percentile of
    the crop: paper is its brightest large part, even where ink fills most of
    a tight box), so that ascenders and descenders of the neighbouring lines
    do not bleed in.

    Args:
        page: the grey ("L") page image.
        region: a :class:`~seqlab.data.records.Region` in the page's pixels.

    Raises:
        UnreadableFileError: naming the page, when the polygon lies outside the image.
    """
    left, top, right, bottom = region.bbox
    left, top = max(0, left), max(0, top)
    right, bottom = min(page.width, right), min(page.height, bottom)
    source = page.info.get("source", "page image")
    if right - left < 1 or bottom - top < 1:
        raise UnreadableFileError(f"{source}: the line's polygon {region.bbox} lies outside the "
                                  f"{page.width} x {page.height} image")
    crop = page.crop((left, top, right, bottom))
    mask = Image.new("L", crop.size, 0)
    ImageDraw.Draw(mask).polygon([(x - left, y - top) for x, y in region.polygon], fill=255)
    paper = Image.new("L", crop.size, int(np.percentile(np.asarray(crop, dtype=np.uint8), 90)))
    line = Image.composite(crop, paper, mask)
    line.info["source"] = source
    return line


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) from the header, after checking the file's integrity.

    Cheap: reads the file but does not decompress pixels (PNG chunks are
    CRC-checked by ``verify``), so a corpus can be checked before training.
    The size is as stored: an EXIF orientation is applied only by :func:`open_grey`.
    """
    try:
        with Image.open(path) as img:
            size = img.size
            _check_header(img, path)
            img.verify()
    except UnreadableFileError:
        raise
    except FileNotFoundError:
        raise UnreadableFileError(f"{path}: file not found") from None
    except Exception as e:  # noqa: BLE001 (see open_grey)
        raise UnreadableFileError(f"{path}: not a readable image ({type(e).__name__}: {e})") from None
    if size[0] < 1 or size[1] < 1:
        raise UnreadableFileError(f"{path}: empty image ({size[0]} x {size[1]})")
    return size


def otsu_threshold(grey: np.ndarray) -> int:
    """Otsu's (1979) threshold of a uint8 image: levels below it form one class.

    Maximises the between-class variance; a one-level image gives 128.
    """
    hist = np.bincount(grey.ravel(), minlength=256).astype(np.float64)
    if (hist > 0).sum() < 2:
        return 128
    levels = np.arange(256)
    below = np.cumsum(hist)[:-1]  # pixels at levels 0..t, for t = 0..254
    mass = np.cumsum(hist * levels)[:-1]
    total, total_mass = hist.sum(), float(hist @ levels)
    above = total - below
    valid = (below > 0) & (above > 0)
    between = np.zeros(255)
    between[valid] = (total_mass * below[valid] / total - mass[valid]) ** 2 / (below[valid] * above[valid])
    return int(np.argmax(between)) + 1


def binarise(img: Image.Image, threshold: int, invert: bool = True) -> Image.Image:
    """Two-level image: ink (darker than ``threshold``; brighter when not ``invert``) and paper.

    Ink and paper keep the image's convention (dark ink 0 on paper 255 when
    ``invert``), so the rest of the pipeline is unchanged. IAM's lines.txt gives
    the threshold its creators used for each line (the ``graylevel`` field).
    """
    g = np.asarray(img, dtype=np.uint8)
    ink = g < threshold if invert else g > threshold
    return Image.fromarray(np.where(ink, 0 if invert else 255, 255 if invert else 0).astype(np.uint8))


# Candidate shears for deslanting: slants of -40..40 degrees from the vertical, every 2.
SLANT_SHEARS: tuple[float, ...] = tuple(float(np.tan(np.radians(a))) for a in range(-40, 41, 2))


def ink_mask(img: Image.Image, invert: bool = True) -> np.ndarray:
    """(H, W) bool, True on ink pixels (Otsu threshold)."""
    g = np.asarray(img, dtype=np.uint8)
    t = otsu_threshold(g)
    return g < t if invert else g >= t


def estimate_slant(img: Image.Image, invert: bool = True, shears: tuple[float, ...] = SLANT_SHEARS) -> float:
    """The shear k for :func:`shear` that makes the strokes most vertical.

    A stroke slanted to the right (its top ``s`` pixels right of its bottom per
    row of height) gives k = -s.

    Each candidate is scored by the sum of squared column sums of the sheared
    ink mask (vertical strokes pile up into few columns), computed directly on
    the ink pixels' coordinates with no image resampling.
    """
    ink = ink_mask(img, invert)
    h = ink.shape[0]
    ys, xs = np.nonzero(ink)
    if xs.size == 0:
        return 0.0
    rise = (h - 1 - ys).astype(np.float64)  # height above the bottom row
    best, best_score = 0.0, -1.0
    for k in shears:
        cols = np.rint(xs + k * rise - min(0.0, k * (h - 1))).astype(np.int64)
        score = float(np.square(np.bincount(cols)).sum())
        if score > best_score + 1e-9 or (abs(score - best_score) <= 1e-9 and abs(k) < abs(best)):
            best, best_score = k, score
    return best


def shear(img: Image.Image, k: float, paper: int) -> Image.Image:
    """Move each row by ``k`` x its height above the bottom row; the canvas widens to fit."""
    w, h = img.size
    extra = abs(k) * (h - 1)
    if extra < 0.5:
        return img
    # PIL maps each output pixel (u, v) back to the input: x = u - k * (h - 1 - v) + min(0, k (h - 1))
    c = -k * (h - 1) + min(0.0, k * (h - 1))
    return img.transform(
        (w + int(np.ceil(extra)), h), Image.Transform.AFFINE, (1.0, k, c, 0.0, 1.0, 0.0),
        resample=Image.Resampling.BILINEAR, fillcolor=paper,
    )


def paper_level(img: Image.Image) -> int:
    """The grey level of the paper: the median pixel (a text line is mostly paper)."""
    return int(np.median(np.asarray(img, dtype=np.uint8)))


def deslant(img: Image.Image, invert: bool = True) -> Image.Image:
    """Undo the slant :func:`estimate_slant` finds (the image widens by up to H x tan 40 degrees).

    The corners the shear uncovers are filled with the paper's grey level.
    """
    return shear(img, estimate_slant(img, invert), paper=paper_level(img))


@dataclass(frozen=True)
class LineImageTransform:
    """Grey line image -> (1, height, W') float tensor, aspect ratio kept.

    Steps, in order: optional binarisation at the original resolution, resizing
    to ``height``, optional deslanting, then ink = 1 / paper = 0. With the
    defaults it only resizes and inverts.

    Args:
        height: target height in pixels (Puigcerver 2017: 128).
        invert: True for dark ink on light paper (IAM): ink becomes 1.
        max_width: lines wider than this after resizing are squeezed to it
            (0: no limit).
        binarise: threshold the grey levels first: at the line's ``graylevel``
            from IAM's lines.txt when the loader passes it, else Otsu's.
        deslant: shear the line so that its strokes are vertical
            (:func:`estimate_slant`); the width then grows by up to 0.84 x height,
            which :meth:`width_for` does not count (it serves bucketing only).
    """

    height: int = 48
    invert: bool = True
    max_width: int = 0
    binarise: bool = False
    deslant: bool = False

    def __post_init__(self) -> None:
        if self.height < 1:
            raise ConfigError(f"image height must be >= 1, got {self.height}")
        if self.max_width < 0:
            raise ConfigError(f"max_width must be >= 0 (0: no limit), got {self.max_width}")

    def width_for(self, width: int, height: int) -> int:
        """Width after resizing an image of ``width`` x ``height``."""
        w = max(1, round(width * self.height / height))
        return min(w, self.max_width) if self.max_width else w

    def checked_width(self, img: Image.Image) -> int:
        """:meth:`width_for` ``img``, refusing a size that resizing would make too large.

        A tiny image of extreme aspect ratio (2,000,000 x 1 pixels) passes the
        decoding limit but would be 48,000,000 x 24 at height 24.

        Raises:
            UnreadableFileError: naming the file (``img.info["source"]``, which
                :func:`open_grey` sets) and both sizes, when the resized image
                would be over :data:`MAX_PIXELS` or wider than :data:`MAX_LINE_WIDTH`.
        """
        w = self.width_for(img.width, img.height)
        if w > MAX_LINE_WIDTH or w * self.height > MAX_PIXELS:
            raise UnreadableFileError(
                f"{img.info.get('source', 'image')}: {img.width} x {img.height} pixels would be "
                f"{w:,} x {self.height} after resizing to height {self.height}, over the limit of "
                f"{MAX_LINE_WIDTH:,} pixels wide or {MAX_PIXELS:,} pixels in all; crop the image to one text line"
            )
        return w

    def prepare(self, img: Image.Image, graylevel: int | None = None) -> Image.Image:
        """Binarise, resize to ``height`` and deslant: grey image -> grey image.

        Raises:
            UnreadableFileError: when resizing would make it too large (:meth:`checked_width`).
        """
        w = self.checked_width(img)  # before binarising, which keeps the size but not ``info``
        if self.binarise:
            threshold = graylevel if graylevel is not None else otsu_threshold(np.asarray(img, dtype=np.uint8))
            img = binarise(img, threshold, self.invert)
        if (w, self.height) != img.size:
            img = img.resize((w, self.height), Image.Resampling.BILINEAR)
        if self.deslant:
            img = deslant(img, self.invert)
        return img

    def to_tensor(self, img: Image.Image) -> torch.Tensor:
        """Grey image of height ``height`` -> (1, H, W) float tensor, ink = 1 (squeezed to ``max_width``)."""
        if img.height != self.height or (self.max_width and img.width > self.max_width):
            img = img.resize((self.checked_width(img), self.height), Image.Resampling.BILINEAR)
        x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)  # (H, W) in [0, 1]
        if self.invert:
            x = 1.0 - x
        return x.unsqueeze(0)  # (H, W) -> (1, H, W)

    def __call__(self, img: Image.Image, graylevel: int | None = None) -> torch.Tensor:
        return self.to_tensor(self.prepare(img, graylevel))

    def to_dict(self) -> dict:
        return asdict(self)
