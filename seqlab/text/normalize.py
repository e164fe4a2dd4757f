"""Text normalisation: one Unicode form for references, alphabets and metrics, and BiDi order for CTC.

The same letter can be written as one code point or several (NFC ``é`` is
U+00E9; NFD is ``e`` + U+0301), and corpora mix both. A model trained on one
form and scored on the other counts correct letters as errors, so every
transcription passes through one :class:`TextNormalization` before its
alphabet is built and before it is scored, and the setting is stored in the
checkpoint, so that evaluation and transcription use it too.

Right-to-left scripts (Hebrew, Arabic, Syriac...) are stored in logical order,
while CTC reads a line image from left to right. With ``bidi`` on, each
reference is reordered to display order (the order the image shows, left to
right) with the Unicode Bidirectional Algorithm (``python-bidi``), paragraph
direction right to left, before training; a decoded line is reordered back
with the same algorithm. Both directions are exact for letters and spaces of
any scripts; in rare mixes of digits and punctuation with left-to-right words
inside right-to-left text the algorithm is not its own inverse, so such a
line can come back with a neutral character moved (Kraken, which reorders the
same way, shares this).

>>> TextNormalization("NFC").to_model("e\\u0301") == "\\u00e9"
True
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass

from seqlab.errors import CheckpointError, ConfigError

FORMS = ("NFC", "NFD", "NFKC", "NFKD", "none")
BASE_DIRECTION = "R"  # the paragraph direction of a corpus read with bidi on


@dataclass(frozen=True)
class TextNormalization:
    """How transcriptions are normalised for training, scoring and output.

    Args:
        form: the Unicode normalisation form (``NFC``, the default, as Kraken
            and Calamari; ``NFD``, ``NFKC``, ``NFKD``) or ``none`` to keep the
            code points as written.
        bidi: reorder right-to-left text to display order for CTC, and decoded
            text back to logical order (the Unicode BiDi algorithm).
    """

    form: str = "NFC"
    bidi: bool = False

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ConfigError(f"data.text_form must be one of {', '.join(FORMS)}, got {self.form!r}")
        if not isinstance(self.bidi, bool):
            raise ConfigError(f"data.bidi must be true or false, got {self.bidi!r}")

    def normalize(self, text: str) -> str:
        """``text`` in this normalisation form (the order is left as it is)."""
        return text if self.form == "none" else unicodedata.normalize(self.form, text)

    def to_model(self, text: str) -> str:
        """A reference as the model learns it: normalised, and in display order when ``bidi`` is on."""
        text = self.normalize(text)
        return _reorder(text) if self.bidi else text

    def from_model(self, text: str) -> str:
        """A decoded line as the user reads it: in logical order when ``bidi`` is on."""
        return _reorder(text) if self.bidi else text

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TextNormalization:
        """The setting a checkpoint stores.

        Raises:
            CheckpointError: when it is not one this version knows.
        """
        unknown = set(data) - {"form", "bidi"}
        if unknown:
            raise CheckpointError(f"unknown text normalisation settings {sorted(unknown)} in the checkpoint; "
                                  "it was written by a newer seqlab")
        try:
            return cls(**data)
        except ConfigError as e:
            raise CheckpointError(f"the checkpoint's text normalisation is invalid: {e}") from None


def _reorder(text: str) -> str:
    if not text:
        return text
    from bidi import get_display

    return get_display(text, base_dir=BASE_DIRECTION)
