"""Tests of seqlab.data.english: the deterministic English line generator."""

from __future__ import annotations

import re

import pytest

from seqlab.data.english import SentenceGenerator, vocabulary
from seqlab.errors import ConfigError


def _lines(seed: int, n: int, min_chars: int = 15, max_chars: int = 45) -> list[str]:
    generator = SentenceGenerator(seed)
    return [generator.line(min_chars, max_chars) for _ in range(n)]


def test_same_seed_same_lines_other_seed_other_lines():
    assert _lines(3, 50) == _lines(3, 50)
    assert _lines(3, 50) != _lines(4, 50)


@pytest.mark.parametrize(("min_chars", "max_chars"), [(15, 45), (1, 12), (30, 30), (40, 80)])
def test_lines_respect_bounds_and_spacing(min_chars, max_chars):
    for line in _lines(0, 300, min_chars, max_chars):
        assert min_chars <= len(line) <= max_chars, line
        assert line == line.strip(), line
        assert "  " not in line, line


def test_default_bounds_are_15_to_45():
    generator = SentenceGenerator(1)
    assert all(15 <= len(generator.line()) <= 45 for _ in range(200))


def test_sentences_are_capitalised_and_punctuated():
    generator = SentenceGenerator(2)
    for _ in range(300):
        sentence = generator.sentence()
        first = sentence.lstrip("'")
        assert first[0].isupper() or first[0].isdigit(), sentence
        assert sentence.rstrip("'")[-1] in ".?!", sentence
        assert " ," not in sentence and " ." not in sentence, sentence


def test_text_has_the_features_of_written_english():
    text = " ".join(_lines(5, 1000))
    for feature in (",", ".", "?", "!", "'", "Mr."):
        assert feature in text, feature
    assert re.search(r"\d", text)
    assert re.search(r"\w'\w", text), "contractions such as can't"
    assert not re.search(r"\b[aA] (?!one)[aeio]", text), "'a' before a vowel should be 'an'"


def test_vocabulary_is_several_hundred_words_and_covers_the_text():
    words = vocabulary()
    assert len(words) >= 400
    assert words == sorted(set(words))
    assert {"the", "The", "station", "London", "Mr.", "can't", "1962"} <= set(words)
    known = set(words)
    for line in _lines(6, 1500):
        for chunk in line.split(" "):
            word = chunk.strip("'").rstrip(",?!")
            if word not in known:  # a final full stop, unless an abbreviation's
                word = word.rstrip(".")
            assert word in known, (chunk, line)


def test_bad_bounds_raise_config_error():
    generator = SentenceGenerator(0)
    with pytest.raises(ConfigError, match="min_chars"):
        generator.line(20, 10)
    with pytest.raises(ConfigError):
        generator.line(0, 10)
