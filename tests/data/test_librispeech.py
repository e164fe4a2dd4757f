"""LibriSpeech reader on a tiny tree of FLAC files and trans.txt, in the real layout."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import soundfile as sf

from seqlab.data import LibriSpeechDataModule
from seqlab.data.readers.librispeech import ALPHABET, read_trans
from seqlab.errors import ConfigError, UnknownSymbolError
from tests.data.speech_corpora import make_librispeech


@pytest.fixture
def libri(tmp_path: Path) -> tuple[Path, dict]:
    return tmp_path / "data", make_librispeech(tmp_path / "data")


def texts(dm: LibriSpeechDataModule, split: str) -> dict[str, str]:
    return {r.id: r.text for r in dm.read_split(split)}


def test_reads_each_split_from_its_subsets(libri):
    root, expected = libri
    dm = LibriSpeechDataModule(str(root))
    assert texts(dm, "train") == expected["train-clean-100"]
    assert texts(dm, "val") == expected["dev-clean"]
    assert texts(dm, "test") == expected["test-clean"]
    r = dm.read_split("train")[0]
    assert r.group == r.id.split("-")[0] and r.source.endswith(f"{r.id}.flac")
    assert sf.info(r.source).format == "FLAC"
    assert r.length == 1 + (4000 - 400) // 160
    assert r.where.endswith(".trans.txt:1")


def test_root_may_be_the_librispeech_folder_itself(libri):
    root, expected = libri
    dm = LibriSpeechDataModule(str(root / "LibriSpeech"), train_subsets=["train-clean-100", "dev-clean"])
    assert texts(dm, "train") == {**expected["train-clean-100"], **expected["dev-clean"]}


def test_alphabet_is_fixed_and_metrics_are_cer_wer(libri):
    root, _ = libri
    dm = LibriSpeechDataModule(str(root), batch_size=2)
    dm.setup()
    assert dm.alphabet.symbols == ALPHABET and len(ALPHABET) == 28
    assert dm.metrics == ("cer", "wer")
    batch = next(iter(dm.val_dataloader()))
    assert batch.inputs.shape[-1] == 123 and batch.texts[0].isupper()


def test_trans_parsing(tmp_path: Path):
    trans = tmp_path / "19-198.trans.txt"
    trans.write_text("19-198-0000 NORTHANGER  ABBEY\n\nbad line here\n19-198-0001 THAT'S ALL\n19-198-0001 AGAIN\n")
    lines, problems = read_trans(trans)
    assert lines == {"19-198-0000": ("NORTHANGER ABBEY", f"{trans}:1"), "19-198-0001": ("THAT'S ALL", f"{trans}:4")}
    assert problems[0].startswith(f"{trans}:3: expected 'SPEAKER-CHAPTER-NNNN TRANSCRIPT'")
    assert problems[1].startswith(f"{trans}:5: 19-198-0001 is listed twice")


def test_missing_line_missing_audio_and_missing_trans_are_reported(libri, caplog):
    root, expected = libri
    chapter = root / "LibriSpeech" / "train-clean-100" / "19" / "198"
    trans = chapter / "19-198.trans.txt"
    trans.write_text(trans.read_text().replace("19-198-0001 THAT'S ALL\n", "") + "19-198-0009 NO AUDIO\n")
    (root / "LibriSpeech" / "train-clean-100" / "26" / "495" / "26-495.trans.txt").unlink()
    with caplog.at_level(logging.WARNING):
        got = texts(LibriSpeechDataModule(str(root)), "train")
    assert set(got) == {"19-198-0000", "19-198-0002"}
    log = caplog.text
    assert "skipped 3 item(s)" in log
    assert f"{chapter / '19-198-0001.flac'}: no line for 19-198-0001 in 19-198.trans.txt" in log
    assert f"{trans}:3: no audio file 19-198-0009.flac" in log
    assert "26/495: no 26-495.trans.txt in this chapter folder; its 2 .flac file(s) skipped" in log


def test_unreadable_flac_is_skipped(libri, caplog):
    root, _ = libri
    bad = root / "LibriSpeech" / "dev-clean" / "84" / "121123" / "84-121123-0000.flac"
    bad.write_bytes(b"fLaC but not really")
    with caplog.at_level(logging.WARNING):
        got = texts(LibriSpeechDataModule(str(root)), "val")
    assert "84-121123-0000" not in got and "84-121123-0001" in got
    assert f"{bad}: not a readable audio file" in caplog.text


def test_symbols_outside_the_alphabet_stop_before_training(libri):
    root, _ = libri
    trans = root / "LibriSpeech" / "test-clean" / "1089" / "134686" / "1089-134686.trans.txt"
    trans.write_text(trans.read_text().replace("STEW", "STEW!"))
    dm = LibriSpeechDataModule(str(root))
    with pytest.raises(UnknownSymbolError, match=r"1089-134686\.trans\.txt:1 .*'!'"):
        dm.setup()


def test_unknown_subset_is_a_config_error(libri):
    root, _ = libri
    with pytest.raises(ConfigError, match="subset 'train-other-500' not found.*train-clean-100"):
        LibriSpeechDataModule(str(root), train_subsets=["train-other-500"]).read_split("train")
    with pytest.raises(ConfigError, match="non-empty list"):
        LibriSpeechDataModule(str(root), val_subsets=[])
