"""seqlab alphabets as flashlight-text token sets, and lexicon files.

flashlight's CTC beam search (torchaudio's ``ctc_decoder``) names every output
class by a token string and needs one token as the word boundary ("silence").
:class:`TokenSet` maps a seqlab :class:`~seqlab.text.Alphabet` onto that:

- class 0, the CTC blank, is the token ``<blank>``;
- the space symbol of a character alphabet is the word separator ``|``
  (flashlight's and wav2letter's convention);
- an alphabet without a space (TIMIT's phones, unit ``token``) gets a
  *virtual* separator: one extra class that the model never emits (its
  log-probability is -1e30 on every frame). Lexicon-free decoding then never
  outputs it, and each phone is a unit of the (token-level) language model;
- any other symbol keeps its own spelling, unless it holds whitespace or
  collides with a name above: then it is written ``<U+XXXX>`` (per character).

Lexicon files (``--lexicon``), UTF-8, one entry per line; ``#`` lines and blank
lines are ignored:

- ``WORD``: one field. For character alphabets the word is spelled by its
  characters (``cat`` -> ``c a t``); for token alphabets a one-field line is a
  word made of that single token.
- ``WORD SYMBOL SYMBOL ...``: flashlight's own format, the word followed by its
  spelling in the model's symbols (``cat c a t``, or a phone spelling
  ``cat k ae t`` for TIMIT). A trailing ``|`` (wav2letter lexicons end every
  spelling with it) is dropped: the decoder puts the separator between words
  itself. Several lines may give the same word several spellings.

Words whose spelling uses a symbol the model does not know are left out, with
one warning that counts them and names the first few lines.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from seqlab.errors import ConfigError
from seqlab.text import BLANK, BLANK_SYMBOL, Alphabet
from seqlab.text.files import read_text

log = logging.getLogger(__name__)

SEPARATOR = "|"
VIRTUAL_SEPARATOR_SCORE = -1e30  # log-probability of the virtual separator: never chosen


def _escape(symbol: str) -> str:
    return "".join(f"<U+{ord(c):04X}>" for c in symbol)


@dataclass
class TokenSet:
    """Token names of an alphabet's classes for flashlight.

    Attributes:
        names: token name of every class (index = class; 0 is the blank); with
            a virtual separator, one more name at index ``alphabet.num_classes``.
        separator: class index of the word separator.
        virtual_separator: True when the separator is the extra class.
    """

    alphabet: Alphabet
    names: list[str] = field(init=False)
    separator: int = field(init=False)
    virtual_separator: bool = field(init=False)

    def __post_init__(self) -> None:
        symbols = self.alphabet.symbols
        has_space = self.alphabet.unit == "char" and " " in symbols
        reserved = {BLANK_SYMBOL, SEPARATOR}
        names = [BLANK_SYMBOL]
        for s in symbols:
            if has_space and s == " ":
                names.append(SEPARATOR)
            elif not s or any(c.isspace() for c in s) or s in reserved:
                names.append(_escape(s))
            else:
                names.append(s)
        self.virtual_separator = not has_space
        if has_space:
            self.separator = symbols.index(" ") + 1
        else:
            self.separator = len(names)
            names.append(SEPARATOR)
        self.names = names
        self._class_of_symbol = {s: i + 1 for i, s in enumerate(symbols)}

    @property
    def blank_name(self) -> str:
        return self.names[BLANK]

    @property
    def separator_name(self) -> str:
        return self.names[self.separator]

    def spell(self, symbols: Sequence[str]) -> list[str]:
        """Token names of a sequence of alphabet symbols.

        Raises:
            KeyError: naming the first symbol that is not in the alphabet.
        """
        try:
            return [self.names[self._class_of_symbol[s]] for s in symbols]
        except KeyError as e:
            raise KeyError(e.args[0]) from None


def read_lexicon(path: str | Path, tokens: TokenSet) -> dict[str, list[list[str]]]:
    """Word -> spellings (lists of token names) from a lexicon file (formats: module docstring).

    Raises:
        ConfigError: naming the file, when it is missing, not UTF-8, or holds
            no word the model can spell.
    """
    path = Path(path)
    try:
        text = read_text(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: lexicon not found") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    alphabet = tokens.alphabet
    lexicon: dict[str, list[list[str]]] = {}
    problems: list[str] = []
    for n, row in enumerate(text.splitlines(), start=1):
        fields = row.split()
        if not fields or fields[0].startswith("#"):
            continue
        word, spelling = fields[0], fields[1:]
        if spelling and spelling[-1] == SEPARATOR and SEPARATOR not in alphabet:
            spelling = spelling[:-1]
        if not spelling:
            spelling = list(word) if alphabet.unit == "char" else [word]
        try:
            names = tokens.spell(spelling)
        except KeyError as e:
            problems.append(f"{path}:{n}: {word!r}: symbol {e.args[0]!r} is not in the model's alphabet")
            continue
        spellings = lexicon.setdefault(word, [])
        if names not in spellings:
            spellings.append(names)
    if problems:
        shown = "\n  ".join(problems[:5])
        more = f"\n  ... and {len(problems) - 5} more" if len(problems) > 5 else ""
        log.warning("%s: left out %d lexicon entr%s:\n  %s%s", path, len(problems),
                    "y" if len(problems) == 1 else "ies", shown, more)
    if not lexicon:
        raise ConfigError(
            f"{path}: no word of the lexicon can be spelled with the model's {len(alphabet)} symbols; "
            "a line is WORD, or WORD followed by its spelling in the model's symbols"
        )
    return lexicon


def write_flashlight_lexicon(lexicon: dict[str, list[list[str]]], path: Path) -> None:
    """flashlight's lexicon format: ``word tok tok ...``, one spelling per line."""
    with open(path, "w", encoding="utf-8") as f:
        for word, spellings in lexicon.items():
            for spelling in spellings:
                f.write(f"{word} {' '.join(spelling)}\n")
