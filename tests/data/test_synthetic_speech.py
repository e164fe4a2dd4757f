"""The synthetic eSpeak NG corpus: TIMIT layout, SPHERE headers, held-out voices."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from seqlab.data.espeak import PhonemeEvent, Speech, WordEvent, library_path
from seqlab.data.espeak_phones import IPA_TO_TIMIT, ipa_to_timit, timit_segments, word_segments
from seqlab.data.synthetic_speech import plan_speakers
from seqlab.errors import DataFormatError
from seqlab.text.phones import TIMIT_PHONES_61

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or library_path() is None,
    reason="espeak-ng is not installed (apt-get install espeak-ng); the synthetic speech corpus needs it",
)
VARIANTS = ["f1", "f2", "f3", "f4", "Annie", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "Alex", "klatt"]


def test_ipa_map_targets_only_timit_labels():
    assert all(set(labels) <= set(TIMIT_PHONES_61) for labels in IPA_TO_TIMIT.values())
    assert ipa_to_timit("ɾ") == ("dx",) and ipa_to_timit("ɑːɹ") == ("aa", "r")
    assert ipa_to_timit("ʃə") == ("sh", "ax")  # an unlisted cluster is split into listed parts
    with pytest.raises(DataFormatError, match="'ʘ' has no TIMIT label"):
        ipa_to_timit("ʘ")


def test_segments_from_events_closures_pauses_and_silence():
    speech = Speech(
        samples=np.zeros(1000, dtype=np.int16), sample_rate=22050,
        phonemes=[PhonemeEvent(10, "b"), PhonemeEvent(110, "ɪ"), PhonemeEvent(200, ""), PhonemeEvent(300, "ɡ"),
                  PhonemeEvent(400, ""), PhonemeEvent(400, "")],
        words=[WordEvent(0, 0, 3), WordEvent(250, 4, 3)],
    )
    segments = timit_segments(speech, lead=50)
    assert [label for _, label in segments] == ["h#", "bcl", "b", "ih", "pau", "gcl", "g", "h#"]
    assert [t for t, _ in segments] == [0, 60, 120, 160, 250, 350, 410, 450]
    assert word_segments(speech, "Bi, go.", lead=50) == [(60, 250, "bi"), (350, 450, "go")]


def test_held_out_voices_are_not_in_training():
    speakers = plan_speakers(30, 4, 6, seed=0, variants=VARIANTS, held_out_variants=(3, 3))
    by_use = {u: {s.variant for s in speakers if s.use == u} for u in ("train", "dev", "test")}
    assert not by_use["train"] & (by_use["dev"] | by_use["test"]) and not by_use["dev"] & by_use["test"]
    ids = [s.id for s in speakers]
    assert len(set(ids)) == len(ids) and all(len(i) == 5 and i[0] in "FM" and i[-1] == "0" for i in ids)
    assert plan_speakers(30, 4, 6, seed=0, variants=VARIANTS, held_out_variants=(3, 3)) == speakers


@needs_espeak
def test_small_corpus_layout_headers_and_reading(tmp_path: Path):
    from seqlab.data import SyntheticTIMITDataModule

    dm = SyntheticTIMITDataModule(
        cache_dir=str(tmp_path / "cache"), num_train_speakers=3, num_dev_speakers=1, num_test_speakers=2,
        utterances_per_speaker=2, workers=2, batch_size=4,
    )
    dm.setup()
    root = dm.root
    assert (root / ".complete").is_file() and not list(root.parent.glob("*.tmp-*"))
    wavs = sorted(root.glob("*/DR*/*/*.WAV"))
    assert len(wavs) == 6 * 4  # SA1, SA2 and 2 sentences per speaker
    assert all(w.read_bytes()[:7] == b"NIST_1A" for w in wavs)
    phn = wavs[0].with_suffix(".PHN").read_text().split("\n")[:-1]
    rows = [r.split() for r in phn]
    assert rows[0][2] == "h#" and rows[-1][2] == "h#" and rows[0][0] == "0"
    assert all(int(a[1]) == int(b[0]) for a, b in zip(rows, rows[1:]))  # contiguous, like TIMIT
    assert all(r[2] in TIMIT_PHONES_61 for r in rows)
    txt = wavs[0].with_suffix(".TXT").read_text().split(maxsplit=2)
    assert txt[0] == "0" and int(txt[1]) == int(rows[-1][1])
    assert wavs[0].with_suffix(".WRD").read_text().strip()

    # dev and test speakers sit in TEST/, read with voices absent from training
    assert {len(d) for d in (dm.datasets["train"], dm.datasets["val"], dm.datasets["test"])} == {6, 2, 4}
    groups = {s: {r.group for r in dm.datasets[s].records} for s in ("train", "val", "test")}
    assert not groups["train"] & (groups["val"] | groups["test"])
    voices = {}
    for row in (root / "speakers.txt").read_text().splitlines()[1:]:
        sid, _, _, use, voice, *_ = row.split()
        voices.setdefault(use, set()).add(voice.split("+")[1])
    assert not voices["train"] & (voices["dev"] | voices["test"])
    assert all(r.source.split("/")[-3] != "TRAIN" for r in dm.datasets["test"].records)
    assert json.loads((root / ".complete").read_text())["info"]["utterances"] == 24

    # generated once: a second module with the same settings reuses the folder
    again = SyntheticTIMITDataModule(
        cache_dir=str(tmp_path / "cache"), num_train_speakers=3, num_dev_speakers=1, num_test_speakers=2,
        utterances_per_speaker=2,
    )
    assert again.root == root
    mtime = (root / ".complete").stat().st_mtime_ns
    again.prepare_data()
    assert (root / ".complete").stat().st_mtime_ns == mtime


@needs_espeak
def test_corpus_does_not_depend_on_the_number_of_workers(tmp_path: Path):
    from seqlab.data.synthetic_speech import generate_speech_corpus

    def digest(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    sizes = {"num_train_speakers": 2, "num_dev_speakers": 1, "num_test_speakers": 1, "utterances_per_speaker": 1}
    one = generate_speech_corpus(tmp_path / "one", workers=1, **sizes)
    two = generate_speech_corpus(tmp_path / "two", workers=2, **sizes)
    assert digest(one) == digest(two)
