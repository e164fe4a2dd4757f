"""A synthetic handwriting corpus in the on-disk layout of IAM, rendered with Pillow.

IAM cannot be downloaded by code (it needs a registration), so tests, examples
and quick experiments use this stand-in: English text lines
(:mod:`seqlab.data.english`) rendered with handwriting-like fonts, written
exactly as IAM lays out its line images and ``ascii/lines.txt``, so that the IAM
loader, its preprocessing and its scoring run unchanged on it.

Layout written into ``out_dir``::

    lines/s01/s01-000/s01-000-00.png   grey-level line images (mode "L", H x W,
                                       H = height, W grows with the text)
    ascii/lines.txt                    "id status graylevel n_components x y w h
                                       transcription", IAM-tokenised transcription
    trainset.txt validationset1.txt testset.txt   one line id per row (the names
                                       of IAM's "Large Writer Independent Text Line
                                       Recognition Task" lists)
    .complete                          JSON of the generation parameters, written last

As in IAM, an image shows natural text ("It's late.") while lines.txt holds the
tokenised form (``It|'s|late|.``); see :func:`iam_tokenise`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import multiprocessing
import os
import re
import time
import warnings
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from seqlab.data.corpus_folder import build_atomically, is_complete
from seqlab.data.english import SentenceGenerator
from seqlab.errors import ConfigError, DataFormatError

__all__ = [
    "DEFAULT_FONTS",
    "SPLIT_FILES",
    "font_fingerprint",
    "generate_handwriting_corpus",
    "iam_tokenise",
    "render_line",
    "resolve_fonts",
]

log = logging.getLogger(__name__)

# The fonts ship with the package (seqlab/data/fonts/, OFL and Bitstream Vera
# licensed; README.md there names their sources), so the default corpus is drawn
# the same way on every machine. The order matters: a line's font is drawn by
# index, so reordering changes the corpus.
FONT_DIR = Path(__file__).resolve().parent / "fonts"
DEFAULT_FONTS: tuple[str, ...] = tuple(
    str(FONT_DIR / name)
    for name in (
        "DancingScript-Regular.otf",
        "DancingScript-Bold.otf",
        "Humor-Sans.ttf",
        "ComicNeue-Regular.otf",
        "ComicNeue-Bold.otf",
        "ComicNeue-Italic.otf",
        "ComicNeue-BoldItalic.otf",
        "ComicNeue-Light.otf",
        "ComicNeue-LightItalic.otf",
        "Kristi.ttf",
        "DejaVuSans.ttf",
        "DejaVuSerif.ttf",
    )
)

# Split name -> list file, as IAM's line recognition task names them.
SPLIT_FILES: dict[str, str] = {
    "train": "trainset.txt",
    "val": "validationset1.txt",
    "test": "testset.txt",
}

# Relative frequency of each font file, by name prefix: the script and comic
# families are about equally likely (Comic Neue has six files), the print faces
# less so. Kristi, the hardest to read, is rarer than the other families, and
# Humor Sans rarer still: its lower case is drawn as capitals, so its lines cannot
# tell "A" from "a" and would put a floor under the character error rate.
_FONT_WEIGHTS = {
    "DancingScript": 1.0,
    "ComicNeue": 1.0 / 3.0,
    "DejaVu": 0.75,
    "Kristi": 0.5,
    "Humor-Sans": 0.5,
}
# Joined-up scripts are drawn word by word: per-letter placement would break the joins.
_CURSIVE = ("DancingScript", "Kristi")
_SLANTED = ("Italic", "Oblique", "DancingScript", "Kristi")
# Thickening bold faces or Kristi's fine loops by a stroke smudges them illegibly.
_NO_STROKE = ("Bold", "Kristi")

_LINES_HEADER = """\
#--- lines.txt ---------------------------------------------------------------#
#
# seqlab synthetic handwriting corpus: line information (IAM layout)
#
# format: s01-000-00 ok 154 19 408 746 1661 89 The|old|man|walked|to|the
#
#     s01-000-00  -> line id: form s01-000, line 00
#     ok          -> word segmentation status, ok or err (both are valid lines)
#     154         -> grey level used to binarise the line
#     19          -> number of connected components
#     408 746 1661 89 -> bounding box of the line on the form: x y w h
#     The|old|... -> transcription; words and punctuation tokens separated by |
#
"""


def font_fingerprint(fonts: Sequence[str]) -> list[list[str]]:
    """``[file name, SHA-256 of its content]`` per font file: the corpus cache key.

    Content rather than path, so a corpus is reused wherever the package is
    installed and regenerated when a font file changes.
    """
    return [[os.path.basename(f), hashlib.sha256(Path(f).read_bytes()).hexdigest()] for f in fonts]


def resolve_fonts(fonts: Sequence[str] | None) -> list[str]:
    """The font files to draw from: ``None`` means the packaged :data:`DEFAULT_FONTS`.

    An empty list is the explicit choice of Pillow's built-in font (printed type,
    with a warning); it is never taken silently.

    Raises:
        ConfigError: a font file is missing (for the packaged fonts: a broken install).
    """
    font_list = list(DEFAULT_FONTS) if fonts is None else [str(f) for f in fonts]
    missing = [f for f in font_list if not os.path.isfile(f)]
    if missing:
        hint = (" (these ship with seqlab: reinstall it, e.g. pip install --force-reinstall -e .)"
                if fonts is None else "")
        raise ConfigError(f"font file(s) not found: {', '.join(missing)}{hint}")
    if not font_list:
        warnings.warn(
            "fonts=[]: rendering with Pillow's built-in font, which looks nothing like handwriting "
            "(leave fonts unset for the packaged handwriting-style fonts)",
            stacklevel=3,
        )
    return font_list


# --------------------------------------------------------------------------- text

# Abbreviations keep their full stop in IAM's tokenisation ("Mr.|Gaitskell").
_ABBREVIATIONS = frozenset({"Mr.", "Mrs.", "Dr.", "St.", "Mt.", "Prof.", "Rev.", "Capt.", "Co.", "Ltd."})
_LEADING_PUNCT = "'\"(["
_TRAILING_PUNCT = ".,;:?!'\")]"
# LOB/IAM split clitics off their word: "It's" -> "It 's", "don't" -> "do n't".
_CLITIC = re.compile(r"^(.+?)(n't|'s|'re|'ve|'ll|'m|'d)$", re.IGNORECASE)


def iam_tokenise(text: str) -> str:
    """Natural text -> IAM transcription: tokens joined by ``|``.

    Punctuation becomes tokens of its own and clitics are split off, as in IAM's
    ``lines.txt`` (which follows the LOB corpus): ``"tomorrow."`` ->
    ``"tomorrow|."``, ``"Gaitskell, M P"`` -> ``"Gaitskell|,|M|P"``, ``"It's"`` ->
    ``"It|'s"``, ``"don't"`` -> ``"do|n't"``, ``"'Yes,' he said."`` ->
    ``"'|Yes|,|'|he|said|."``. Abbreviations keep their stop (``"Mr."``).
    """
    if "|" in text:
        raise DataFormatError(f"text to tokenise contains '|', IAM's word separator: {text!r}")
    tokens: list[str] = []
    for chunk in text.split():
        lead: list[str] = []
        while len(chunk) > 1 and chunk[0] in _LEADING_PUNCT:
            lead.append(chunk[0])
            chunk = chunk[1:]
        trail: list[str] = []
        while len(chunk) > 1 and chunk[-1] in _TRAILING_PUNCT and chunk not in _ABBREVIATIONS:
            trail.insert(0, chunk[-1])
            chunk = chunk[:-1]
        match = _CLITIC.match(chunk)
        core = [match.group(1), match.group(2)] if match else [chunk]
        tokens.extend(lead + core + trail)
    return "|".join(tokens)


def _distinct_lines(count: int, seed: int, min_chars: int, max_chars: int) -> list[str]:
    """``count`` distinct text lines: no text is in two splits, nor twice in one."""
    generator = SentenceGenerator(seed)
    seen: set[str] = set()
    lines: list[str] = []
    for _ in range(50 * count + 1000):
        if len(lines) == count:
            return lines
        text = generator.line(min_chars, max_chars)
        if text not in seen:
            seen.add(text)
            lines.append(text)
    if len(lines) == count:
        return lines
    raise ConfigError(
        f"could only make {len(lines)} distinct lines of {min_chars}..{max_chars} characters, "
        f"{count} were asked for: widen the line length range or ask for fewer lines"
    )


# ---------------------------------------------------------------------- rendering


@lru_cache(maxsize=256)
def _font(path: str | None, size: int) -> ImageFont.FreeTypeFont:
    if path is None:
        return ImageFont.load_default(size=size)  # Pillow's embedded font (>= 10.1)
    return ImageFont.truetype(path, size)


@lru_cache(maxsize=64)
def _cap_ratio(path: str | None) -> float:
    """Height of a capital H per unit of font size: fonts differ a lot (Kristi is small)."""
    _, top, _, bottom = _font(path, 100).getbbox("H", anchor="ls")
    return max(bottom - top, 1) / 100.0


@lru_cache(maxsize=256)
def _band(path: str | None, size: int) -> tuple[int, int]:
    """Extent above and below the baseline of tall and descending letters, in pixels."""
    font = _font(path, size)
    top = font.getbbox("Hdlk", anchor="ls")[1]
    bottom = font.getbbox("gjpqy", anchor="ls")[3]
    return -top, bottom


def _font_weight(path: str | None) -> float:
    name = os.path.basename(path or "")
    return next((w for prefix, w in _FONT_WEIGHTS.items() if name.startswith(prefix)), 1.0)


def _draw_text(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.FreeTypeFont,
    x: float,
    baseline: float,
    *,
    per_letter: bool,
    stroke: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """Draw ``text`` in white on black with a wobbling baseline.

    Returns the lowest and highest baseline used (so the crop can keep every letter).
    """
    size = font.size
    amplitude = size * rng.uniform(0.0, 0.06)  # slow drift of the baseline
    period = size * rng.uniform(8.0, 20.0)
    phase = rng.uniform(0.0, 2 * math.pi)
    jitter = size * rng.uniform(0.0, 0.03)  # word-to-word (or letter-to-letter) bounce
    word_gap = font.getlength(" ") * rng.uniform(0.9, 1.5)
    tracking = size * rng.uniform(-0.02, 0.05)
    lowest = highest = baseline
    for word in text.split(" "):
        y = baseline + amplitude * math.sin(2 * math.pi * x / period + phase) + rng.normal(0, jitter)
        lowest, highest = min(lowest, y), max(highest, y)
        if per_letter:
            for char in word:
                dy = rng.normal(0, jitter / 3)
                draw.text((x, y + dy), char, font=font, fill=255, anchor="ls", stroke_width=stroke, stroke_fill=255)
                x += font.getlength(char) + tracking + rng.normal(0, size * 0.015)
            lowest, highest = min(lowest, y - jitter), max(highest, y + jitter)
        else:
            draw.text((x, y), word, font=font, fill=255, anchor="ls", stroke_width=stroke, stroke_fill=255)
            x += font.getlength(word)
        x += word_gap * rng.uniform(0.85, 1.15)
    return lowest, highest


def _slant_and_crop(
    canvas: Image.Image, x0: int, x1: int, top: int, bottom: int, slant: float, *, margin_x: float
) -> Image.Image:
    """Rows ``top:bottom`` of the canvas, sheared by ``slant`` and cropped to the ink
    (columns ``x0:x1`` before the shear) plus ``margin_x`` on either side."""
    band_h = bottom - top
    pad = int(abs(slant) * band_h / 2) + 2  # room for the shear to move ink sideways
    region = canvas.crop((x0 - pad, top, x1 + pad, bottom))
    # Shear about the band's middle row: x_in = x_out - slant * (y_mid - y).
    y_mid = band_h / 2
    region = region.transform(
        region.size, Image.Transform.AFFINE, (1, slant, -slant * y_mid, 0, 1, 0), Image.Resampling.BILINEAR
    )
    ink = region.getbbox() or (0, 0, region.width, band_h)
    left = int(max(0, ink[0] - margin_x))
    right = int(min(region.width, ink[2] + margin_x + 1))
    return region.crop((left, 0, right, band_h))


def _on_paper(alpha: Image.Image, rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
    """Ink coverage (H, W) mode "L", 255 = ink -> (H, W) uint8 scan: random ink and
    paper grey levels plus Gaussian scanner noise. Also returns the two levels."""
    ink_level, paper_level = rng.uniform(10, 80), rng.uniform(195, 245)
    coverage = np.asarray(alpha, dtype=np.float32) * (1.0 / 255.0)  # (H, W), 1 = ink
    noise = rng.standard_normal(coverage.shape, dtype=np.float32) * rng.uniform(1.0, 6.0)
    image = paper_level - (paper_level - ink_level) * coverage + noise
    return np.clip(image + 0.5, 0, 255).astype(np.uint8), ink_level, paper_level


def render_line(
    text: str,
    *,
    height: int,
    rng: np.random.Generator,
    fonts: Sequence[str] = (),
) -> tuple[np.ndarray, dict[str, int]]:
    """Render one text line as a handwriting-like grey-level image.

    A font is drawn from ``fonts`` (Pillow's built-in font when empty), then a
    random style: size, slant (shear), stroke width, baseline wobble, letter
    spacing, ink and paper grey levels, blur and Gaussian noise. The image is
    cropped to the text with a small margin and scaled to ``height`` rows.

    Args:
        text: one line of text, single spaces between words.
        height: rows of the output image.
        rng: source of all randomness (same state -> same pixels).
        fonts: font files to choose from.

    Returns:
        ``(image, meta)``: image is (H, W) uint8, H = ``height``, dark ink (low
        values) on light paper; meta holds IAM-style ``graylevel``,
        ``n_components``, ``w`` and ``h`` (the line's size before scaling).
    """
    weights = np.array([_font_weight(p) for p in fonts]) if fonts else None
    path = fonts[rng.choice(len(fonts), p=weights / weights.sum())] if fonts else None
    name = os.path.basename(path or "")
    size = max(8, round(height * rng.uniform(0.55, 0.75) / _cap_ratio(path)))
    font = _font(path, size)
    above, below = _band(path, size)

    # Canvas with room for wobble and slant; the text is ink = 255 on 0 until the end.
    canvas_w = int(font.getlength(text) * 1.3 + 2 * size + 16)
    canvas_h = int(above + below + size * 0.8 + 8)
    baseline = above + size * 0.4 + 4
    canvas = Image.new("L", (canvas_w, canvas_h), 0)
    per_letter = not name.startswith(_CURSIVE) and rng.random() < 0.5
    stroke = int(rng.random() < 0.25 and not any(part in name for part in _NO_STROKE))
    lowest, highest = _draw_text(
        ImageDraw.Draw(canvas), text, font, size * 0.5 + 4, baseline, per_letter=per_letter, stroke=stroke, rng=rng
    )

    # Rows: every tall and descending letter fits, whatever this line's letters are,
    # so that all lines of one font style come out at the same scale.
    ink = canvas.getbbox()
    if ink is None:
        raise DataFormatError(f"nothing was drawn for line {text!r} with font {path or 'built-in'}")
    margin_y = size * rng.uniform(0.05, 0.15)
    top = int(max(0, min(ink[1], lowest - above - stroke) - margin_y))
    bottom = int(min(canvas_h, max(ink[3], highest + below + stroke) + margin_y + 1))
    band_h = bottom - top

    slant = rng.uniform(-0.10, 0.12) if name.startswith(_SLANTED) else rng.uniform(-0.08, 0.28)
    region = _slant_and_crop(canvas, ink[0], ink[2], top, bottom, slant, margin_x=size * rng.uniform(0.05, 0.25))

    # Scale to the output height; the stretch varies letter width like writers do.
    stretch = rng.uniform(0.85, 1.15)
    width = max(1, round(region.width * height / band_h * stretch))
    alpha = region.resize((width, height), Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        alpha = alpha.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8)))
    image, ink_level, paper_level = _on_paper(alpha, rng)

    letters = sum(not c.isspace() for c in text)
    meta = {
        "graylevel": int((ink_level + paper_level) / 2),
        # Joined-up script has about one component per word; print one per letter.
        "n_components": len(text.split()) + letters // 4 if name.startswith(_CURSIVE) else letters,
        "w": 2 * region.width,  # IAM forms are scanned at 300 dpi: their lines are larger
        "h": 2 * band_h,
    }
    return image, meta


def _render_to_file(job: tuple[int, str, str], *, fonts: tuple[str, ...], height: int, seed: int) -> dict[str, int]:
    """Worker: render line ``index`` and write its PNG. Each line has its own seed,
    so the output does not depend on the number of workers."""
    index, text, path = job
    rng = np.random.default_rng([seed, index])
    image, meta = render_line(text, height=height, rng=rng, fonts=fonts)
    Image.fromarray(image, mode="L").save(path, format="PNG")
    return meta


# ------------------------------------------------------------------------- corpus


def _form_id(form_index: int) -> str:
    return f"s{1 + form_index // 1000:02d}-{form_index % 1000:03d}"


def _assign_ids(split_sizes: dict[str, int], rng: np.random.Generator) -> list[tuple[str, str, int]]:
    """``(split, line_id, line_number_on_form)`` for every line; 8-12 lines per form,
    and a form never spans two splits (IAM's splits are by writer)."""
    out: list[tuple[str, str, int]] = []
    form_index = 0
    for split, size in split_sizes.items():
        left = size
        while left > 0:
            n = min(left, int(rng.integers(8, 13)))
            form = _form_id(form_index)
            out.extend((split, f"{form}-{k:02d}", k) for k in range(n))
            left -= n
            form_index += 1
    return out


def _validate(num_train: int, num_val: int, num_test: int, height: int, workers: int) -> None:
    if num_train < 1 or num_val < 0 or num_test < 0:
        raise ConfigError(f"need num_train >= 1 and num_val, num_test >= 0, got {num_train}, {num_val}, {num_test}")
    if height < 8:
        raise ConfigError(f"height must be at least 8 pixels, got {height}")
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")


def _write_text_files(
    root: Path, ids: list[tuple[str, str, int]], texts: list[str], metas: list[dict[str, int]], seed: int
) -> None:
    """``ascii/lines.txt`` and the split lists."""
    rng = np.random.default_rng([seed, 1])  # status and form positions
    rows = []
    y = 0
    for (_, line_id, number), text, meta in zip(ids, texts, metas):
        status = "err" if rng.random() < 0.1 else "ok"  # IAM has about 10% err lines
        x = int(rng.integers(300, 460))
        # Lines go down the form: the first one below the printed header, as in IAM.
        y = int(rng.integers(650, 800)) if number == 0 else y + int(rng.integers(130, 180))
        rows.append(
            f"{line_id} {status} {meta['graylevel']} {meta['n_components']} {x} {y} "
            f"{meta['w']} {meta['h']} {iam_tokenise(text)}\n"
        )
    (root / "ascii").mkdir()
    (root / "ascii" / "lines.txt").write_text(_LINES_HEADER + "".join(rows), encoding="utf-8")
    for split, filename in SPLIT_FILES.items():
        listed = [line_id for s, line_id, _ in ids if s == split]
        (root / filename).write_text("".join(f"{i}\n" for i in listed), encoding="utf-8")


def _render_all(
    jobs: list[tuple[int, str, str]], render: Callable[[tuple[int, str, str]], dict[str, int]], workers: int
) -> list[dict[str, int]]:
    if workers == 1:
        return [render(job) for job in jobs]
    # fork where there is one: a spawned worker would import seqlab.data again, which
    # loads Lightning (seconds per worker). The workers only use Pillow and numpy, so
    # the threads a torch parent may hold do not matter to them.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(workers) as pool:
        return list(pool.imap(render, jobs, chunksize=max(1, min(64, len(jobs) // (4 * workers)))))


def generate_handwriting_corpus(
    out_dir: str | os.PathLike[str],
    *,
    num_train: int = 2000,
    num_val: int = 200,
    num_test: int = 200,
    height: int = 48,
    seed: int = 0,
    fonts: Sequence[str] | None = None,
    min_chars: int = 15,
    max_chars: int = 45,
    workers: int = 1,
) -> Path:
    """Write a synthetic IAM-layout handwriting corpus into ``out_dir`` and return it.

    Images are (H, W) grey-level PNGs with H = ``height`` and W proportional to
    the text length. The output is byte-identical for the same arguments (and
    fonts), whatever ``workers`` is. The corpus is built in a sibling temporary
    folder and renamed to ``out_dir`` at the end, so an interrupted run never
    leaves a partial corpus; a complete ``out_dir`` made with the same parameters
    is returned as is.

    Args:
        out_dir: folder to create.
        num_train, num_val, num_test: lines per split (texts never repeat across
            or within splits).
        height: image height in pixels.
        seed: seed of the text and of the rendering.
        fonts: font files to draw from; None for the packaged handwriting-style
            fonts (:data:`DEFAULT_FONTS`); an empty list for Pillow's built-in
            font (printed type, with a warning).
        min_chars, max_chars: length range of a text line.
        workers: rendering processes.

    Raises:
        ConfigError: bad argument, a missing font file, or ``out_dir`` exists but
            is not a complete corpus generated with these parameters.
    """
    _validate(num_train, num_val, num_test, height, workers)
    out_dir = Path(out_dir)
    font_list = resolve_fonts(fonts)
    params = {
        "generator": "seqlab.synthetic_handwriting/1",
        "num_train": num_train,
        "num_val": num_val,
        "num_test": num_test,
        "height": height,
        "seed": seed,
        "min_chars": min_chars,
        "max_chars": max_chars,
        "fonts": font_fingerprint(font_list),
    }
    if is_complete(out_dir, params):
        log.info("%s is already complete, not regenerating", out_dir)
        return out_dir

    start = time.perf_counter()
    split_sizes = {"train": num_train, "val": num_val, "test": num_test}
    texts = _distinct_lines(sum(split_sizes.values()), seed, min_chars, max_chars)
    ids = _assign_ids(split_sizes, np.random.default_rng([seed, 0]))
    by_split = {s: {t for (split, _, _), t in zip(ids, texts) if split == s} for s in split_sizes}
    assert not by_split["train"] & (by_split["val"] | by_split["test"]), "a held-out text is in training"

    def build(tmp: Path) -> dict:
        jobs = []
        for index, (_, line_id, _) in enumerate(ids):
            form = line_id.rsplit("-", 1)[0]
            folder = tmp / "lines" / form[:3] / form
            folder.mkdir(parents=True, exist_ok=True)
            jobs.append((index, texts[index], str(folder / f"{line_id}.png")))
        render = partial(_render_to_file, fonts=tuple(font_list), height=height, seed=seed)
        metas = _render_all(jobs, render, workers)
        _write_text_files(tmp, ids, texts, metas, seed)
        # No timings in the marker: the whole corpus, marker included, is reproducible.
        return {"lines": len(texts), "forms": len({i.rsplit("-", 1)[0] for _, i, _ in ids})}

    build_atomically(out_dir, params, build)
    elapsed = time.perf_counter() - start
    log.info("wrote %d lines to %s in %.1f s (%.0f lines/s)", len(texts), out_dir, elapsed, len(texts) / elapsed)
    return out_dir
