import pytest

from seqlab.errors import ConfigError, UnknownSymbolError
from seqlab.text import BLANK, Alphabet


def test_blank_is_zero_and_symbols_start_at_one():
    a = Alphabet.from_texts(["ba", "ab c"])
    assert BLANK == 0
    assert a.symbols == (" ", "a", "b", "c")
    assert a.num_classes == 5
    assert a.encode("cab") == [4, 2, 3]


def test_round_trip_and_blank_dropped():
    a = Alphabet.from_texts(["hello world"])
    ids = a.encode("hello world")
    assert a.decode(ids) == "hello world"
    assert a.decode([BLANK] + ids + [BLANK]) == "hello world"


def test_token_unit_for_phones():
    a = Alphabet.from_texts(["h# sh iy h#", "aa r"], unit="token")
    assert a.symbols == ("aa", "h#", "iy", "r", "sh")
    assert a.decode(a.encode("sh iy")) == "sh iy"


def test_unknown_symbol_names_the_sample():
    a = Alphabet.from_texts(["abc"])
    with pytest.raises(UnknownSymbolError, match=r"lines.txt:7.*'z'"):
        a.encode("abz", sample="lines.txt:7")


def test_replacement_symbol():
    a = Alphabet.from_texts(["abc"], replacement="?")
    assert a.decode(a.encode("azb")) == "a?b"


def test_plain_data_round_trip():
    a = Alphabet.from_texts(["xyz"], replacement="?")
    b = Alphabet.from_dict(a.to_dict())
    assert b == a and b.encode("x?") == a.encode("x?")


@pytest.mark.parametrize("symbols", [("a", "a"), ("ab",), ("<blank>",)])
def test_bad_alphabets_refused(symbols):
    with pytest.raises(ConfigError):
        Alphabet(symbols)
