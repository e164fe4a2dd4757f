"""The Recognizer on tiny real checkpoints: the same outputs as evaluation, for every input format."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from PIL import Image

from seqlab.checkpoint import load_model
from seqlab.data.module import Record
from seqlab.errors import ConfigError, UnreadableFileError
from seqlab.recognizer import Recognizer
from tests.data.speech_corpora import RATE, signal, write_sphere
from tests.tiny_models import tiny_iam_run, tiny_timit_run


@pytest.fixture(scope="module")
def iam_run(tmp_path_factory) -> Path:
    return tiny_iam_run(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def timit_run(tmp_path_factory) -> Path:
    return tiny_timit_run(tmp_path_factory.getbasetemp())


def datamodule(run_dir: Path):
    dm = instantiate(OmegaConf.load(run_dir / "config.yaml").data)
    dm.setup("fit")
    return dm


@torch.inference_mode()
def evaluation_hypotheses(run_dir: Path, dm) -> dict[str, str]:
    """source -> what the evaluation loop decodes (CTCModule.decode on the data module's batches)."""
    model, _ = load_model(run_dir / "checkpoints" / "best.ckpt")
    out = {}
    for loader in (dm.train_dataloader(), dm.val_dataloader(), dm.test_dataloader()):
        for batch in loader:
            log_probs, lengths = model(batch.inputs, batch.input_lengths)
            out.update(zip(batch.sources, model.decode(log_probs, lengths)))
    return out


@torch.inference_mode()
def decode_one(model, x: torch.Tensor) -> str:
    n = x.size(-1) if x.dim() == 3 else x.size(0)
    log_probs, lengths = model(x.unsqueeze(0), torch.tensor([n]))
    return model.decode(log_probs, lengths)[0]


def test_greedy_equals_what_evaluation_decodes(iam_run: Path):
    expected = evaluation_hypotheses(iam_run, datamodule(iam_run))
    assert len(expected) == 16
    paths = sorted(expected)
    for batch_size in (16, 3):
        rec = Recognizer.from_checkpoint(iam_run / "checkpoints" / "best.ckpt", batch_size=batch_size)
        got = rec.transcribe(paths)
        assert [t.source for t in got] == paths  # input order
        assert {t.source: t.text for t in got} == expected


def test_png_jpeg_and_tiff_are_read_as_evaluation_reads_them(iam_run: Path, tmp_path: Path):
    dm = datamodule(iam_run)
    model, _ = load_model(iam_run / "checkpoints" / "best.ckpt")
    line = next((iam_run.parent / "iam" / "lines").rglob("c03-002x-00.png"))
    grey = Image.open(line)
    files = [line, tmp_path / "line.jpg", tmp_path / "line.tif", tmp_path / "rgb.png"]
    grey.save(files[1], quality=90)
    grey.save(files[2])
    grey.convert("RGB").save(files[3])
    rec = Recognizer.from_checkpoint(iam_run / "checkpoints" / "best.ckpt")
    for f, t in zip(files, rec.transcribe(files)):
        assert t.text == decode_one(model, dm.load(Record("x", str(f), "", 0))), f
        assert t.unit == "pixels" and t.extent == grey.width


def test_transcriptions_carry_aligned_tokens_words_and_pixel_ranges(iam_run: Path):
    rec = Recognizer.from_checkpoint(iam_run / "checkpoints" / "best.ckpt", batch_size=4)
    paths = sorted((iam_run.parent / "iam" / "lines").rglob("*.png"))
    for t in rec.transcribe(paths):
        width = Image.open(t.source).width
        resized = rec.frontend.transform.width_for(width, Image.open(t.source).height)
        assert t.frames == math.ceil(resized / 4)  # frame_stack 4
        assert 0.0 <= t.confidence <= 1.0 and t.aligned
        assert "".join(s.text for s in t.tokens) == t.text
        assert [w.text for w in t.words] == t.text.split()
        ends = [0]
        for s in t.tokens:
            assert 0 <= s.start_frame < s.end_frame <= t.frames
            assert ends[-1] <= s.start <= s.end <= width and 0.0 <= s.score <= 1.0
            ends.append(s.end)
        d = t.to_dict()
        assert set(d) >= {"source", "text", "confidence", "tokens", "words", "unit", "frames", "extent"}


def test_unreadable_files_raise_or_are_reported(iam_run: Path, tmp_path: Path):
    good = next((iam_run.parent / "iam" / "lines").rglob("*.png"))
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    rec = Recognizer.from_checkpoint(iam_run / "checkpoints" / "best.ckpt")
    with pytest.raises(UnreadableFileError, match="broken.png"):
        rec.transcribe([good, bad])
    errors = []
    got = rec.transcribe([bad, good, tmp_path / "missing.png"], on_error=lambda p, e: errors.append((p, str(e))))
    assert [t.source for t in got] == [str(good)]
    assert [Path(p).name for p, _ in errors] == ["broken.png", "missing.png"]
    assert "cannot decode image" in errors[0][1] and "not found" in errors[1][1]


def test_beam_without_lexicon_finds_the_greedy_output(iam_run: Path):
    paths = sorted((iam_run.parent / "iam" / "lines").rglob("*.png"))
    greedy = Recognizer.from_checkpoint(iam_run / "checkpoints" / "best.ckpt").transcribe(paths)
    beam = Recognizer.from_checkpoint(iam_run / "checkpoints" / "best.ckpt", decoder="beam",
                                      decoder_settings={"beam_size": 8})
    assert [t.text for t in beam.transcribe(paths)] == [t.text for t in greedy]
    with pytest.raises(ConfigError, match="the greedy decoder takes no lexicon setting"):
        Recognizer.from_checkpoint(iam_run / "checkpoints" / "best.ckpt", decoder_settings={"lexicon": "words.txt"})


def test_speech_greedy_equals_evaluation(timit_run: Path):
    dm = datamodule(timit_run)
    expected = evaluation_hypotheses(timit_run, dm)
    rec = Recognizer.from_checkpoint(timit_run / "checkpoints" / "best.ckpt", batch_size=2)
    got = rec.transcribe(sorted(expected))
    assert {t.source: t.text for t in got} == expected


def test_sphere_riff_and_flac_give_the_same_transcription(timit_run: Path, tmp_path: Path):
    samples = signal(RATE + 800, seed=3)  # 1.05 s
    write_sphere(tmp_path / "SI1.WAV", samples, "si1")
    sf.write(str(tmp_path / "riff.wav"), samples, RATE, format="WAV", subtype="PCM_16")
    sf.write(str(tmp_path / "utt.flac"), samples, RATE, format="FLAC", subtype="PCM_16")
    sf.write(str(tmp_path / "utt.sph"), samples, RATE, format="NIST", subtype="PCM_16")
    rec = Recognizer.from_checkpoint(timit_run / "checkpoints" / "best.ckpt")
    files = ["SI1.WAV", "riff.wav", "utt.flac", "utt.sph"]
    got = rec.transcribe([tmp_path / f for f in files])
    assert len({(t.text, t.confidence) for t in got}) == 1
    t = got[0]
    assert t.unit == "seconds" and t.extent == pytest.approx(1.05)
    feature_frames = 1 + (len(samples) - 400) // 160
    assert t.frames == math.ceil(feature_frames / 2)  # frame_stack 2: 20 ms per frame
    assert [w.text for w in t.words] == t.text.split()
    for w in t.words:
        assert w.start == pytest.approx(w.start_frame * 0.02 * feature_frames / 2 / t.frames, abs=1e-3)
        assert 0 <= w.start < w.end <= 1.05


def test_waveforms_at_other_rates_are_resampled(timit_run: Path):
    rec = Recognizer.from_checkpoint(timit_run / "checkpoints" / "best.ckpt")
    wave = torch.from_numpy(signal(8000, seed=4).astype(np.float32) / 32768)
    item = rec.prepare_audio(wave, 8000, "eight-khz")
    assert item.extent == pytest.approx(1.0) and item.input.size(1) == rec.frontend.feature_size
    [t] = rec.recognize([item])
    assert t.source == "eight-khz" and t.extent == pytest.approx(1.0)


def _same_transcriptions(a, b) -> None:
    """Equal texts, alignments and extents; confidences and scores equal up to float rounding
    (one torch thread and several sum in different orders)."""
    assert [t.source for t in a] == [t.source for t in b]
    for x, y in zip(a, b):
        assert (x.text, x.frames, x.extent, x.aligned) == (y.text, y.frames, y.extent, y.aligned)
        assert [(s.text, s.start_frame, s.end_frame) for s in x.tokens] == [
            (s.text, s.start_frame, s.end_frame) for s in y.tokens]
        assert x.confidence == pytest.approx(y.confidence, rel=1e-4, abs=1e-6)
        assert [s.score for s in x.words] == pytest.approx([s.score for s in y.words], rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("decoder", ["greedy", "beam"])
def test_batches_on_several_workers_give_what_one_batch_at_a_time_gives(iam_run: Path, tmp_path: Path, decoder: str):
    paths = sorted((iam_run.parent / "iam" / "lines").rglob("*.png"))
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    paths.insert(5, bad)
    results = {}
    for workers in (1, 3):
        rec = Recognizer.from_checkpoint(iam_run / "checkpoints" / "best.ckpt", batch_size=2, workers=workers,
                                         decoder=decoder)
        assert rec.workers.count == workers
        errors: list[str] = []
        results[workers] = rec.transcribe(paths, on_error=lambda p, e: errors.append(p), chunk=7)
        assert errors == [str(bad)]
    assert len(results[1]) == len(paths) - 1
    _same_transcriptions(results[1], results[3])


def test_speech_batches_on_several_workers_give_what_one_batch_at_a_time_gives(timit_run: Path):
    dm = datamodule(timit_run)
    paths = sorted(evaluation_hypotheses(timit_run, dm))
    one = Recognizer.from_checkpoint(timit_run / "checkpoints" / "best.ckpt", batch_size=2, workers=1)
    two = Recognizer.from_checkpoint(timit_run / "checkpoints" / "best.ckpt", batch_size=2, workers=2)
    _same_transcriptions(one.transcribe(paths), two.transcribe(paths))


def test_workers_default_to_torchs_threads_on_the_cpu(iam_run: Path):
    rec = Recognizer.from_checkpoint(iam_run / "checkpoints" / "best.ckpt")
    assert rec.workers.count == torch.get_num_threads()


def test_to_dict_is_dataclasses_asdict(timit_run: Path):
    from dataclasses import asdict

    rec = Recognizer.from_checkpoint(timit_run / "checkpoints" / "best.ckpt")
    paths = sorted(evaluation_hypotheses(timit_run, datamodule(timit_run)))[:3]
    for t in rec.transcribe(paths):
        assert t.tokens and t.to_dict() == asdict(t) and list(t.to_dict()) == list(asdict(t))
        assert list(t.to_dict()["words"][0]) == list(asdict(t)["words"][0])


def test_an_encoder_can_ask_for_fewer_workers(iam_run: Path):
    from seqlab.data.frontends import ImageFrontend
    from seqlab.nn import CTCModel, HierarchicalMDLSTMEncoder
    from seqlab.text import Alphabet

    model = CTCModel(HierarchicalMDLSTMEncoder(32, hidden_sizes=[4, 8], conv_channels=[8], pool=[[2, 2]]),
                     Alphabet(tuple("ab")))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert Recognizer(model, ImageFrontend(height=32)).workers.count == 1  # the MDLSTM's inference_workers
        assert Recognizer(model, ImageFrontend(height=32), workers=2).workers.count == 2  # asked for: given
    finally:
        torch.set_num_threads(before)
