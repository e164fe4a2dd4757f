"""Byte-order marks: every text input reads the same with and without one."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

BOM = codecs.BOM_UTF8


def write(path: Path, text: str) -> Path:
    path.write_bytes(BOM + text.encode("utf-8"))
    return path


def test_split_list_keeps_its_first_id(tmp_path: Path):
    from seqlab.data.readers.iam import read_id_list

    assert read_id_list(write(tmp_path / "trainset.txt", "a01-000u-00\na01-000u-01\n")) == ["a01-000u-00", "a01-000u-01"]


def test_lines_txt_keeps_its_first_row(tmp_path: Path):
    from seqlab.data.readers.iam import read_lines_txt

    lines, problems = read_lines_txt(write(tmp_path / "lines.txt", "a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE\n"))
    assert list(lines) == ["a01-000u-00"] and problems == []


def test_librispeech_transcript_keeps_its_first_utterance(tmp_path: Path):
    from seqlab.data.readers.librispeech import read_trans

    lines, problems = read_trans(write(tmp_path / "19-198.trans.txt", "19-198-0000 NORTHANGER ABBEY\n"))
    assert list(lines) == ["19-198-0000"] and problems == []


def test_timit_phn_first_row_parses(tmp_path: Path):
    from seqlab.data.readers.timit import read_phn

    phones = read_phn(write(tmp_path / "SI1027.PHN", "0 3050 h#\n3050 4559 sh\n"))
    assert [p.label for p in phones] == ["h#", "sh"]


def test_lexicon_first_word(tmp_path: Path):
    from seqlab.decode.lexicon import TokenSet, read_lexicon
    from seqlab.text import Alphabet

    lex = read_lexicon(write(tmp_path / "words.txt", "ab\nba\n"), TokenSet(Alphabet(("a", "b", " "))))
    assert set(lex) == {"ab", "ba"}


def test_lm_text_first_word(tmp_path: Path):
    from seqlab.cli.build_lm import read_text

    assert read_text(str(write(tmp_path / "corpus.txt", "the cat\n"))) == ["the cat"]


@pytest.mark.parametrize("data", [b"", BOM, BOM + b"x", b"x" + BOM])
def test_only_a_leading_bom_goes(data: bytes):
    from seqlab.text.files import without_bom

    assert without_bom(data) == (data[3:] if data.startswith(BOM) else data)
