"""DDP on the CPU: two processes with the gloo backend, through the Hydra entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seqlab.checkpoint import read_checkpoint
from tests.cli.test_resume import WORDS, read_trace
from tests.conftest import write_iam

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_cpu_processes_train_distinct_shards(tmp_path: Path):
    train = [(f"a01-000-{i:02d}", WORDS[i % len(WORDS)]) for i in range(32)]
    root = write_iam(tmp_path / "iam", {"train": train, "val": [(f"b01-000-{i:02d}", w) for i, w in enumerate(WORDS[:6])],
                                        "test": [(f"c01-000-{i:02d}", w) for i, w in enumerate(WORDS[:6])]}, height=16)
    run_dir, trace = tmp_path / "run", tmp_path / "trace.txt"
    cmd = [
        sys.executable, "-m", "seqlab", "train", "trainer=ddp", "trainer.accelerator=cpu",
        "trainer.devices=2", "trainer.max_epochs=2", "data=iam", f"data.root={root}", "data.height=16",
        "data.batch_size=4", "data.num_workers=0", "model.encoder.hidden_size=8", "model.encoder.num_layers=1",
        "trainer.enable_progress_bar=false", "+callbacks.trace._target_=tests.lit.trace.BatchTrace",
        f"+callbacks.trace.path={trace}", f"hydra.run.dir={run_dir}",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]

    ranks = [read_trace(Path(f"{trace}.rank{r}")) for r in (0, 1)]
    for epoch in (0, 1):
        seen = [[i for _, e, ids in rows if e == epoch for i in ids] for rows in ranks]
        assert seen[0] and seen[1] and not set(seen[0]) & set(seen[1])  # distinct shards
        assert sorted(seen[0] + seen[1]) == sorted(i for i, _ in train)  # together, the whole split
        assert len(seen[0]) == len(seen[1])  # equal step counts keep the gradient all-reduce in step
    # 32 lines / batch 4 = 8 batches an epoch, 4 per rank
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["global_step"] == 8 and "test/cer" in metrics
    # the throughput monitor sums both ranks' shards: each epoch read all 32 lines
    assert [(e["items"], e["devices"]) for e in metrics["throughput"]] == [(32, 2), (32, 2)]
    assert proc.stdout.count("run directory:") == 1  # results printed and written once, by rank 0
    ckpts = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert ckpts == ["best.ckpt", "last.ckpt"]
    assert read_checkpoint(run_dir / "checkpoints" / "best.ckpt")["seqlab"]["model"]
