"""Self-contained checkpoints: everything inference needs travels inside.

A seqlab checkpoint is a Lightning checkpoint with one more entry, ``seqlab``,
holding plain data only (strings, numbers, lists, dicts). Its schema is
:class:`CheckpointInfo`: one writer (:meth:`CheckpointInfo.to_dict`, called by
:class:`~seqlab.lit.callbacks.RecipeCallback`) and one reader
(:meth:`CheckpointInfo.from_dict`, called by :func:`load_model`):

- ``alphabet``: the symbol table (:meth:`Alphabet.to_dict`);
- ``model``: the model's Hydra config, resolved (how to rebuild the network);
- ``data``: ``frontend`` (the stored :class:`~seqlab.data.frontends.Frontend`:
  image height and preprocessing, or filterbank settings and normalisation
  statistics), ``text`` (the Unicode normalisation and BiDi setting), ``unit``,
  ``metrics`` and ``corpus`` (what the model was trained on);
- ``config``: the run's whole resolved config (what a resume is compared with);
- ``parent``: only in a fine-tuned model's, the checkpoint it started from.

Checkpoints of format 1 (a ``data`` recipe with ``kind: image|speech``) are
read too.

Loading uses ``torch.load(weights_only=True)``, so a checkpoint cannot run code
through pickle, and the model is rebuilt only from the classes named in
:data:`ALLOWED_TARGETS`, matched exactly, with plain-data arguments.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqlab.errors import CheckpointError, ConfigError
from seqlab.nn import ENCODERS
from seqlab.text import Alphabet

log = logging.getLogger(__name__)

FORMAT_VERSION = 2

# What a checkpoint's model recipe may build: exactly the classes seqlab writes
# there, by every name they are written under. A name is matched whole (a
# prefix test would let any function of those packages be called); ``_partial_``
# is allowed only where seqlab writes it (optimizers and schedulers, which the
# module calls with its parameters).
_MODULES = ("seqlab.lit.CTCModule", "seqlab.lit.ctc_module.CTCModule")
_ENCODERS = tuple(name for cls in ENCODERS for name in (f"seqlab.nn.{cls.__name__}", f"{cls.__module__}.{cls.__name__}"))
_ENCODERS += ("seqlab.nn.BLSTMEncoder", "seqlab.nn.blstm.BLSTMEncoder")  # RecurrentEncoder before 0.2 (see RENAMED)
_OPTIMIZERS = tuple(f"torch.optim.{n}" for n in ("SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad", "Adamax", "NAdam"))
_SCHEDULERS = tuple(
    f"torch.optim.lr_scheduler.{n}"
    for n in ("ReduceLROnPlateau", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "OneCycleLR",
              "LinearLR", "ConstantLR")
)
# old encoder names -> today's
RENAMED = {"seqlab.nn.BLSTMEncoder": "seqlab.nn.RecurrentEncoder",
           "seqlab.nn.blstm.BLSTMEncoder": "seqlab.nn.recurrent.RecurrentEncoder"}
ALLOWED_TARGETS: frozenset[str] = frozenset(_MODULES + _ENCODERS + _OPTIMIZERS + _SCHEDULERS)
PARTIAL_TARGETS: frozenset[str] = frozenset(_OPTIMIZERS + _SCHEDULERS)


def _refuse(where: str, what: str) -> CheckpointError:
    return CheckpointError(f"checkpoint {where}: {what}; refusing to build the model (a checkpoint is data: "
                           "it may only name the encoders, module, optimizers and schedulers seqlab writes)")


def _check_targets(node: Any, where: str = "model") -> None:
    """Refuse a model recipe that is anything but a tree of allowed specs and plain values.

    Allowed: ``_target_`` in :data:`ALLOWED_TARGETS`, ``_partial_: true`` on the
    classes of :data:`PARTIAL_TARGETS`, and arguments that are numbers, strings
    (without ``${`` interpolations), booleans, None, lists of those and nested
    specs. Anything else (``_args_``, ``_recursive_``, ``_convert_``, other
    targets, objects) raises :class:`CheckpointError` before anything is built.
    """
    if node is None or isinstance(node, (bool, int, float)):
        return
    if isinstance(node, str):
        if "${" in node:
            raise _refuse(where, f"holds an interpolation {node!r}")
        return
    if isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            _check_targets(v, f"{where}[{i}]")
        return
    if not isinstance(node, dict):
        raise _refuse(where, f"holds a {type(node).__name__}, not plain data")
    target = node.get("_target_")
    if target is not None and (not isinstance(target, str) or target not in ALLOWED_TARGETS):
        raise _refuse(where, f"names _target_ {target!r}, which is not one of the classes seqlab builds")
    for key, value in node.items():
        if not isinstance(key, str):
            raise _refuse(where, f"has a key of type {type(key).__name__}")
        if key == "_target_":
            continue
        if key == "_partial_":
            if not isinstance(value, bool) or (value and target not in PARTIAL_TARGETS):
                raise _refuse(where, f"asks for _partial_ {value!r} on {target!r}")
            continue
        if key.startswith("_") and key.endswith("_"):
            raise _refuse(f"{where}.{key}", f"uses the instantiation key {key}")
        _check_targets(value, f"{where}.{key}")


URL_REFUSED = "checkpoints are read from local files only, not URLs; download it yourself and check where it comes from"


def is_url(path: str | Path) -> bool:
    """Whether ``path`` names a remote location (``scheme://...``), which seqlab never reads a checkpoint from."""
    return "://" in str(path)


def load_plain(path: str | Path, map_location: Any = "cpu", unsafe: bool = False) -> Any:
    """``torch.load`` of a local file with ``weights_only=True``: tensors and plain data, never pickled code.

    The one place seqlab (and, through :class:`~seqlab.lit.checkpoint_io.AtomicCheckpointIO`,
    Lightning) reads a checkpoint. A URL is refused: fetch the file yourself.

    Raises:
        CheckpointError: naming the file, when it is a URL, missing, truncated or holds
            objects that only an unsafe load could build.
    """
    if is_url(path):
        raise CheckpointError(f"{path}: {URL_REFUSED}")
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    if unsafe:
        log.warning("%s: loading with weights_only=False; this runs any code the file holds", path)
    try:
        return torch.load(path, map_location=map_location, weights_only=not unsafe)
    except Exception as e:  # torch raises UnpicklingError, RuntimeError, EOFError... for bad files
        # name what the file holds, not torch's advice to turn the check off
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        found = [line for line in lines if "Unsupported global" in line]
        plain = [line for line in lines if "weights_only" not in line and "weights only" not in line.lower()]
        reason = (found or plain or [type(e).__name__])[0]
        raise CheckpointError(f"{path}: cannot be loaded safely (weights_only): {reason}") from None


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu", unsafe: bool = False) -> dict:
    """The checkpoint's dict, loaded without running pickled code (:func:`load_plain`).

    Args:
        unsafe: load with full pickle (``weights_only=False``). Only for a
            checkpoint you made yourself with code that stored Python objects
            in it: a pickle can run any code when loaded.

    Raises:
        CheckpointError: naming the file, when it is missing, truncated, holds
            objects that only an unsafe load could build, or is no seqlab checkpoint.
    """
    ckpt = load_plain(path, map_location, unsafe=unsafe)
    if not isinstance(ckpt, dict) or "seqlab" not in ckpt or "state_dict" not in ckpt:
        raise CheckpointError(f"{path}: not a seqlab checkpoint (no 'seqlab' entry)")
    return ckpt


def _legacy_frontend(recipe: dict) -> dict:
    """A format-1 ``data`` recipe's preprocessing as a stored frontend."""
    kind = recipe.get("kind")
    if kind == "image":
        return {"type": "image", **recipe.get("image", {})}
    if kind == "speech":
        return {"type": "speech", "features": recipe.get("features", {}), "normalization": recipe.get("normalization")}
    raise CheckpointError(f"the data recipe has kind {kind!r}; expected 'image' or 'speech'")


def recipe_differences(a, b, where: str) -> list[str]:
    """Dotted paths where two plain-data values differ (floats compared with a tolerance)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += recipe_differences(a.get(k), b.get(k), f"{where}.{k}" if where else str(k))
        return out
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        if all(isinstance(x, (int, float)) for x in (*a, *b)):
            same = np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-4, atol=1e-6)
            return [] if same else [where]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += recipe_differences(x, y, f"{where}[{i}]")
        return out
    if isinstance(a, float) and isinstance(b, (int, float)):
        return [] if np.isclose(a, b, rtol=1e-4, atol=1e-6) else [where]
    return [] if a == b else [where]


def recipe_value(d, path: str):
    """The entry at a dotted ``path`` of :func:`recipe_differences` (a long list shown by its length)."""
    node = d
    for part in path.replace("[", ".[").split("."):
        if node is None:
            return None
        if part.startswith("["):
            node = node[int(part[1:-1])] if isinstance(node, list) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, list) and len(node) > 4:
        return f"[{len(node)} values]"
    return node


# the stored entries that decide what a network sees, and the data config key that sets each
# (the entry's last name otherwise); a model reading another kind of input or unit is never adopted
PREPROCESSING = ("frontend", "text", "unit")
_CONFIG_KEYS = {"text.form": "text_form", "text.bidi": "bidi"}
_NEVER_ADOPTED = ("unit", "frontend.type")


def trained_preprocessing(trained: dict, given: dict, explicit: set[str], where: str | Path,
                          purpose: str = "a fine-tuned model keeps its parent's preprocessing") -> list[tuple]:
    """Check a data config against a trained model's preprocessing, which is the one used.

    The data config's values give way to the model's (its image height,
    filterbank and normalisation statistics, text normalisation); a value given
    on the command line that contradicts the model is refused.

    Args:
        trained: the model's ``seqlab.data`` (``CheckpointInfo.to_dict()["data"]``).
        given: :meth:`CorpusDataModule.checkpoint_data` of the configured data module.
        explicit: data config keys given on the command line
            (:func:`seqlab.cli.hydra_app.given_keys`).
        where: the checkpoint, for messages.
        purpose: why the model's preprocessing is kept, for the message.

    Returns:
        ``(data config key, model's value, config's value)`` of each setting where
        the config's value gives way.

    Raises:
        ConfigError: naming each explicit setting that contradicts the model, or a
            model that reads another kind of input or unit.
    """
    diffs = []
    for key in PREPROCESSING:
        diffs += recipe_differences(trained.get(key), given.get(key), key)
    diffs = [d for d in diffs if not d.startswith("frontend.normalization")]  # the model's statistics are kept
    refused, kept = [], []
    for d in diffs:
        name = _CONFIG_KEYS.get(d, d.split(".")[-1])
        shown = f"{recipe_value(trained, d)!r} (the data config has {recipe_value(given, d)!r})"
        if d in _NEVER_ADOPTED:
            refused.append(f"{d}: the model's is {shown}")
        elif name in explicit:
            refused.append(f"data.{name}: the model was trained with {shown}")
        else:
            kept.append((name, recipe_value(trained, d), recipe_value(given, d)))
    if refused:
        raise ConfigError(f"{where}: {purpose}, and the data settings contradict it: {'; '.join(refused)}. "
                          "Leave these settings out (the model's are used)")
    return kept


def file_sha256(path: str | Path) -> str:
    """The file's SHA-256, hex (reports name the checkpoint they scored, a fine-tuned model its parent)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class CheckpointInfo:
    """What a seqlab checkpoint holds besides the weights (the ``seqlab`` entry), as plain data.

    Attributes:
        alphabet: :meth:`Alphabet.to_dict`.
        model: the model's resolved Hydra config.
        frontend: :meth:`Frontend.to_dict` of the training data's frontend (None: a
            checkpoint with weights only, which cannot prepare inputs).
        text: :meth:`TextNormalization.to_dict`.
        unit: ``char`` or ``token``.
        metrics: the metrics the model is scored with.
        corpus: :meth:`Reader.describe` of the training corpus.
        config: the run's resolved config (None: not stored).
        parent: for a fine-tuned model, the checkpoint it started from: ``path``,
            ``sha256``, ``alphabet`` (policy, symbols added and removed) and ``corpus``.
    """

    alphabet: dict
    model: dict
    frontend: dict | None
    text: dict = field(default_factory=lambda: {"form": "NFC", "bidi": False})
    unit: str = "char"
    metrics: list[str] = field(default_factory=lambda: ["cer", "wer"])
    corpus: dict = field(default_factory=dict)
    config: dict | None = None
    parent: dict | None = None

    def to_dict(self) -> dict:
        out = {
            "format": FORMAT_VERSION, "alphabet": self.alphabet, "model": self.model, "metrics": list(self.metrics),
            "data": {"frontend": self.frontend, "text": self.text, "unit": self.unit,
                     "metrics": list(self.metrics), "corpus": self.corpus},
        }
        if self.config is not None:
            out["config"] = self.config
        if self.parent is not None:
            out["parent"] = self.parent
        return out

    @classmethod
    def from_dict(cls, info: Any, where: str | Path = "checkpoint") -> CheckpointInfo:
        """Read the ``seqlab`` entry (format 1 or 2).

        Raises:
            CheckpointError: naming ``where``, when an entry is missing or of the wrong type.
        """
        if not isinstance(info, dict):
            raise CheckpointError(f"{where}: the seqlab entry is a {type(info).__name__}, not a dict")
        for key in ("alphabet", "model"):
            if not isinstance(info.get(key), dict):
                raise CheckpointError(f"{where}: has no {key} entry (seqlab.{key}); was it written by seqlab train?")
        data = info.get("data", {})
        if not isinstance(data, dict):
            raise CheckpointError(f"{where}: seqlab.data is a {type(data).__name__}, not a dict")
        if not data:
            frontend = None
        else:
            frontend = data.get("frontend") if "frontend" in data else _legacy_frontend(data)
        metrics = data.get("metrics", info.get("metrics", ["cer", "wer"]))
        text = data.get("text", {"form": "none", "bidi": False})  # format 1 did not normalise
        if not isinstance(frontend, (dict, type(None))) or not isinstance(text, dict) or not isinstance(metrics, list):
            raise CheckpointError(f"{where}: seqlab.data holds a frontend, text or metrics entry of the wrong type")
        corpus = data.get("corpus", {})
        if not isinstance(corpus, dict):  # format 1 wrote the corpus' name
            corpus = {"corpus": str(corpus)}
        parent = info.get("parent")
        if not isinstance(parent, (dict, type(None))):
            raise CheckpointError(f"{where}: seqlab.parent is a {type(parent).__name__}, not a dict")
        return cls(alphabet=info["alphabet"], model=info["model"], frontend=frontend, text=text,
                   unit=str(data.get("unit", info["alphabet"].get("unit", "char"))), metrics=[str(m) for m in metrics],
                   corpus=corpus, config=info.get("config"), parent=parent)

    def build_frontend(self, cache_dir: str | Path | None = None):
        """The :class:`~seqlab.data.frontends.Frontend` the model was trained with."""
        from seqlab.data.frontends.base import frontend_from_dict

        if self.frontend is None:
            raise CheckpointError("the checkpoint has no frontend (seqlab.data): it cannot prepare inputs; "
                                  "was it written by seqlab train?")
        return frontend_from_dict(self.frontend, cache_dir=cache_dir)

    def text_normalization(self):
        """The :class:`~seqlab.text.normalize.TextNormalization` of the training transcriptions."""
        from seqlab.text.normalize import TextNormalization

        try:
            return TextNormalization.from_dict(self.text)
        except Exception as e:  # noqa: BLE001 (a ConfigError or TypeError from bad stored values)
            raise CheckpointError(f"the stored text normalisation {self.text!r} is invalid: {e}") from None


def encoder_recipe(recipe: dict) -> dict:
    """A stored encoder recipe in today's terms (a copy).

    Checkpoints written before every encoder took ``input_size`` name the
    image height of the CRNN and MDLSTM encoders ``input_height``; it becomes
    ``input_size`` = height x channels. The recurrent encoder was called
    ``BLSTMEncoder`` (it builds GRU and unidirectional encoders too).
    """
    import copy

    out = copy.deepcopy(recipe)
    out["_target_"] = RENAMED.get(out.get("_target_"), out.get("_target_"))
    if "input_height" in out:
        height = out.pop("input_height")
        out["input_size"] = None if height is None else int(height) * int(out.get("input_channels", 1))
    return out


def build_encoder(recipe: dict):
    """The encoder of a model recipe (``model.encoder``), built without Hydra.

    The recipe has passed :func:`_check_targets`: its ``_target_`` is one of the
    encoder classes seqlab writes and its arguments are plain data.
    """
    import importlib

    if recipe.get("_target_") not in _ENCODERS:
        raise _refuse("model.encoder", f"names {recipe.get('_target_')!r}, which is not one of seqlab's encoders")
    recipe = encoder_recipe(recipe)
    target = recipe["_target_"]
    module, _, name = target.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    kwargs = {k: v for k, v in recipe.items() if k != "_target_"}
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise CheckpointError(f"checkpoint model.encoder: {target} cannot be built from the stored settings ({e}); "
                              "was it written by another version of seqlab?") from None


def load_model(path: str | Path, map_location: str | torch.device = "cpu", unsafe: bool = False):
    """Rebuild the trained network from a checkpoint alone, for inference.

    Neither Lightning nor Hydra is imported: the encoder is built from the
    checkpoint's recipe by :func:`build_encoder`, the weights are loaded into a
    :class:`~seqlab.nn.ctc.CTCModel`.

    Returns:
        (:class:`~seqlab.nn.ctc.CTCModel` in eval mode, the checkpoint's :class:`CheckpointInfo`).
    """
    from seqlab.nn.ctc import CTCModel

    ckpt = read_checkpoint(path, map_location, unsafe=unsafe)
    raw = ckpt["seqlab"]
    if not isinstance(raw, dict) or "model" not in raw:
        raise CheckpointError(f"{path}: has no model recipe; was it written by seqlab train?")
    _check_targets(raw["model"])  # before anything else is read: a hostile recipe is refused as such
    if not isinstance(raw["model"], dict) or raw["model"].get("_target_") not in _MODULES:
        raise _refuse("model", "is not a CTCModule recipe")
    if not isinstance(raw["model"].get("encoder"), dict):
        raise _refuse("model", "has no encoder recipe (model.encoder)")
    info = CheckpointInfo.from_dict(raw, path)
    model = CTCModel(build_encoder(raw["model"]["encoder"]), Alphabet.from_dict(info.alphabet), info.metrics)
    state = {k: v for k, v in ckpt["state_dict"].items() if k.startswith(("encoder.", "head."))}
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: the weights do not fit the stored network ({str(e).splitlines()[0]})") from None
    model.eval()
    return model, info
