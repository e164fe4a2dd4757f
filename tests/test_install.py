"""The install: the pinned torch / torchaudio pair is what is installed, and its
compiled parts load and run.

torchaudio's extension is built against one torch release; a mismatched pair
imports torch fine and then dies loading ``libtorchaudio.so`` (undefined
symbols). These tests turn that into one failure that names the pair and says
how to install the tested one.
"""

from __future__ import annotations

import re
from importlib.metadata import requires, version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIX = "install the tested pair: pip install -c constraints.txt -e ."


def _pair() -> str:
    return f"torch {version('torch')} with torchaudio {version('torchaudio')}"


def _pins() -> dict[str, str]:
    """Exact pins (``name==version``) among seqlab's installed requirements (pyproject's dependencies)."""
    deps = [d for d in requires("seqlab") or [] if "extra ==" not in d]
    return dict(m.groups() for d in deps if (m := re.fullmatch(r"([\w-]+)\s*==\s*([\w.]+)", d.split(";")[0].strip())))


def _constraints() -> dict[str, set[str]]:
    """``name -> versions`` in constraints.txt (one per environment marker)."""
    found: dict[str, set[str]] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if m := re.match(r"([\w.-]+)==([^\s;]+)", line):
            found.setdefault(m.group(1).lower(), set()).add(m.group(2))
    return found


def test_torch_and_torchaudio_are_pinned_as_an_exact_pair():
    pins = _pins()
    assert {"torch", "torchaudio"} <= set(pins), "pyproject must pin torch and torchaudio with =="
    assert pins["torch"].split(".")[:2] == pins["torchaudio"].split(".")[:2], pins
    for name in ("torch", "torchaudio"):
        installed = version(name).split("+")[0]
        assert installed == pins[name], f"{_pair()} installed, pyproject pins {name}=={pins[name]}; {FIX}"


def test_constraints_lock_what_pyproject_pins():
    locked = _constraints()
    for name, pinned in _pins().items():
        assert locked.get(name) == {pinned}, f"constraints.txt has {name} {locked.get(name)}, pyproject {pinned}"


def test_torchaudio_compiled_extension_loads_and_runs():
    import torch

    try:
        import torchaudio._extension as ext
        import torchaudio.functional as F
    except (OSError, ImportError) as e:
        pytest.fail(f"{_pair()}: torchaudio's compiled extension does not load ({e}); {FIX}")
    assert ext._IS_TORCHAUDIO_EXT_AVAILABLE, f"{_pair()}: torchaudio has no compiled extension; {FIX}"
    # forced alignment (word times and confidences) is one of the compiled ops seqlab uses
    log_probs = torch.log_softmax(torch.randn(1, 6, 3), dim=-1)
    labels, _ = F.forced_align(log_probs, torch.tensor([[1, 2]], dtype=torch.int32), blank=0)
    assert labels.shape == (1, 6) and set(labels[0].tolist()) <= {0, 1, 2}


def test_flashlight_ctc_decoder_builds_and_decodes():
    import torch

    try:
        from torchaudio.models.decoder import ctc_decoder
    except (OSError, ImportError) as e:
        pytest.fail(f"{_pair()} with flashlight-text {version('flashlight-text')}: "
                    f"the CTC beam search decoder does not load ({e}); {FIX}")
    decoder = ctc_decoder(lexicon=None, tokens=["-", "|", "a", "b"], lm=None, blank_token="-",
                          sil_token="|", beam_size=4)
    # frames that clearly spell "ab"
    emissions = torch.full((1, 4, 4), -10.0)
    for t, k in enumerate((2, 0, 3, 0)):
        emissions[0, t, k] = 0.0
    best = decoder(emissions.log_softmax(-1))[0][0]
    assert "".join(decoder.idxs_to_tokens(best.tokens)).strip("|") == "ab"
