"""Corpus readers and data modules (one module per corpus) and shared batching."""

from seqlab.data.batch import Batch, Sample, Skipped, collate
from seqlab.data.bucketing import BucketBatchSampler
from seqlab.data.iam import IAMDataModule
from seqlab.data.module import CTCDataModule, Record
from seqlab.data.synthetic import SyntheticIAMDataModule

__all__ = [
    "Batch", "BucketBatchSampler", "CTCDataModule", "IAMDataModule", "Record", "Sample",
    "Skipped", "SyntheticIAMDataModule", "collate",
]
