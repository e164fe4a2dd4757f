"""CTC decoders behind one protocol (:mod:`seqlab.decode.base`) and one registry.

Adding a decoder: one file here with a class that follows
:class:`~seqlab.decode.base.Decoder` (constructor ``(alphabet, **settings)``,
each setting with its default; ``__call__`` returning :class:`Hypothesis`
objects; ``describe``), and one line in :data:`DECODERS`. The command line
(``seqlab transcribe --decoder``), the evaluate config (``decoder.name``) and
:class:`~seqlab.recognizer.Recognizer` then know it.
"""

from __future__ import annotations

import inspect
from typing import Any

from seqlab.decode.base import Decoder, Hypothesis
from seqlab.decode.beam import BeamSearchDecoder
from seqlab.decode.greedy import GreedyDecoder, greedy_decode
from seqlab.errors import ConfigError

# name -> decoder class. greedy: best path (what training scores); beam: flashlight-text's
# beam search, lexicon-free or with a lexicon, with or without a KenLM n-gram.
DECODERS: dict[str, type] = {
    "greedy": GreedyDecoder,
    "beam": BeamSearchDecoder,
}


def _registered(name: str) -> type:
    try:
        return DECODERS[name]
    except KeyError:
        raise ConfigError(f"unknown decoder {name!r}; choose one of {', '.join(DECODERS)}") from None


def decoder_settings(name: str) -> dict[str, Any]:
    """The settings decoder ``name`` takes, with their defaults (read from its constructor)."""
    params = list(inspect.signature(_registered(name)).parameters.values())[1:]  # after the alphabet
    return {p.name: p.default for p in params}


def build_decoder(name: str, alphabet, **settings) -> Decoder:
    """The decoder registered as ``name`` for ``alphabet``.

    Args:
        settings: the decoder's settings; a None value means "the default".

    Raises:
        ConfigError: an unknown name, or a setting the decoder does not take
            (a lexicon given to greedy, say), naming the decoders that take it.
    """
    known = decoder_settings(name)
    given = {k: v for k, v in settings.items() if v is not None}
    for key in given:
        if key not in known:
            takers = [n for n in DECODERS if key in decoder_settings(n)]
            hint = f" ({' or '.join(takers)} does: choose it with --decoder or decoder.name)" if takers else ""
            raise ConfigError(f"the {name} decoder takes no {key} setting{hint}")
    return _registered(name)(alphabet, **given)


__all__ = ["DECODERS", "Decoder", "Hypothesis", "build_decoder", "decoder_settings", "greedy_decode"]
