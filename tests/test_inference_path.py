"""Inference needs neither Lightning nor Hydra, and reads checkpoints written before the encoder renames."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seqlab.checkpoint import load_model
from seqlab.nn import CRNNEncoder, CTCModel, RecurrentEncoder
from seqlab.text import Alphabet
from tests.tiny_models import tiny_iam_run

HEAVY = ("lightning", "hydra", "omegaconf", "torchmetrics", "matplotlib")


@pytest.fixture(scope="module")
def iam_run(tmp_path_factory) -> Path:
    return tiny_iam_run(tmp_path_factory.getbasetemp())


def loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_importing_the_recognizer_loads_no_training_stack():
    assert loaded_after("import seqlab.recognizer, seqlab.checkpoint") == []


@pytest.mark.parametrize("align", [True, False])
def test_transcribing_loads_no_training_stack(iam_run: Path, align: bool):
    """A handwriting model loads no audio stack either, unless it aligns (torchaudio's forced alignment)."""
    image = next((iam_run.parent / "iam" / "lines").rglob("*.png"))
    code = ("import sys\nfrom seqlab.recognizer import Recognizer\n"
            f"rec = Recognizer.from_checkpoint({str(iam_run / 'checkpoints' / 'best.ckpt')!r}, align={align})\n"
            f"[t] = rec.transcribe([{str(image)!r}])\n"
            f"assert bool(t.words) == {align}\n"
            "print('torchaudio' if 'torchaudio' in sys.modules else '')")
    assert loaded_after(code) == (["torchaudio"] if align else [])


def test_the_transcribe_command_loads_no_audio_stack_for_plain_text_from_images(iam_run: Path, tmp_path: Path):
    image = next((iam_run.parent / "iam" / "lines").rglob("*.png"))
    code = ("import sys\nfrom seqlab.cli.transcribe import main\n"
            f"assert main([{str(iam_run / 'checkpoints' / 'best.ckpt')!r}, {str(image)!r}, '--format', 'txt', "
            f"'--no-progress', '--output', {str(tmp_path / 'out.txt')!r}]) == 0\n"
            "print('torchaudio' if 'torchaudio' in sys.modules else '')")
    assert loaded_after(code) == []
    assert (tmp_path / "out.txt").read_text().count("\t") == 1


def legacy_checkpoint(path: Path, encoder: dict, module: torch.nn.Module, alphabet: Alphabet) -> Path:
    recipe = {"_target_": "seqlab.lit.CTCModule", "encoder": encoder,
              "optimizer": {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 0.001}}
    torch.save({"seqlab": {"alphabet": alphabet.to_dict(), "model": recipe}, "state_dict": module.state_dict()}, path)
    return path


def test_checkpoints_with_the_old_encoder_names_load(tmp_path: Path):
    """BLSTMEncoder is now RecurrentEncoder; the CRNN's input_height is now input_size (height x channels)."""
    alphabet = Alphabet(tuple("ab "))
    x, lengths = torch.rand(2, 1, 8, 24), torch.tensor([24, 17])
    cases = {
        "blstm": ({"_target_": "seqlab.nn.BLSTMEncoder", "input_size": 8, "hidden_size": 4, "num_layers": 1},
                  RecurrentEncoder(input_size=8, hidden_size=4, num_layers=1)),
        "crnn": ({"_target_": "seqlab.nn.crnn.CRNNEncoder", "input_height": 8, "input_channels": 1,
                  "channels": [2], "pool": [[2, 2]], "hidden_size": 3, "num_layers": 1},
                 CRNNEncoder(input_size=8, channels=(2,), pool=((2, 2),), hidden_size=3, num_layers=1)),
    }
    for name, (recipe, encoder) in cases.items():
        original = CTCModel(encoder, alphabet).eval()
        model, _ = load_model(legacy_checkpoint(tmp_path / f"{name}.ckpt", recipe, original, alphabet))
        assert type(model.encoder) is type(encoder)
        with torch.no_grad():
            assert torch.equal(model(x, lengths)[0], original(x, lengths)[0]), name


def test_transcribe_quantized_and_plain_text(iam_run: Path, tmp_path: Path):
    images = sorted((iam_run.parent / "iam" / "lines").rglob("*.png"))[:4]
    ckpt = str(iam_run / "checkpoints" / "best.ckpt")
    outputs = {}
    schemes = {"float32": [], "int8": ["--quantize", "int8"]}
    if torch.ops.mkldnn._is_mkldnn_bf16_supported():
        schemes["bf16"] = ["--quantize", "bf16"]
    for name, extra in schemes.items():
        out = tmp_path / f"{name}.txt"
        proc = subprocess.run([sys.executable, "-m", "seqlab", "transcribe", ckpt, *map(str, images), "--format", "txt",
                               "--output", str(out), "--no-progress", *extra], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        outputs[name] = out.read_text().splitlines()
    for name in schemes:
        assert len(outputs[name]) == 4
        assert [line.split("\t")[0] for line in outputs[name]] == [line.split("\t")[0] for line in outputs["float32"]]
