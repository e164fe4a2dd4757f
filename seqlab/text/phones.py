"""TIMIT's phone sets: the 61 labels of the ``.PHN`` files and the 39 scored ones.

Models are trained on the 61 labels and scored on 39 after the folding of Lee
and Hon (1989), as Graves et al. (2013) and the Kaldi, ESPnet and SpeechBrain
recipes do:

=========================================  =========
61-set label(s)                            scored as
=========================================  =========
ao                                         aa
ax, ax-h                                   ah
axr                                        er
hv                                         hh
ix                                         ih
el                                         l
em                                         m
en, nx                                     n
eng                                        ng
zh                                         sh
ux                                         uw
bcl dcl gcl pcl tcl kcl h# pau epi         sil
q (glottal stop)                           deleted
=========================================  =========

Every other label is scored as itself. After folding, a run of consecutive
``sil`` is merged into one (:func:`fold_39`): a pause followed by a stop
closure (``pau bcl b``) is one silence acoustically, and whether a recogniser
writes it as one or two labels is a labelling convention, not an error. The
reference and the hypothesis are folded alike, so PER = (S + D + I) / N with N
the reference's phones after folding and merging.
"""

from __future__ import annotations

from collections.abc import Sequence

# The 61 labels of TIMIT's .PHN files, in the order of the TIMIT documentation
# (phoncode.doc): stops, closures, affricates, fricatives, nasals, semivowels
# and glides, vowels, others. This order is the class order of the alphabet.
TIMIT_PHONES_61: tuple[str, ...] = (
    "b", "d", "g", "p", "t", "k", "dx", "q",
    "bcl", "dcl", "gcl", "pcl", "tcl", "kcl",
    "jh", "ch",
    "s", "sh", "z", "zh", "f", "th", "v", "dh",
    "m", "n", "ng", "em", "en", "eng", "nx",
    "l", "r", "w", "y", "hh", "hv", "el",
    "iy", "ih", "eh", "ey", "ae", "aa", "aw", "ay", "ah", "ao",
    "oy", "ow", "uh", "uw", "ux", "er", "ax", "ix", "axr", "ax-h",
    "pau", "epi", "h#",
)

SILENCE = "sil"

# Lee & Hon (1989) 61 -> 39; labels not listed map to themselves, "q" is deleted.
TIMIT_FOLD_39: dict[str, str | None] = {
    "ao": "aa", "ax": "ah", "ax-h": "ah", "axr": "er", "hv": "hh", "ix": "ih",
    "el": "l", "em": "m", "en": "n", "nx": "n", "eng": "ng", "zh": "sh", "ux": "uw",
    **{label: SILENCE for label in ("bcl", "dcl", "gcl", "pcl", "tcl", "kcl", "h#", "pau", "epi")},
    "q": None,
}

TIMIT_PHONES_39: tuple[str, ...] = tuple(
    dict.fromkeys(TIMIT_FOLD_39.get(p, p) for p in TIMIT_PHONES_61 if TIMIT_FOLD_39.get(p, p) is not None)
)


def fold_phones(phones: Sequence[str]) -> list[str]:
    """61-set labels -> 39-set labels: folded, ``q`` deleted, ``sil`` runs merged.

    A label outside the 61 set is kept as it is (it then counts as an error
    against any reference).
    """
    out: list[str] = []
    for p in phones:
        folded = TIMIT_FOLD_39.get(p, p)
        if folded is None:
            continue
        if folded == SILENCE and out and out[-1] == SILENCE:
            continue
        out.append(folded)
    return out


def fold_39(text: str) -> list[str]:
    """A space-separated 61-set transcription -> its 39-set phones (the PER units)."""
    return fold_phones(text.split())
