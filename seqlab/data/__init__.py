"""Data: corpus readers (``readers/``), frontends (``frontends/``), the one data module, batching.

The benchmark corpora's data modules (:mod:`seqlab.data.corpora`) are
constructors composing a reader and a frontend from flat settings.

The names below are imported on first use: inference (``seqlab.recognizer``)
reads ``seqlab.data.batch`` and the frontends without importing Lightning,
which the data modules need.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "Batch": "batch", "Collate": "batch", "Sample": "batch", "Skipped": "batch", "collate": "batch",
    "BucketBatchSampler": "bucketing",
    "ALTODataModule": "corpora", "IAMDataModule": "corpora", "LibriSpeechDataModule": "corpora",
    "LineFolderDataModule": "corpora", "PageXMLDataModule": "corpora", "SyntheticIAMDataModule": "corpora",
    "SyntheticTIMITDataModule": "corpora", "TIMITDataModule": "corpora",
    "CorpusDataModule": "module",
    "Record": "records", "Region": "records",
    "SpeechDataModule": "speech", "ManifestDataModule": "speech", "SpeechTableDataModule": "speech",
    "KaldiDataModule": "speech",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'seqlab.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"seqlab.data.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
