"""Frontends: a record or a file in, the network's input tensor out (stored in checkpoints)."""

from seqlab.data.frontends.base import Frontend, Prepared, frontend_from_dict
from seqlab.data.frontends.image import ImageFrontend
from seqlab.data.frontends.speech import SpeechFrontend

# name -> class, what frontend_from_dict rebuilds a stored frontend with
FRONTENDS = {ImageFrontend.name: ImageFrontend, SpeechFrontend.name: SpeechFrontend}

__all__ = ["FRONTENDS", "Frontend", "ImageFrontend", "Prepared", "SpeechFrontend", "frontend_from_dict"]
