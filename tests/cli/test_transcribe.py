"""seqlab transcribe on tiny real checkpoints: inputs, formats, failures, atomic output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from seqlab.cli.transcribe import main
from seqlab.recognizer import Recognizer
from tests.data.speech_corpora import RATE, signal
from tests.tiny_models import IAM_WORDS, tiny_iam_run, tiny_timit_run



@pytest.fixture(scope="module")
def iam_run(tmp_path_factory) -> Path:
    return tiny_iam_run(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def timit_run(tmp_path_factory) -> Path:
    return tiny_timit_run(tmp_path_factory.getbasetemp())


def lines(run_dir: Path) -> list[Path]:
    return sorted((run_dir.parent / "iam" / "lines").rglob("*.png"))


def test_a_corrupt_file_is_named_skipped_and_the_rest_transcribed(iam_run: Path, tmp_path: Path):
    folder = tmp_path / "scans"
    (folder / "sub").mkdir(parents=True)
    good = lines(iam_run)[:4]
    for p in good:
        shutil.copy(p, folder / "sub" / p.name)
    shutil.copy(good[0], folder / "first.jpg")
    (folder / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
    (folder / "notes.md").write_text("not an input\n")
    out = tmp_path / "out" / "result.jsonl"
    out.parent.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "seqlab", "transcribe", str(iam_run / "checkpoints" / "best.ckpt"),
         str(folder), "--output", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert "bad.png" in proc.stderr and "cannot decode image" in proc.stderr
    assert "5 of 6 inputs transcribed; skipped 1 input: 1 could not be read" in proc.stderr
    rows = [json.loads(r) for r in out.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(["first.jpg"] + [f"sub/{p.name}" for p in good])
    assert sorted(p.name for p in out.parent.iterdir()) == ["result.jsonl"]  # no temporary file left


def test_jsonl_fields_match_the_python_api(iam_run: Path, capsys):
    ckpt = iam_run / "checkpoints" / "best.ckpt"
    paths = lines(iam_run)[:3]
    assert main([str(ckpt), *map(str, paths), "--format", "jsonl"]) == 0
    rows = [json.loads(r) for r in capsys.readouterr().out.splitlines()]
    expected = Recognizer.from_checkpoint(ckpt).transcribe(paths)
    assert [r["text"] for r in rows] == [t.text for t in expected]
    row = rows[0]
    assert row["id"] == row["source"] == str(paths[0])
    assert row["unit"] == "pixels" and 0 <= row["confidence"] <= 1
    for key in ("extent", "frames", "aligned", "tokens", "words"):
        assert key in row
    assert set(row["tokens"][0]) == {"text", "start", "end", "start_frame", "end_frame", "score"}


def test_txt_from_a_list_file_and_the_output_file(iam_run: Path, tmp_path: Path, capsys):
    paths = lines(iam_run)[:3]
    listing = tmp_path / "lines.lst"
    listing.write_text("# three lines\n" + "".join(f"{p}\n" for p in paths) + "\n")
    out = tmp_path / "out.txt"
    assert main([str(iam_run / "checkpoints" / "best.ckpt"), str(listing), "-f", "txt", "-o", str(out)]) == 0
    rows = out.read_text().splitlines()
    assert len(rows) == 3 and all(r.split("\t")[0] == str(p) for r, p in zip(rows, paths))
    assert capsys.readouterr().out == ""


def test_ctm_is_refused_for_image_models(iam_run: Path, tmp_path: Path, capsys):
    out = tmp_path / "x.ctm"
    assert main([str(iam_run / "checkpoints" / "best.ckpt"), str(lines(iam_run)[0]), "-f", "ctm", "-o", str(out)]) == 2
    assert "--format ctm is for speech models" in capsys.readouterr().err
    assert not out.exists()


def test_lexicon_restricts_the_output_to_its_words(iam_run: Path, tmp_path: Path, capsys):
    words = sorted({w for line in IAM_WORDS for w in line.split()})
    lexicon = tmp_path / "words.txt"
    lexicon.write_text("\n".join(words) + "\n")
    args = [str(iam_run / "checkpoints" / "best.ckpt"), *map(str, lines(iam_run)[:4]), "--lexicon", str(lexicon),
            "--beam-size", "10", "--word-score", "1"]
    assert main(args) == 0
    for row in map(json.loads, capsys.readouterr().out.splitlines()):
        assert set(row["text"].split()) <= set(words)


def test_ctm_for_speech_sphere_riff_and_flac(timit_run: Path, tmp_path: Path, capsys):
    samples = signal(RATE, seed=5)
    for name, fmt in (("a.sph", "NIST"), ("b.wav", "WAV"), ("c.flac", "FLAC")):
        sf.write(str(tmp_path / name), samples, RATE, format=fmt, subtype="PCM_16")
    assert main([str(timit_run / "checkpoints" / "best.ckpt"), str(tmp_path), "-f", "ctm"]) == 0
    rows = [r.split() for r in capsys.readouterr().out.splitlines()]
    assert {r[0] for r in rows} == {"a.sph", "b.wav", "c.flac"}
    by_utt = {u: [r[2:] for r in rows if r[0] == u] for u in ("a.sph", "b.wav", "c.flac")}
    assert by_utt["a.sph"] == by_utt["b.wav"] == by_utt["c.flac"] and by_utt["a.sph"]
    for _utt, channel, start, dur, word, conf in rows:
        assert channel == "1" and 0 <= float(start) and float(start) + float(dur) <= 1.0 + 1e-6
        assert 0 <= float(conf) <= 1 and word


def test_help_documents_the_options_with_examples(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for needle in ("--lexicon", "--lm-weight", "--word-score", "--batch-size", "ctm", "Examples:", "confidence"):
        assert needle in text


def test_inputs_that_name_nothing(iam_run: Path, tmp_path: Path, capsys):
    assert main([str(iam_run / "checkpoints" / "best.ckpt"), str(tmp_path / "nothing")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


# --- ids: unique, with their suffix -------------------------------------------------------------------
def test_names_that_differ_only_in_space_or_suffix_get_distinct_ids(iam_run: Path, tmp_path: Path, capsys):
    folder = tmp_path / "scans"
    (folder / "sub").mkdir(parents=True)
    line = lines(iam_run)[0]
    for name in ("a b.png", "a_b.png", "a_b.jpg", "sub/a_b.png"):
        shutil.copy(line, folder / name)
    assert main([str(iam_run / "checkpoints" / "best.ckpt"), str(folder), "-f", "txt"]) == 0
    ids = [row.split("\t")[0] for row in capsys.readouterr().out.splitlines()]
    assert sorted(ids) == ["a b.png", "a_b.jpg", "a_b.png", "sub/a_b.png"]


def test_two_inputs_with_one_id_stop_before_any_work(iam_run: Path, tmp_path: Path, capsys, monkeypatch):
    line = lines(iam_run)[0]
    for folder in ("left", "right"):
        (tmp_path / folder).mkdir()
        shutil.copy(line, tmp_path / folder / "x.png")
    monkeypatch.setattr(Recognizer, "transcribe", lambda *a, **k: pytest.fail("transcribed despite the collision"))
    out = tmp_path / "out.txt"
    ckpt = str(iam_run / "checkpoints" / "best.ckpt")
    assert main([ckpt, str(tmp_path / "left"), str(tmp_path / "right"), "-f", "txt", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "left" / "x.png") in err and str(tmp_path / "right" / "x.png") in err
    assert "'x.png'" in err and "separate runs" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["left", "right"]  # no output, no temporary file
    assert main([ckpt, str(line), str(line)]) == 2
    assert "given twice" in capsys.readouterr().err


def test_a_file_given_twice_under_two_ids_is_written_under_both(iam_run: Path, tmp_path: Path, capsys):
    shutil.copy(lines(iam_run)[0], tmp_path / "x.png")
    assert main([str(iam_run / "checkpoints" / "best.ckpt"), str(tmp_path), str(tmp_path / "x.png"), "-f", "txt"]) == 0
    ids = [row.split("\t")[0] for row in capsys.readouterr().out.splitlines()]
    assert ids == ["x.png", str(tmp_path / "x.png")]


# --- --output is checked before any work --------------------------------------------------------------
@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if the checkpoint is loaded: --output must be refused before that."""
    monkeypatch.setattr(Recognizer, "from_checkpoint", lambda *a, **k: pytest.fail("the model was loaded"))


def test_output_naming_a_folder_is_refused_before_loading_the_model(tmp_path: Path, capsys, no_model):
    (tmp_path / "results").mkdir()
    (tmp_path / "line.png").write_bytes(b"")
    assert main([str(tmp_path / "model.ckpt"), str(tmp_path / "line.png"), "-o", str(tmp_path / "results")]) == 2
    err = capsys.readouterr().err
    assert f"--output {tmp_path / 'results'} is a folder" in err and "transcripts.jsonl" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["line.png", "results"]


@pytest.mark.parametrize("where", ["missing folder", "file as folder"])
def test_output_in_a_folder_that_is_not_one_is_refused(tmp_path: Path, capsys, no_model, where: str):
    (tmp_path / "line.png").write_bytes(b"")
    parent = tmp_path / ("absent" if where == "missing folder" else "line.png")
    assert main([str(tmp_path / "model.ckpt"), str(tmp_path / "line.png"), "-o", str(parent / "out.txt")]) == 2
    err = capsys.readouterr().err
    assert str(parent) in err and ("mkdir -p" in err if where == "missing folder" else "is not a folder" in err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line.png"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions that bind (not root)")
def test_output_in_a_read_only_folder_is_refused(tmp_path: Path, capsys, no_model):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main([str(tmp_path / "model.ckpt"), str(tmp_path), "-o", str(locked / "out.txt")]) == 2
        assert "cannot write there" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_a_failure_midway_leaves_the_previous_output_untouched(iam_run: Path, tmp_path: Path, monkeypatch):
    out = tmp_path / "out.txt"
    out.write_text("previous\n")

    real = Recognizer.iter_transcribe

    def crash(self, paths, **kwargs):  # one line written, then the failure
        yield next(real(self, paths, **kwargs))
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Recognizer, "iter_transcribe", crash)
    with pytest.raises(RuntimeError, match="disk on fire"):
        main([str(iam_run / "checkpoints" / "best.ckpt"), *map(str, lines(iam_run)[:2]), "-f", "txt", "-o", str(out)])
    assert out.read_text() == "previous\n" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
