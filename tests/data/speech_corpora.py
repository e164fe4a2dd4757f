"""Tiny speech corpora in the exact on-disk formats of TIMIT and LibriSpeech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16_000


def signal(n: int, seed: int = 0) -> np.ndarray:
    """(n,) int16: a few harmonics with a moving pitch plus noise, like a voiced sound."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    f0 = 120 + 40 * rng.random() + 20 * np.sin(2 * np.pi * 3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    x = sum(np.sin(k * phase) / k for k in range(1, 6)) * 3000 + rng.normal(0, 50, n)
    return np.clip(x, -32768, 32767).astype(np.int16)


def write_sphere(path: Path, samples: np.ndarray, utterance_id: str = "x") -> None:
    """A NIST SPHERE file with an LDC TIMIT header (1024 bytes, little-endian 16-bit PCM)."""
    fields = [
        "database_id -s5 TIMIT",
        "database_version -s3 1.0",
        f"utterance_id -s{len(utterance_id)} {utterance_id}",
        "channel_count -i 1",
        f"sample_count -i {len(samples)}",
        f"sample_rate -i {RATE}",
        f"sample_min -i {int(samples.min()) if len(samples) else 0}",
        f"sample_max -i {int(samples.max()) if len(samples) else 0}",
        "sample_n_bytes -i 2",
        "sample_byte_format -s2 01",
        "sample_sig_bits -i 16",
        "end_head",
    ]
    header = ("NIST_1A\n   1024\n" + "\n".join(fields) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.ljust(1024, b" ") + samples.astype("<i2").tobytes())


def write_riff(path: Path, samples: np.ndarray, rate: int = RATE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples, rate, format="WAV", subtype="PCM_16")


def write_phn(path: Path, phones: list[str], n: int) -> None:
    """``start end phone`` rows spreading ``phones`` evenly over ``n`` samples."""
    bounds = np.linspace(0, n, len(phones) + 1).astype(int)
    path.write_text("".join(f"{bounds[i]} {bounds[i + 1]} {p}\n" for i, p in enumerate(phones)))


def write_timit_utterance(
    folder: Path, name: str, phones: list[str], *, n: int = 4800, audio: str = "sphere",
    upper: bool = True, seed: int = 0, text: str = "She had your dark suit.",
) -> None:
    """One utterance: audio (``sphere``, ``riff``, ``both`` = X.WAV + X.WAV.wav, or ``none``),
    .PHN, .WRD and a .TXT whose end sample is one past the audio (a quirk of real copies)."""
    stem = name.upper() if upper else name.lower()
    ext = (lambda e: e.upper() if upper else e.lower())
    folder.mkdir(parents=True, exist_ok=True)
    samples = signal(n, seed)
    if audio in ("sphere", "both"):
        write_sphere(folder / f"{stem}{ext('.wav')}", samples, name.lower())
    if audio == "riff":
        write_riff(folder / f"{stem}{ext('.wav')}", samples)
    if audio == "both":
        write_riff(folder / f"{stem}{ext('.wav')}.wav", samples)
    write_phn(folder / f"{stem}{ext('.phn')}", phones, n)
    words = text.rstrip(".").lower().split()
    bounds = np.linspace(0, n, len(words) + 1).astype(int)
    (folder / f"{stem}{ext('.wrd')}").write_text(
        "".join(f"{bounds[i]} {bounds[i + 1]} {w}\n" for i, w in enumerate(words)))
    (folder / f"{stem}{ext('.txt')}").write_text(f"0 {n + 1} {text}\n")


PHONES_A = ["h#", "sh", "iy", "hv", "ae", "dcl", "d", "h#"]
PHONES_B = ["h#", "dh", "ax", "kcl", "k", "ae", "tcl", "t", "pau", "q", "ix", "z", "h#"]
PHONES_C = ["h#", "epi", "m", "ao", "r", "el", "h#"]


def make_timit(root: Path) -> dict[str, dict[str, str]]:
    """A TIMIT tree with the quirks of real copies; returns split -> {id: phone string} expected.

    - TRAIN/DR1/FCJF0: upper-case names, SPHERE; SA1 present (dropped).
    - train/dr2/marc0: lower-case folders and names, RIFF WAV; sa2 present (dropped).
    - TRAIN/DR1/MDPK0: X.WAV (SPHERE) + X.WAV.wav (RIFF) for SI1, and for SX2 an
      unreadable X.WAV next to a good X.WAV.wav.
    - TEST/DR1/FAKS0 (a dev speaker), TEST/DR1/MDAB0 (a core test speaker),
      TEST/DR2/MZZZ0 (in neither: only in the full test set).
    """
    tr = root / "TRAIN"
    write_timit_utterance(tr / "DR1" / "FCJF0", "SA1", PHONES_A, seed=1)
    write_timit_utterance(tr / "DR1" / "FCJF0", "SI1027", PHONES_A, seed=2)
    write_timit_utterance(tr / "DR1" / "FCJF0", "SX127", PHONES_B, seed=3)
    write_timit_utterance(root / "train" / "dr2" / "marc0", "sa2", PHONES_B, audio="riff", upper=False, seed=4)
    write_timit_utterance(root / "train" / "dr2" / "marc0", "si818", PHONES_C, audio="riff", upper=False, seed=5)
    write_timit_utterance(tr / "DR1" / "MDPK0", "SI1", PHONES_C, audio="both", seed=6)
    write_timit_utterance(tr / "DR1" / "MDPK0", "SX2", PHONES_B, audio="both", seed=7)
    (tr / "DR1" / "MDPK0" / "SX2.WAV").write_bytes(b"this is not audio" * 10)
    te = root / "TEST"
    write_timit_utterance(te / "DR1" / "FAKS0", "SA1", PHONES_A, seed=8)
    write_timit_utterance(te / "DR1" / "FAKS0", "SI943", PHONES_B, seed=9)
    write_timit_utterance(te / "DR1" / "MDAB0", "SI1039", PHONES_C, seed=10)
    write_timit_utterance(te / "DR1" / "MDAB0", "SX49", PHONES_A, seed=11)
    write_timit_utterance(te / "DR2" / "MZZZ0", "SI5", PHONES_A, seed=12)
    a, b, c = (" ".join(p) for p in (PHONES_A, PHONES_B, PHONES_C))
    return {
        "train": {"FCJF0/SI1027": a, "FCJF0/SX127": b, "MARC0/SI818": c, "MDPK0/SI1": c, "MDPK0/SX2": b},
        "val": {"FAKS0/SI943": b},
        "test": {"MDAB0/SI1039": c, "MDAB0/SX49": a},
        "full": {"FAKS0/SI943": b, "MDAB0/SI1039": c, "MDAB0/SX49": a, "MZZZ0/SI5": a},
    }


LIBRI = {
    "train-clean-100": {
        ("19", "198"): ["NORTHANGER ABBEY", "THAT'S ALL", "A B C"],
        ("26", "495"): ["HE SAID NO", "IT WAS LATE"],
    },
    "dev-clean": {("84", "121123"): ["GO DO YOU HEAR", "BUT IN LESS THAN FIVE MINUTES"]},
    "test-clean": {("1089", "134686"): ["HE HOPED THERE WOULD BE STEW", "STUFF IT INTO YOU"]},
}


def make_librispeech(root: Path, n: int = 4000) -> dict[str, dict[str, str]]:
    """``root/LibriSpeech/<subset>/<spk>/<chap>/`` with FLAC files and trans.txt; returns
    subset -> {utterance id: transcript}."""
    expected: dict[str, dict[str, str]] = {}
    for subset, chapters in LIBRI.items():
        expected[subset] = {}
        for k, ((spk, chap), texts) in enumerate(chapters.items()):
            folder = root / "LibriSpeech" / subset / spk / chap
            folder.mkdir(parents=True, exist_ok=True)
            rows = []
            for i, text in enumerate(texts):
                uid = f"{spk}-{chap}-{i:04d}"
                sf.write(str(folder / f"{uid}.flac"), signal(n + 160 * i, seed=10 * k + i), RATE,
                         format="FLAC", subtype="PCM_16")
                rows.append(f"{uid} {text}\n")
                expected[subset][uid] = text
            (folder / f"{spk}-{chap}.trans.txt").write_text("".join(rows))
    (root / "LibriSpeech" / "SPEAKERS.TXT").write_text("; ID |SEX| SUBSET |MINUTES| NAME\n")
    return expected
