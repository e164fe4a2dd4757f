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
