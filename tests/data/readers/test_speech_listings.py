"""Speech in the formats users hold: JSON-lines manifests with offsets, Common Voice / SpeechBrain tables,
Kaldi data directories with segments; audio at any rate and channel count; pipelines in wav.scp refused."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqlab.data.frontends.speech import SpeechFrontend
from seqlab.data.readers.kaldi import KaldiReader
from seqlab.data.readers.listing import strip_punctuation
from seqlab.data.readers.manifest import ManifestReader
from seqlab.data.readers.table import TableReader
from seqlab.errors import ConfigError, DataFormatError, SeqlabError
from tests.data.readers.damage import damaged_copies
from tests.data.speech_corpora import RATE, signal, write_sphere

TEXTS = ["she had your dark suit", "in greasy wash water", "all year don't ask me", "to carry an oily rag",
         "like that", "the big dog", "a quiet hour", "seven blue cups"]


def write_audio(path: Path, seconds: float, fmt: str, rate: int = RATE, channels: int = 1, seed: int = 0) -> None:
    """A voiced-like signal as SPHERE, WAV, FLAC, MP3 or OGG, at ``rate`` with ``channels``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    x = signal(int(seconds * RATE), seed=seed).astype(np.float32) / 32768
    if rate != RATE:  # the same sound at another rate (nearest sample: good enough for a test signal)
        x = x[(np.arange(int(seconds * rate)) * RATE / rate).astype(int)]
    if fmt == "sphere":
        assert rate == RATE and channels == 1
        write_sphere(path, (x * 32767).astype(np.int16))
        return
    data = np.stack([x, 0.5 * x], axis=1) if channels == 2 else x
    sf.write(str(path), data, rate, format={"wav": "WAV", "flac": "FLAC", "mp3": "MP3", "ogg": "OGG"}[fmt])


def make_manifest_corpus(root: Path) -> None:
    """Manifests over SPHERE, RIFF WAV (44.1 kHz stereo) and FLAC (8 kHz) files, one long file with offsets."""
    audio = root / "audio"
    write_audio(audio / "long.flac", 6.0, "flac", rate=8000)
    rows = {"train": [], "dev": [], "test": []}
    for i, text in enumerate(TEXTS[:6]):
        fmt = ("sphere", "wav", "flac")[i % 3]
        name = f"u{i}.{ {'sphere': 'sph', 'wav': 'wav', 'flac': 'flac'}[fmt]}"
        write_audio(audio / name, 0.6 + 0.1 * i, fmt, rate=44_100 if fmt == "wav" else RATE,
                    channels=2 if fmt == "wav" else 1, seed=i)
        rows["train"].append({"audio_filepath": f"audio/{name}", "text": text.capitalize() + ".",
                              "duration": 0.6 + 0.1 * i, "speaker": f"s{i % 2}"})
    for k, split in enumerate(("train", "train", "dev", "test", "test")):  # five utterances of one long file
        rows[split].append({"audio_filepath": str(audio / "long.flac"), "offset": 1.2 * k, "duration": 1.0,
                            "text": TEXTS[(k + 3) % len(TEXTS)]})
    rows["dev"].append({"audio_filepath": "audio/u1.wav", "text": "in greasy wash water", "duration": 0.7})
    root.mkdir(parents=True, exist_ok=True)
    for split, items in rows.items():
        (root / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in items))
    with (root / "train.jsonl").open("a") as f:
        f.write("\n{not json\n")
        f.write(json.dumps({"audio_filepath": "audio/u0.sph"}) + "\n")  # no text


def make_kaldi_corpus(root: Path) -> None:
    """``data/{train,dev,test}`` with wav.scp over whole recordings, segments, text and utt2spk."""
    for split, recordings in (("train", 3), ("dev", 1), ("test", 1)):
        folder = root / "data" / split
        folder.mkdir(parents=True)
        scp, segs, text, spk = [], [], [], []
        for r in range(recordings):
            rec = f"{split}_rec{r}"
            write_audio(root / "wav" / f"{rec}.wav", 3.0, "wav", rate=RATE, seed=r + 10 * len(split))
            scp.append(f"{rec} wav/{rec}.wav\n")  # relative to the recipe folder, as Kaldi recipes write them
            for s in range(2):
                seg = f"{rec}_seg{s}"
                segs.append(f"{seg} {rec} {1.4 * s:.2f} {1.4 * s + 1.2:.2f}\n")
                text.append(f"{seg} {TEXTS[(r * 2 + s) % len(TEXTS)].upper()}\n")
                spk.append(f"{seg} spk{r}\n")
        (folder / "wav.scp").write_text("".join(scp))
        (folder / "segments").write_text("".join(segs))
        (folder / "text").write_text("".join(text))
        (folder / "utt2spk").write_text("".join(spk))


def test_a_manifest_reads_every_format_with_offsets_and_counts_what_it_skips(tmp_path: Path, caplog):
    make_manifest_corpus(tmp_path)
    reader = ManifestReader(tmp_path, "train.jsonl", "dev.jsonl", "test.jsonl", case="lower", punctuation="drop")
    with caplog.at_level(logging.WARNING):
        train = reader.read("train")
    assert len(train) == 8
    assert "skipped 2 item(s)" in caplog.text and "train.jsonl:10: not JSON" in caplog.text
    assert "train.jsonl:11: no text" in caplog.text
    first = train[0]
    assert first.source == str(tmp_path / "audio" / "u0.sph") and first.text == "she had your dark suit"
    assert first.group == "s0" and first.offset == 0 and first.duration is None  # no offset: the whole file
    stretches = [r for r in train if r.source.endswith("long.flac")]
    assert [(r.offset, r.duration) for r in stretches] == [(0.0, 1.0), (1.2, 1.0)]
    assert stretches[1].id.endswith("long@1.2")  # one file, two utterances: two ids
    assert {r.split for r in train} == {"train"}


def test_the_speech_frontend_reads_stretches_at_any_rate_and_says_so_once(tmp_path: Path, caplog):
    make_manifest_corpus(tmp_path)
    records = ManifestReader(tmp_path, "train.jsonl").read("train")
    frontend = SpeechFrontend(normalize=False)
    lengths = [frontend.length(r) for r in records]
    assert lengths[6:] == [98, 98]  # 1.0 s stretches of the 8 kHz file: 98 frames at 16 kHz
    with caplog.at_level(logging.WARNING):
        frontend.report_inputs()
    # counted per file, not per utterance (the 8 kHz file holds two)
    assert "audio resampled to 16,000 Hz on reading: 3 of 7 files (1 at 8,000 Hz, 2 at 44,100 Hz)" in caplog.text
    assert "audio mixed down to mono (the mean of its channels): 2 of 7 files" in caplog.text
    x = frontend.loader()(records[6])
    assert x.shape == (98, frontend.feature_size) and bool(x.isfinite().all())
    caplog.clear()
    frontend.report_inputs()  # said once: nothing new measured since
    assert caplog.text == ""


def test_mp3_and_ogg_are_read_and_a_common_voice_table_finds_its_clips(tmp_path: Path):
    clips = tmp_path / "cv" / "clips"
    write_audio(clips / "common_voice_en_1.mp3", 1.0, "mp3", rate=48_000)
    write_audio(clips / "common_voice_en_2.ogg", 0.8, "ogg", rate=48_000, channels=2)
    (tmp_path / "cv" / "train.tsv").write_text(
        "client_id\tpath\tsentence\tup_votes\tdown_votes\tage\tgender\taccents\tlocale\tsegment\n"
        'abc\tcommon_voice_en_1.mp3\t"Quoted" words, here.\t2\t0\t\t\t\ten\t\n'
        "def\tcommon_voice_en_2.ogg\tSecond one!\t2\t0\t\t\t\ten\t\n"
        "ghi\tmissing.mp3\tThird\t2\t0\t\t\t\ten\t\n"
    )
    records = TableReader(tmp_path / "cv", train="train.tsv", punctuation="drop", case="lower").read("train")
    assert [r.text for r in records] == ["quoted words here", "second one", "third"]
    assert records[0].source == str(clips / "common_voice_en_1.mp3") and records[0].group == "abc"
    frontend = SpeechFrontend(normalize=False)
    assert frontend.length(records[0]) == 98 and frontend.length(records[1]) == 78
    assert frontend.loader()(records[1]).shape[0] == 78
    from seqlab.errors import UnreadableFileError

    with pytest.raises(UnreadableFileError, match="missing.mp3: file not found"):
        frontend.length(records[2])


def test_a_speechbrain_csv_with_data_root(tmp_path: Path):
    write_audio(tmp_path / "corpus" / "a.flac", 0.5, "flac")
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "train.csv").write_text(
        "ID,duration,wav,spk_id,wrd\nutt1,0.5,$data_root/a.flac,spk1,\"HELLO, WORLD\"\n")
    reader = TableReader(tmp_path / "lists", train="train.csv", data_root=str(tmp_path / "corpus"))
    [r] = reader.read("train")
    assert (r.id, r.source, r.text, r.group) == ("utt1", str(tmp_path / "corpus" / "a.flac"), "HELLO, WORLD", "spk1")
    with pytest.raises(ConfigError, match=r"train.csv:2: the path '\$data_root/a.flac' uses \$data_root"):
        TableReader(tmp_path / "lists", train="train.csv").read("train")
    with pytest.raises(ConfigError, match="no column 'sentence'"):
        TableReader(tmp_path / "lists", train="train.csv", text_column="sentence").read("train")


def test_a_kaldi_directory_with_segments(tmp_path: Path, caplog):
    make_kaldi_corpus(tmp_path)
    reader = KaldiReader(tmp_path / "data", "train", "dev", "test")
    train = reader.read("train")
    assert len(train) == 6
    r = train[1]
    assert r.id == "train_rec0_seg1" and r.source == str(tmp_path / "wav" / "train_rec0.wav")
    assert r.offset == pytest.approx(1.4) and r.duration == pytest.approx(1.2) and r.group == "spk0"
    assert r.text == "IN GREASY WASH WATER" and r.where.endswith("data/train/text:2")
    assert SpeechFrontend(normalize=False).length(r) == 118
    # a transcript of no utterance and an utterance with no transcript are counted
    with (tmp_path / "data" / "dev" / "text").open("a") as f:
        f.write("ghost_seg WORDS\n")
    (tmp_path / "data" / "dev" / "segments").write_text(
        (tmp_path / "data" / "dev" / "segments").read_text() + "extra dev_rec0 2.9 3.0\n")
    with caplog.at_level(logging.WARNING):
        assert len(reader.read("val")) == 2
    assert "skipped 2 item(s)" in caplog.text and "ghost_seg is not an utterance" in caplog.text


def test_a_wav_scp_pipeline_is_refused_naming_the_line_and_never_run(tmp_path: Path):
    make_kaldi_corpus(tmp_path)
    marker = tmp_path / "ran"
    scp = tmp_path / "data" / "train" / "wav.scp"
    scp.write_text(scp.read_text() + f"train_rec9 touch {marker} |\n")
    with pytest.raises(DataFormatError, match=r"wav.scp:4: this wav.scp entry is a shell command") as e:
        KaldiReader(tmp_path / "data", "train").read("train")
    assert "never runs commands" in str(e.value) and not marker.exists()
    scp.write_text("train_rec0 /data/feats.ark:1234\n")
    with pytest.raises(DataFormatError, match="wav.scp:1: .*not a plain audio file path"):
        KaldiReader(tmp_path / "data", "train").read("train")


def test_a_missing_listing_says_which_setting_to_change(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"the test manifest .*test.jsonl is not a file .*set data.root and "
                                          r"data.test"):
        ManifestReader(tmp_path, test="test.jsonl").read("test")
    with pytest.raises(ConfigError, match="no val listing is set: set data.val"):
        ManifestReader(tmp_path, val=None).read("val")


def test_punctuation_is_dropped_but_word_internal_apostrophes_stay():
    assert " ".join(strip_punctuation("\u201cDon't,\u201d she said — well-known!").split()) == \
        "Don't she said well-known"


VALID = {
    "manifest": (b'{"audio_filepath": "a.wav", "text": "hi there", "duration": 1.0}\n'
                 b'{"audio_filepath": "b.flac", "offset": 1.5, "duration": 0.5, "text": "x"}\n'),
    "table": b"client_id\tpath\tsentence\nab\ta.mp3\tHello, world.\ncd\tb.mp3\tAgain\n",
    "kaldi": b"r1 a.wav\nr2 /abs/b.flac\n",
}


def read_listing(tmp_path: Path, fmt: str, data: bytes) -> None:
    if fmt == "manifest":
        (tmp_path / "train.jsonl").write_bytes(data)
        ManifestReader(tmp_path, "train.jsonl", case="lower", punctuation="drop").read("train")
    elif fmt == "table":
        (tmp_path / "train.tsv").write_bytes(data)
        TableReader(tmp_path, train="train.tsv").read("train")
    else:
        folder = tmp_path / "train"
        folder.mkdir(exist_ok=True)
        (folder / "wav.scp").write_bytes(data)
        (folder / "text").write_bytes(data[::-1])
        (folder / "segments").write_bytes(b"s1 r1 0.0 0.5\ns2 r2 0.5 -1\n" + data[:40])
        KaldiReader(tmp_path, "train").read("train")


@pytest.mark.parametrize("fmt", sorted(VALID))
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), st.sampled_from(list(VALID.values())).flatmap(damaged_copies)))
def test_any_listing_bytes_give_records_or_seqlab_errors(tmp_path: Path, fmt: str, data: bytes):
    try:
        read_listing(tmp_path, fmt, data)
    except SeqlabError:
        pass


def test_a_damaged_mp3_says_whether_libsndfile_reads_mp3_at_all(tmp_path: Path):
    from seqlab.data.audio import audio_info
    from seqlab.errors import UnreadableFileError

    bad = tmp_path / "clip.mp3"
    bad.write_bytes(b"ID3\x03\x00" + bytes(200))
    with pytest.raises(UnreadableFileError, match=r"clip.mp3: not a readable audio file .*libsndfile \(1\.\d+\.\d+\) "
                                                  r"reads MP3, so the file itself is damaged"):
        audio_info(bad)
