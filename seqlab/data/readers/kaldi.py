"""Kaldi data directories: ``wav.scp``, ``text``, and optionally ``segments`` and ``utt2spk``.

Layout (``../shared/reference/speech-corpora.md``)::

    ROOT/train/wav.scp     REC PATH                   one recording a line
    ROOT/train/segments    SEG REC START END          optional: utterances as stretches (seconds; END -1: to the end)
    ROOT/train/text        UTT word word ...          UTT is the SEG when there are segments
    ROOT/train/utt2spk     UTT SPK                    optional: the speaker (the group in reports)

``ROOT`` is the recipe's ``data/`` folder, each split one of its directories
(``train``, ``dev``, ``test`` by default). A relative path in ``wav.scp`` is
looked for beside the split directory, in ``ROOT``, then in ``ROOT``'s parent
(where Kaldi recipes run from).

A ``wav.scp`` entry that is a shell command (``REC sph2pipe -f wav X.WV1 |``)
or an archive offset (``REC foo.ark:1234``) is refused with an error naming
the line: running it would execute code written in a data file. Convert such
recordings to files first and list the files. Utterances with no transcript,
transcripts of no utterance, segments of an unknown recording and malformed
lines are left out and counted in one warning.
"""

from __future__ import annotations

import re
from pathlib import Path

from seqlab.data.readers.listing import ListingReader
from seqlab.data.records import Record
from seqlab.errors import DataFormatError
from seqlab.text.files import read_text

_ARK_OFFSET = re.compile(r"\.ark:\d+$")


def read_table(path: Path, problems: list[str], fields: int | None = None) -> dict[str, tuple[list[str], str]]:
    """``key -> (the rest of the line split, "file:line")`` of a Kaldi table; ``fields``: how many follow the key."""
    out: dict[str, tuple[list[str], str]] = {}
    for n, line in enumerate(read_text(path, errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        key, *rest = line.split()
        if fields is not None and len(rest) != fields:
            problems.append(f"{where}: expected {fields + 1} fields, got {len(rest) + 1}")
            continue
        if key in out:
            problems.append(f"{where}: {key} is listed twice (first at {out[key][1]})")
            continue
        out[key] = (rest, where)
    return out


class KaldiReader(ListingReader):
    """Utterances of Kaldi data directories, one per split (args of :class:`ListingReader`)."""

    format_name = "Kaldi data directory"
    listing_kind = "folder"

    def rows(self, listing: Path, problems: list[str]) -> list[Record]:
        wav_scp = listing / "wav.scp"
        if not (wav_scp.is_file() and (listing / "text").is_file()):
            missing = [n for n in ("wav.scp", "text") if not (listing / n).is_file()]
            raise DataFormatError(f"{listing}: no {' or '.join(missing)}; a Kaldi data directory has wav.scp "
                                  "and text (segments and utt2spk optional)")
        recordings = {rec: self._recording(line, where, listing) for rec, (line, where) in
                      self._scp(wav_scp).items()}
        texts = read_table(listing / "text", problems)
        speakers = read_table(listing / "utt2spk", problems, 1) if (listing / "utt2spk").is_file() else {}
        if (listing / "segments").is_file():
            stretches = {}
            for seg, (rest, where) in read_table(listing / "segments", problems, 3).items():
                rec, start, end = rest
                try:
                    start_s, end_s = float(start), float(end)
                except ValueError:
                    problems.append(f"{where}: START and END must be seconds, got {start!r} {end!r}")
                    continue
                if rec not in recordings:
                    problems.append(f"{where}: recording {rec} is not in {wav_scp.name}")
                    continue
                if start_s < 0 or (end_s != -1 and end_s <= start_s):
                    problems.append(f"{where}: the stretch {start}..{end} s is empty or negative")
                    continue
                stretches[seg] = (recordings[rec], start_s, None if end_s == -1 else end_s - start_s, where)
        else:
            stretches = {rec: (path, 0.0, None, where) for rec, (path, where) in recordings.items()}
        rows: list[Record] = []
        for uid, (source, offset, duration, where) in stretches.items():
            if uid not in texts:
                problems.append(f"{where}: {uid} has no line in {listing / 'text'}")
                continue
            words, text_where = texts[uid]
            speaker = speakers.get(uid, ([""], ""))[0][0]
            rows.append(Record(uid, source, " ".join(words), where=text_where, group=speaker,
                               offset=offset, duration=duration))
        for uid, (_, where) in texts.items():
            if uid not in stretches:
                problems.append(f"{where}: {uid} is not an utterance of {listing.name} "
                                f"({'segments' if (listing / 'segments').is_file() else 'wav.scp'})")
        return rows

    def _scp(self, path: Path) -> dict[str, tuple[str, str]]:
        out: dict[str, tuple[str, str]] = {}
        for n, line in enumerate(read_text(path, errors="replace").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            parts = line.strip().split(maxsplit=1)
            if len(parts) != 2:
                raise DataFormatError(f"{where}: expected 'RECORDING PATH', got {line.strip()[:80]!r}")
            if parts[0] in out:
                raise DataFormatError(f"{where}: recording {parts[0]} is listed twice (first at {out[parts[0]][1]})")
            out[parts[0]] = (parts[1].strip(), where)
        return out

    def _recording(self, value: str, where: str, listing: Path) -> str:
        """The audio file of a ``wav.scp`` entry; a command or an archive offset is refused."""
        if value.endswith("|") or value.startswith("|"):
            raise DataFormatError(
                f"{where}: this wav.scp entry is a shell command ({value[:80]!r}); seqlab never runs commands "
                "written in data files. Run it yourself into an audio file (for example "
                "`sph2pipe -f wav X.WV1 > X.wav`) and list that file in wav.scp"
            )
        if _ARK_OFFSET.search(value) or " " in value:
            raise DataFormatError(
                f"{where}: {value[:80]!r} is not a plain audio file path (Kaldi archive offsets and options "
                "are not read); list one audio file per recording"
            )
        path = Path(self.audio_path(value, listing / "wav.scp", where))
        if not Path(value).is_absolute() and not path.exists():
            for base in (self.root, self.root.parent):
                if (base / value).exists():
                    return str(base / value)
        return str(path)
