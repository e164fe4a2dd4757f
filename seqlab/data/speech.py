"""A corpus reader of speech composed with a :class:`~seqlab.data.frontends.SpeechFrontend`.

The speech corpus modules (TIMIT, LibriSpeech and their synthetic versions)
take the frontend's settings flat, as their configs write them
(``data.num_mel_bins=80``); this is the one place that builds the frontend from them.
"""

from __future__ import annotations

from seqlab.data.features import FeatureStats, SpecAugment
from seqlab.data.frontends.speech import SpeechFrontend
from seqlab.data.module import CorpusDataModule
from seqlab.data.readers.base import Reader


class SpeechDataModule(CorpusDataModule):
    """``reader`` through a speech frontend.

    Args:
        reader: the corpus.
        cache_dir, num_mel_bins, delta_order, normalize, norm_utterances,
            spec_augment: the features (:class:`~seqlab.data.frontends.SpeechFrontend`).
        **kwargs: batching, alphabet and text options of :class:`~seqlab.data.module.CorpusDataModule`.
    """

    def __init__(
        self,
        reader: Reader,
        cache_dir: str | None = None,
        num_mel_bins: int = 40,
        delta_order: int = 2,
        normalize: bool = True,
        norm_utterances: int | None = None,
        spec_augment: SpecAugment | None = None,
        **kwargs,
    ) -> None:
        frontend = SpeechFrontend(num_mel_bins=num_mel_bins, delta_order=delta_order, normalize=normalize,
                                  norm_utterances=norm_utterances, spec_augment=spec_augment, cache_dir=cache_dir)
        super().__init__(reader, frontend, **kwargs)

    @property
    def stats(self) -> FeatureStats | None:
        """The training set's normalisation statistics (after :meth:`setup`)."""
        return self.frontend.stats

    @property
    def features(self):
        return self.frontend.features

    @property
    def spec_augment(self) -> SpecAugment | None:
        return self.frontend.spec_augment


class ManifestDataModule(SpeechDataModule):
    """JSON-lines manifests (:class:`~seqlab.data.readers.manifest.ManifestReader`), character CTC.

    Args:
        root: the folder holding the manifests.
        train, val, test: each split's manifest, relative to ``root``.
        case, punctuation, data_root: transcript and path handling
            (:class:`~seqlab.data.readers.listing.ListingReader`).
        **kwargs: feature and batching options of :class:`SpeechDataModule`.
    """

    def __init__(self, root: str, train: str | None = "train.jsonl", val: str | None = "dev.jsonl",
                 test: str | None = "test.jsonl", case: str = "keep", punctuation: str = "keep",
                 data_root: str | None = None, **kwargs) -> None:
        from seqlab.data.readers.manifest import ManifestReader

        super().__init__(ManifestReader(root, train, val, test, case=case, punctuation=punctuation,
                                        data_root=data_root), **kwargs)


class SpeechTableDataModule(SpeechDataModule):
    """CSV/TSV tables (:class:`~seqlab.data.readers.table.TableReader`): Common Voice, SpeechBrain.

    Args:
        root: the folder holding the tables.
        train, val, test: each split's table, relative to ``root``.
        audio_column, text_column, speaker_column, id_column, delimiter: the
            table's layout (None: found from the header and the file name).
        case, punctuation, data_root: transcript and path handling.
        **kwargs: feature and batching options of :class:`SpeechDataModule`.
    """

    def __init__(self, root: str, train: str | None = "train.tsv", val: str | None = "dev.tsv",
                 test: str | None = "test.tsv", audio_column: str | None = None, text_column: str | None = None,
                 speaker_column: str | None = None, id_column: str | None = None, delimiter: str | None = None,
                 case: str = "keep", punctuation: str = "keep", data_root: str | None = None, **kwargs) -> None:
        from seqlab.data.readers.table import TableReader

        reader = TableReader(root, audio_column=audio_column, text_column=text_column,
                             speaker_column=speaker_column, id_column=id_column, delimiter=delimiter,
                             train=train, val=val, test=test, case=case, punctuation=punctuation,
                             data_root=data_root)
        super().__init__(reader, **kwargs)


class KaldiDataModule(SpeechDataModule):
    """Kaldi data directories (:class:`~seqlab.data.readers.kaldi.KaldiReader`), character CTC.

    Args:
        root: the recipe's ``data/`` folder.
        train, val, test: each split's data directory, relative to ``root``.
        case, punctuation: transcript handling.
        **kwargs: feature and batching options of :class:`SpeechDataModule`.
    """

    def __init__(self, root: str, train: str | None = "train", val: str | None = "dev", test: str | None = "test",
                 case: str = "keep", punctuation: str = "keep", **kwargs) -> None:
        from seqlab.data.readers.kaldi import KaldiReader

        super().__init__(KaldiReader(root, train, val, test, case=case, punctuation=punctuation), **kwargs)
