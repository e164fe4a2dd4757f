"""eSpeak NG's phonemes as TIMIT segments: the IPA -> 61-label map and the timing.

eSpeak NG's library reports each phoneme (in IPA) and the sample it starts at
(:mod:`seqlab.data.espeak`). :func:`timit_segments` turns that into a TIMIT
``.PHN`` segmentation: every IPA phoneme maps to one or two of TIMIT's 61
labels by :data:`IPA_TO_TIMIT` (its comments give the reasons); as TIMIT does,
stops and affricates get a closure label before the release (``t`` ->
``tcl t``, ``tʃ`` -> ``tcl ch``; the closure takes the first 60 % of eSpeak's
segment), leading and trailing silence is ``h#`` and a pause inside the
sentence is ``pau``. :func:`word_segments` does the same for ``.WRD``.
"""

from __future__ import annotations

import string

from seqlab.data.espeak import Speech, WordEvent
from seqlab.errors import DataFormatError
from seqlab.text.phones import TIMIT_PHONES_61

# eSpeak NG IPA phoneme -> TIMIT labels. Covers every phoneme the accents of
# seqlab.data.synthetic_speech.ACCENTS produce for seqlab.data.english text
# (checked on 400 sentences per accent). Stops and affricates are
# expanded to closure + release elsewhere (_CLOSURES).
IPA_TO_TIMIT: dict[str, tuple[str, ...]] = {
    # consonants
    **{k: (v,) for k, v in {
        "p": "p", "b": "b", "t": "t", "t̪": "t", "d": "d", "k": "k", "ɡ": "g",
        "tʃ": "ch", "dʒ": "jh",
        "f": "f", "v": "v", "θ": "th", "ð": "dh", "s": "s", "z": "z", "ʃ": "sh", "ʒ": "zh",
        "h": "hh", "x": "hh", "ç": "hh",
        "m": "m", "n": "n", "ŋ": "ng",
        "n̩": "en", "m̩": "em", "əl": "el", "l̩": "el",  # syllabic consonants
        "l": "l", "ɫ": "l", "ɹ": "r", "r": "r", "w": "w", "ʍ": "w", "j": "y",
        "ʲ": "y",  # palatal glide written as a modifier (Scottish "new")
        "ɾ": "dx",  # American flap ("better")
        "ʔ": "q",  # glottal stop ("button"); q is deleted in scoring
    }.items()},
    # monophthongs
    **{k: (v,) for k, v in {
        "iː": "iy", "i": "iy", "ɪ": "ih", "ᵻ": "ix", "e": "eh", "ɛ": "eh", "æ": "ae",
        "a": "ae", "aa": "ae",  # TRAP/BATH in British and Caribbean voices
        "ɑː": "aa", "ɑ": "aa", "aː": "aa", "a:": "aa", "ɒ": "aa",  # LOT has no TIMIT label of its own
        "ɔː": "ao", "ɔ": "ao",
        "ʌ": "ah", "ɐ": "ah", "ə": "ax",
        "ɚ": "axr", "əɹ": "axr", "ɜː": "er", "ɜ": "er", "ɝ": "er",
        "ʊ": "uh", "uː": "uw", "u": "uw", "ʉ": "ux", "ʉː": "ux",
    }.items()},
    # diphthongs
    **{k: (v,) for k, v in {
        "eɪ": "ey", "eː": "ey", "ei": "ey",
        "aɪ": "ay", "əɪ": "ay", "ɔɪ": "oy", "oɪ": "oy", "aʊ": "aw", "æʊ": "aw",
        "oʊ": "ow", "əʊ": "ow", "oː": "ow", "o": "ow", "əu": "ow", "ʌʊ": "ow", "ʌʉ": "ow",
    }.items()},
    # vowel + r (rhotic accents) and centring diphthongs (non-rhotic): two TIMIT labels
    "ɛɹ": ("eh", "r"), "ɑːɹ": ("aa", "r"), "ɔːɹ": ("ao", "r"), "oːɹ": ("ao", "r"),
    "ɪɹ": ("ih", "r"), "ʊɹ": ("uh", "r"), "ʌɹ": ("ah", "r"), "ʉɹ": ("ux", "r"), "aɪɚ": ("ay", "axr"),
    "iə": ("ih", "ax"), "eə": ("eh", "ax"), "ɛə": ("eh", "ax"), "ʊə": ("uh", "ax"),
    "aɪə": ("ay", "ax"), "aʊə": ("aw", "ax"), "ɑə": ("aa", "ax"), "oə": ("ow", "ax"), "ɔə": ("ao", "ax"),
}
_CLOSURES = {"p": "pcl", "b": "bcl", "t": "tcl", "d": "dcl", "k": "kcl", "g": "gcl", "ch": "tcl", "jh": "dcl"}
CLOSURE_FRACTION = 0.6
assert all(p in TIMIT_PHONES_61 for labels in IPA_TO_TIMIT.values() for p in labels)


def ipa_to_timit(ipa: str, where: str = "") -> tuple[str, ...]:
    """TIMIT labels of one eSpeak phoneme; an unlisted one is split into listed parts.

    Raises:
        DataFormatError: when no split into listed phonemes exists.
    """
    if ipa in IPA_TO_TIMIT:
        return IPA_TO_TIMIT[ipa]
    for cut in range(len(ipa) - 1, 0, -1):  # longest known prefix first
        if ipa[:cut] in IPA_TO_TIMIT:
            try:
                return IPA_TO_TIMIT[ipa[:cut]] + ipa_to_timit(ipa[cut:], where)
            except DataFormatError:
                continue
    raise DataFormatError(
        f"{where}: eSpeak phoneme {ipa!r} has no TIMIT label; add it to "
        "seqlab.data.espeak_phones.IPA_TO_TIMIT"
    )


def timit_segments(speech: Speech, lead: int, where: str = "") -> list[tuple[int, str]]:
    """(start sample, label) of every TIMIT segment, at eSpeak's rate, ``lead`` samples of
    silence added in front; ``h#`` first, then phones and ``pau``, then the trailing ``h#``."""
    segments: list[tuple[int, str]] = [(0, "h#")]
    events = list(speech.phonemes)
    ends = [e.sample for e in events[1:]] + [len(speech.samples)]
    for event, end in zip(events, ends):
        start = lead + event.sample
        if event.ipa == "":
            if segments[-1][1] not in ("h#", "pau"):
                segments.append((start, "pau"))
            continue
        labels = ipa_to_timit(event.ipa, where)
        width = (end - event.sample) / len(labels)
        for k, label in enumerate(labels):
            t = start + round(k * width)
            if label in _CLOSURES:  # TIMIT marks a stop's closure and its release
                segments.append((t, _CLOSURES[label]))
                t += round(width * CLOSURE_FRACTION)
            segments.append((t, label))
    if segments[-1][1] == "pau":
        segments[-1] = (segments[-1][0], "h#")
    else:
        segments.append((lead + len(speech.samples), "h#"))
    return segments


def word_segments(speech: Speech, text: str, lead: int) -> list[tuple[int, int, str]]:
    """(start, end, word) at eSpeak's rate: a word ends where the next word or a pause starts.
    Words eSpeak speaks from one written token ("1848") share that token's segment."""
    phonemes = speech.phonemes
    out: list[tuple[int, int, str]] = []
    spans: list[WordEvent] = []
    for w in speech.words:
        if not spans or (w.start, w.length) != (spans[-1].start, spans[-1].length):
            spans.append(w)
    for i, w in enumerate(spans):
        after = spans[i + 1].sample if i + 1 < len(spans) else len(speech.samples)
        sounds = [p for p in phonemes if w.sample <= p.sample < after]
        speaking = [p for p in sounds if p.ipa]
        if not speaking:
            continue
        start = speaking[0].sample
        pause = next((p.sample for p in sounds if not p.ipa and p.sample > start), after)
        word = text[w.start: w.start + w.length].strip(string.punctuation).lower()
        if word:
            out.append((lead + start, lead + min(pause, after), word))
    return out
