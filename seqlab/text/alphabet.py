"""Symbol tables for CTC.

The CTC blank is index 0, defined here and nowhere else (``BLANK``). An
:class:`Alphabet` maps the units of a transcription (characters for handwriting
and LibriSpeech, phones for TIMIT) to class indices 1..N and back, and travels
inside every checkpoint as plain data (:meth:`Alphabet.to_dict`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from seqlab.errors import ConfigError, UnknownSymbolError

BLANK = 0
BLANK_SYMBOL = "<blank>"

UNITS = ("char", "token")
# how a fine-tuned model's alphabet follows its new training data (:func:`adapt_alphabet`)
ALPHABET_POLICIES = ("fail", "union", "new")


class Alphabet:
    """An ordered set of symbols; class ``i + 1`` is ``symbols[i]``, class 0 is the blank.

    Args:
        symbols: the symbols in class order (without the blank).
        unit: ``"char"``: a transcription is a string read character by
            character (handwriting, LibriSpeech); ``"token"``: a
            whitespace-separated string of tokens (TIMIT phones).
        replacement: if set, a symbol missing from the alphabet is encoded as
            this symbol (which must be in ``symbols``) instead of raising.
    """

    # A plain class, not a dataclass: Hydra would turn a dataclass argument
    # into a config node when it is passed to ``instantiate``.
    def __init__(self, symbols: Sequence[str], unit: str = "char", replacement: str | None = None) -> None:
        if unit not in UNITS:
            raise ConfigError(f"alphabet unit must be one of {UNITS}, got {unit!r}")
        symbols = tuple(symbols)
        self.symbols = symbols
        self.unit = unit
        self.replacement = replacement
        if len(set(symbols)) != len(symbols):
            dupes = sorted(s for s, n in Counter(symbols).items() if n > 1)
            raise ConfigError(f"alphabet has duplicate symbols: {dupes}")
        if BLANK_SYMBOL in symbols:
            raise ConfigError(f"{BLANK_SYMBOL!r} is reserved for the CTC blank")
        if self.unit == "char" and any(len(s) != 1 for s in symbols):
            raise ConfigError("a character alphabet holds single characters only")
        if self.replacement is not None and self.replacement not in symbols:
            raise ConfigError(f"replacement symbol {self.replacement!r} is not in the alphabet")
        self._index = {s: i + 1 for i, s in enumerate(symbols)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Alphabet) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Alphabet({len(self.symbols)} {self.unit} symbols, replacement={self.replacement!r})"

    # construction ---------------------------------------------------------
    @classmethod
    def from_texts(
        cls, texts: Iterable[str], unit: str = "char", replacement: str | None = None
    ) -> Alphabet:
        """The alphabet of every symbol seen in ``texts``, sorted (deterministic)."""
        seen: set[str] = set()
        for text in texts:
            seen.update(split_units(text, unit))
        if replacement is not None:
            seen.add(replacement)
        return cls(tuple(sorted(seen)), unit=unit, replacement=replacement)

    def to_dict(self) -> dict:
        """Plain data (lists and strings) for a checkpoint."""
        return {"symbols": list(self.symbols), "unit": self.unit, "replacement": self.replacement}

    @classmethod
    def from_dict(cls, data: dict) -> Alphabet:
        return cls(tuple(data["symbols"]), unit=data["unit"], replacement=data.get("replacement"))

    # mapping -------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        """Output size of the CTC head: the symbols plus the blank."""
        return len(self.symbols) + 1

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, symbol: str) -> bool:
        return symbol in self._index

    def split(self, text: str) -> list[str]:
        return split_units(text, self.unit)

    def join(self, units: Sequence[str]) -> str:
        return "".join(units) if self.unit == "char" else " ".join(units)

    def encode(self, text: str, sample: str = "<unnamed>") -> list[int]:
        """Class indices (1..N) of ``text``.

        Raises:
            UnknownSymbolError: naming ``sample`` and the symbols missing, unless
                a ``replacement`` is configured.
        """
        index = self._index
        units = self.split(text)
        missing = [u for u in units if u not in index]
        if missing and self.replacement is None:
            shown = ", ".join(repr(u) for u in sorted(set(missing)))
            raise UnknownSymbolError(
                f"{sample}: symbol(s) {shown} not in the alphabet of {len(self)} symbols; "
                "add them to the training transcripts, or set data.unknown_symbols=replace "
                "(with data.replacement_symbol) or data.unknown_symbols=skip"
            )
        fallback = index.get(self.replacement) if self.replacement is not None else None
        return [index.get(u, fallback) for u in units]  # type: ignore[misc]

    def decode(self, indices: Iterable[int]) -> str:
        """Text of class indices; blanks are dropped (no CTC collapsing here)."""
        symbols = self.symbols
        return self.join([symbols[i - 1] for i in indices if i != BLANK])

    def unknown_symbols(self, text: str) -> set[str]:
        return {u for u in self.split(text) if u not in self._index}


def split_units(text: str, unit: str) -> list[str]:
    """Units of a transcription: its characters, or its whitespace-separated tokens."""
    if unit == "char":
        return list(text)
    if unit == "token":
        return text.split()
    raise ConfigError(f"alphabet unit must be one of {UNITS}, got {unit!r}")


@dataclass(frozen=True)
class AlphabetChange:
    """How a fine-tuned model's alphabet differs from its parent's.

    Attributes:
        policy: the policy that made it (:data:`ALPHABET_POLICIES`).
        added: symbols the parent lacks, in their new class order.
        removed: the parent's symbols the new alphabet drops (policy ``new``).
        unseen: the parent's symbols kept although the new training text lacks them.
    """

    policy: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unseen: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"policy": self.policy, "added": list(self.added), "removed": list(self.removed)}

    def summary(self) -> str:
        parts = [f"alphabet policy {self.policy}"]
        for name, symbols in (("added", self.added), ("removed", self.removed)):
            if symbols:
                parts.append(f"{name} {len(symbols)}: {_shown(symbols)}")
        if not self.added and not self.removed:
            parts.append("the parent's symbols unchanged")
        return "; ".join(parts)


def _shown(symbols: Sequence[str], limit: int = 40) -> str:
    text = " ".join(repr(s) for s in symbols[:limit])
    return text + (f" ... ({len(symbols) - limit} more)" if len(symbols) > limit else "")


def adapt_alphabet(parent: Alphabet, data: Alphabet, policy: str = "fail") -> tuple[Alphabet, AlphabetChange]:
    """The alphabet of a model fine-tuned from ``parent`` on data whose own alphabet is ``data``.

    Kraken's ``--resize`` policies:

    - ``fail``: the parent's alphabet, unchanged; refused when the new data has
      symbols the parent lacks (they could never be output). Symbols of the
      parent that the new data lacks are kept (the model still writes them).
    - ``union``: every symbol of the parent, in its order, then the new ones.
    - ``new``: the symbols of the new data only, in its order; the parent's
      rows of those it shares are reused (see :func:`seqlab.finetune.resize_head`).

    The replacement symbol (``unknown_symbols=replace``) is the new data's.

    Raises:
        ConfigError: on an unknown policy, a unit that differs, or (``fail``)
            new symbols, listing them and what to set instead.
    """
    if policy not in ALPHABET_POLICIES:
        raise ConfigError(f"finetune.alphabet must be one of {ALPHABET_POLICIES}, got {policy!r}")
    if parent.unit != data.unit:
        raise ConfigError(f"the parent model writes {parent.unit} units and this data has {data.unit} units; "
                          "a model cannot be fine-tuned across units")
    added = tuple(s for s in data.symbols if s not in parent)
    unseen = tuple(s for s in parent.symbols if s not in data)
    if policy == "fail":
        if added:
            raise ConfigError(
                f"the training data has {len(added)} symbol(s) the parent model lacks: {_shown(added)}; "
                "set finetune.alphabet=union (keep the parent's symbols and add these) or finetune.alphabet=new "
                "(the new data's symbols only), or data.unknown_symbols=skip to leave those lines out")
        symbols, removed = parent.symbols, ()
    elif policy == "union":
        symbols, removed = parent.symbols + added, ()
    else:
        symbols, removed, unseen = data.symbols, unseen, ()
    replacement = data.replacement
    if replacement is not None and replacement not in symbols:
        symbols, added = symbols + (replacement,), added + (replacement,)
    alphabet = Alphabet(symbols, unit=data.unit, replacement=replacement)
    return alphabet, AlphabetChange(policy, added, removed, unseen)
