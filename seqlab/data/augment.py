"""Random distortions of training line images (data augmentation).

The distortions of Puigcerver (2017) and Laia's image distorter, on a grey
line image already normalised to its height: a random affine map (small
rotation, shear and horizontal stretch), an optional elastic distortion
(Simard et al. 2003: a smooth random displacement field), and grey-level
dilation or erosion (a 3 x 3 min / max filter). The data module applies it to
the training split only.

Random numbers: each DataLoader worker process draws from its own generator,
seeded from ``seed`` and the worker's torch seed (which Lightning's
``seed_everything(workers=True)`` makes reproducible), so workers never repeat
each other's distortions and a run is repeatable.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image, ImageFilter

from seqlab.data.images import paper_level
from seqlab.errors import ConfigError


@dataclass
class LineAugmentation:
    """Random distortions of a grey text-line image; see the module docstring.

    Args:
        probability: chance of applying each distortion (affine, elastic,
            dilation / erosion) to an image, independently.
        rotation: largest rotation, degrees either way.
        shear: largest horizontal shear, degrees from the vertical either way.
        stretch: largest relative horizontal scaling (0.1: x 0.9 .. x 1.1);
            the height stays normalised, so vertical scaling would be undone.
        elastic: largest displacement of the elastic distortion in pixels
            (0: off).
        elastic_grid: spacing in pixels of the random control points the
            displacement field is interpolated from (larger: smoother).
        morphology: kernel size of the grey-level dilation / erosion (0: off).
        seed: mixed into every worker's generator.
    """

    probability: float = 0.5
    rotation: float = 1.0
    shear: float = 10.0
    stretch: float = 0.1
    elastic: float = 0.0
    elastic_grid: int = 8
    morphology: int = 3
    seed: int = 0
    _rng: np.random.Generator | None = field(default=None, init=False, repr=False, compare=False)
    _rng_owner: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ConfigError(f"augmentation probability must be in [0, 1], got {self.probability}")
        if min(self.rotation, self.shear, self.stretch, self.elastic) < 0 or self.stretch >= 1:
            raise ConfigError("augmentation rotation, shear, elastic must be >= 0 and stretch in [0, 1)")
        if self.morphology and self.morphology % 2 == 0:
            raise ConfigError(f"augmentation morphology kernel must be odd (or 0), got {self.morphology}")
        if self.elastic_grid < 2:
            raise ConfigError(f"augmentation elastic_grid must be >= 2 pixels, got {self.elastic_grid}")

    def __getstate__(self) -> dict:
        # a worker gets the settings, never the parent's generator state
        state = self.__dict__.copy()
        state["_rng"] = state["_rng_owner"] = None
        return state

    @property
    def rng(self) -> np.random.Generator:
        """This process' (and DataLoader worker's) generator, created on first use."""
        info = torch.utils.data.get_worker_info()
        owner = (os.getpid(), info.id if info is not None else None)
        if self._rng is None or self._rng_owner != owner:
            worker_seed = info.seed if info is not None else torch.initial_seed()
            self._rng = np.random.default_rng([self.seed, worker_seed % 2**63])
            self._rng_owner = owner
        return self._rng

    def __call__(self, img: Image.Image, invert: bool = True) -> Image.Image:
        """Distort a grey image ("L"; dark ink on light paper when ``invert``); the height is kept."""
        rng = self.rng
        height = img.height
        if rng.random() < self.probability and (self.rotation or self.shear or self.stretch):
            img = self.affine(img, rng, paper_level(img))
        if self.elastic and rng.random() < self.probability:
            img = self.elastic_distortion(img, rng)
        if self.morphology and rng.random() < self.probability:
            dilate = rng.random() < 0.5
            # dark ink on light paper grows under a min filter (grey-level dilation of the ink)
            size = self.morphology
            img = img.filter(ImageFilter.MinFilter(size) if dilate == invert else ImageFilter.MaxFilter(size))
        if img.height != height:
            img = img.resize((max(1, round(img.width * height / img.height)), height), Image.Resampling.BILINEAR)
        return img

    def affine(self, img: Image.Image, rng: np.random.Generator, paper: int) -> Image.Image:
        """Rotate, shear and stretch onto a canvas that holds the whole line (uncovered parts: ``paper``)."""
        angle = math.radians(rng.uniform(-self.rotation, self.rotation))
        k = math.tan(math.radians(rng.uniform(-self.shear, self.shear)))
        sx = rng.uniform(1 - self.stretch, 1 + self.stretch)
        cos, sin = math.cos(angle), math.sin(angle)
        # forward map (x, y) -> M (x, y): rotation . shear . horizontal stretch
        m = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1.0, k], [0.0, 1.0]]) @ np.array([[sx, 0.0], [0.0, 1.0]])
        w, h = img.size
        corners = m @ np.array([[0, w, 0, w], [0, 0, h, h]], dtype=np.float64)
        lo, hi = corners.min(axis=1), corners.max(axis=1)
        size = (max(1, math.ceil(hi[0] - lo[0])), max(1, math.ceil(hi[1] - lo[1])))
        inv = np.linalg.inv(m)
        offset = inv @ lo  # output (u, v) -> input M^-1 ((u, v) + lo)
        data = (inv[0, 0], inv[0, 1], offset[0], inv[1, 0], inv[1, 1], offset[1])
        return img.transform(size, Image.Transform.AFFINE, data, resample=Image.Resampling.BILINEAR, fillcolor=paper)

    def elastic_distortion(self, img: Image.Image, rng: np.random.Generator) -> Image.Image:
        """Move every pixel by a smooth random field of up to ``elastic`` pixels (bilinear resampling)."""
        w, h = img.size
        gw, gh = w // self.elastic_grid + 2, h // self.elastic_grid + 2

        def field() -> np.ndarray:
            coarse = rng.uniform(-self.elastic, self.elastic, size=(gh, gw)).astype(np.float32)
            return np.asarray(Image.fromarray(coarse).resize((w, h), Image.Resampling.BICUBIC))

        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        x = np.clip(xs + field(), 0, w - 1)
        y = np.clip(ys + field(), 0, h - 1)
        x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
        x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
        fx, fy = x - x0, y - y0
        g = np.asarray(img, dtype=np.float32)
        top = g[y0, x0] * (1 - fx) + g[y0, x1] * fx
        bottom = g[y1, x0] * (1 - fx) + g[y1, x1] * fx
        out = top * (1 - fy) + bottom * fy
        return Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8))
