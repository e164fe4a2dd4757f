"""Dynamic int8 quantisation for CPU inference."""

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.nn import CRNNEncoder, CTCModel, RecurrentEncoder
from seqlab.nn.quantize import quantize
from seqlab.text import Alphabet

ALPHABET = Alphabet(tuple("abcdefgh "))


def quantized(model) -> list[str]:
    """Names of the dynamically quantised layers (torch.ao.nn.quantized.dynamic), as their repr shows them."""
    return [m._get_name() for m in model.modules() if ".quantized.dynamic" in type(m).__module__]


@pytest.mark.parametrize("encoder", [
    RecurrentEncoder(16, 32, 2, frame_stack=2),
    RecurrentEncoder(16, 32, 1, cell="gru"),
    CRNNEncoder(input_size=16, channels=(4, 8), pool=((2, 2), (2, 1)), hidden_size=16, num_layers=1),
], ids=["lstm", "gru", "crnn"])
def test_int8_stays_close_to_float32(encoder):
    torch.manual_seed(0)
    model = CTCModel(encoder, ALPHABET).eval()
    q = quantize(model)
    assert "DynamicQuantizedLinear" in quantized(q)  # the head, at least
    assert quantized(model) == []  # the original is untouched
    x, lengths = torch.rand(3, 1, 16, 40), torch.tensor([40, 33, 20])
    with torch.no_grad():
        a, la = model(x, lengths)
        b, lb = q(x, lengths)
    assert torch.equal(la, lb)
    assert (a.exp() - b.exp()).abs().max() < 0.05  # posteriors within 5 points


def test_quantized_lstm_layers_are_int8():
    q = quantize(CTCModel(RecurrentEncoder(16, 32, 2), ALPHABET))
    assert quantized(q).count("DynamicQuantizedLSTM") == 4  # 2 layers x 2 directions


def test_unknown_scheme_is_refused():
    with pytest.raises(ConfigError, match="quantize='int4': choose one of int8"):
        quantize(CTCModel(RecurrentEncoder(16, 8, 1), ALPHABET), "int4")


BF16 = torch.ops.mkldnn._is_mkldnn_bf16_supported()


@pytest.mark.skipif(not BF16, reason="this CPU has no bfloat16 instructions (AVX-512 BF16 or AMX)")
@pytest.mark.parametrize("encoder", [
    RecurrentEncoder(16, 32, 2, frame_stack=2),
    CRNNEncoder(input_size=16, channels=(4, 8), pool=((2, 2), (2, 1)), hidden_size=16, num_layers=1),
], ids=["lstm", "crnn"])
def test_bf16_runs_in_bfloat16_and_stays_close_to_float32(encoder):
    torch.manual_seed(0)
    model = CTCModel(encoder, ALPHABET).eval()
    q = quantize(model, "bf16")
    assert q.alphabet is model.alphabet or q.alphabet.symbols == model.alphabet.symbols
    seen = []
    rnn = next(m for m in q.modules() if isinstance(m, (torch.nn.LSTM, torch.nn.Conv2d)))
    rnn.register_forward_hook(lambda m, i, out: seen.append(out[0] if isinstance(out, tuple) else out))
    x, lengths = torch.rand(3, 1, 16, 40), torch.tensor([40, 33, 20])
    with torch.no_grad():
        a, la = model(x, lengths)
        b, lb = q(x, lengths)
    assert seen[0].dtype == torch.bfloat16  # the layers really ran in bfloat16
    assert b.dtype == torch.float32 and torch.equal(la, lb)  # log-softmax in float32
    assert (a.exp() - b.exp()).abs().max() < 0.05


def test_bf16_is_refused_where_the_cpu_would_emulate_it(monkeypatch):
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    with pytest.raises(ConfigError, match="no bfloat16 instructions"):
        quantize(CTCModel(RecurrentEncoder(16, 32, 1), ALPHABET), "bf16")
