"""Error rates (CER, WER, PER) and their unit splitters."""

from collections.abc import Callable, Sequence

from seqlab.errors import ConfigError
from seqlab.metrics.error_rate import ErrorRate, chars, corpus_error_rate, edit_distance, words
from seqlab.metrics.joined_words import join_tokens
from seqlab.text.phones import fold_39

# name -> how a transcription is split into the units that name scores.
# "per" is TIMIT's phone error rate: 61-set labels folded to the 39 scored ones,
# q deleted, runs of sil merged (seqlab/text/phones.py).
# "wer" counts IAM's tokens (punctuation and clitics are words of their own);
# "wer_joined" re-attaches them first: "It 's late ." is two words, "It's late.".
UNIT_SPLITTERS: dict[str, Callable[[str], Sequence]] = {
    "cer": chars, "wer": words, "wer_joined": join_tokens, "per": fold_39,
}


def splitter(name: str) -> Callable[[str], Sequence]:
    try:
        return UNIT_SPLITTERS[name]
    except KeyError:
        raise ConfigError(f"unknown metric {name!r}; known: {sorted(UNIT_SPLITTERS)}") from None


__all__ = [
    "ErrorRate", "UNIT_SPLITTERS", "chars", "corpus_error_rate", "edit_distance", "fold_39", "join_tokens",
    "splitter", "words",
]
