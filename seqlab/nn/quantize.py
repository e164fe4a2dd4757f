"""Lower-precision CPU inference of a trained network: dynamic int8 quantisation or bfloat16.

``int8``: the weights of every ``nn.LSTM``, ``nn.GRU`` and ``nn.Linear`` are
stored as 8-bit integers (one scale per tensor) and their matrix products run
in int8 with activations quantised on the fly (PyTorch's dynamic
quantisation, ``torch.ao.quantization.quantize_dynamic``). Convolutions, the
2-D LSTM and seqlab's own LSTM variants stay in float32. What it gains and
loses is measured in docs/benchmarks.md ("Quantised transcription").

``bf16``: the network runs under CPU autocast to bfloat16 (matrix products and
LSTM steps in bfloat16 through oneDNN, the output's log-softmax in float32),
on CPUs with bfloat16 instructions (AVX-512 BF16 or AMX); elsewhere it would
be emulated, slower, and is refused.
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from seqlab.errors import ConfigError

QUANTIZATIONS = ("int8", "bf16")


class Autocast(nn.Module):
    """``model`` run under CPU autocast to ``dtype``; its outputs as the model returns them.

    Shapes: as ``model``'s forward.
    """

    def __init__(self, model: nn.Module, dtype: torch.dtype = torch.bfloat16) -> None:
        super().__init__()
        self.model = model
        self.dtype = dtype

    def forward(self, *args, **kwargs):
        with torch.autocast("cpu", dtype=self.dtype):
            return self.model(*args, **kwargs)

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:  # alphabet, encoder, head: the wrapped model's
            return getattr(super().__getattr__("model"), name)


def quantize(model: nn.Module, scheme: str = "int8") -> nn.Module:
    """A quantised copy of ``model`` (in eval mode, on the CPU); ``model`` is left as it was.

    Raises:
        ConfigError: an unknown scheme, or a model on another device than the CPU.
    """
    if scheme not in QUANTIZATIONS:
        raise ConfigError(f"quantize={scheme!r}: choose one of {', '.join(QUANTIZATIONS)}")
    if any(p.device.type != "cpu" for p in model.parameters()):
        raise ConfigError(f"{scheme} is for CPU inference: load the model on the CPU (--device cpu)")
    if scheme == "bf16":
        if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
            raise ConfigError("this CPU has no bfloat16 instructions (AVX-512 BF16 or AMX): bf16 would be emulated "
                              "and slower; use --quantize int8 or none")
        return Autocast(copy.deepcopy(model).eval())
    if not torch.backends.quantized.supported_engines or torch.backends.quantized.engine == "none":
        raise ConfigError("this PyTorch build has no quantised CPU kernels (torch.backends.quantized.engine)")
    with warnings.catch_warnings():  # torch 2.10+ points eager-mode quantisation users to torchao; it still works
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*torch.ao.quantization.*")
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model).eval(), {nn.LSTM, nn.GRU, nn.Linear},
                                                      dtype=torch.qint8)
