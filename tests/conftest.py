"""Shared fixtures: tiny corpora written in the real on-disk formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFont

IAM_HEADER = """#--- lines.txt ---------------------------------------------------------------#
#
# iam database line information
#
# format: a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop|Mr.|Gaitskell|from
#
#     a01-000u-00  -> line id for form a01-000u
#     ok              -> result of word segmentation
#     154             -> graylevel to binarize the line
#     19              -> number of components for this line
#     408 746 1661 89 -> bounding box around this line in x,y,w,h format
#
#     A|MOVE|to|stop|Mr.|Gaitskell|from -> transcription for this line. word tokens are separated by the character |
#
"""


def render_line(text: str, height: int = 32, seed: int = 0) -> Image.Image:
    """Dark text on light paper, grey-level, like an IAM line scan."""
    font = ImageFont.load_default(size=height - 8)
    w = int(font.getlength(text)) + 16
    img = Image.new("L", (w, height), color=235)
    ImageDraw.Draw(img).text((8, 2), text, fill=30, font=font)
    noise = np.random.default_rng(seed).normal(0, 4, (height, w))
    return Image.fromarray(np.clip(np.asarray(img, dtype=np.float64) + noise, 0, 255).astype(np.uint8))


def write_iam(root: Path, lines: dict[str, list[tuple[str, str]]], height: int = 32, extra_rows: list[str] = ()) -> Path:
    """Write an IAM-layout corpus: ``lines`` maps split -> [(line id, text with spaces)]."""
    rows = [IAM_HEADER.rstrip("\n")]
    lists = {"train": "trainset.txt", "val": "validationset1.txt", "test": "testset.txt"}
    for split, items in lines.items():
        for n, (line_id, text) in enumerate(items):
            form = line_id.rsplit("-", 1)[0]
            folder = root / "lines" / line_id[:3] / form
            folder.mkdir(parents=True, exist_ok=True)
            render_line(text, height, seed=n).save(folder / f"{line_id}.png")
            status = "err" if n % 3 == 2 else "ok"
            rows.append(f"{line_id} {status} 154 19 408 746 1661 89 {text.replace(' ', '|')}")
        (root / lists[split]).write_text("".join(f"{i}\n" for i, _ in items))
    rows.extend(extra_rows)
    (root / "ascii").mkdir(parents=True, exist_ok=True)
    (root / "ascii" / "lines.txt").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture
def tiny_iam(tmp_path: Path) -> Path:
    words = ["the cat", "a dog ran", "to stop", "red box", "go home", "it is", "we sat", "on top"]
    splits = {
        "train": [(f"a01-000u-{i:02d}", words[i % len(words)]) for i in range(12)],
        "val": [("b02-001-00", "the dog"), ("b02-001-01", "a cat")],
        "test": [("c03-002x-00", "red top"), ("c03-002x-01", "we ran")],
    }
    return write_iam(tmp_path / "iam", splits)


@pytest.fixture(autouse=True)
def _torch_threads():
    torch.manual_seed(0)
    yield


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Corpora, features and prepared images of the test session go to a temporary
    folder (``SEQLAB_CACHE``, which the configs read), never to the user's cache."""
    import os

    old = os.environ.get("SEQLAB_CACHE")
    os.environ["SEQLAB_CACHE"] = str(tmp_path_factory.mktemp("seqlab-cache"))
    yield
    if old is None:
        os.environ.pop("SEQLAB_CACHE", None)
    else:
        os.environ["SEQLAB_CACHE"] = old
