"""S/D/I counts, confusions and diff segments on cases worked out by hand."""

from __future__ import annotations

import pytest

from seqlab.report.alignment import Edits, aligned_pairs, confusions, count_edits, segments, total


@pytest.mark.parametrize(
    ("ref", "hyp", "s", "d", "i"),
    [
        ("the cat sat".split(), "the cat sat".split(), 0, 0, 0),
        ("the cat sat".split(), "the bat sat".split(), 1, 0, 0),
        ("the cat sat".split(), "the sat".split(), 0, 1, 0),
        ("the cat sat".split(), "the cat sat down".split(), 0, 0, 1),
        ("the cat sat".split(), [], 0, 3, 0),
        ([], "a b".split(), 0, 0, 2),
        # one substitution and one insertion, the minimal 2 edits
        ("the cat sat".split(), "the bat sat down".split(), 1, 0, 1),
        (list("kitten"), list("sitting"), 2, 0, 1),
        (list("abc"), list("xyz"), 3, 0, 0),
        # phones: 'ah' dropped, 'k' replaced by 'g', 'sil' added at the end
        ["sil dh ah k ae t".split(), "sil dh g ae t sil".split(), 1, 1, 1],
    ],
)
def test_counts_on_hand_cases(ref, hyp, s, d, i):
    e = count_edits(ref, hyp)
    assert (e.substitutions, e.deletions, e.insertions) == (s, d, i)
    assert e.ref_length == len(ref)
    assert e.errors == s + d + i


def test_rate_and_sums():
    a, b = Edits(1, 0, 2, 10), Edits(0, 3, 0, 5)
    assert total([a, b]) == Edits(1, 3, 2, 15)
    assert total([a, b]).rate == pytest.approx(6 / 15)
    assert Edits(0, 0, 1, 0).rate != Edits(0, 0, 1, 0).rate  # nan: no reference units
    assert a.to_dict() == {"edits": 3, "ref_length": 10, "substitutions": 1, "deletions": 0, "insertions": 2}


def test_aligned_pairs_and_confusions():
    ref, hyp = "the cat sat".split(), "the bat sat down".split()
    assert aligned_pairs(ref, hyp) == [("the", "the"), ("cat", "bat"), ("sat", "sat"), (None, "down")]
    assert confusions(aligned_pairs(ref, hyp)) == {("cat", "bat"): 1, (None, "down"): 1}
    assert confusions(aligned_pairs(list("aab"), list("b"))) == {("a", None): 2}


def test_segments_cover_both_sides():
    ref, hyp = list("the cat"), list("te bat!")
    segs = segments(ref, hyp)
    assert [u for s in segs for u in s.ref] == ref
    assert [u for s in segs for u in s.hyp] == hyp
    tags = {s.tag for s in segs}
    assert tags <= {"equal", "replace", "delete", "insert"} and "equal" in tags
