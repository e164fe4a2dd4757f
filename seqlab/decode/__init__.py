"""CTC decoders."""

from seqlab.decode.greedy import greedy_decode

__all__ = ["greedy_decode"]
