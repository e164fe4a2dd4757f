"""Text normalisation through the data pipeline: references, alphabet and checkpoint data in one form."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from PIL import Image

from seqlab.data import LineFolderDataModule


def line_corpus(root: Path, texts: dict[str, list[str]]) -> Path:
    for folder, rows in texts.items():
        (root / folder).mkdir(parents=True)
        for k, text in enumerate(rows):
            Image.new("L", (40 + 8 * len(text), 24), 230).save(root / folder / f"{k}.png")
            (root / folder / f"{k}.gt.txt").write_text(text + "\n", encoding="utf-8")
    return root


def split_lists(root: Path) -> dict[str, str]:
    """Folder a is training, b validation, c test."""
    lists = {}
    for split, folder in (("train", "a"), ("val", "b"), ("test", "c")):
        (root / f"{split}.txt").write_text(folder + "\n")
        lists[f"{split}_list"] = f"{split}.txt"
    return lists


def test_nfd_and_nfc_spellings_share_one_alphabet_and_the_checkpoint_says_which(tmp_path: Path):
    nfd = unicodedata.normalize("NFD", "café")
    root = line_corpus(tmp_path / "c", {"a": [nfd, "cafe"], "b": ["café"], "c": [nfd]})
    lists = split_lists(root)
    dm = LineFolderDataModule(str(root), height=24, num_workers=0, **lists)
    dm.setup()
    assert sorted(dm.alphabet.symbols) == sorted(set("cafeé"))
    assert [r.text for r in dm.datasets["val"].records] == ["café"] == [r.text for r in dm.datasets["test"].records]
    assert dm.checkpoint_data()["text"] == {"form": "NFC", "bidi": False}
    dm = LineFolderDataModule(str(root), height=24, num_workers=0, text_form="NFD", **lists)
    dm.setup()
    assert "\u0301" in dm.alphabet.symbols and "é" not in dm.alphabet.symbols


def test_right_to_left_references_are_learnt_in_display_order(tmp_path: Path):
    root = line_corpus(tmp_path / "c", {"a": ["שלום", "עולם"], "b": ["שלום"], "c": ["עולם"]})
    lists = split_lists(root)
    dm = LineFolderDataModule(str(root), height=24, num_workers=0, bidi=True, **lists)
    dm.setup()
    texts = {r.text for ds in dm.datasets.values() for r in ds.records}
    assert texts <= {"םולש", "םלוע"} and dm.checkpoint_data()["text"]["bidi"] is True
