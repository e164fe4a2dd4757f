"""The benchmark corpora as data modules with flat settings, as their configs write them.

Each class here is only a constructor: it builds a reader
(:mod:`seqlab.data.readers`) and a frontend (:mod:`seqlab.data.frontends`) from
the flat keys of ``conf/data/iam.yaml`` and the like (``data.height=64``,
``data.num_mel_bins=80``) and hands them to the one
:class:`~seqlab.data.module.CorpusDataModule`. The formats users bring
(``conf/data/page.yaml``, ``alto.yaml``, ``lines.yaml``) compose a reader and a
frontend in the config itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from seqlab.data.augment import LineAugmentation
from seqlab.data.frontends.image import ImageFrontend
from seqlab.data.module import CorpusDataModule
from seqlab.data.readers.iam import IAMReader
from seqlab.data.readers.librispeech import LibriSpeechReader
from seqlab.data.readers.synthetic import SyntheticIAMReader, SyntheticTIMITReader
from seqlab.data.readers.timit import TIMITReader
from seqlab.data.speech import SpeechDataModule


def _image_frontend(height: int, max_width: int, binarise: bool, deslant: bool,
                    augmentation: LineAugmentation | None, cache_dir: str | None) -> ImageFrontend:
    return ImageFrontend(height=height, max_width=max_width, binarise=binarise, deslant=deslant,
                         augmentation=augmentation, cache_dir=cache_dir)


class IAMDataModule(CorpusDataModule):
    """IAM text lines (:class:`~seqlab.data.readers.iam.IAMReader`) through an image frontend.

    Args:
        root, train_list, val_list, test_list: the corpus.
        height, max_width, binarise, deslant, augmentation, cache_dir: the line
            preprocessing (:class:`~seqlab.data.frontends.ImageFrontend`);
            ``binarise`` thresholds each line at its ``graylevel`` from lines.txt.
        **kwargs: batching, alphabet and text options of :class:`~seqlab.data.module.CorpusDataModule`.
    """

    def __init__(self, root: str, train_list: str = "trainset.txt", val_list: str = "validationset1.txt",
                 test_list: str = "testset.txt", height: int = 48, max_width: int = 0, binarise: bool = False,
                 deslant: bool = False, augmentation: LineAugmentation | None = None, cache_dir: str | None = None,
                 **kwargs) -> None:
        super().__init__(IAMReader(root, train_list, val_list, test_list),
                         _image_frontend(height, max_width, binarise, deslant, augmentation, cache_dir), **kwargs)


class SyntheticIAMDataModule(CorpusDataModule):
    """Synthetic handwriting in IAM layout (:class:`~seqlab.data.readers.synthetic.SyntheticIAMReader`).

    Args:
        cache_dir: where corpora are generated and prepared lines kept.
        num_train, num_val, num_test, corpus_height, corpus_seed, min_chars,
            max_chars, workers, fonts: the generation settings.
        height, max_width, binarise, deslant, augmentation: the line preprocessing.
        **kwargs: batching, alphabet and text options of :class:`~seqlab.data.module.CorpusDataModule`.
    """

    def __init__(self, cache_dir: str, num_train: int = 3000, num_val: int = 300, num_test: int = 300,
                 corpus_height: int = 48, corpus_seed: int = 0, min_chars: int = 15, max_chars: int = 45,
                 workers: int = 1, fonts: list[str] | None = None, height: int = 48, max_width: int = 0,
                 binarise: bool = False, deslant: bool = False, augmentation: LineAugmentation | None = None,
                 **kwargs) -> None:
        reader = SyntheticIAMReader(cache_dir, num_train, num_val, num_test, corpus_height, corpus_seed,
                                    min_chars, max_chars, workers, fonts)
        super().__init__(reader, _image_frontend(height, max_width, binarise, deslant, augmentation, cache_dir),
                         **kwargs)


class TIMITDataModule(SpeechDataModule):
    """TIMIT (:class:`~seqlab.data.readers.timit.TIMITReader`): 61 training labels, scored on 39.

    Args:
        root, test_set, dev_speakers, test_speakers: the corpus.
        **kwargs: feature options of :class:`~seqlab.data.speech.SpeechDataModule`
            (``cache_dir``, ``num_mel_bins``, ``spec_augment``, ...) and batching options.
    """

    def __init__(self, root: str, test_set: str = "core", dev_speakers: Sequence[str] | None = None,
                 test_speakers: Sequence[str] | None = None, **kwargs) -> None:
        super().__init__(TIMITReader(root, test_set, dev_speakers, test_speakers), **kwargs)


class SyntheticTIMITDataModule(SpeechDataModule):
    """eSpeak NG speech in TIMIT layout (:class:`~seqlab.data.readers.synthetic.SyntheticTIMITReader`).

    Args:
        cache_dir: where corpora are generated and features cached.
        num_train_speakers, num_dev_speakers, num_test_speakers,
            utterances_per_speaker, corpus_seed, workers, test_set: the generation settings.
        **kwargs: feature and batching options of :class:`~seqlab.data.speech.SpeechDataModule`.
    """

    def __init__(self, cache_dir: str, num_train_speakers: int = 100, num_dev_speakers: int = 20,
                 num_test_speakers: int = 24, utterances_per_speaker: int = 8, corpus_seed: int = 0,
                 workers: int = 1, test_set: str = "core", **kwargs) -> None:
        reader = SyntheticTIMITReader(cache_dir, num_train_speakers, num_dev_speakers, num_test_speakers,
                                      utterances_per_speaker, corpus_seed, workers, test_set)
        super().__init__(reader, cache_dir=cache_dir, **kwargs)


class LibriSpeechDataModule(SpeechDataModule):
    """LibriSpeech (:class:`~seqlab.data.readers.librispeech.LibriSpeechReader`), character CTC.

    Args:
        root, train_subsets, val_subsets, test_subsets: the corpus.
        **kwargs: feature and batching options of :class:`~seqlab.data.speech.SpeechDataModule`.
    """

    def __init__(self, root: str, train_subsets: Sequence[str] = ("train-clean-100",),
                 val_subsets: Sequence[str] = ("dev-clean",), test_subsets: Sequence[str] = ("test-clean",),
                 **kwargs) -> None:
        super().__init__(LibriSpeechReader(root, train_subsets, val_subsets, test_subsets), **kwargs)


class _DocumentDataModule(CorpusDataModule):
    """A reader of users' line ground truth (its ``reader`` class) through an image frontend, flat settings."""

    reader_class: type

    def __init__(self, root: str, glob: str | None = None, train_list: str | None = None,
                 val_list: str | None = None, test_list: str | None = None, split_seed: int = 0,
                 split_fractions: Sequence[float] = (0.8, 0.1, 0.1), height: int = 48, max_width: int = 0,
                 binarise: bool = False, deslant: bool = False, augmentation: LineAugmentation | None = None,
                 cache_dir: str | None = None, reader_options: dict | None = None, **kwargs) -> None:
        options = dict(reader_options or {})
        if glob is not None:
            options["glob"] = glob
        reader = self.reader_class(root, train_list=train_list, val_list=val_list, test_list=test_list,
                                   split_seed=split_seed, split_fractions=tuple(split_fractions), **options)
        super().__init__(reader, _image_frontend(height, max_width, binarise, deslant, augmentation, cache_dir),
                         **kwargs)


def _reader(module: str, name: str) -> type:
    import importlib

    return getattr(importlib.import_module(module), name)


class PageXMLDataModule(_DocumentDataModule):
    """PAGE-XML pages and their images (:class:`~seqlab.data.readers.page.PageXMLReader`), lines cut by polygon.

    Args:
        root: folder searched for ``glob`` (default ``**/*.xml``).
        train_list, val_list, test_list: list files naming the pages of each
            split (file names, stems or paths relative to ``root``); none
            given: a seeded random split by page (``split_seed``, ``split_fractions``).
        height, max_width, binarise, deslant, augmentation, cache_dir: the line preprocessing.
        reader_options: further :class:`PageXMLReader` arguments.
        **kwargs: batching, alphabet and text options of :class:`~seqlab.data.module.CorpusDataModule`.
    """

    @property
    def reader_class(self) -> type:
        return _reader("seqlab.data.readers.page", "PageXMLReader")


class ALTODataModule(_DocumentDataModule):
    """ALTO v2-v4 pages and their images (:class:`~seqlab.data.readers.alto.ALTOReader`).

    Args:
        dpi: the image resolution, for files measured in ``mm10`` or
            ``inch1200`` (None: each image file's own).
        others: as :class:`PageXMLDataModule`.
    """

    def __init__(self, root: str, dpi: float | None = None, **kwargs) -> None:
        options = dict(kwargs.pop("reader_options", None) or {})
        if dpi is not None:
            options["dpi"] = dpi
        super().__init__(root, reader_options=options, **kwargs)

    @property
    def reader_class(self) -> type:
        return _reader("seqlab.data.readers.alto", "ALTOReader")


class LineFolderDataModule(_DocumentDataModule):
    """Line images with a ``.gt.txt`` beside each (:class:`~seqlab.data.readers.line_folder.LineFolderReader`).

    Args: as :class:`PageXMLDataModule` (``glob`` default ``**/*``); the random
    split keeps each folder (a page or document) in one split.
    """

    @property
    def reader_class(self) -> type:
        return _reader("seqlab.data.readers.line_folder", "LineFolderReader")
