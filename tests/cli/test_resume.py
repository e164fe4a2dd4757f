"""Kill a training run with SIGKILL mid-epoch, resume it, and check nothing is lost or repeated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seqlab.checkpoint import read_checkpoint
from tests.conftest import write_iam

ROOT = Path(__file__).resolve().parents[2]
WORDS = ["ab", "ba", "abc", "cab", "bca", "ca", "ac", "cb", "aab", "cca"]


def read_trace(path: Path) -> list[tuple[int, int, list[str]]]:
    rows = []
    for line in path.read_text().splitlines():
        step, epoch, _, ids = line.split(" ")
        rows.append((int(step), int(epoch), ids.split(",")))
    return rows


def train_command(root: Path, run_dir: Path, trace: Path, epochs: int, every: int) -> list[str]:
    return [
        sys.executable, "-m", "seqlab", "train", "data=iam", f"data.root={root}",
        "data.height=16", "data.batch_size=4", "data.num_workers=0", "model.encoder.hidden_size=48",
        "model.encoder.num_layers=2", f"trainer.max_epochs={epochs}", "trainer.max_time=null",
        "trainer.enable_progress_bar=false", f"callbacks.step_checkpoint.every_n_train_steps={every}",
        "+callbacks.trace._target_=tests.lit.trace.BatchTrace", f"+callbacks.trace.path={trace}",
        f"hydra.run.dir={run_dir}", "resume=auto",
    ]


@pytest.mark.slow
def test_resume_from_an_end_of_epoch_checkpoint(tmp_path: Path):
    """last.ckpt written at an epoch's end: the resumed run starts the next epoch whole."""
    train = [(f"a01-000-{i:02d}", WORDS[i % len(WORDS)]) for i in range(40)]
    root = write_iam(tmp_path / "iam", {"train": train, "val": [("b01-000-00", "abc")],
                                        "test": [("c01-000-00", "cab")]}, height=16)
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for epochs, trace in ((1, tmp_path / "first.txt"), (3, tmp_path / "second.txt")):
        done = subprocess.run(train_command(root, run_dir, trace, epochs, 4), cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        if epochs == 1:
            assert read_checkpoint(run_dir / "checkpoints" / "last.ckpt")["global_step"] == 10
    after = read_trace(tmp_path / "second.txt")
    assert [r[0] for r in after] == list(range(10, 30))
    assert json.loads((run_dir / "metrics.json").read_text())["global_step"] == 30
    for epoch in (1, 2):
        assert sorted(i for _, e, ids in after if e == epoch for i in ids) == sorted(i for i, _ in train)
    # every epoch is shuffled anew (Lightning sets the sampler's epoch)
    orders = [[ids for _, e, ids in read_trace(tmp_path / "first.txt") + after if e == epoch] for epoch in (0, 1, 2)]
    assert orders[0] != orders[1] != orders[2]


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume(tmp_path: Path):
    train = [(f"a01-000-{i:02d}", WORDS[i % len(WORDS)]) for i in range(40)]
    root = write_iam(tmp_path / "iam", {"train": train, "val": [("b01-000-00", "abc")],
                                        "test": [("c01-000-00", "cab")]}, height=16)
    run_dir = tmp_path / "run"
    per_epoch, epochs, every = 10, 3, 4  # 40 lines / batch 4

    def command(trace: Path) -> list[str]:
        return train_command(root, run_dir, trace, epochs, every)

    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    first = tmp_path / "first.txt"
    proc = subprocess.Popen(command(first), cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    # kill once training is past the step checkpoint of the second epoch (step 12) and well
    # inside that epoch: SIGSTOP at once, check where it stopped, then SIGKILL
    while time.monotonic() < deadline:
        if first.exists() and len(first.read_text().splitlines()) >= 14:
            proc.send_signal(signal.SIGSTOP)
            break
        if proc.poll() is not None:
            pytest.fail("training ended before it could be killed")
        time.sleep(0.002)
    stopped_at = len(first.read_text().splitlines())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run_dir / "metrics.json").exists()
    last = run_dir / "checkpoints" / "last.ckpt"
    resumed_from = read_checkpoint(last)["global_step"]
    assert 0 < resumed_from < per_epoch * epochs
    if not 13 <= stopped_at <= 19:
        pytest.skip(f"the run was stopped at step {stopped_at}, outside the mid-epoch window this test checks")

    second = tmp_path / "second.txt"
    done = subprocess.run(command(second), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["global_step"] == per_epoch * epochs  # same as an uninterrupted run
    for name in ("best.ckpt", "last.ckpt"):
        assert read_checkpoint(run_dir / "checkpoints" / name)["seqlab"]["alphabet"]["symbols"]

    before = [r for r in read_trace(first) if r[0] < resumed_from]
    after = read_trace(second)
    assert after[0][0] == resumed_from  # no step lost, none repeated before the checkpoint
    steps = [r[0] for r in before + after]
    assert steps == list(range(per_epoch * epochs))
    # the steps run twice (after the checkpoint, before the kill) saw the same batches
    redone = {r[0]: r[2] for r in read_trace(first) if r[0] >= resumed_from}
    assert redone and all(redone[s] == ids for s, _, ids in after if s in redone)
    # every epoch used every training line exactly once
    for epoch in range(epochs):
        ids = [i for _, e, batch in before + after if e == epoch for i in batch]
        assert sorted(ids) == sorted(i for i, _ in train)


@pytest.mark.slow
def test_sigkill_at_an_epoch_boundary_then_resume(tmp_path: Path):
    """Killed just after an epoch's last batch, around its end-of-epoch checkpoint."""
    train = [(f"a01-000-{i:02d}", WORDS[i % len(WORDS)]) for i in range(40)]
    root = write_iam(tmp_path / "iam", {"train": train, "val": [("b01-000-00", "abc")],
                                        "test": [("c01-000-00", "cab")]}, height=16)
    run_dir, first = tmp_path / "run", tmp_path / "first.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(train_command(root, run_dir, first, 3, 4), cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (first.exists() and len(first.read_text().splitlines()) >= 20):  # the last batch of epoch 1
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail("training ended before it could be killed")
        time.sleep(0.001)
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = subprocess.run(train_command(root, run_dir, tmp_path / "second.txt", 3, 4), cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((run_dir / "metrics.json").read_text())["global_step"] == 30
    after = read_trace(tmp_path / "second.txt")
    assert sorted(i for _, e, ids in after if e == 2 for i in ids) == sorted(i for i, _ in train)


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_resume_with_changed_settings_is_refused_and_keeps_the_config(tmp_path: Path):
    """resume=auto with another learning rate would train with the old one (the optimizer state
    wins): refused, naming the key; config.yaml is left as the run wrote it; a failed resume too;
    temporary files of a killed writer are cleared when the run starts."""
    root = write_iam(tmp_path / "iam", {"train": [(f"a01-000-{i:02d}", WORDS[i]) for i in range(8)],
                                        "val": [("b01-000-00", "abc")], "test": [("c01-000-00", "cab")]}, height=16)
    run_dir = tmp_path / "run"
    base = train_command(root, run_dir, tmp_path / "trace.txt", 1, 100)
    assert _run(base, tmp_path).returncode == 0
    config = (run_dir / "config.yaml").read_bytes()

    changed = _run([*base, "model.optimizer.lr=0.5", "model.encoder.hidden_size=32", "trainer.max_epochs=2"], tmp_path)
    assert changed.returncode == 2
    refused = changed.stderr.split("may change only")[0]
    assert "model.optimizer.lr: 0.003 -> 0.5" in refused and "model.encoder.hidden_size: 48 -> 32" in refused
    assert "trainer.max_epochs" not in refused
    assert (run_dir / "config.yaml").read_bytes() == config

    last = run_dir / "checkpoints" / "last.ckpt"
    good = last.read_bytes()
    last.write_bytes(good[: len(good) // 2])  # a torn checkpoint: the resume fails before training
    torn = _run([*base, "trainer.max_epochs=2"], tmp_path)
    assert torn.returncode == 2 and "last.ckpt" in torn.stderr
    assert (run_dir / "config.yaml").read_bytes() == config

    last.write_bytes(good)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = [run_dir / "checkpoints" / f".last.ckpt.tmp-{dead.pid}", run_dir / f".metrics.json.tmp-{dead.pid}"]
    live = run_dir / "checkpoints" / f".best.ckpt.tmp-{os.getpid()}"  # a writer still running: kept
    for p in (*stale, live):
        p.write_bytes(b"half")
    resumed = _run([*base, "trainer.max_epochs=2"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert not any(p.exists() for p in stale) and live.exists()
    assert "removed 2 temporary file(s)" in (run_dir / "train.log").read_text()
    assert "max_epochs: 2" in (run_dir / "config.yaml").read_text()
