"""Alphabets / symbol tables. The CTC blank (index 0) is defined here only."""

from seqlab.text.alphabet import BLANK, BLANK_SYMBOL, Alphabet, split_units

__all__ = ["BLANK", "BLANK_SYMBOL", "Alphabet", "split_units"]
