"""CSV and TSV tables of utterances: Common Voice, SpeechBrain and the like.

Column names are found in the header (``../shared/reference/speech-corpora.md``):

- Common Voice: TSV ``client_id path sentence ...``, audio in ``clips/`` beside
  the TSV as MP3 at 48 kHz (resampled to the model's rate on reading);
- SpeechBrain: CSV ``ID, duration, wav, spk_id, wrd`` (``$data_root`` in the
  paths is replaced by the ``data_root`` setting);
- anything else: name the columns (``audio_column``, ``text_column``, ...).

The delimiter is a tab for ``.tsv`` files and a comma otherwise (or
``delimiter``). TSV fields are not quoted (Common Voice writes quotation marks
inside sentences as they are); CSV fields may be. A path that is not found
beside the table is looked for in its ``clips/`` folder (Common Voice's layout).
Rows with an empty path or transcript, or with too few fields, are left out and
counted in one warning.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from seqlab.data.readers.listing import ListingReader
from seqlab.data.records import Record
from seqlab.errors import ConfigError, DataFormatError
from seqlab.text.files import read_text

AUDIO_COLUMNS = ("path", "wav", "audio_filepath", "audio", "file", "filename", "wav_filename")
TEXT_COLUMNS = ("sentence", "wrd", "text", "transcript", "transcription")
SPEAKER_COLUMNS = ("client_id", "spk_id", "speaker", "speaker_id")
ID_COLUMNS = ("ID", "id", "utt_id")


class TableReader(ListingReader):
    """Utterances of CSV/TSV tables, one per split.

    Args:
        audio_column, text_column: the columns holding the audio path and the
            transcript; None: the first of :data:`AUDIO_COLUMNS` /
            :data:`TEXT_COLUMNS` the header has.
        speaker_column, id_column: likewise (None: found if present; the id
            falls back to the file name).
        delimiter: the field separator; None: tab for ``.tsv``, comma otherwise.
        others: as :class:`~seqlab.data.readers.listing.ListingReader`.
    """

    format_name = "table"

    def __init__(self, root: str, audio_column: str | None = None, text_column: str | None = None,
                 speaker_column: str | None = None, id_column: str | None = None, delimiter: str | None = None,
                 **kwargs) -> None:
        super().__init__(root, **kwargs)
        self.columns = {"audio": audio_column, "text": text_column, "speaker": speaker_column, "id": id_column}
        self.delimiter = delimiter

    def _column(self, header: list[str], role: str, candidates: tuple[str, ...], listing: Path,
                required: bool) -> str | None:
        given = self.columns[role]
        if given is not None:
            if given not in header:
                raise ConfigError(f"{listing}: no column {given!r} (data.{role}_column); the header has "
                                  f"{', '.join(header)}")
            return given
        found = next((c for c in candidates if c in header), None)
        if found is None and required:
            raise DataFormatError(f"{listing}: no {role} column among {', '.join(header)} (looked for "
                                  f"{', '.join(candidates)}); name it with data.{role}_column")
        return found

    def rows(self, listing: Path, problems: list[str]) -> list[Record]:
        tsv = listing.suffix.lower() == ".tsv"
        delimiter = self.delimiter or ("\t" if tsv else ",")
        quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
        table = csv.reader(io.StringIO(read_text(listing, errors="replace"), newline=""),
                           delimiter=delimiter, quoting=quoting)
        header = [h.strip() for h in next(table, [])]
        if not header:
            raise DataFormatError(f"{listing}: empty table (no header row)")
        audio = self._column(header, "audio", AUDIO_COLUMNS, listing, True)
        text = self._column(header, "text", TEXT_COLUMNS, listing, True)
        speaker = self._column(header, "speaker", SPEAKER_COLUMNS, listing, False)
        uid_col = self._column(header, "id", ID_COLUMNS, listing, False)
        index = {name: i for i, name in enumerate(header)}
        clips = listing.parent / "clips"
        rows: list[Record] = []
        for n, fields in enumerate(table, start=2):
            if not fields or not "".join(fields).strip():
                continue
            where = f"{listing}:{n}"
            if len(fields) < len(header):
                problems.append(f"{where}: {len(fields)} field(s), the header has {len(header)}")
                continue
            path, transcript = fields[index[audio]].strip(), fields[index[text]]
            if not path:
                problems.append(f"{where}: empty {audio} field")
                continue
            source = self.audio_path(path, listing, where)
            if not Path(source).exists() and (clips / path).exists():
                source = str(clips / path)
            uid = fields[index[uid_col]].strip() if uid_col else ""
            group = fields[index[speaker]].strip() if speaker else ""
            rows.append(Record(uid or Path(path).with_suffix("").as_posix(), source, transcript,
                               where=where, group=group))
        return rows
