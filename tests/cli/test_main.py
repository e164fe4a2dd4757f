"""The ``seqlab`` command that ``pip install`` puts on the PATH, run as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from seqlab.cli.main import COMMANDS

# the console script of this environment ([project.scripts] in pyproject.toml)
SEQLAB = Path(sys.executable).with_name("seqlab")


def seqlab(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    assert SEQLAB.is_file(), f"{SEQLAB}: no seqlab command; pip install -e . installs it"
    return subprocess.run([str(SEQLAB), *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_help_lists_every_command_on_one_line():
    proc = seqlab("--help")
    assert proc.returncode == 0, proc.stderr
    for name, (_, summary) in COMMANDS.items():
        assert f"  {name}" in proc.stdout and summary in proc.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name: str):
    proc = seqlab(name, "--help")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"seqlab {name}" in proc.stdout


def test_unknown_command_suggests_the_closest(tmp_path: Path):
    proc = seqlab("trian", cwd=tmp_path)
    assert proc.returncode == 2 and "did you mean 'train'" in proc.stderr


def test_train_passes_hydra_flags_through(tmp_path: Path):
    proc = seqlab("train", "--cfg", "job", "data=synth_timit", "trainer.max_epochs=3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "SyntheticTIMITDataModule" in proc.stdout and "max_epochs: 3" in proc.stdout
    assert not (tmp_path / "runs").exists()  # --cfg composes and prints, it runs nothing


def test_a_bad_setting_is_one_line_and_status_2(tmp_path: Path):
    proc = seqlab("train", "data=iam", f"data.root={tmp_path / 'nowhere'}", f"hydra.run.dir={tmp_path / 'run'}",
                  cwd=tmp_path)
    assert proc.returncode == 2
    assert "seqlab train: error:" in proc.stderr and "lines.txt" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bench_lists_the_benchmarks():
    proc = seqlab("bench", "--list")
    assert proc.returncode == 0
    for name in ("suite", "lstm", "mdlstm", "handwriting", "transcribe"):
        assert f"  {name}" in proc.stdout
    assert seqlab("bench", "nosuch").returncode == 2


def test_torch_is_imported_with_the_collector_paused_and_left_running():
    probe = ("import gc, sys\n"
             "from seqlab.cli.main import import_torch\n"
             "calls = []\n"
             "gc.callbacks.append(lambda phase, info: calls.append(phase))\n"
             "import_torch()\n"
             "print('torch' in sys.modules, gc.isenabled(), len(calls), gc.get_freeze_count() > 10000)\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    # imported; no collection ran during the import; the collector is on again; the import's objects are frozen
    assert proc.stdout.split() == ["True", "True", "0", "True"]


def test_commands_that_need_no_torch_do_not_import_it():
    probe = ("import sys\nfrom seqlab.cli.main import main\n"
             "for args in (['--help'], ['bench', '--list'], ['make-synthetic', '--help'], ['build-lm', '--help']):\n"
             "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
             "print('torch' in sys.modules, file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert proc.stderr.strip().splitlines()[-1] == "False", proc.stderr
