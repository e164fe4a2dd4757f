"""Edit operations between a reference and a hypothesis, and what they add up to.

The alignment is rapidfuzz's Levenshtein alignment (``editops`` / ``opcodes``),
which works on any sequences of hashables: characters, words or phones. Its
number of operations is the edit distance, so ``S + D + I`` of an alignment
equals the errors counted by :mod:`seqlab.metrics`. When several minimal
alignments exist, how the errors divide into S, D and I depends on the one
chosen; ``D - I`` is always ``len(ref) - len(hyp)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

EQUAL, SUBSTITUTE, DELETE, INSERT = "equal", "replace", "delete", "insert"


@dataclass(frozen=True)
class Edits:
    """Error counts of one aligned pair (or of a sum of pairs)."""

    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    ref_length: int = 0

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self) -> float:
        return self.errors / self.ref_length if self.ref_length else float("nan")

    def __add__(self, other: Edits) -> Edits:
        return Edits(
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
            self.ref_length + other.ref_length,
        )

    def to_dict(self) -> dict:
        return {
            "edits": self.errors, "ref_length": self.ref_length, "substitutions": self.substitutions,
            "deletions": self.deletions, "insertions": self.insertions,
        }


def count_edits(ref: Sequence[Hashable], hyp: Sequence[Hashable]) -> Edits:
    """S, D and I of the minimal alignment of ``hyp`` against ``ref``."""
    tags = Counter(op.tag for op in Levenshtein.editops(ref, hyp))
    return Edits(tags[SUBSTITUTE], tags[DELETE], tags[INSERT], len(ref))


def total(edits: Iterable[Edits]) -> Edits:
    out = Edits()
    for e in edits:
        out = out + e
    return out


def aligned_pairs(ref: Sequence[Hashable], hyp: Sequence[Hashable]) -> list[tuple[Hashable | None, Hashable | None]]:
    """Every aligned position as ``(ref unit, hyp unit)``: a match or substitution pairs two
    units, a deletion is ``(unit, None)``, an insertion ``(None, unit)``."""
    pairs: list[tuple[Hashable | None, Hashable | None]] = []
    for op in Levenshtein.opcodes(ref, hyp):
        r, h = ref[op.src_start:op.src_end], hyp[op.dest_start:op.dest_end]
        if op.tag in (EQUAL, SUBSTITUTE):  # blocks of equal length, position by position
            pairs.extend(zip(r, h))
        elif op.tag == DELETE:
            pairs.extend((u, None) for u in r)
        else:
            pairs.extend((None, u) for u in h)
    return pairs


def confusions(pairs: Iterable[tuple[Hashable | None, Hashable | None]]) -> Counter:
    """Counts of the errors among aligned pairs: ``(ref, hyp)`` for substitutions,
    ``(ref, None)`` for deletions, ``(None, hyp)`` for insertions; matches left out."""
    return Counter((r, h) for r, h in pairs if r != h)


@dataclass(frozen=True)
class Segment:
    """A run of the alignment: ``tag`` is equal, replace, delete or insert."""

    tag: str
    ref: tuple
    hyp: tuple


def segments(ref: Sequence[Hashable], hyp: Sequence[Hashable]) -> list[Segment]:
    """The alignment as runs, for marking differences in a report."""
    return [
        Segment(op.tag, tuple(ref[op.src_start:op.src_end]), tuple(hyp[op.dest_start:op.dest_end]))
        for op in Levenshtein.opcodes(ref, hyp)
    ]
