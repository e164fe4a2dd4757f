"""Alphabets / symbol tables. The CTC blank (index 0) is defined here only."""

from seqlab.text.alphabet import (
    ALPHABET_POLICIES, BLANK, BLANK_SYMBOL, Alphabet, AlphabetChange, adapt_alphabet, split_units,
)

__all__ = ["ALPHABET_POLICIES", "BLANK", "BLANK_SYMBOL", "Alphabet", "AlphabetChange", "adapt_alphabet", "split_units"]
