"""Unicode normalisation (and BiDi reordering) of transcriptions; provisional, replaced by the full module."""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass

from seqlab.errors import ConfigError

FORMS = ("NFC", "NFD", "NFKC", "NFKD", "none")


@dataclass(frozen=True)
class TextNormalization:
    form: str = "NFC"
    bidi: bool = False

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ConfigError(f"text normalisation form must be one of {FORMS}, got {self.form!r}")

    def normalize(self, text: str) -> str:
        return text if self.form == "none" else unicodedata.normalize(self.form, text)

    def to_model(self, text: str) -> str:
        text = self.normalize(text)
        if self.bidi:
            from bidi import get_display

            text = get_display(text)
        return text

    def from_model(self, text: str) -> str:
        if self.bidi:
            from bidi import get_display

            text = get_display(text)
        return text

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TextNormalization:
        return cls(**data)
