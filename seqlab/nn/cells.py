"""LSTM cell specification: the variants of Greff et al. 2017.

Greff, Srivastava, Koutnik, Steunebrink and Schmidhuber, "LSTM: A Search Space
Odyssey", IEEE TNNLS 28(10), 2017 (arXiv:1503.04069). Section II gives the
vanilla LSTM's forward pass (the paper's equations are unnumbered; the labels
(V1)-(V6) below are ours, in the paper's order). For one direction, with x_t
the layer input, y_{t-1} the previous block output, c_{t-1} the previous cell
state (y_0 = c_0 = 0), sigma the logistic sigmoid and g = h = tanh::

    (V1) z_t = g(W_z x_t + R_z y_{t-1} + b_z)                          block input
    (V2) i_t = sigma(W_i x_t + R_i y_{t-1} + p_i * c_{t-1} + b_i)      input gate
    (V3) f_t = sigma(W_f x_t + R_f y_{t-1} + p_f * c_{t-1} + b_f)      forget gate
    (V4) c_t = z_t * i_t + c_{t-1} * f_t                               cell state
    (V5) o_t = sigma(W_o x_t + R_o y_{t-1} + p_o * c_t + b_o)          output gate
    (V6) y_t = h(c_t) * o_t                                            block output

``*`` is the elementwise product; p_i, p_f, p_o are the peephole weights
(Gers & Schmidhuber 2000): diagonal, so a vector each. Note that the output
gate peeks at the *new* cell state c_t, the other two at c_{t-1}.

The eight variants the paper compares each change one thing:

====== ================================================= =====================
preset change                                            fields
====== ================================================= =====================
V      vanilla, as above                                 (defaults)
NIG    no input gate: i_t = 1                            input_gate=False
NFG    no forget gate: f_t = 1 (the 1997 original LSTM)  forget_gate=False
NOG    no output gate: o_t = 1                           output_gate=False
NIAF   no input activation: g(x) = x                     input_activation=False
NOAF   no output activation: h(x) = x                    output_activation=False
NP     no peepholes: p_i = p_f = p_o = 0                 peephole=False
CIFG   coupled input and forget gate: f_t = 1 - i_t      coupled_input_forget=True
FGR    full gate recurrence (below)                      full_gate_recurrence=True
====== ================================================= =====================

FGR adds, to the pre-activation of each gate g in {i, f, o}, the activations of
all gates at the previous step (9 extra square matrices, R_{i->g} etc.)::

    (FGR) gbar_t += R_{i->g} i_{t-1} + R_{f->g} f_{t-1} + R_{o->g} o_{t-1},
          with i_0 = f_0 = o_0 = 0.

Here only *computed* gates take part: a removed gate (constant 1) and the
derived forget gate of CIFG (1 - i) neither receive nor send these connections.

Fields combine freely (``CustomLSTM(variant="NP", forget_gate=False)``) as long
as the combination means something; `LSTMVariant` raises
`seqlab.errors.ConfigError` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from seqlab.errors import ConfigError

__all__ = ["LSTMVariant", "PRESETS", "resolve_variant"]


@dataclass(frozen=True)
class LSTMVariant:
    """Which parts of the LSTM block (equations V1-V6 in the module docstring) exist.

    Attributes:
        peephole: peephole weights p_i, p_f, p_o on the gates that exist (V2, V3, V5).
        input_gate: i_t is computed (V2); False: i_t = 1.
        forget_gate: f_t is computed (V3); False: f_t = 1.
        output_gate: o_t is computed (V5); False: o_t = 1.
        input_activation: g = tanh in V1; False: g(x) = x.
        output_activation: h = tanh in V6; False: h(x) = x.
        coupled_input_forget: f_t = 1 - i_t (CIFG); needs both gates enabled.
        full_gate_recurrence: the FGR term, gates see the previous step's gates.
    """

    peephole: bool = True
    input_gate: bool = True
    forget_gate: bool = True
    output_gate: bool = True
    input_activation: bool = True
    output_activation: bool = True
    coupled_input_forget: bool = False
    full_gate_recurrence: bool = False

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, bool):
                raise ConfigError(
                    f"LSTMVariant.{field.name} must be true or false, got {value!r}"
                )
        if self.coupled_input_forget and not (self.input_gate and self.forget_gate):
            raise ConfigError(
                "LSTMVariant: coupled_input_forget=True (CIFG, f = 1 - i) needs "
                "input_gate=True and forget_gate=True; got "
                f"input_gate={self.input_gate}, forget_gate={self.forget_gate}"
            )
        if not self.sigmoid_gates:
            if self.peephole:
                raise ConfigError(
                    "LSTMVariant: peephole=True but the cell has no gate for the "
                    "peepholes to feed; set peephole=False or enable a gate"
                )
            if self.full_gate_recurrence:
                raise ConfigError(
                    "LSTMVariant: full_gate_recurrence=True but the cell has no "
                    "gate; set full_gate_recurrence=False or enable a gate"
                )

    # --- layout of the pre-activations, shared by CustomLSTM and its tests ---

    @property
    def computes_forget_gate(self) -> bool:
        """f_t has its own weights (not constant 1, not 1 - i_t)."""
        return self.forget_gate and not self.coupled_input_forget

    @property
    def sigmoid_gates(self) -> tuple[str, ...]:
        """The computed gates, in layout order: a subset of ``("i", "f", "o")``."""
        gates = []
        if self.input_gate:
            gates.append("i")
        if self.computes_forget_gate:
            gates.append("f")
        if self.output_gate:
            gates.append("o")
        return tuple(gates)

    @property
    def slots(self) -> tuple[str, ...]:
        """Pre-activation blocks of H rows each, in weight order: ``("z",) + sigmoid_gates``.

        The block input z comes first (as in V1-V6), then the gates; this puts
        z, i, f (which take their gradient from the cell state) before o
        (which takes it from the output), and all gates side by side.
        """
        return ("z",) + self.sigmoid_gates

    @property
    def peephole_gates(self) -> tuple[str, ...]:
        """Gates with a peephole weight, in order (empty without peepholes)."""
        return self.sigmoid_gates if self.peephole else ()


PRESETS: dict[str, LSTMVariant] = {
    "vanilla": LSTMVariant(),
    "NIG": LSTMVariant(input_gate=False),
    "NFG": LSTMVariant(forget_gate=False),
    "NOG": LSTMVariant(output_gate=False),
    "NIAF": LSTMVariant(input_activation=False),
    "NOAF": LSTMVariant(output_activation=False),
    "NP": LSTMVariant(peephole=False),
    "CIFG": LSTMVariant(coupled_input_forget=True),
    "FGR": LSTMVariant(full_gate_recurrence=True),
}
"""Greff et al. 2017's variants by the paper's abbreviation ("V" also names vanilla)."""

_ALIASES = {"v": "vanilla", "peephole": "vanilla", "1997": "NFG"}


def resolve_variant(variant: str | LSTMVariant = "vanilla", **flags: bool) -> LSTMVariant:
    """A preset name (case-insensitive) or an `LSTMVariant`, with ``flags`` overriding fields.

    >>> resolve_variant("NP").peephole
    False
    >>> resolve_variant("vanilla", forget_gate=False) == PRESETS["NFG"]
    True
    """
    if isinstance(variant, LSTMVariant):
        base = variant
    elif isinstance(variant, str):
        key = _ALIASES.get(variant.lower(), variant)
        by_lower = {name.lower(): spec for name, spec in PRESETS.items()}
        if key.lower() not in by_lower:
            raise ConfigError(
                f"unknown LSTM variant {variant!r}; use one of "
                f"{', '.join(PRESETS)} (Greff et al. 2017) or an LSTMVariant"
            )
        base = by_lower[key.lower()]
    else:
        raise ConfigError(
            f"variant must be a preset name or an LSTMVariant, got {type(variant).__name__}"
        )
    known = {field.name for field in fields(LSTMVariant)}
    unknown = sorted(set(flags) - known)
    if unknown:
        raise ConfigError(
            f"unknown LSTM flag(s) {', '.join(unknown)}; the flags are {', '.join(sorted(known))}"
        )
    return replace(base, **flags) if flags else base
