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
from PIL import Image, ImageOps

from seqlab.errors import ConfigError, UnreadableFileError

# Decompression-bomb limit: a text line at 300 dpi is about 3,000 x 300 pixels;
# 50 megapixels leaves room for whole pages and refuses crafted bombs.
MAX_PIXELS = 50_000_000


def open_grey(path: str | Path) -> Image.Image:
    """Decode an image file as 8-bit grey ("L").

    Raises:
        UnreadableFileError: naming the file, when it is missing, truncated,
            not an image, or larger than :data:`MAX_PIXELS`.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise UnreadableFileError(
                        f"{path}: {img.width} x {img.height} pixels exceeds the limit of "
                        f"{MAX_PIXELS:,}; crop or downscale the image"
                    )
                img.load()
                grey = ImageOps.exif_transpose(img) if img.format == "JPEG" else img
                if grey.mode == "I;16" or grey.mode == "I":
                    grey = Image.fromarray((np.asarray(grey, dtype=np.float64) / 257).astype(np.uint8))
                return grey.convert("L")
    except UnreadableFileError:
        raise
    except FileNotFoundError:
        raise UnreadableFileError(f"{path}: file not found") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        # PIL reports corrupt and truncated data as OSError / SyntaxError / ValueError
        raise UnreadableFileError(f"{path}: cannot decode image ({e})") from None


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) from the header, after checking the file's integrity.

    Cheap: reads the file but does not decompress pixels (PNG chunks are
    CRC-checked by ``verify``), so a corpus can be checked before training.
    """
    try:
        with Image.open(path) as img:
            size = img.size
            img.verify()
    except FileNotFoundError:
        raise UnreadableFileError(f"{path}: file not found") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise UnreadableFileError(f"{path}: not a readable image ({e})") from None
    if size[0] * size[1] > MAX_PIXELS:
        raise UnreadableFileError(
            f"{path}: {size[0]} x {size[1]} pixels exceeds the limit of {MAX_PIXELS:,}"
        )
    if size[0] < 1 or size[1] < 1:
        raise UnreadableFileError(f"{path}: empty image ({size[0]} x {size[1]})")
    return size


@dataclass(frozen=True)
class LineImageTransform:
    """Grey line image -> (1, height, W') float tensor, aspect ratio kept.

    Args:
        height: target height in pixels (Puigcerver 2017: 128).
        invert: True for dark ink on light paper (IAM): ink becomes 1.
        max_width: lines wider than this after resizing are squeezed to it
            (0: no limit).
    """

    height: int = 48
    invert: bool = True
    max_width: int = 0

    def __post_init__(self) -> None:
        if self.height < 1:
            raise ConfigError(f"image height must be >= 1, got {self.height}")

    def width_for(self, width: int, height: int) -> int:
        """Width after resizing an image of ``width`` x ``height``."""
        w = max(1, round(width * self.height / height))
        return min(w, self.max_width) if self.max_width else w

    def __call__(self, img: Image.Image) -> torch.Tensor:
        w = self.width_for(img.width, img.height)
        if (w, self.height) != img.size:
            img = img.resize((w, self.height), Image.Resampling.BILINEAR)
        x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)  # (H, W) in [0, 1]
        if self.invert:
            x = 1.0 - x
        return x.unsqueeze(0)  # (H, W) -> (1, H, W)

    def to_dict(self) -> dict:
        return asdict(self)
