"""Corpus readers: one file per format, each listing the records of a split (no tensors)."""
