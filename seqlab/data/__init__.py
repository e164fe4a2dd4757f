"""Data: corpus readers (``readers/``), frontends (``frontends/``), the one data module, batching.

The benchmark corpora's data modules (:mod:`seqlab.data.corpora`) are
constructors composing a reader and a frontend from flat settings.
"""

from seqlab.data.batch import Batch, Collate, Sample, Skipped, collate
from seqlab.data.bucketing import BucketBatchSampler
from seqlab.data.corpora import (
    ALTODataModule, IAMDataModule, LibriSpeechDataModule, LineFolderDataModule, PageXMLDataModule,
    SyntheticIAMDataModule, SyntheticTIMITDataModule, TIMITDataModule,
)
from seqlab.data.module import CorpusDataModule
from seqlab.data.records import Record, Region
from seqlab.data.speech import SpeechDataModule

__all__ = [
    "ALTODataModule", "Batch", "BucketBatchSampler", "Collate", "CorpusDataModule", "IAMDataModule",
    "LibriSpeechDataModule", "LineFolderDataModule", "PageXMLDataModule",
    "Record", "Region", "Sample", "Skipped", "SpeechDataModule", "SyntheticIAMDataModule",
    "SyntheticTIMITDataModule", "TIMITDataModule", "collate",
]
