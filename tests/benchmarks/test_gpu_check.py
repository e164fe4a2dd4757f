"""benchmarks/gpu_check.sh --dry-run: every step of the GPU check runs, at tiny sizes on the CPU.

On a GPU machine the same script times the real sizes; this keeps it from
rotting between the (rare) sessions that have one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_gpu_check_dry_run_writes_every_figure(tmp_path: Path):
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    env.pop("OUT", None)
    proc = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--dry-run", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["dry_run"] and all(s["exit_status"] == 0 for s in summary["steps"])
    assert {s["name"] for s in summary["steps"]} == {
        "gpu_tests", "lstm", "mdlstm", "timit_graves2013-32-true", "timit_graves2013-bf16-mixed",
        "iam_crnn-32-true", "iam_crnn-bf16-mixed"}
    runs = {(t["experiment"], t["precision"]): t for t in summary["train_steps"]}
    assert len(runs) == 4 and all(t["all_losses_finite"] and t["timed_steps"] > 0 for t in runs.values())
    assert all(t["epoch_s_extrapolated"] > 0 for t in runs.values())
    assert any(r["model"] == "nn.LSTM" for r in summary["lstm"]) and summary["mdlstm"]
    assert "epoch s (extrapolated)" in proc.stdout
