"""TIMIT reader, split and 39-phone scoring, on a tiny tree in TIMIT's real formats."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from seqlab.data import TIMITDataModule
from seqlab.data.readers.timit import CORE_TEST_SPEAKERS, DEV_SPEAKERS, read_phn, scan_timit
from seqlab.errors import ConfigError, DataFormatError
from seqlab.metrics import corpus_error_rate, splitter
from seqlab.text.phones import TIMIT_PHONES_39, TIMIT_PHONES_61, fold_39
from tests.data.speech_corpora import PHONES_A, make_timit, write_sphere, write_timit_utterance


@pytest.fixture
def timit(tmp_path: Path) -> tuple[Path, dict]:
    root = tmp_path / "timit"
    return root, make_timit(root)


def records(dm: TIMITDataModule, split: str) -> dict[str, str]:
    return {r.id: r.text for r in dm.read_split(split)}


def test_reader_yields_the_standard_split_with_61_phone_targets(timit):
    root, expected = timit
    dm = TIMITDataModule(str(root))
    for split in ("train", "val", "test"):
        assert records(dm, split) == expected[split], split
    assert records(TIMITDataModule(str(root), test_set="full"), "test") == expected["full"]
    train = dm.read_split("train")
    assert {r.group for r in train} == {"FCJF0", "MARC0", "MDPK0"}
    assert all(r.where.lower().endswith(".phn") for r in train)


def test_sphere_and_riff_and_the_wav_wav_quirk(timit):
    root, _ = timit
    by_id = {r.id: r for r in TIMITDataModule(str(root)).read_split("train")}
    # X.WAV (SPHERE) is preferred over its RIFF copy X.WAV.wav ...
    assert by_id["MDPK0/SI1"].source.endswith("SI1.WAV")
    assert open(by_id["MDPK0/SI1"].source, "rb").read(7) == b"NIST_1A"
    # ... unless X.WAV cannot be read
    assert by_id["MDPK0/SX2"].source.endswith("SX2.WAV.wav")
    assert sf.info(by_id["MARC0/SI818"].source).format == "WAV"
    # lengths are frames of 10 ms from the header: 4800 samples -> 1 + (4800 - 400) // 160
    assert {r.length for r in by_id.values()} == {28}


def test_scan_finds_files_case_insensitively_and_keeps_sa(timit):
    root, _ = timit
    ids = {u.id for u in scan_timit(root)}
    assert {"FCJF0/SA1", "MARC0/SA2", "MARC0/SI818", "FAKS0/SA1"} <= ids
    # root may be one folder above TRAIN/ and TEST/
    assert {u.id for u in scan_timit(root.parent)} == ids


def test_explicit_speaker_lists_replace_the_standard_ones(timit):
    root, _ = timit
    dm = TIMITDataModule(str(root), dev_speakers=["mzzz0"], test_speakers=["FAKS0", "mdab0"])
    assert set(records(dm, "val")) == {"MZZZ0/SI5"}
    assert set(records(dm, "test")) == {"FAKS0/SI943", "MDAB0/SI1039", "MDAB0/SX49"}


def test_module_is_scored_by_per_over_the_61_phone_alphabet(timit):
    root, _ = timit
    dm = TIMITDataModule(str(root), batch_size=2)
    dm.setup()
    assert dm.metrics == ("per",) and dm.unit == "token"
    assert dm.alphabet.symbols == TIMIT_PHONES_61 and dm.alphabet.num_classes == 62
    batch = next(iter(dm.train_dataloader()))
    assert batch.inputs.shape[-1] == dm.feature_size == 123
    assert batch.ids[0].count("/") == 1


def test_standard_speaker_lists():
    assert len(DEV_SPEAKERS) == 50 and len(CORE_TEST_SPEAKERS) == 24
    assert not set(DEV_SPEAKERS) & set(CORE_TEST_SPEAKERS)


def test_phone_sets():
    assert len(TIMIT_PHONES_61) == 61 and len(set(TIMIT_PHONES_61)) == 61
    assert len(TIMIT_PHONES_39) == 39 and "sil" in TIMIT_PHONES_39 and "q" not in TIMIT_PHONES_39


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("h# sh iy hv ae dcl d h#", "sil sh iy hh ae sil d sil"),
        ("ao ax ax-h axr ix el em en nx eng zh ux", "aa ah ah er ih l m n n ng sh uw"),
        ("kcl k pau q epi bcl b", "sil k sil b"),  # q deleted, then the sil run merged
        ("h# pau h#", "sil"),
        ("q", ""),
        ("aa iy", "aa iy"),
    ],
)
def test_39_phone_folding(text, folded):
    assert fold_39(text) == folded.split()


def test_per_by_hand():
    per = splitter("per")
    ref = "h# dh ax kcl k ae tcl t h#"
    hyp = "h# dh ix kcl k ae h#"
    assert per(ref) == "sil dh ah sil k ae sil t sil".split()  # N = 9
    assert per(hyp) == "sil dh ih sil k ae sil".split()
    # ih for ah (S), then "t sil" deleted (2 D): 3 errors / 9 reference phones
    assert corpus_error_rate([ref], [hyp], per) == pytest.approx(3 / 9)
    # folding makes 61-set confusions inside one 39-set class free
    assert corpus_error_rate(["h# ao ix en h#"], ["pau aa ih n epi"], per) == 0.0
    # an insertion: 1 / 5
    assert corpus_error_rate(["h# s aa n h#"], ["h# s aa r n h#"], per) == pytest.approx(1 / 5)


def test_unreadable_and_zero_length_audio_are_counted_skips(timit, caplog):
    root, _ = timit
    folder = root / "TRAIN" / "DR1" / "FCJF0"
    write_timit_utterance(folder, "SI9", PHONES_A)
    write_sphere(folder / "SI9.WAV", np.zeros(0, dtype=np.int16))
    write_timit_utterance(folder, "SX8", PHONES_A)
    (folder / "SX8.WAV").write_bytes(b"\x00garbage" * 20)
    with caplog.at_level(logging.WARNING):
        got = records(TIMITDataModule(str(root)), "train")
    assert "FCJF0/SI9" not in got and "FCJF0/SX8" not in got and "FCJF0/SI1027" in got
    text = caplog.text
    assert "skipped 2 item(s)" in text
    assert "SI9.WAV: the audio holds no samples" in text
    assert "SX8.WAV: not a readable audio file" in text


def test_missing_phn_is_a_skip_with_reason(timit, caplog):
    root, _ = timit
    (root / "TRAIN" / "DR1" / "FCJF0" / "SX127.PHN").unlink()
    with caplog.at_level(logging.WARNING):
        got = records(TIMITDataModule(str(root)), "train")
    assert "FCJF0/SX127" not in got
    assert "SX127.WAV: no .PHN file for FCJF0/SX127" in caplog.text


def test_unknown_phone_names_file_and_line(timit):
    root, _ = timit
    phn = root / "TRAIN" / "DR1" / "FCJF0" / "SI1027.PHN"
    rows = phn.read_text().splitlines()
    rows[2] = rows[2].rsplit(" ", 1)[0] + " xx"
    phn.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataFormatError, match=r"SI1027\.PHN:3: unknown phone 'xx'"):
        TIMITDataModule(str(root)).read_split("train")


@pytest.mark.parametrize(
    ("row", "message"),
    [("0 100", r":2: expected 'start end phone', got 2 field"),
     ("a 100 sh", r":2: start and end must be sample numbers"),
     ("300 100 sh", r":2: segment 300\.\.100 is not 0 <= start <= end")],
)
def test_malformed_phn_rows(tmp_path: Path, row: str, message: str):
    phn = tmp_path / "X.PHN"
    phn.write_text(f"0 10 h#\n{row}\n")
    with pytest.raises(DataFormatError, match=message):
        read_phn(phn)


def test_missing_root_and_bad_options(tmp_path: Path):
    with pytest.raises(ConfigError, match="TRAIN/ and TEST/"):
        scan_timit(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no TRAIN/ or TEST/"):
        scan_timit(tmp_path / "empty")
    with pytest.raises(ConfigError, match="test_set"):
        TIMITDataModule(str(tmp_path), test_set="all")


def test_a_copy_without_test_is_refused_before_training(timit):
    """Only TRAIN/: a ConfigError at setup naming the empty splits and TEST/ (it used to train a whole
    epoch, then die in early stopping on a val/per that was never logged)."""
    import shutil

    root, _ = timit
    shutil.rmtree(root / "TEST")
    dm = TIMITDataModule(str(root), batch_size=2)
    with pytest.raises(ConfigError, match=r"the val and test split\(s\) are empty.*TEST/"):
        dm.setup("fit")


def test_speakers_not_in_the_copy_leave_an_empty_split_refused(timit):
    root, _ = timit
    dm = TIMITDataModule(str(root), batch_size=2, dev_speakers=["nobody"])
    with pytest.raises(ConfigError, match=r"the val split\(s\) are empty.*dev_speakers"):
        dm.setup("fit")
