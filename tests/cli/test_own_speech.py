"""Users' own speech, end to end as a user runs it: a JSON-lines manifest over SPHERE, RIFF WAV and FLAC files
with offsets, and a Kaldi data directory with segments, each train one epoch (``seqlab train data=...``) and
are scored with a report (``seqlab evaluate``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


from seqlab.checkpoint import read_checkpoint
from tests.cli.test_train import run_train
from tests.data.readers.test_speech_listings import make_kaldi_corpus, make_manifest_corpus

SMALL = ["data.num_workers=0", "data.batch_size=4", "data.unknown_symbols=replace", "trainer.max_epochs=1",
         "model.encoder.hidden_size=16", "model.encoder.num_layers=1"]


def train_and_evaluate(tmp: Path, group: str, root: Path, *extra: str) -> tuple[dict, dict, str]:
    run_dir = tmp / f"run-{group}"
    proc = run_train(f"data={group}", f"data.root={root}", *SMALL, *extra, f"hydra.run.dir={run_dir}", cwd=tmp)
    assert "test/cer=" in proc.stdout
    ckpt = run_dir / "checkpoints" / "best.ckpt"
    report_dir = tmp / f"report-{group}"
    proc_eval = subprocess.run(
        [sys.executable, "-m", "seqlab", "evaluate", f"checkpoint={ckpt}", f"data={group}", f"data.root={root}",
         "data.num_workers=0", *extra, "bootstrap=10", f"report.dir={report_dir}"],
        capture_output=True, text=True, timeout=300, cwd=tmp)
    assert proc_eval.returncode == 0, proc_eval.stderr[-3000:]
    report = json.loads((report_dir / "report.json").read_text())
    assert (report_dir / "report.md").is_file() and (report_dir / "report.html").is_file()
    return read_checkpoint(ckpt)["seqlab"], report, proc.stdout + proc.stderr


def test_a_manifest_with_offsets_trains_and_is_scored(tmp_path: Path):
    make_manifest_corpus(tmp_path / "speech")
    info, report, log = train_and_evaluate(tmp_path, "manifest", tmp_path / "speech", "data.case=lower",
                                           "data.punctuation=drop")
    assert info["data"]["corpus"]["reader"] == "ManifestReader"
    assert info["data"]["frontend"]["type"] == "speech"
    symbols = info["alphabet"]["symbols"]
    assert "'" in symbols and "." not in symbols and "S" not in symbols
    assert "audio resampled to 16,000 Hz on reading: 3 of 7 files" in log and "mixed down to mono" in log
    assert "train.jsonl: skipped 2 item(s)" in log
    ids = sorted(u["id"] for u in report["utterances"])
    assert len(ids) == 2 and all(i.endswith(("long@3.6", "long@4.8")) for i in ids)
    assert "cer" in report["metrics"] and "wer" in report["metrics"]


def test_a_kaldi_directory_with_segments_trains_and_is_scored(tmp_path: Path):
    make_kaldi_corpus(tmp_path / "recipe")
    info, report, _ = train_and_evaluate(tmp_path, "kaldi", tmp_path / "recipe" / "data")
    assert info["data"]["corpus"]["reader"] == "KaldiReader"
    assert sorted(u["id"] for u in report["utterances"]) == ["test_rec0_seg0", "test_rec0_seg1"]
    assert set(info["alphabet"]["symbols"]) >= set("SHEADYOURK ")
