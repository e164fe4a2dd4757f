"""CTC decoders."""

from seqlab.decode.greedy import greedy_decode

# greedy: best path (what training scores); beam: seqlab.decode.beam (lexicon, n-gram LM)
DECODERS = ("greedy", "beam")

__all__ = ["DECODERS", "greedy_decode"]
