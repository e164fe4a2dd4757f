#!/usr/bin/env python
"""Transcribe line images or audio files with a trained checkpoint.

    python scripts/transcribe.py runs/DATE/TIME/checkpoints/best.ckpt line.png scans/ --format txt
    python scripts/transcribe.py best.ckpt audio/ --format ctm --output out.ctm

``--help`` lists every option with examples; the logic is in seqlab/cli/transcribe.py
and the Python API in seqlab/recognizer.py.
"""

import sys

from seqlab.cli.transcribe import main

if __name__ == "__main__":
    sys.exit(main())
