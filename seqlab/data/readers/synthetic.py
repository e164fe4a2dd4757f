"""Synthetic corpora in the real corpora's on-disk formats, read by the real readers.

:class:`SyntheticIAMReader` renders an IAM-layout corpus once into a cache
folder named after its generation settings (:meth:`prepare`) and then reads it
exactly as :class:`~seqlab.data.readers.iam.IAMReader` reads IAM, so the
default run exercises the real IAM code path. :class:`SyntheticTIMITReader`
does the same for speech: eSpeak NG voices in TIMIT layout, read as TIMIT.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from seqlab.data.readers.iam import IAMReader
from seqlab.data.readers.timit import TIMITReader

log = logging.getLogger(__name__)


def cache_folder(cache_dir: str | Path, prefix: str, settings: dict) -> Path:
    """``cache_dir/prefix-<hash of settings>``: a new folder whenever a setting changes."""
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
    return Path(cache_dir).expanduser() / f"{prefix}-{digest}"


class SyntheticIAMReader(IAMReader):
    """Rendered handwriting in IAM layout, generated on first use.

    Args:
        cache_dir: where corpora are generated (one sub-folder per settings).
        num_train, num_val, num_test: lines per split (test text never occurs in training).
        corpus_height: height the lines are rendered at.
        corpus_seed: generation seed.
        min_chars, max_chars: line length range in characters.
        workers: processes used to render.
        fonts: font files to render with; None for the handwriting-style fonts
            that ship with seqlab, ``[]`` for Pillow's built-in (printed) font.
    """

    def __init__(self, cache_dir: str, num_train: int = 3000, num_val: int = 300, num_test: int = 300,
                 corpus_height: int = 48, corpus_seed: int = 0, min_chars: int = 15, max_chars: int = 45,
                 workers: int = 1, fonts: list[str] | None = None) -> None:
        from seqlab.data.english import charset
        from seqlab.data.synthetic_handwriting import font_fingerprint, resolve_fonts

        self.fonts = resolve_fonts(fonts)
        self.settings = {
            "num_train": num_train, "num_val": num_val, "num_test": num_test,
            "height": corpus_height, "seed": corpus_seed,
            "min_chars": min_chars, "max_chars": max_chars,
        }
        self.workers = workers
        # the fonts' content is part of the corpus' identity: other fonts, other folder
        super().__init__(str(cache_folder(cache_dir, "synth_iam",
                                          {**self.settings, "fonts": font_fingerprint(self.fonts)})))
        # the generator's full character set: a small corpus whose training
        # split happens to lack a digit must still read its test split
        self.alphabet = tuple(charset())

    def describe(self) -> dict:
        return {**super().describe(), "corpus": "synth_iam"}

    def prepare(self) -> None:
        from seqlab.data.synthetic_handwriting import generate_handwriting_corpus

        if not (self.root / ".complete").exists():
            log.info("generating the synthetic handwriting corpus into %s", self.root)
        generate_handwriting_corpus(self.root, workers=self.workers, fonts=self.fonts, **self.settings)


class SyntheticTIMITReader(TIMITReader):
    """eSpeak NG speech in TIMIT layout, generated on first use (needs ``espeak-ng``).

    Validation and test speakers have voices (eSpeak variants) that no training
    speaker has; they are the reader's speaker lists.

    Args:
        cache_dir: where corpora are generated (one sub-folder per settings).
        num_train_speakers, num_dev_speakers, num_test_speakers: speakers per split.
        utterances_per_speaker: sentences each speaker reads, besides SA1 and SA2.
        corpus_seed: generation seed.
        workers: processes used to synthesise.
        test_set: as :class:`~seqlab.data.readers.timit.TIMITReader` (the speaker lists decide).
    """

    def __init__(self, cache_dir: str, num_train_speakers: int = 100, num_dev_speakers: int = 20,
                 num_test_speakers: int = 24, utterances_per_speaker: int = 8, corpus_seed: int = 0,
                 workers: int = 1, test_set: str = "core") -> None:
        from seqlab.data.synthetic_speech import corpus_speakers, speech_params

        # the voice variants installed are part of the corpus' identity (like fonts)
        self.settings = speech_params(
            num_train_speakers, num_dev_speakers, num_test_speakers, utterances_per_speaker, corpus_seed
        )
        self.workers = workers
        speakers = corpus_speakers(self.settings)
        super().__init__(str(cache_folder(cache_dir, "synth_timit", self.settings)), test_set=test_set,
                         dev_speakers=speakers["dev"], test_speakers=speakers["test"])

    def describe(self) -> dict:
        return {**super().describe(), "corpus": "synth_timit"}

    def prepare(self) -> None:
        from seqlab.data.synthetic_speech import generate_speech_corpus

        if not (self.root / ".complete").exists():
            log.info("generating the synthetic speech corpus into %s", self.root)
        s = self.settings
        generate_speech_corpus(
            self.root, num_train_speakers=s["num_train_speakers"], num_dev_speakers=s["num_dev_speakers"],
            num_test_speakers=s["num_test_speakers"], utterances_per_speaker=s["utterances_per_speaker"],
            seed=s["seed"], workers=self.workers,
        )
