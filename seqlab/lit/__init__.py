"""Lightning modules and callbacks."""

from seqlab.lit.ctc_module import CTCModule

__all__ = ["CTCModule"]
