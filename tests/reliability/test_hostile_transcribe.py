"""Hostile file systems under ``seqlab transcribe``: entries that are no regular file, odd names.

FIFOs, symlink loops, broken links and folders named like images are skipped,
named and counted by reason, and never opened: opening a FIFO blocks until a
writer comes, so the tests that make one run the command in a subprocess with a
timeout, where a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from seqlab.cli.transcribe import main
from tests.tiny_models import tiny_iam_run

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs and symlinks")


@pytest.fixture(scope="module")
def iam_run(tmp_path_factory) -> Path:
    return tiny_iam_run(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def good_line(iam_run: Path) -> Path:
    return sorted((iam_run.parent / "iam" / "lines").rglob("*.png"))[0]


def transcribe(iam_run: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``seqlab transcribe best.ckpt ARGS`` in a subprocess that cannot hang the suite."""
    ckpt = str(iam_run / "checkpoints" / "best.ckpt")
    return subprocess.run([sys.executable, "-m", "seqlab", "transcribe", ckpt, *args, "--no-progress"],
                          capture_output=True, text=True, timeout=90, cwd=cwd)


def test_fifo_loop_broken_link_and_folder_named_like_an_image_are_skipped_and_counted(
    iam_run: Path, good_line: Path, tmp_path: Path
):
    folder = tmp_path / "scans"
    folder.mkdir()
    shutil.copy(good_line, folder / "good.png")
    os.mkfifo(folder / "fifo.png")
    os.symlink("b.png", folder / "a.png")  # a.png -> b.png -> a.png
    os.symlink("a.png", folder / "b.png")
    os.symlink("gone.png", folder / "link.png")
    (folder / "d.png").mkdir()
    os.symlink("loop_d", folder / "loop_c")  # a loop not named like an image: not an input, not counted
    os.symlink("loop_c", folder / "loop_d")
    out = tmp_path / "out.jsonl"
    proc = transcribe(iam_run, str(folder), "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert [json.loads(r)["id"] for r in out.read_text().splitlines()] == ["good.png"]
    for name, reason in [("fifo.png", "not a regular file (FIFO)"), ("a.png", "symlink loop"),
                         ("b.png", "symlink loop"), ("link.png", "broken symlink"),
                         ("d.png", "directory named like an image")]:
        assert f"skipped {folder / name}: {reason}\n" in proc.stderr
    summary = proc.stderr.strip().splitlines()[-1]
    assert summary.startswith("seqlab transcribe: 1 of 6 inputs transcribed; skipped 5 inputs: ")
    assert sorted(summary.split(": ", 2)[2].split(", ")) == [
        "1 broken symlink", "1 directory named like an image", "1 not a regular file (FIFO)", "2 symlink loops"]
    assert "loop_c" not in proc.stderr and "Traceback" not in proc.stderr


def test_a_fifo_given_or_listed_is_never_opened(iam_run: Path, good_line: Path, tmp_path: Path):
    shutil.copy(good_line, tmp_path / "good.png")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
    os.mkfifo(tmp_path / "given.png")
    os.mkfifo(tmp_path / "listed.png")
    (tmp_path / "lines.lst").write_text("good.png\nlisted.png\nmissing.png\n")
    proc = transcribe(iam_run, "given.png", "lines.lst", "bad.png", "-f", "txt", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert [r.split("\t")[0] for r in proc.stdout.splitlines()] == ["good.png"]
    assert "skipped given.png: not a regular file (FIFO)" in proc.stderr
    assert "skipped listed.png (lines.lst:2): not a regular file (FIFO)" in proc.stderr
    assert "skipped missing.png (lines.lst:3): missing file" in proc.stderr
    assert "bad.png: cannot decode image" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "seqlab transcribe: 1 of 5 inputs transcribed; skipped 4 inputs: 2 not regular files (FIFO), "
        "1 missing file, 1 could not be read")


def test_tabs_and_undecodable_bytes_in_names_keep_rows_whole(iam_run: Path, good_line: Path, tmp_path: Path, capsys):
    folder = tmp_path / "scans"
    folder.mkdir()
    for name in ("tab\there.png", "new\nline.png", os.fsdecode(b"latin\xe9.png")):
        shutil.copy(good_line, folder / name)
    ckpt = str(iam_run / "checkpoints" / "best.ckpt")
    assert main([ckpt, str(folder), "-f", "txt"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert sorted(r.split("\t")[0] for r in rows) == ["latin%E9.png", "new%0Aline.png", "tab%09here.png"]
    assert all(r.count("\t") == 1 for r in rows)
    out = tmp_path / "out.jsonl"
    assert main([ckpt, str(folder), "-o", str(out)]) == 0
    ids = sorted(json.loads(r)["id"] for r in out.read_text(encoding="utf-8").splitlines())
    assert ids == sorted(["tab\there.png", "new\nline.png", os.fsdecode(b"latin\xe9.png")])


def test_ctm_ids_escape_white_space_so_names_stay_apart():
    from seqlab.cli.transcribe import format_result, output_id

    word = SimpleNamespace(text="hi", start=0.0, end=0.5, score=0.9)
    rows = [format_result(SimpleNamespace(words=[word]), uid, "ctm") for uid in ("a b.wav", "a_b.wav", "a\u00a0b.wav")]
    assert [r.split()[0] for r in rows] == ["a%20b.wav", "a_b.wav", "a%C2%A0b.wav"]
    assert all(len(r.split()) == 6 for r in rows)
    assert output_id("a b.png", "txt") == "a b.png" and output_id("a\tb.png", "jsonl") == "a\tb.png"


def test_a_killed_runs_temporary_output_is_removed(iam_run: Path, good_line: Path, tmp_path: Path):
    """``.out.txt.tmp-PID`` of a dead writer goes; another file's temporary and a live writer's stay."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".out.txt.tmp-{dead.pid}"
    other = tmp_path / f".notes.txt.tmp-{dead.pid}"
    live = tmp_path / f".out.txt.tmp-{os.getpid()}"
    for p in (stale, other, live):
        p.write_text("half")
    done = transcribe(iam_run, str(good_line), "--format", "txt", "-o", str(tmp_path / "out.txt"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not stale.exists() and other.exists() and live.exists()
    assert (tmp_path / "out.txt").read_text().count("\n") == 1
