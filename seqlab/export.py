"""Export a trained network for inference outside seqlab: TorchScript, ONNX or torch.export.

What is exported is the network only, :class:`ExportableNetwork`:
``(inputs, lengths) -> (log_probs, out_lengths)``, with

- inputs: (B, 1, H, W) line images (ink = 1, zero-padded on the right) or
  (B, T, F) normalised feature frames (zero-padded at the end);
- lengths: (B,) int64 valid widths or frames;
- log_probs: (B, T', K) log-probabilities (blank = class 0); out_lengths: (B,).

Preprocessing (image resizing, filterbank features, normalisation) and
decoding stay outside; the alphabet and the preprocessing recipe are written
next to the model as ``FILE.json``.

Which format works on torch 2.11 (checked by :func:`export` itself on inputs of
other lengths than the example it traced):

- ``torchscript`` (``torch.jit.trace``; deprecated by PyTorch but shipped):
  works for :class:`~seqlab.nn.RecurrentEncoder` with ``nn.LSTM``/``nn.GRU``
  layers (``cell=lstm|gru``, any ``frame_stack``) and for
  :class:`~seqlab.nn.crnn.CRNNEncoder` with them; outputs bitwise equal to
  PyTorch's on the CPU. ``nn.LSTM`` stays one
  ``aten::lstm`` op, so the length is dynamic. The input is padded to a
  multiple of the encoder's ``frame_stack`` inside the traced graph, so the
  encoder's own length-dependent branch is always the same.
- ``onnx`` (the TorchScript-based exporter, ``dynamo=False``; needs the
  ``onnx`` package, ``pip install -e ".[export]"``): the same models; ONNX
  ``LSTM`` ops, dynamic batch and length; onnxruntime agrees to ~1e-6.
- ``export`` (``torch.export``, ``.pt2``): fails for every seqlab encoder on
  torch 2.11, because the decomposition of ``aten.lstm`` loops over time and
  specialises the length ("You marked ... as dynamic but your code specialized
  it to be a constant"; pytorch/pytorch#115092). The ONNX exporter's default
  ``dynamo=True`` path goes through torch.export and fails the same way.

Custom autograd Functions are opaque to tracing, so these do not export, and
:func:`export` raises :class:`ExportError` with the reason:

- :class:`~seqlab.nn.HierarchicalMDLSTMEncoder` (MDLSTM's diagonal scan):
  ``torch.jit.trace`` and the ONNX exporter fail with ``RuntimeError: unordered_map::at``;
- seqlab's own LSTM cells (``cell=peephole`` and the Greff presets):
  TorchScript refuses to save "Python function call '_LSTMLayer'"; the ONNX
  export runs but bakes the example's length into the graph, which the check
  catches (log-probabilities off by ~0.5 on other lengths).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.atomic import AtomicFile, write_text_atomic
from seqlab.errors import SeqlabError

FORMATS = ("torchscript", "onnx", "export")
INPUT_NAMES = ["inputs", "lengths"]
OUTPUT_NAMES = ["log_probs", "out_lengths"]


class ExportError(SeqlabError, RuntimeError):
    """A model cannot be exported in the requested format, or its export does not match PyTorch."""


class ExportableNetwork(nn.Module):
    """The encoder and CTC head of a :class:`~seqlab.lit.CTCModule`, in a traceable form.

    Args:
        module: the trained module (its encoder and head are shared, not copied).
        time_axis: the padded (time) axis of the inputs, :attr:`Frontend.time_axis`:
            3 for (B, C, H, W) images, 1 for (B, T, F) frames.

    Shapes: forward(inputs, lengths (B,)) -> (B, T', K) log-probabilities, (B,) lengths.
    """

    def __init__(self, module: nn.Module, time_axis: int) -> None:
        super().__init__()
        self.encoder = module.encoder
        self.head = module.head
        self.time_axis = time_axis
        self.multiple = int(getattr(module.encoder, "frame_stack", 1))

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.multiple > 1:
            # pad to a whole number of stacked frames here, where the trace records
            # the amount as a function of the length; zero padding is what batching adds
            after = inputs.dim() - 1 - self.time_axis  # axes after the time axis: 0 for images, 1 for frames
            inputs = F.pad(inputs, (0, 0) * after + (0, (-inputs.size(self.time_axis)) % self.multiple))
        features, out_lengths = self.encoder(inputs, lengths)
        return self.head(features), out_lengths


@dataclass
class ExportReport:
    """What :func:`export` wrote and how closely the export matches PyTorch."""

    path: str
    metadata: str
    format: str
    max_abs_diff: float | None  # None: not checked (no onnxruntime)
    checked_lengths: list[int]


def example_inputs(frontend, length: int, batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Random inputs shaped like the frontend's (:meth:`Frontend.example`), zero past each length; lengths decreasing."""
    g = torch.Generator().manual_seed(0)
    lengths = torch.tensor([max(1, length - 5 * i) for i in range(batch)])
    x = frontend.example(length, batch, g)
    for i, n in enumerate(lengths.tolist()):  # zero past each length, as batching pads
        x[i].narrow(frontend.time_axis - 1, n, length - n).zero_()
    return x, lengths


def export(checkpoint: str | Path, fmt: str, out: str | Path, **kwargs) -> ExportReport:
    """Export a checkpoint's network (:func:`export_module`); ``FILE.json`` names the checkpoint too."""
    from seqlab.checkpoint import load_model

    model, info = load_model(checkpoint)
    return export_module(model, info, fmt, out, checkpoint=str(checkpoint), **kwargs)


def export_module(model: nn.Module, info, fmt: str, out: str | Path, example_length: int = 64,
                  check_lengths: tuple[int, ...] = (37, 151), tolerance: float = 1e-4,
                  checkpoint: str | None = None) -> ExportReport:
    """Export a :class:`~seqlab.lit.CTCModule`, then check it against PyTorch on other lengths.

    Args:
        model: the module (put in eval mode).
        info: the checkpoint's :class:`~seqlab.checkpoint.CheckpointInfo` (alphabet and frontend).
        fmt: one of :data:`FORMATS`.
        out: the model file; its metadata goes to ``out + ".json"``.
        example_length: input length of the example that is traced.
        check_lengths: longest input lengths of the batches the check runs.
        tolerance: largest accepted |difference| of a log-probability.
        checkpoint: the checkpoint's path, named in the metadata.

    Raises:
        ExportError: naming the format and the reason (tracing failed, the
            length got fixed, or outputs differ by more than ``tolerance``);
            nothing is left at ``out`` then.
    """
    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {FORMATS}, got {fmt!r}")
    frontend = info.build_frontend()
    net = ExportableNetwork(model.eval(), frontend.time_axis).eval()
    out = Path(out)
    with AtomicFile(out, mode=None) as staged:  # the exporters write a file by name: staged.tmp
        runner = _EXPORTERS[fmt](net, example_inputs(frontend, example_length), staged.tmp)
        diff = check(net, runner, frontend, check_lengths)
        if diff is not None and diff > tolerance:
            raise ExportError(
                f"{fmt}: the exported model's log-probabilities differ from PyTorch's by {diff:.3g} "
                f"(> {tolerance}) on inputs of length {check_lengths}: the trace does not generalise "
                f"beyond the example length for {_encoder(net)}"
            )
        staged.commit()
    meta = out.with_name(out.name + ".json")
    write_text_atomic(meta, json.dumps({
        "format": fmt, "inputs": INPUT_NAMES, "outputs": OUTPUT_NAMES, "blank": 0,
        "input_layout": frontend.input_layout, "alphabet": info.alphabet, "frontend": info.frontend,
        "text": info.text, "checkpoint": checkpoint,
    }, indent=2) + "\n")
    return ExportReport(str(out), str(meta), fmt, diff, list(check_lengths))


@torch.inference_mode()
def check(net: ExportableNetwork, runner, frontend, lengths: tuple[int, ...]) -> float | None:
    """Largest |difference| of valid log-probabilities between ``runner`` and PyTorch, over batches
    whose longest item has each of ``lengths`` (None when ``runner`` is None: not checkable here)."""
    if runner is None:
        return None
    worst = 0.0
    for n in lengths:
        x, lens = example_inputs(frontend, n, batch=3)
        ref, ref_lens = net(x, lens)
        try:
            got, got_lens = runner(x, lens)
        except Exception as e:  # noqa: BLE001 (a broken export fails in its own runtime's way)
            raise ExportError(
                f"the exported model fails on inputs of length {n} ({type(e).__name__}: {_first_line(e)}); "
                f"{_encoder(net)} does not trace to a graph that runs on its own"
            ) from None
        if not torch.equal(ref_lens, got_lens.to(ref_lens.dtype)) or got.shape != ref.shape:
            raise ExportError(
                f"the exported model gives output lengths {got_lens.tolist()} (shape {tuple(got.shape)}) where "
                f"PyTorch gives {ref_lens.tolist()} (shape {tuple(ref.shape)}) for inputs of length {n}: "
                "the input length was fixed at export"
            )
        for i, m in enumerate(ref_lens.tolist()):
            worst = max(worst, float((ref[i, :m] - got[i, :m]).abs().max()) if m else 0.0)
    return worst


def _torchscript(net: ExportableNetwork, example, path: Path):
    try:
        with warnings.catch_warnings():
            # TracerWarnings and TorchScript's deprecation notice: check() decides whether the trace is right
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(net, example, check_trace=False)
        traced.save(str(path))
    except Exception as e:  # noqa: BLE001 (tracing raises whatever the model's code raises)
        raise ExportError(f"torchscript: torch.jit.trace of {_encoder(net)} failed: "
                          f"{type(e).__name__}: {_first_line(e)}") from None
    loaded = torch.jit.load(str(path))
    return lambda x, lens: loaded(x, lens)


def _onnx(net: ExportableNetwork, example, path: Path):
    axes = {"inputs": {0: "batch", net.time_axis: "length"}, "lengths": {0: "batch"},
            "log_probs": {0: "batch", 1: "frames"}, "out_lengths": {0: "batch"}}
    import importlib.util

    if importlib.util.find_spec("onnx") is None:
        raise ExportError("onnx: the onnx package is not installed; pip install -e '.[export]'")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # as for torchscript: check() decides
            torch.onnx.export(net, example, str(path), dynamo=False, input_names=INPUT_NAMES,
                              output_names=OUTPUT_NAMES, dynamic_axes=axes, opset_version=17)
    except Exception as e:  # noqa: BLE001
        raise ExportError(f"onnx: torch.onnx.export of {_encoder(net)} failed: "
                          f"{type(e).__name__}: {_first_line(e)}") from None
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def run(x, lens):
        lp, ol = session.run(None, {"inputs": x.numpy(), "lengths": lens.numpy()})
        return torch.from_numpy(lp), torch.from_numpy(ol)

    return run


def _torch_export(net: ExportableNetwork, example, path: Path):
    batch = torch.export.Dim("batch", min=1, max=4096)
    length = torch.export.Dim("length", min=2, max=1_000_000)
    shapes = ({0: batch, net.time_axis: length}, {0: batch})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nn.LSTM's flat weights "assigned during export"
            program = torch.export.export(net, example, dynamic_shapes=shapes)
    except Exception as e:  # noqa: BLE001
        raise ExportError(
            f"export: torch.export cannot keep the input length dynamic for {_encoder(net)} "
            f"on torch {torch.__version__} ({type(e).__name__}: {_first_line(e)}). nn.LSTM's decomposition "
            "loops over time steps (pytorch/pytorch#115092); use --format torchscript or onnx"
        ) from None
    torch.export.save(program, str(path))
    module = torch.export.load(str(path)).module()
    return lambda x, lens: module(x, lens)


def _encoder(net: ExportableNetwork) -> str:
    enc = net.encoder
    cell = getattr(enc, "cell", None)
    return f"{type(enc).__name__}{f' (cell={cell})' if cell else ''}"


def _first_line(e: BaseException) -> str:
    """The telling line of a long error: torch.export's "specialized" line, else the first."""
    lines = [ln.strip(" -") for ln in str(e).splitlines() if ln.strip()]
    telling = [ln for ln in lines if "specializ" in ln] or lines
    return telling[0][:300] if telling else ""


_EXPORTERS = {"torchscript": _torchscript, "onnx": _onnx, "export": _torch_export}
