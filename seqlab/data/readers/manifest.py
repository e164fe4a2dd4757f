"""JSON-lines speech manifests (NeMo's format, and many in-house pipelines).

One JSON object a line (``../shared/reference/speech-corpora.md``)::

    {"audio_filepath": "audio/a.wav", "text": "hello there", "duration": 1.42}
    {"audio_filepath": "long.flac", "offset": 12.5, "duration": 3.1, "text": "second one", "speaker": "s2"}

``audio_filepath`` is relative to the manifest's folder unless absolute. With
``offset`` the row is ``duration`` seconds of the file from ``offset`` (several
utterances may share one long recording); without it the row is the whole file
(its ``duration`` is informational, the header says how long the file is).
An utterance's id is the manifest's ``id``/``utt_id``, else the file name (and
the offset when several rows share a file); its speaker is ``speaker``,
``speaker_id`` or ``spk_id``. Other keys are ignored.

Blank lines are ignored; a line that is not a JSON object, or lacks
``audio_filepath`` or ``text``, or has a negative offset or a non-positive
duration, is left out and counted in one warning.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from seqlab.data.readers.listing import ListingReader
from seqlab.data.records import Record
from seqlab.text.files import read_text

SPEAKER_KEYS = ("speaker", "speaker_id", "spk_id")
ID_KEYS = ("id", "utt_id", "utterance_id")


def _seconds(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}")
    return float(value)


class ManifestReader(ListingReader):
    """Utterances of JSON-lines manifests, one per split (args of :class:`ListingReader`)."""

    format_name = "manifest"

    def rows(self, listing: Path, problems: list[str]) -> list[Record]:
        rows: list[Record] = []
        for n, line in enumerate(read_text(listing, errors="replace").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{listing}:{n}"
            try:
                row = json.loads(line)
            except ValueError as e:
                problems.append(f"{where}: not JSON ({e.msg} at column {e.colno})")
                continue
            if not isinstance(row, dict):
                problems.append(f"{where}: expected a JSON object, got {type(row).__name__}")
                continue
            missing = [k for k in ("audio_filepath", "text") if not isinstance(row.get(k), str)]
            if missing:
                problems.append(f"{where}: no {' or '.join(missing)} (a string) in this row")
                continue
            try:
                offset, duration = 0.0, None
                if "offset" in row:
                    offset = _seconds(row["offset"], "offset")
                    if offset < 0:
                        raise ValueError(f"offset must be >= 0, got {offset:g}")
                    if row.get("duration") is not None:
                        duration = _seconds(row["duration"], "duration")
                        if duration <= 0:
                            raise ValueError(f"duration must be > 0, got {duration:g}")
            except ValueError as e:
                problems.append(f"{where}: {e}")
                continue
            source = self.audio_path(row["audio_filepath"], listing, where)
            uid = next((str(row[k]) for k in ID_KEYS if row.get(k) not in (None, "")), None)
            if uid is None:
                uid = Path(row["audio_filepath"]).with_suffix("").as_posix()
                if "offset" in row:
                    uid += f"@{offset:g}"
            group = next((str(row[k]) for k in SPEAKER_KEYS if row.get(k) not in (None, "")), "")
            rows.append(Record(uid, source, row["text"], where=where, group=group, offset=offset, duration=duration))
        return rows
