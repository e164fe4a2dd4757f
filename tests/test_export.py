"""seqlab export: the exported network gives PyTorch's outputs on inputs of other lengths."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from seqlab.checkpoint import CheckpointInfo, load_model
from seqlab.export import ExportableNetwork, ExportError, export_module
from seqlab.lit import CTCModule
from seqlab.nn import RecurrentEncoder
from seqlab.recognizer import Recognizer
from seqlab.text import Alphabet
from tests.tiny_models import tiny_iam_run, tiny_timit_run

from seqlab.cli.export import main as export_main

# TorchScript is what works for LSTMs on torch 2.11 (seqlab/export.py), deprecated or not
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def iam_run(tmp_path_factory) -> Path:
    return tiny_iam_run(tmp_path_factory.getbasetemp())


def real_batch(run_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Three real lines, padded as a batch: widths unlike the 64 columns the export traced."""
    rec = Recognizer.from_checkpoint(run_dir / "checkpoints" / "best.ckpt")
    items = [rec.load(p) for p in sorted((run_dir.parent / "iam" / "lines").rglob("*.png"))[:3]]
    widths = torch.tensor([i.length for i in items])
    x = torch.zeros(3, 1, items[0].input.size(1), int(widths.max()))
    for b, i in enumerate(items):
        x[b, :, :, : i.length] = i.input
    assert 64 not in widths.tolist()
    return x, widths


def test_torchscript_export_equals_pytorch(iam_run: Path, tmp_path: Path, capsys):
    out = tmp_path / "model.ts"
    assert export_main([str(iam_run / "checkpoints" / "best.ckpt"), "--format", "torchscript", "--out", str(out)]) == 0
    assert "largest |log-prob difference|" in capsys.readouterr().out
    meta = json.loads((tmp_path / "model.ts.json").read_text())
    assert meta["frontend"]["type"] == "image" and meta["blank"] == 0 and meta["alphabet"]["symbols"]
    model, _ = load_model(iam_run / "checkpoints" / "best.ckpt")
    x, widths = real_batch(iam_run)
    with torch.inference_mode():
        ref, ref_lengths = model(x, widths)
        got, got_lengths = torch.jit.load(str(out))(x, widths)
    assert torch.equal(ref_lengths, got_lengths)
    for b, n in enumerate(ref_lengths.tolist()):
        torch.testing.assert_close(got[b, :n], ref[b, :n], rtol=0, atol=1e-5)


@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None,
                    reason="needs the export extra: pip install -e '.[export]'")
def test_onnx_export_equals_pytorch(iam_run: Path, tmp_path: Path):
    import onnxruntime as ort

    out = tmp_path / "model.onnx"
    assert export_main([str(iam_run / "checkpoints" / "best.ckpt"), "--format", "onnx", "--out", str(out)]) == 0
    model, _ = load_model(iam_run / "checkpoints" / "best.ckpt")
    x, widths = real_batch(iam_run)
    with torch.inference_mode():
        ref, ref_lengths = model(x, widths)
    got, got_lengths = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(
        None, {"inputs": x.numpy(), "lengths": widths.numpy()})
    assert got_lengths.tolist() == ref_lengths.tolist()
    for b, n in enumerate(ref_lengths.tolist()):
        torch.testing.assert_close(torch.from_numpy(got[b, :n]), ref[b, :n], rtol=0, atol=1e-4)


def test_speech_model_exports_with_a_dynamic_number_of_frames(tmp_path_factory, tmp_path: Path):
    run = tiny_timit_run(tmp_path_factory.getbasetemp())
    model, info = load_model(run / "checkpoints" / "best.ckpt")
    report = export_module(model, info, "torchscript", tmp_path / "speech.ts")
    assert report.max_abs_diff == 0.0
    x = torch.randn(2, 77, 123)
    lengths = torch.tensor([77, 40])
    with torch.inference_mode():
        ref, ref_lengths = ExportableNetwork(model, time_axis=1)(x, lengths)
        got, got_lengths = torch.jit.load(str(tmp_path / "speech.ts"))(x, lengths)
    assert torch.equal(ref_lengths, got_lengths) and got.shape == ref.shape


@pytest.mark.slow
def test_torch_export_and_custom_cells_fail_with_the_reason(tmp_path: Path):
    alphabet = Alphabet(tuple(" ab"))
    info = CheckpointInfo(alphabet.to_dict(), {}, {"type": "image", "height": 8})
    custom = CTCModule(RecurrentEncoder(8, 4, 1, cell="peephole"), alphabet, optimizer=None)
    with pytest.raises(ExportError, match="_LSTMLayer"):
        export_module(custom, info, "torchscript", tmp_path / "custom.ts")
    assert not (tmp_path / "custom.ts").exists()
    plain = CTCModule(RecurrentEncoder(8, 4, 1, frame_stack=2), alphabet, optimizer=None)
    with pytest.raises(ExportError, match="115092"):
        export_module(plain, info, "export", tmp_path / "plain.pt2", example_length=16)
    assert not (tmp_path / "plain.pt2").exists()
