"""Damaged copies of a valid document, for the parsers' property-based tests."""

from __future__ import annotations

from hypothesis import strategies as st


def damaged(valid: bytes, cut: int, flips: list[tuple[int, int]]) -> bytes:
    """``valid`` cut at ``cut`` (when past its first 20 bytes), then ``flips`` (index, byte) applied."""
    data = bytearray(valid[:cut] if cut > 20 else valid)
    for i, b in flips:
        if i < len(data):
            data[i] = b
    return bytes(data)


def damaged_copies(valid: bytes, max_flips: int = 4) -> st.SearchStrategy[bytes]:
    """Truncations of ``valid`` with up to ``max_flips`` bytes replaced."""
    flips = st.lists(st.tuples(st.integers(0, len(valid) - 1), st.integers(0, 255)), max_size=max_flips)
    return st.tuples(st.integers(0, len(valid)), flips).map(lambda t: damaged(valid, *t))
