"""Tiny real checkpoints, trained once per test session through seqlab train.

The recognizer, transcribe and export tests all need a checkpoint written the
way users get one; training it twice would double the time, so the run lives
under pytest's session base folder and the second module to ask reuses it.
"""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_train import run_train
from tests.conftest import write_iam
from tests.data.speech_corpora import make_timit

IAM_WORDS = ["the cat", "a dog ran", "to stop", "red box", "go home", "it is", "we sat", "on top"]


def tiny_iam_run(base: Path) -> Path:
    """Run folder of a 2-epoch, 1 x 16 BLSTM (frame_stack 4) on a 16-line IAM corpus at ``base/iam``."""
    run_dir = base / "iam-run"
    if (run_dir / "checkpoints" / "best.ckpt").is_file():
        return run_dir
    splits = {
        "train": [(f"a01-000u-{i:02d}", IAM_WORDS[i % len(IAM_WORDS)]) for i in range(12)],
        "val": [("b02-001-00", "the dog"), ("b02-001-01", "a cat")],
        "test": [("c03-002x-00", "red top"), ("c03-002x-01", "we ran")],
    }
    write_iam(base / "iam", splits)
    run_train(
        "data=iam", f"data.root={base / 'iam'}", "data.height=24", "data.num_workers=0",
        "trainer.max_epochs=2", "model.encoder.hidden_size=16", "model.encoder.num_layers=1",
        f"hydra.run.dir={run_dir}", cwd=base,
    )
    return run_dir


def tiny_timit_run(base: Path) -> Path:
    """Run folder of a 1-epoch, 1 x 16 BLSTM (frame_stack 2) on the tiny TIMIT tree at ``base/timit``."""
    run_dir = base / "timit-run"
    if (run_dir / "checkpoints" / "best.ckpt").is_file():
        return run_dir
    make_timit(base / "timit")
    run_train(
        "experiment=timit_graves2013", "data=timit", f"data.root={base / 'timit'}", "data.num_workers=0",
        f"cache_dir={base / 'cache'}", "callbacks.weight_noise.start_epoch=0", "trainer.max_epochs=1",
        "trainer.accelerator=cpu", "model.encoder.hidden_size=16", "model.encoder.num_layers=1",
        "model.encoder.frame_stack=2", f"hydra.run.dir={run_dir}", cwd=base,
    )
    return run_dir


def tiny_timit_streaming_run(base: Path) -> Path:
    """Run folder of a 1-epoch, 2 x 16 unidirectional LSTM (frame_stack 3) on the tiny TIMIT tree."""
    run_dir = base / "timit-streaming-run"
    if (run_dir / "checkpoints" / "best.ckpt").is_file():
        return run_dir
    if not (base / "timit").is_dir():
        make_timit(base / "timit")
    run_train(
        "experiment=timit_cpu_streaming", "data=timit", f"data.root={base / 'timit'}", "data.num_workers=0",
        f"cache_dir={base / 'cache'}", "trainer.max_epochs=1", "model.encoder.hidden_size=16",
        f"hydra.run.dir={run_dir}", cwd=base,
    )
    return run_dir
