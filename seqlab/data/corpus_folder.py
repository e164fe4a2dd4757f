"""Generated corpora are published atomically, with a marker of how they were made.

A generator builds its corpus in a sibling temporary folder and renames it into
place at the end, so an interrupted run never leaves half a corpus; the last
file written is ``.complete``, the JSON of the generation parameters, by which a
later run recognises a corpus it can reuse.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from seqlab.errors import ConfigError

MARKER = ".complete"


def is_complete(out_dir: Path, params: dict) -> bool:
    """True if ``out_dir`` holds a complete corpus made with ``params``; False if absent.

    Raises:
        ConfigError: ``out_dir`` exists but is no complete corpus, or was made
            with other parameters (naming them).
    """
    if not out_dir.exists():
        return False
    marker = out_dir / MARKER
    if not marker.is_file():
        if out_dir.is_dir() and not any(out_dir.iterdir()):
            out_dir.rmdir()  # an empty folder made beforehand is fine to fill
            return False
        raise ConfigError(
            f"{out_dir} exists but is not a complete synthetic corpus (no {MARKER} marker): "
            "delete it or choose another output folder"
        )
    try:
        stored = json.loads(marker.read_text())["params"]
    except (ValueError, KeyError) as err:
        raise ConfigError(f"{marker}: unreadable marker ({err}): delete {out_dir} to regenerate") from err
    if stored != params:
        changed = sorted(k for k in params.keys() | stored.keys() if params.get(k) != stored.get(k))
        raise ConfigError(
            f"{out_dir} holds a corpus generated with other parameters ({', '.join(changed)} differ): "
            "delete it or choose another output folder"
        )
    return True


def build_atomically(out_dir: Path, params: dict, build: Callable[[Path], dict]) -> None:
    """Run ``build(tmp)`` into a temporary sibling folder, write the marker, rename it to ``out_dir``.

    ``build`` writes the corpus into the folder it is given and returns a small
    ``info`` dict stored in the marker. If another process published the same
    corpus first, theirs is kept.
    """
    tmp = out_dir.with_name(out_dir.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)  # left by an earlier, interrupted run with our pid
    try:
        tmp.mkdir(parents=True)
        info = build(tmp)
        (tmp / MARKER).write_text(json.dumps({"params": params, "info": info}, indent=1) + "\n")
        try:
            os.replace(tmp, out_dir)
        except OSError:
            if not is_complete(out_dir, params):  # another process finished it first
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
