"""Checking a composed config against the constructors it will call, before any is called.

Hydra passes ``trainer.max_epochs=one`` to Lightning as the string ``'one'``;
the run then stops deep inside the fit loop with a bare ``AssertionError``.
:func:`check_config_types` walks every ``_target_`` node, reads the type
hints of the class's constructor (and of its bases, when it forwards
``**kwargs``), and refuses a value that cannot be of the hinted type, naming
the key. Only hints made of plain types are checked (int, float, bool, str,
None, ``Literal[...]``, and tensors, which no config value is); a hint it
cannot judge is left to the constructor.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import torch

from seqlab.errors import ConfigError

_NONE = type(None)
_PLAIN = (int, float, bool, str, _NONE, torch.Tensor)


def constructors(target: Any) -> Iterator[tuple[Any, Mapping[str, inspect.Parameter]]]:
    """(constructor, its parameters) of ``target`` and of the base classes it passes ``**kwargs`` on to.

    Stops after the first constructor without ``**kwargs``; when every one has
    them, the chain ends without such a constructor (the target takes any
    keyword).
    """
    chain = [c for c in target.__mro__ if c is not object and "__init__" in vars(c)] if inspect.isclass(target) \
        else [target]
    for owner in chain:
        init = owner.__init__ if inspect.isclass(owner) else owner
        params = inspect.signature(init).parameters
        yield init, params
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return


def _hints(target: Any) -> dict[str, Any]:
    """Parameter name -> type hint of ``target``'s constructor, following ``**kwargs`` into base classes."""
    hints: dict[str, Any] = {}
    try:
        for init, params in constructors(target):
            found = typing.get_type_hints(init)
            for name in params:
                if name in found and name not in hints:
                    hints[name] = found[name]
    except (TypeError, ValueError, NameError, AttributeError):
        pass  # a hint it cannot read: judge no further
    return hints


def _members(hint: Any) -> list[Any] | None:
    """The alternatives of a hint made of plain types, or None when it holds anything else."""
    if hint is None:
        hint = _NONE
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(hint):
            sub = _members(arg)
            if sub is None:
                return None
            out += sub
        return out
    if origin is Literal or hint in _PLAIN:
        return [hint]
    return None


def _fits(value: Any, member: Any) -> bool:
    if typing.get_origin(member) is Literal:
        return value in typing.get_args(member)
    if member is _NONE:
        return value is None
    if member is bool:
        return isinstance(value, bool)
    if member is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if member is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if member is str:
        return isinstance(value, str)
    return False  # a tensor: never a config value


def _describe(members: list[Any]) -> str:
    names = []
    for m in members:
        if typing.get_origin(m) is Literal:
            names += [repr(a) for a in typing.get_args(m)]
        elif m is not torch.Tensor:
            names.append("None" if m is _NONE else m.__name__)
    return " or ".join(dict.fromkeys(names))


def check_config_types(node: Any, where: str = "") -> None:
    """Refuse values of ``node`` (a resolved config, as plain data) that their constructor cannot take.

    Raises:
        ConfigError: ``trainer.max_epochs: expected int or None, got 'one' (str)``.
    """
    if isinstance(node, list):
        for i, v in enumerate(node):
            check_config_types(v, f"{where}[{i}]")
        return
    if not isinstance(node, dict):
        return
    hints: dict[str, Any] = {}
    if isinstance(node.get("_target_"), str):
        from hydra.utils import get_object

        try:
            hints = _hints(get_object(node["_target_"]))
        except Exception as e:  # Hydra raises ImportError or its own errors for a target that is not there
            raise ConfigError(f"{where or 'config'}._target_: cannot import {node['_target_']!r} ({e})") from None
    for key, value in node.items():
        at = f"{where}.{key}" if where else str(key)
        members = _members(hints[key]) if key in hints else None
        if members is not None and value != "???" and not any(_fits(value, m) for m in members):
            raise ConfigError(f"{at}: expected {_describe(members)}, got {value!r} ({type(value).__name__}); "
                              f"set it on the command line as {at}=VALUE")
        check_config_types(value, at)
