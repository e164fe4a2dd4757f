"""Corpus readers and data modules (one module per corpus) and shared batching."""

from seqlab.data.batch import Batch, Sample, Skipped, collate
from seqlab.data.bucketing import BucketBatchSampler
from seqlab.data.iam import IAMDataModule
from seqlab.data.librispeech import LibriSpeechDataModule
from seqlab.data.module import CTCDataModule, Record
from seqlab.data.speech import SpeechDataModule
from seqlab.data.synthetic import SyntheticIAMDataModule, SyntheticTIMITDataModule
from seqlab.data.timit import TIMITDataModule

__all__ = [
    "Batch", "BucketBatchSampler", "CTCDataModule", "IAMDataModule", "LibriSpeechDataModule", "Record",
    "Sample", "Skipped", "SpeechDataModule", "SyntheticIAMDataModule", "SyntheticTIMITDataModule",
    "TIMITDataModule", "collate",
]
