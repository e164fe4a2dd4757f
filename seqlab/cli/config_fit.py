"""Experiments that can be pointed at another data or model group.

An experiment sets keys of the groups it picks (``data.height: 128`` for IAM,
``data.num_train_speakers`` for the synthetic TIMIT, ``model.encoder.frame_stack``
for a BLSTM). Point it at another group (``experiment=iam_crnn data=timit``,
``experiment=timit_cpu data=timit data.root=...``) and some of those keys name
nothing the new group's class takes. They are left out, each said once in the
log; a key *you* give on the command line that the class does not take is an
error naming the keys it does take.
"""

from __future__ import annotations

import inspect
import logging

from omegaconf import DictConfig, open_dict

from seqlab.cli.config_types import constructors
from seqlab.errors import ConfigError

log = logging.getLogger("seqlab.train")


def accepted_keys(target: str) -> set[str] | None:
    """The keyword arguments ``target`` (a Hydra ``_target_``) takes; None when it takes any.

    A class whose constructor passes ``**kwargs`` on to its base class (the data
    modules do) takes the base constructors' keywords too (:func:`constructors`).
    """
    from hydra.utils import get_object

    named: set[str] = set()
    closed = False
    for _, params in constructors(get_object(target)):
        named |= {p.name for p in params.values()
                  if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}
        closed = not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return named - {"self"} if closed else None


def fit_to_target(node: DictConfig, where: str, explicit: set[str]) -> list[str]:
    """Drop the keys of ``node`` that its ``_target_`` does not take; returns them.

    Args:
        node: a config node with a ``_target_`` (``cfg.data``, ``cfg.model.encoder``).
        where: its dotted name, for the messages (``data``).
        explicit: keys given on the command line (these are never dropped).

    Raises:
        ConfigError: a key given on the command line that the class does not take.
    """
    target = node.get("_target_")
    if not isinstance(target, str):
        return []
    accepted = accepted_keys(target)
    if accepted is None:
        return []
    odd = [k for k in node if isinstance(k, str) and not k.startswith("_") and k not in accepted]
    given = [k for k in odd if k in explicit]
    if given:
        raise ConfigError(f"{where}.{given[0]}: {target.rsplit('.', 1)[-1]} takes no such setting; it takes "
                          f"{', '.join(sorted(accepted))}")
    if odd:
        with open_dict(node):
            for k in odd:
                del node[k]
        log.info("%s: left out %s (set by the experiment for another %s group; %s does not take them)",
                 where, ", ".join(f"{where}.{k}" for k in odd), where.split(".")[0], target.rsplit(".", 1)[-1])
    return odd
