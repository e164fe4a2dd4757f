"""A synthetic speech corpus in the on-disk layout of TIMIT, spoken by eSpeak NG.

TIMIT is licensed (LDC93S1), so tests, examples and quick experiments use this
stand-in: English sentences (:mod:`seqlab.data.english`) spoken by eSpeak NG
with many voices, written exactly as TIMIT lays out its files, so the TIMIT
reader, features, 61-phone targets and 39-phone scoring run unchanged on it.

Layout written into ``out_dir``::

    TRAIN/DR1/MABC0/SI1.WAV   NIST SPHERE (NIST_1A header), 16 kHz, 16-bit PCM
    TRAIN/DR1/MABC0/SI1.PHN   "start end phone", TIMIT's 61 labels, in samples
    TRAIN/DR1/MABC0/SI1.WRD   "start end word"
    TRAIN/DR1/MABC0/SI1.TXT   "0 N Sentence text."
    TEST/DR5/FXYZ0/...        validation and test speakers
    speakers.txt              speaker, sex, region, use (train/dev/test), voice, rate, pitch, range
    .complete                 JSON of the generation parameters, written last

Speakers: a speaker is an accent (one per dialect region, DR1..DR8), a voice
variant (``m3``, ``f2``, ``Annie``, ...: eSpeak's timbres), a pitch, a pitch
range and a speaking rate. The variants are split three ways, so validation and
test speakers have voices no training speaker has. Each speaker reads the two
``SA`` sentences of TIMIT (dropped by the reader, as in TIMIT) and
``utterances_per_speaker`` sentences of their own (``SI``/``SX``); no sentence is
read in two splits.

Phone targets and timing: eSpeak NG's library reports each phoneme (in IPA) and
the sample it starts at (:mod:`seqlab.data.espeak`), so the ``.PHN`` boundaries
are eSpeak's own, not proportional guesses; the IPA phonemes become TIMIT's 61
labels, closures, ``pau`` and ``h#`` included, as :mod:`seqlab.data.espeak_phones`
documents. Audio is eSpeak's 22,050 Hz output, with a random gain,
leading and trailing silence of 80..250 ms and a low Gaussian noise floor,
resampled to 16 kHz. Each speaker is spoken by a freshly started eSpeak NG in a
worker process of its own, so the corpus is byte-identical for the same
settings whatever the number of workers.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import string
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqlab.data.corpus_folder import build_atomically, is_complete
from seqlab.data.english import SentenceGenerator
from seqlab.data.espeak import espeak, installed_variants
from seqlab.data.espeak_phones import timit_segments, word_segments
from seqlab.errors import ConfigError, DataFormatError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
# Accent (eSpeak language voice) of each dialect region folder.
ACCENTS: tuple[str, ...] = (
    "en-us", "en-us-nyc", "en", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029",
)
# Voice variants that sound like a person (robotic, whispering, croaking and
# child-like ones left out), by sex.
FEMALE_VARIANTS: tuple[str, ...] = (
    "f1", "f2", "f3", "f4", "f5", "Alicia", "Andrea", "Annie", "anika", "aunty", "belinda", "linda",
    "grandma", "shelby", "steph", "steph2", "steph3",
)
MALE_VARIANTS: tuple[str, ...] = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "Alex", "Andy", "Denis", "Diogo", "Gene", "Gene2",
    "Henrique", "Hugo", "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "antonio", "boris", "ed",
    "grandpa", "gustave", "iven", "iven2", "iven3", "iven4", "john", "kaukovalta", "marcelo", "max",
    "michel", "miguel", "norbert", "pablo", "paul", "pedro", "quincy", "robert", "sandro", "travis",
    "victor", "adam", "benjamin", "caleb", "david", "edward", "edward2", "klatt", "klatt2", "klatt3",
)
# TIMIT's two dialect sentences, read by every speaker.
SA_SENTENCES = (
    "She had your dark suit in greasy wash water all year.",
    "Don't ask me to carry an oily rag like that.",
)

USES = ("train", "dev", "test")
_FOLDER = {"train": "TRAIN", "dev": "TEST", "test": "TEST"}


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker: TIMIT-style id, use, and the voice settings."""

    id: str  # "FABC0"
    sex: str  # "F" or "M"
    region: int  # dialect region 1..8 (= accent)
    use: str  # train, dev or test
    accent: str
    variant: str
    rate: int
    pitch: int
    pitch_range: int

    @property
    def voice(self) -> str:
        return f"{self.accent}+{self.variant}"

    @property
    def folder(self) -> str:
        return f"{_FOLDER[self.use]}/DR{self.region}/{self.id}"


def split_variants(variants: Sequence[str], seed: int, num_dev: int, num_test: int) -> dict[str, list[str]]:
    """Variants of each use, disjoint; both sexes in every use. ``variants`` are those installed."""
    rng = np.random.default_rng([seed, 7])
    uses: dict[str, list[str]] = {u: [] for u in USES}
    for pool in (FEMALE_VARIANTS, MALE_VARIANTS):
        names = [v for v in pool if v in variants]
        if len(names) < 3:
            raise ConfigError(f"eSpeak NG has too few voice variants installed ({names}); reinstall espeak-ng")
        names = [names[i] for i in rng.permutation(len(names))]
        share = len(names) / (len(FEMALE_VARIANTS) + len(MALE_VARIANTS))
        n_test = max(1, round(num_test * share))
        n_dev = max(1, round(num_dev * share))
        uses["test"] += names[:n_test]
        uses["dev"] += names[n_test:n_test + n_dev]
        uses["train"] += names[n_test + n_dev:]
    return uses


def plan_speakers(
    num_train: int, num_dev: int, num_test: int, seed: int, variants: Sequence[str],
    held_out_variants: tuple[int, int] = (4, 8),
) -> list[Speaker]:
    """The speakers of a corpus, deterministic in the arguments.

    Args:
        num_train, num_dev, num_test: speakers per use.
        variants: the voice variants installed (:func:`~seqlab.data.espeak.installed_variants`).
        held_out_variants: how many variants only dev (first) and only test speakers have.
    """
    pools = split_variants(variants, seed, *held_out_variants)
    rng = np.random.default_rng([seed, 11])
    taken: set[str] = set()
    speakers = []
    for use, count in (("train", num_train), ("dev", num_dev), ("test", num_test)):
        pool = pools[use]
        order = [pool[i] for i in rng.permutation(len(pool))]
        for k in range(count):
            variant = order[k % len(order)]  # every variant of the pool before any repeats
            sex = "F" if variant in FEMALE_VARIANTS else "M"
            while True:
                sid = sex + "".join(rng.choice(list(string.ascii_uppercase), 3)) + "0"
                if sid not in taken:
                    break
            taken.add(sid)
            region = int(rng.integers(len(ACCENTS)))
            speakers.append(Speaker(
                sid, sex, region + 1, use, ACCENTS[region], variant,
                rate=int(rng.integers(145, 196)), pitch=int(rng.integers(30, 71)),
                pitch_range=int(rng.integers(20, 81)),
            ))
    return speakers


def plan_utterances(speakers: Sequence[Speaker], per_speaker: int, seed: int) -> list[tuple[Speaker, str, str]]:
    """(speaker, utterance name, text): SA1, SA2, then ``per_speaker`` distinct sentences each
    (3 ``SI`` then ``SX``), no sentence twice in the corpus."""
    generator = SentenceGenerator(seed)
    seen = set(SA_SENTENCES)
    jobs: list[tuple[Speaker, str, str]] = []
    counters = {"SI": 0, "SX": 0}
    for speaker in speakers:
        jobs += [(speaker, f"SA{i + 1}", text) for i, text in enumerate(SA_SENTENCES)]
        for k in range(per_speaker):
            for _ in range(1000):
                text = generator.sentence()
                if text not in seen:
                    break
            else:
                raise ConfigError("the sentence generator ran out of distinct sentences; ask for fewer")
            seen.add(text)
            kind = "SI" if k < 3 else "SX"
            counters[kind] += 1
            jobs.append((speaker, f"{kind}{counters[kind]}", text))
    return jobs


def synthesize_speaker(job: tuple[Speaker, list[tuple[int, str, str]]], *, seed: int, out_dir: str) -> list[float]:
    """Worker: speak one speaker's utterances ``(index, name, text)``, in order; their durations.

    Runs in a fresh process of its own (see :func:`_synthesize_all`): eSpeak NG
    keeps state from one utterance to the next (filter memories, and after a
    Klatt voice even the timing of the next voice), so a speaker's audio is
    reproducible only when the same utterances are spoken in the same order by
    a freshly started library.
    """
    import ctypes

    import torch

    torch.set_num_threads(1)
    speaker, utterances = job
    ctypes.CDLL(None).srand(seed)  # eSpeak's breath and Klatt noise come from libc's rand()
    return [synthesize_utterance(index, speaker, name, text, seed=seed, out_dir=out_dir)
            for index, name, text in utterances]


def synthesize_utterance(index: int, speaker: Speaker, name: str, text: str, *, seed: int, out_dir: str) -> float:
    """Speak one utterance and write its .WAV (SPHERE), .PHN, .WRD and .TXT; its duration in seconds."""
    import soundfile as sf
    import torch
    import torchaudio.functional as AF

    rng = np.random.default_rng([seed, 1000 + index])
    where = f"{speaker.folder}/{name} ({speaker.voice}: {text!r})"
    speech = espeak().synthesize(text, speaker.voice, speaker.rate, speaker.pitch, speaker.pitch_range)
    if len(speech.samples) == 0 or not speech.phonemes:
        raise DataFormatError(f"{where}: eSpeak NG produced no audio")
    rate = speech.sample_rate
    lead, tail = (int(rng.integers(int(0.08 * rate), int(0.25 * rate))) for _ in range(2))
    wave = np.concatenate([np.zeros(lead), speech.samples * rng.uniform(0.3, 1.0), np.zeros(tail)])
    wave = wave + rng.normal(0.0, rng.uniform(2.0, 12.0), wave.shape)  # recording noise floor
    wave16 = AF.resample(torch.from_numpy(wave.astype(np.float32)), rate, SAMPLE_RATE).numpy()
    samples = np.clip(np.round(wave16), -32768, 32767).astype(np.int16)
    n = len(samples)

    def at16(t: int) -> int:
        return min(n, round(t * SAMPLE_RATE / rate))

    segments = [(at16(t), label) for t, label in timit_segments(speech, lead, where)]
    bounds = [t for t, _ in segments[1:]] + [n]
    phn = [(s, e, label) for (s, label), e in zip(segments, bounds) if e > s]
    words = [(at16(s), at16(e), w) for s, e, w in word_segments(speech, text, lead)]

    folder = Path(out_dir) / speaker.folder
    folder.mkdir(parents=True, exist_ok=True)
    sf.write(folder / f"{name}.WAV", samples, SAMPLE_RATE, format="NIST", subtype="PCM_16")
    (folder / f"{name}.PHN").write_text("".join(f"{s} {e} {label}\n" for s, e, label in phn))
    (folder / f"{name}.WRD").write_text("".join(f"{s} {e} {w}\n" for s, e, w in words))
    (folder / f"{name}.TXT").write_text(f"0 {n} {text}\n")
    return n / SAMPLE_RATE


def speech_params(num_train_speakers: int, num_dev_speakers: int, num_test_speakers: int,
                  utterances_per_speaker: int, seed: int) -> dict:
    """The generation parameters that identify a corpus (installed variants included)."""
    for name, value, least in (("num_train_speakers", num_train_speakers, 1), ("num_dev_speakers", num_dev_speakers, 0),
                               ("num_test_speakers", num_test_speakers, 0),
                               ("utterances_per_speaker", utterances_per_speaker, 1)):
        if value < least:
            raise ConfigError(f"{name} must be >= {least}, got {value}")
    return {
        "generator": "seqlab.synthetic_speech/2",
        "num_train_speakers": num_train_speakers, "num_dev_speakers": num_dev_speakers,
        "num_test_speakers": num_test_speakers, "utterances_per_speaker": utterances_per_speaker,
        "seed": seed, "variants": [v for v in installed_variants() if v in FEMALE_VARIANTS + MALE_VARIANTS],
    }


def generate_speech_corpus(
    out_dir: str | os.PathLike[str],
    *,
    num_train_speakers: int = 100,
    num_dev_speakers: int = 20,
    num_test_speakers: int = 24,
    utterances_per_speaker: int = 8,
    seed: int = 0,
    workers: int = 1,
) -> Path:
    """Write a synthetic TIMIT-layout corpus into ``out_dir`` and return it.

    Built in a sibling temporary folder and renamed into place, so an
    interrupted run never leaves a partial corpus; a complete ``out_dir`` made
    with the same parameters is returned as is.

    Raises:
        ConfigError: bad argument, espeak-ng missing, or ``out_dir`` holds
            something else.
    """
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    out_dir = Path(out_dir)
    params = speech_params(num_train_speakers, num_dev_speakers, num_test_speakers, utterances_per_speaker, seed)
    if is_complete(out_dir, params):
        log.info("%s is already complete, not regenerating", out_dir)
        return out_dir
    start = time.perf_counter()
    speakers = plan_speakers(num_train_speakers, num_dev_speakers, num_test_speakers, seed, params["variants"])
    jobs = [(i, *job) for i, job in enumerate(plan_utterances(speakers, utterances_per_speaker, seed))]
    work: list[float] = []

    def build(tmp: Path) -> dict:
        work.extend(_synthesize_all(jobs, seed, str(tmp), workers))
        rows = [f"{s.id} {s.sex} DR{s.region} {s.use} {s.voice} {s.rate} {s.pitch} {s.pitch_range}\n" for s in speakers]
        (tmp / "speakers.txt").write_text("; id sex region use voice rate pitch range\n" + "".join(rows))
        return {"speakers": len(speakers), "utterances": len(jobs), "seconds": round(sum(work), 1)}

    build_atomically(out_dir, params, build)
    log.info("wrote %d utterances (%.0f s of audio) to %s in %.1f s", len(jobs), sum(work), out_dir,
             time.perf_counter() - start)
    return out_dir


def _synthesize_all(jobs: list[tuple[int, Speaker, str, str]], seed: int, out_dir: str, workers: int) -> list[float]:
    """Every utterance, one worker process per speaker (``maxtasksperchild=1``), also with
    ``workers=1``: each speaker's audio then depends on nothing but its own settings."""
    from functools import partial

    by_speaker: dict[str, tuple[Speaker, list[tuple[int, str, str]]]] = {}
    for index, speaker, name, text in jobs:
        by_speaker.setdefault(speaker.id, (speaker, []))[1].append((index, name, text))
    work = partial(synthesize_speaker, seed=seed, out_dir=out_dir)
    # fork where there is one: a spawned worker would import seqlab.data again (seconds
    # each). The parent never starts eSpeak NG, so a forked worker starts it fresh.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(workers, maxtasksperchild=1) as pool:
        return [d for durations in pool.imap(work, by_speaker.values()) for d in durations]


def corpus_speakers(params: dict) -> dict[str, list[str]]:
    """Speaker ids per use (train, dev, test) of the corpus ``params`` describe."""
    speakers = plan_speakers(params["num_train_speakers"], params["num_dev_speakers"],
                             params["num_test_speakers"], params["seed"], params["variants"])
    return {use: [s.id for s in speakers if s.use == use] for use in USES}


__all__ = ["ACCENTS", "Speaker", "corpus_speakers", "generate_speech_corpus", "plan_speakers", "speech_params"]