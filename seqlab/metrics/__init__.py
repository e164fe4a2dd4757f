"""Error rates (CER, WER, PER) and their unit splitters."""

from collections.abc import Callable, Sequence

from seqlab.errors import ConfigError
from seqlab.metrics.error_rate import ErrorRate, chars, corpus_error_rate, edit_distance, words

# name -> how a transcription is split into the units that name scores.
# Data modules extend this with their own (TIMIT adds "per" with 39-phone folding).
UNIT_SPLITTERS: dict[str, Callable[[str], Sequence]] = {"cer": chars, "wer": words}


def splitter(name: str) -> Callable[[str], Sequence]:
    try:
        return UNIT_SPLITTERS[name]
    except KeyError:
        raise ConfigError(f"unknown metric {name!r}; known: {sorted(UNIT_SPLITTERS)}") from None


__all__ = ["ErrorRate", "UNIT_SPLITTERS", "chars", "corpus_error_rate", "edit_distance", "splitter", "words"]
