"""Line folders (image + .gt.txt) and the splits every document reader shares."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from seqlab.data.readers.documents import random_split, split_counts
from seqlab.data.readers.line_folder import LineFolderReader, read_ground_truth
from seqlab.errors import ConfigError


def line(folder: Path, name: str, text: str | bytes | None, image: str = ".png") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    Image.new("L", (60, 20), 230).save(folder / f"{name}{image}")
    if text is not None:
        data = text if isinstance(text, bytes) else text.encode()
        (folder / f"{name.split('.')[0] if image == '.png' and '.' in name else name}.gt.txt").write_bytes(data)


def corpus(root: Path, folders: int = 5, per: int = 3) -> Path:
    for f in range(folders):
        for k in range(per):
            line(root / f"book{f}", f"{k:04d}", f"book {f} line {k}\n")
    return root


def test_pairs_quirks_and_skips(tmp_path: Path, caplog):
    root = corpus(tmp_path / "c")
    d = root / "book0"
    line(d, "0100.bin", "ocropus name\r\n")  # 0100.bin.png + 0100.gt.txt
    line(d, "0101", None)  # no transcription
    (d / "0102.gt.txt").write_text("no image")
    line(d, "0103", "two\nlines\n")
    line(d, "0104", b"\xff\xfe latin-1?")
    line(d, "0105", "\n")
    with caplog.at_level(logging.WARNING, logger="seqlab.data"):
        reader = LineFolderReader(str(root), split_fractions=(1.0, 0.0, 0.0))
        records = reader.read("train")
    by_id = {r.id: r for r in records}
    assert by_id["book0/0100.bin"].text == "ocropus name"
    assert by_id["book0/0000"].text == "book 0 line 0" and by_id["book0/0000"].group == "book0"
    assert len(records) == 16
    text = caplog.text
    assert "skipped 5 item(s)" in text
    for needle in ("0101.png: no 0101.gt.txt beside it", "0102.gt.txt: no line image", "0103.gt.txt: holds 2 lines",
                   "0104.gt.txt: not UTF-8", "0105.gt.txt: empty"):
        assert needle in text


def test_random_split_keeps_folders_together_and_is_seeded(tmp_path: Path):
    root = corpus(tmp_path / "c", folders=10)
    a = {s: LineFolderReader(str(root), split_seed=1).read(s) for s in ("train", "val", "test")}
    groups = {s: {r.group for r in rs} for s, rs in a.items()}
    assert len(groups["val"]) == 1 and len(groups["test"]) == 1 and len(groups["train"]) == 8
    assert not groups["train"] & groups["test"]
    b = {s: LineFolderReader(str(root), split_seed=1).read(s) for s in ("train", "val", "test")}
    assert {s: [r.id for r in rs] for s, rs in a.items()} == {s: [r.id for r in rs] for s, rs in b.items()}
    c = LineFolderReader(str(root), split_seed=2).read("test")
    assert [r.id for r in c] != [r.id for r in a["test"]]


def test_a_flat_folder_is_split_by_line_and_says_so(tmp_path: Path, caplog):
    for k in range(10):
        line(tmp_path, f"{k:03d}", f"text {k}")
    with caplog.at_level(logging.WARNING, logger="seqlab.data"):
        reader = LineFolderReader(str(tmp_path))
        sizes = [len(reader.read(s)) for s in ("train", "val", "test")]
    assert sizes == [8, 1, 1] and "the random split is by line" in caplog.text


def test_list_files_by_folder_line_id_or_file_name(tmp_path: Path, caplog):
    root = corpus(tmp_path / "c")
    (root / "train.txt").write_text("\ufeff# pages\nbook0\nbook1/\nbook2\n")
    (root / "val.txt").write_text("book3/0000\nbook3/0001.png\nnothing\n")
    (root / "test.txt").write_text("book4\n")
    with caplog.at_level(logging.WARNING, logger="seqlab.data"):
        reader = LineFolderReader(str(root), train_list="train.txt", val_list="val.txt", test_list="test.txt")
        sizes = {s: len(reader.read(s)) for s in ("train", "val", "test")}
    assert sizes == {"train": 9, "val": 2, "test": 3}
    assert "val.txt:3: 'nothing' is no page or line" in caplog.text
    (root / "test.txt").write_text("book4\nbook0/0001\n")
    with pytest.raises(ConfigError, match=r"test.txt:2: book0/0001 is also in the train list"):
        LineFolderReader(str(root), train_list="train.txt", val_list="val.txt", test_list="test.txt").read("test")
    with pytest.raises(ConfigError, match="split list not found"):
        LineFolderReader(str(root), train_list="gone.txt").read("train")


def test_bad_split_fractions_are_refused_at_once(tmp_path: Path):
    with pytest.raises(ConfigError, match="split_fractions must be three non-negative numbers"):
        LineFolderReader(str(tmp_path), split_fractions=(0.5, 0.6, 0.1))


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 500), val=st.floats(0, 0.5), seed=st.integers(0, 2**31))
def test_split_counts_add_up_and_train_is_never_empty(n: int, val: float, seed: int):
    fractions = (1 - val - val / 2, val, val / 2)
    counts = split_counts(n, fractions)
    assert sum(counts) == n and counts[0] >= 1 and min(counts) >= 0
    keys = [f"p{i}" for i in range(n)]
    split = random_split(keys, seed, fractions)
    assert split == random_split(list(reversed(keys)), seed, fractions)  # not the order given, only the seed


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=200))
def test_any_ground_truth_bytes_give_text_or_a_named_problem(tmp_path_factory, data: bytes):
    path = tmp_path_factory.mktemp("gt") / "x.gt.txt"
    path.write_bytes(data)
    text, problem = read_ground_truth(path)
    assert (text is None) != (problem is None)
    if problem:
        assert str(path) in problem
    else:
        assert "\n" not in text and text == text.strip() and text
