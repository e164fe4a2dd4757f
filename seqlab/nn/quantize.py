"""Dynamic int8 quantisation of a trained network, for CPU inference.

``int8``: the weights of every ``nn.LSTM``, ``nn.GRU`` and ``nn.Linear`` are
stored as 8-bit integers (one scale per tensor) and their matrix products run
in int8 with activations quantised on the fly (PyTorch's dynamic
quantisation, ``torch.ao.quantization.quantize_dynamic``). Convolutions, the
2-D LSTM and seqlab's own LSTM variants stay in float32. What it gains and
loses is measured in docs/benchmarks.md ("Quantised transcription").
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from seqlab.errors import ConfigError

QUANTIZATIONS = ("int8",)


def quantize(model: nn.Module, scheme: str = "int8") -> nn.Module:
    """A quantised copy of ``model`` (in eval mode, on the CPU); ``model`` is left as it was.

    Raises:
        ConfigError: an unknown scheme, or a model on another device than the CPU.
    """
    if scheme not in QUANTIZATIONS:
        raise ConfigError(f"quantize={scheme!r}: choose one of {', '.join(QUANTIZATIONS)}")
    if any(p.device.type != "cpu" for p in model.parameters()):
        raise ConfigError("int8 quantisation is for CPU inference: load the model on the CPU (--device cpu)")
    if not torch.backends.quantized.supported_engines or torch.backends.quantized.engine == "none":
        raise ConfigError("this PyTorch build has no quantised CPU kernels (torch.backends.quantized.engine)")
    with warnings.catch_warnings():  # torch 2.10+ points eager-mode quantisation users to torchao; it still works
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*torch.ao.quantization.*")
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model).eval(), {nn.LSTM, nn.GRU, nn.Linear},
                                                      dtype=torch.qint8)
