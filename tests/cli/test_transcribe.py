"""seqlab transcribe on tiny real checkpoints: inputs, formats, failures, atomic output."""

from __future__ import annotations

import json
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
    assert "5 of 6 file(s) transcribed; 1 could not be read" in proc.stderr
    rows = [json.loads(r) for r in out.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(["first"] + [f"sub/{p.stem}" for p in good])
    assert sorted(p.name for p in out.parent.iterdir()) == ["result.jsonl"]  # no temporary file left


def test_jsonl_fields_match_the_python_api(iam_run: Path, capsys):
    ckpt = iam_run / "checkpoints" / "best.ckpt"
    paths = lines(iam_run)[:3]
    assert main([str(ckpt), *map(str, paths), "--format", "jsonl"]) == 0
    rows = [json.loads(r) for r in capsys.readouterr().out.splitlines()]
    expected = Recognizer.from_checkpoint(ckpt).transcribe(paths)
    assert [r["text"] for r in rows] == [t.text for t in expected]
    row = rows[0]
    assert row["id"] == str(paths[0].with_suffix("")) and row["source"] == str(paths[0])
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
    assert len(rows) == 3 and all(r.split("\t")[0] == str(p.with_suffix("")) for r, p in zip(rows, paths))
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
    assert {r[0] for r in rows} == {"a", "b", "c"}
    by_utt = {u: [r[2:] for r in rows if r[0] == u] for u in "abc"}
    assert by_utt["a"] == by_utt["b"] == by_utt["c"] and by_utt["a"]
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
