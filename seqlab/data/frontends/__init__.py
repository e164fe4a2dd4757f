"""Frontends: a record or a file in, the network's input tensor out (stored in checkpoints).

A frontend is one file here and one entry in :data:`FRONTENDS`. The entries
name their module, imported on first use: a handwriting model's start-up does
not load the speech frontend's audio stack (torchaudio).
"""

from __future__ import annotations

import importlib

from seqlab.data.frontends.base import Frontend, Prepared, frontend_from_dict

# name (the stored dict's ``type``) -> "module:class", what frontend_from_dict rebuilds a stored frontend with
FRONTENDS = {
    "image": "seqlab.data.frontends.image:ImageFrontend",
    "speech": "seqlab.data.frontends.speech:SpeechFrontend",
}


def frontend_class(name: str) -> type[Frontend]:
    """The class registered as ``name`` in :data:`FRONTENDS` (KeyError when there is none)."""
    module, _, cls = FRONTENDS[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def __getattr__(name: str):
    for entry in FRONTENDS.values():
        module, _, cls = entry.partition(":")
        if cls == name:
            return getattr(importlib.import_module(module), cls)
    raise AttributeError(f"module 'seqlab.data.frontends' has no attribute {name!r}")


__all__ = ["FRONTENDS", "Frontend", "ImageFrontend", "Prepared", "SpeechFrontend", "frontend_class",
           "frontend_from_dict"]
