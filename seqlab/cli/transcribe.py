"""``seqlab transcribe``: transcribe images or audio files with a trained checkpoint."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import os
import stat
import sys
import unicodedata
from glob import escape as glob_escape
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TextIO

from seqlab.errors import ConfigError, DataFormatError, SeqlabError, UnreadableFileError

log = logging.getLogger("seqlab.transcribe")

FORMATS = ("jsonl", "txt", "ctm")
LIST_SUFFIXES = (".lst", ".list", ".txt", ".scp")

EPILOG = """\
INPUT is an image or audio file, a folder (searched recursively for the
model's inputs: .png .jpg .jpeg .tif .tiff for handwriting models, .wav .sph
.flac .mp3 .ogg .oga .opus in any letter case for speech models, at any
sample rate and channel count (resampled and mixed down); links to folders are not
followed), or a list file (.lst .list .txt .scp) naming one file per line
(relative paths: from the current folder, else from the list's folder).

Output formats:
  jsonl  one JSON object per input: id, source, text, confidence, unit
         ("seconds" or "pixels"), extent (duration or original width), frames,
         aligned, words and tokens (text, start, end, start_frame, end_frame,
         score). For images, start/end are x-pixel ranges of the original image.
  txt    ID<TAB>TEXT per input.
  ctm    NIST CTM, one line per word: ID 1 START DURATION WORD CONFIDENCE
         (speech models only).
ID is the input's path, suffix included: relative to the folder for files
found in a folder ("a b.png", "sub/a_b.jpg"), else as given on the command
line or in the list file. Two inputs with the same ID stop the run before any
work. In txt and ctm rows, characters that would break the row (tabs, line
breaks and other control characters; in ctm any white space) are written as
%XX, the hex of their bytes ("a b.png" is a%20b.png in ctm).

confidence = P(text | input) ** (1 / number of output symbols), from the CTC
forward score; a word's score is the mean posterior of its symbols over the
frames they are aligned to.

Unreadable files are reported on stderr (name and reason) and skipped; so are
entries named like inputs that are no regular file (symlink loops, broken
links, FIFOs, which are never opened, sockets, devices, folders such as
x.png/). The others are still transcribed, a last line counts what was
skipped by reason, and the exit status is then 1. It is 2, before any work,
for a bad checkpoint, option or lexicon, two inputs with one ID, or an
--output that is a folder or cannot be written. The output file is written
in full or not at all. In a folder, a RIFF copy X.WAV.wav next to X.WAV
(some TIMIT copies) is left out.

Examples:
  seqlab transcribe runs/iam/checkpoints/best.ckpt line.png
  seqlab transcribe best.ckpt scans/ --format txt --output lines.txt
  seqlab transcribe best.ckpt lines.lst --decoder beam --beam-size 20 \\
      --lexicon words.txt --lm words.arpa --lm-weight 1.0 --word-score 0.5
  seqlab transcribe timit.ckpt /data/TIMIT/TEST/DR1 --format ctm --output dr1.ctm
  seqlab transcribe best.ckpt audio/ --device cuda --batch-size 32
  seqlab transcribe timit.ckpt interview.mp3 --format ctm      # any length: cut by VAD
  arecord -f S16_LE -r 16000 -c 1 | seqlab transcribe uni.ckpt - --stream

Long recordings: audio longer than --max-piece seconds (30) is cut into pieces
(--segment vad: in pauses found by WebRTC voice activity detection; windows:
fixed windows overlapping by --overlap seconds, each word taken from the window
where it lies nearer the middle), and every time in the output is on the
original file's timeline. Memory stays bounded whatever the length.

Streaming (--stream, unidirectional models only: bidirectional ones are
refused): INPUT is one audio file, or - for raw signed 16-bit little-endian
mono PCM on standard input at --rate Hz (the model's rate, 16000 by default).
The audio is read --chunk-ms at a time; after each chunk a JSON line
{"type": "partial", "text", "heard_s", "latency_ms"} is printed (latency: the
compute time of that chunk), and at the end {"type": "final", "id", "text",
"chunks", "latency_ms": {median, p95, max}, "delay_ms"} (delay: the audio the
features wait for by construction). With --format txt, only ID<TAB>TEXT.

Lexicon (--lexicon): one word per line, spelled by its characters; or
flashlight's format, WORD followed by its spelling in the model's symbols
("cat c a t", "cat k ae t" for a phone model). With a lexicon, --lm is a word
n-gram; without, a token n-gram whose words are the model's symbols, "|"
standing for the space (KenLM ARPA or binary, e.g. from lmplz).
"""


def build_parser(prog: str = "seqlab transcribe") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Transcribe handwritten line images or speech with a seqlab checkpoint.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a .ckpt written by seqlab train")
    p.add_argument("inputs", metavar="INPUT", nargs="+", help="file, folder or list file (see below)")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout (atomically)")
    p.add_argument("--format", "-f", choices=FORMATS, default="jsonl", help="output format (default: jsonl)")
    add_decoder_options(p)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default: cpu)")
    p.add_argument("--batch-size", type=int, default=16, metavar="N", help="inputs per forward pass (default: 16)")
    p.add_argument("--workers", type=int, metavar="N", help="on the CPU: batches recognised and files read at once, "
                   "each on one thread (default: one per core torch uses; OMP_NUM_THREADS sets that); 1: one batch "
                   "at a time on all of them")
    p.add_argument("--quantize", choices=("int8", "bf16"), help="int8: run the recurrent and linear layers in int8 "
                   "on the CPU (dynamic quantisation); bf16: run the network in bfloat16 on CPUs that have "
                   "bfloat16 instructions (AVX-512 BF16, AMX); faster or not: docs/benchmarks.md")
    long = p.add_argument_group("long recordings", "audio longer than --max-piece seconds is cut into pieces, "
                                "each recognised, the times put back on the file's timeline (seqlab.long_audio)")
    long.add_argument("--segment", choices=("vad", "windows"), default="vad",
                      help="vad: cut in pauses found by voice activity detection (default); windows: fixed "
                           "overlapping windows stitched in the overlaps")
    long.add_argument("--max-piece", type=float, default=30.0, metavar="S",
                      help="the longest piece recognised at once, in seconds (default: 30)")
    long.add_argument("--window", type=float, default=20.0, metavar="S", help="window length for --segment windows "
                      "(default: 20)")
    long.add_argument("--overlap", type=float, default=4.0, metavar="S", help="overlap of neighbouring windows "
                      "(default: 4)")
    long.add_argument("--vad-aggressiveness", type=int, choices=(0, 1, 2, 3), default=2,
                      help="WebRTC VAD: 0 keeps the most audio as speech, 3 the least (default: 2)")
    live = p.add_argument_group("streaming")
    live.add_argument("--stream", action="store_true",
                      help="read one INPUT (a file, or - for raw 16-bit PCM on stdin) chunk by chunk and print "
                           "partial results as they come (unidirectional models)")
    live.add_argument("--chunk-ms", type=float, default=100.0, metavar="MS",
                      help="audio per chunk with --stream, in milliseconds (default: 100)")
    live.add_argument("--rate", type=int, metavar="HZ", help="sample rate of raw PCM on stdin (default: the "
                      "model's)")
    p.add_argument("--pages-out", metavar="DIR",
                   help="INPUTs are PAGE-XML or ALTO pages (.xml; folders are searched for them): write each page, "
                        "its lines recognised and filled in, to DIR under its ID")
    p.add_argument("--dpi", type=float, help="image resolution of ALTO pages measured in mm10 or inch1200")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return p


def add_decoder_options(p: argparse.ArgumentParser) -> None:
    """``--decoder`` and one option per decoder setting, read from the registry (:data:`seqlab.decode.DECODERS`)."""
    import inspect

    from seqlab.decode import DECODERS, decoder_settings

    g = p.add_argument_group("decoding")
    g.add_argument("--decoder", choices=tuple(DECODERS), default=None,
                   help="greedy: best path, as training evaluates (the default); beam: beam search. "
                        "A setting only one decoder takes (--lexicon, --lm, ...) chooses that decoder")
    seen: set[str] = set()
    for name, cls in DECODERS.items():
        helps = getattr(cls, "HELP", {})
        for key, default in decoder_settings(name).items():
            if key in seen:
                continue
            seen.add(key)
            hint = str(inspect.signature(cls).parameters[key].annotation)  # "int | None", "float", "str | Path"
            kind = int if hint.startswith("int") else float if hint.startswith("float") else str
            shown = "" if default is None else f" (default: {default})"
            g.add_argument(f"--{key.replace('_', '-')}", dest=f"decoder_{key}", type=kind, default=None,
                           metavar="FILE" if kind is str else kind.__name__.upper(),
                           help=f"{helps.get(key, key)}{shown}; decoder {name}")


def decoder_choice(args) -> tuple[str, dict]:
    """The decoder name and the settings given on the command line (None: not given)."""
    from seqlab.decode import DECODERS, decoder_settings

    given = {k[len("decoder_"):]: v for k, v in vars(args).items() if k.startswith("decoder_") and v is not None}
    name = args.decoder
    if name is None:
        takers = [n for n in DECODERS if set(given) <= set(decoder_settings(n))]
        name = takers[0] if given and takers else "greedy"  # else build_decoder names the odd setting
    return name, given


# --- finding the inputs ------------------------------------------------------
class Reason(NamedTuple):
    """Why an entry is not transcribed, said of one entry and of several (for the summary's counts)."""

    one: str
    many: str


SYMLINK_LOOP = Reason("symlink loop", "symlink loops")
BROKEN_SYMLINK = Reason("broken symlink", "broken symlinks")
MISSING = Reason("missing file", "missing files")
INACCESSIBLE = Reason("cannot be examined (permission denied?)", "cannot be examined (permission denied?)")
FIFO = Reason("not a regular file (FIFO)", "not regular files (FIFO)")
SOCKET = Reason("not a regular file (socket)", "not regular files (socket)")
DEVICE = Reason("not a regular file (device)", "not regular files (device)")
FOLDER = Reason("folder, not a file", "folders, not files")
UNLISTABLE = Reason("folder that cannot be listed", "folders that cannot be listed")
UNREADABLE = Reason("could not be read", "could not be read")


def named_like_input(noun: str) -> Reason:
    """A folder found in a folder walk with a name like ``x.png``; ``noun`` is "image" or "audio file"."""
    return Reason(f"directory named like an {noun}", f"directories named like {noun}s")


@dataclass
class InputScan:
    """What the INPUT arguments name."""

    files: list[tuple[str, str]] = field(default_factory=list)
    """(path, id) of each file to transcribe, in order."""
    skipped: list[tuple[str, Reason]] = field(default_factory=list)
    """(name, why) of each entry named like an input that is no regular file."""
    problems: list[str] = field(default_factory=list)
    """``"INPUT: reason"`` for each argument that names nothing to transcribe."""


def scan_inputs(inputs: Sequence[str], suffixes: Sequence[str], noun: str = "input file") -> InputScan:
    """Files, folders and list files -> the files to transcribe with their ids, and what was left out.

    Nothing is opened but folders and list files: a FIFO would block the run.
    ``noun`` names the model's inputs ("image", "audio file") in skip reasons.
    """
    scan = InputScan()
    for given in inputs:
        path = Path(given)
        reason = _not_a_file(path)
        if reason is FOLDER:
            _walk(path, suffixes, noun, scan)
        elif reason is MISSING:
            scan.problems.append(f"{given}: no such file or folder")
        elif reason is not None:
            scan.skipped.append((given, reason))
        elif path.suffix.lower() in LIST_SUFFIXES and path.suffix.lower() not in suffixes:
            _read_list(path, scan)
        else:
            scan.files.append((str(path), path.as_posix()))
    return scan


def find_inputs(inputs: Sequence[str], suffixes: Sequence[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(path, id) of every input file, and ``"NAME: reason"`` for what names nothing or is skipped."""
    scan = scan_inputs(inputs, suffixes)
    return scan.files, scan.problems + [f"{name}: {reason.one}" for name, reason in scan.skipped]


def _not_a_file(path: Path) -> Reason | None:
    """None when ``path`` is, or links to, a regular file; else why it is none. Never opens ``path``."""
    try:
        mode = path.stat().st_mode
    except OSError as e:
        if e.errno == errno.ELOOP:
            return SYMLINK_LOOP
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            return BROKEN_SYMLINK if path.is_symlink() else MISSING
        return INACCESSIBLE
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return FOLDER
    if stat.S_ISFIFO(mode):
        return FIFO
    if stat.S_ISSOCK(mode):
        return SOCKET
    return DEVICE


def _walk(folder: Path, suffixes: Sequence[str], noun: str, scan: InputScan) -> None:
    """Add the files under ``folder`` with one of ``suffixes``, sorted, with ids relative to ``folder``.

    Links to folders are not followed (as with ``Path.rglob``), so a link cycle
    cannot trap the walk; entries so named that are no regular file are skipped.
    """
    files: list[Path] = []
    skipped_before = len(scan.skipped)

    def unlistable(e: OSError) -> None:
        scan.skipped.append((str(e.filename), UNLISTABLE))

    for root, dirs, names in os.walk(folder, onerror=unlistable):
        for name in (*dirs, *names):
            if os.path.splitext(name)[1].lower() not in suffixes:
                continue
            path = Path(root, name)
            reason = _not_a_file(path)
            if reason is None:
                files.append(path)
            else:
                scan.skipped.append((str(path), named_like_input(noun) if reason is FOLDER else reason))
    files.sort()
    names_found = set(files)
    # TIMIT copies hold X.WAV (SPHERE) and its RIFF conversion X.WAV.wav: take X.WAV once
    files = [f for f in files if f.with_suffix("") not in names_found]
    if not files and len(scan.skipped) == skipped_before:
        scan.problems.append(f"{folder}: no {'/'.join(suffixes)} files in this folder")
    scan.files += [(str(f), f.relative_to(folder).as_posix()) for f in files]


def _read_list(path: Path, scan: InputScan) -> None:
    """Add the files a list file names, one a line (``#`` comments); each one's id is its name as written."""
    try:
        rows = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        scan.problems.append(f"{path}: cannot read the list ({e})")
        return
    for number, row in enumerate(rows, 1):
        name = row.strip()
        if not name or name.startswith("#"):
            continue
        entry = Path(name)
        if not entry.is_absolute() and not os.path.lexists(entry) and os.path.lexists(path.parent / entry):
            entry = path.parent / entry
        reason = _not_a_file(entry)
        if reason is None:
            scan.files.append((str(entry), Path(name).as_posix()))
        else:
            scan.skipped.append((f"{entry} ({path}:{number})", reason))


def check_unique_ids(files: Sequence[tuple[str, str]], fmt: str) -> None:
    """Stop before any work when two inputs would be written with the same id.

    Raises:
        ConfigError: naming both inputs and the id.
    """
    first: dict[str, str] = {}
    for path, uid in files:
        written = output_id(uid, fmt)
        if written not in first:
            first[written] = path
        elif first[written] == path:
            raise ConfigError(f"{path} is given twice (both would be written with the id {written!r}); give it once")
        else:
            raise ConfigError(
                f"{first[written]} and {path} would both be written with the id {written!r} (an id is the path "
                "relative to the folder given, else the path as given); rename one, give a folder that holds "
                "both, or transcribe them in separate runs"
            )


# --- writing the results -----------------------------------------------------
_ROW_BREAKING = {"Cc", "Zl", "Zp", "Cs"}  # control characters, line and paragraph breaks, undecodable bytes


def output_id(uid: str, fmt: str) -> str:
    """``uid`` as a row of ``fmt`` writes it: in txt and ctm, characters that would break the row become %XX."""
    if fmt == "jsonl":
        return uid  # JSON escapes what it must
    return "".join(
        "".join(f"%{b:02X}" for b in os.fsencode(c))  # os.fsencode: an undecodable byte comes back as itself
        if unicodedata.category(c) in _ROW_BREAKING or (fmt == "ctm" and c.isspace()) else c
        for c in uid
    )


def format_result(t, uid: str, fmt: str) -> str:
    """One transcription in the output format (with its trailing newline)."""
    if fmt == "txt":
        return f"{output_id(uid, fmt)}\t{t.text}\n"
    if fmt == "ctm":
        utt = output_id(uid, fmt)
        return "".join(f"{utt} 1 {w.start:.3f} {w.end - w.start:.3f} {w.text} {w.score:.4f}\n" for w in t.words)
    row = {"id": uid, **t.to_dict()}
    line = json.dumps(row, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # a file name with bytes that are not UTF-8: \\u escapes keep the JSON valid
        line = json.dumps(row)
    return line + "\n"


class AtomicOutput:
    """Stdout, or a file written through :class:`seqlab.atomic.AtomicFile` and put in place by :meth:`commit`.

    Leaving the ``with`` block without a commit (an error, Ctrl-C) removes the
    temporary file: a failed run leaves the old file or none, never part of one.
    An existing target that is no regular file (``/dev/null``, a FIFO) is written
    directly, since renaming over it would replace it.
    """

    def __init__(self, path: Path | None) -> None:
        self.atomic = None
        self.stream: TextIO = sys.stdout
        if path is None:
            return
        if path.exists() and not path.is_file():
            self.stream = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed by commit or __exit__)
        else:
            from seqlab.atomic import AtomicFile, remove_stale_temporaries

            remove_stale_temporaries(path.parent, glob_escape(path.name))  # what a killed run left
            self.atomic = AtomicFile(path, "w")
            self.stream = self.atomic.file

    def write(self, text: str) -> None:
        self.stream.write(text)

    def commit(self) -> None:
        """Flush everything written and, for a file, put it in place."""
        if self.atomic is not None:
            self.atomic.commit()
        elif self.stream is not sys.stdout:
            self.stream.close()
        else:
            self.stream.flush()

    def __enter__(self) -> AtomicOutput:
        return self

    def __exit__(self, *exc) -> None:
        if self.atomic is not None:
            self.atomic.__exit__(*exc)
        elif self.stream is not sys.stdout and not self.stream.closed:
            with contextlib.suppress(OSError):
                self.stream.close()


def open_output(path: str | None, fmt: str) -> AtomicOutput:
    """The output that ``--output`` names (stdout when None), checked and opened before any work.

    Raises:
        ConfigError: when it is a folder, its folder is missing, or it cannot be written.
    """
    if not path:
        return AtomicOutput(None)
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"--output {path} is a folder; name a file, e.g. --output {target / f'transcripts.{fmt}'}")
    folder = target.parent
    if not folder.exists():
        raise ConfigError(f"--output {path}: the folder {folder} does not exist; create it (mkdir -p {folder}) "
                          "or write elsewhere")
    if not folder.is_dir():
        raise ConfigError(f"--output {path}: {folder} is not a folder; choose another output file")
    try:
        return AtomicOutput(target)
    except OSError as e:
        raise ConfigError(f"--output {path}: cannot write there ({e.strerror}); choose a file in a folder "
                          "you can write to") from None


def _progress_bar(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="file", file=sys.stderr, disable=None if enabled else True, dynamic_ncols=True)


# --- the command -------------------------------------------------------------
def main(argv: Sequence[str] | None = None, prog: str = "seqlab transcribe") -> int:
    args = build_parser(prog).parse_args(argv)
    args.prog = prog
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s", stream=sys.stderr)
    try:
        with open_output(args.output, args.format) as out:
            return _transcribe(args, out)
    except SeqlabError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader of stdout went away (| head): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def found_inputs(args, suffixes, noun: str, none_found: str):
    """The inputs' files (:func:`scan_inputs`), their problems and skips said on stderr.

    Raises:
        ConfigError: ``none_found`` when no file is left, or two inputs have one id.
    """
    scan = scan_inputs(args.inputs, suffixes, noun)
    check_unique_ids(scan.files, args.format)
    for msg in scan.problems:
        print(f"{args.prog}: {msg}", file=sys.stderr)
    for name, reason in scan.skipped:
        print(f"{args.prog}: skipped {name}: {reason.one}", file=sys.stderr)
    if not scan.files:
        raise ConfigError(none_found)
    return scan


def _transcribe(args, out: AtomicOutput) -> int:
    """Load the model, find the inputs and transcribe them into ``out``; returns the exit status.

    Raises:
        SeqlabError: for a bad checkpoint, option or lexicon, no inputs, or two inputs with one id.
    """
    from seqlab.recognizer import Recognizer

    prog = args.prog
    if args.stream:
        from seqlab.cli.stream import stream

        return stream(args, out)
    decoder, settings = decoder_choice(args)
    device = args.device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    rec = Recognizer.from_checkpoint(
        args.checkpoint, device=device, decoder=decoder, decoder_settings=settings, batch_size=args.batch_size,
        align=args.format != "txt" or bool(args.pages_out),  # plain text needs no token positions
        quantize=args.quantize, workers=args.workers,
    )
    if rec.frontend.name == "speech":  # (not imported for images: seqlab.long_audio reads audio)
        rec.long_audio = long_audio(args)
    if args.pages_out:
        return _transcribe_pages(rec, args, out)
    xml = [i for i in args.inputs if i.lower().endswith(".xml")]
    if xml:
        raise ConfigError(f"{xml[0]} is a page (PAGE-XML or ALTO): give --pages-out DIR, where the pages "
                          "with their lines filled in are written")
    if args.format == "ctm" and rec.frontend.unit != "seconds":
        raise ConfigError(f"--format ctm is for speech models (times in seconds); {args.checkpoint} reads "
                          f"{rec.frontend.noun}s (use --format jsonl for the words' ranges in {rec.frontend.unit}, or txt)")
    scan = found_inputs(args, rec.suffixes, rec.frontend.noun, "no input files found")
    failed = run(rec, scan.files, args, out)
    rec.frontend.report_inputs()  # how many were resampled or mixed down, said once
    if failed or scan.skipped or scan.problems:
        print(f"{prog}: {summary(scan, len(failed))}", file=sys.stderr)
        return 1
    return 0


def long_audio(args):
    """The :class:`~seqlab.long_audio.LongAudio` settings of the command line."""
    from seqlab.long_audio import LongAudio

    return LongAudio(segment=args.segment, max_piece=args.max_piece, window=args.window, overlap=args.overlap,
                     aggressiveness=args.vad_aggressiveness)


def _transcribe_pages(rec, args, out: AtomicOutput) -> int:
    """Fill in every line of each PAGE-XML or ALTO input; the lines also go to ``out`` (ID ``PAGE/LINE``)."""
    from seqlab.pages import DOCUMENT_SUFFIXES, transcribe_document

    prog = args.prog
    pages_out = Path(args.pages_out)
    if pages_out.exists() and not pages_out.is_dir():
        raise ConfigError(f"--pages-out {pages_out}: is a file; give a folder (it is created if missing)")
    scan = found_inputs(args, DOCUMENT_SUFFIXES, "page", "no PAGE-XML or ALTO files found")
    targets = page_outputs(scan.files, pages_out)
    failed: list[str] = []
    lines = 0
    bar = _progress_bar(len(scan.files), not args.no_progress)
    try:
        for path, uid in scan.files:
            try:
                result = transcribe_document(rec, path, targets[path, uid], dpi=args.dpi)
            except (UnreadableFileError, DataFormatError) as e:
                failed.append(str(e))
                bar.write(f"{prog}: skipped {e}", file=sys.stderr)
                continue
            finally:
                bar.update(1)
            for problem in result.problems:
                bar.write(f"{prog}: {problem}", file=sys.stderr)
            for line_id, t in result.transcriptions:
                out.write(format_result(t, f"{uid}/{line_id}", args.format))
            lines += result.filled
        out.commit()
    finally:
        bar.close()
    print(f"{prog}: {len(scan.files) - len(failed)} page(s), {lines} line(s) filled in, written to {pages_out}",
          file=sys.stderr)
    if failed or scan.skipped or scan.problems:
        print(f"{prog}: {summary(scan, len(failed))}", file=sys.stderr)
        return 1
    return 0


def page_outputs(files: Sequence[tuple[str, str]], folder: Path) -> dict[tuple[str, str], Path]:
    """Where each filled page goes: its path relative to the folder given (a page given
    as a file: its name), under ``folder``.

    Raises:
        ConfigError: when two pages would be written to one file (before any work).
    """
    out: dict[tuple[str, str], Path] = {}
    taken: dict[Path, str] = {}
    for path, uid in files:
        rel = Path(uid)
        if rel.is_absolute() or ".." in rel.parts:
            rel = Path(Path(path).name)
        target = folder / rel
        if target in taken and taken[target] != path:
            raise ConfigError(f"{taken[target]} and {path} would both be written to {target}; "
                              "give the folder that holds them instead, or transcribe them in two runs")
        taken[target] = path
        out[path, uid] = target
    return out


def summary(scan: InputScan, failed: int) -> str:
    """The last line on stderr: "5 of 9 inputs transcribed; skipped 4 inputs: 1 symlink loop, ..."."""
    counts = Counter(reason for _, reason in scan.skipped)
    if failed:
        counts[UNREADABLE] += failed
    total = len(scan.files) + len(scan.skipped)
    skipped = sum(counts.values())
    parts = [f"{total - skipped} of {total} input{'s' if total != 1 else ''} transcribed"]
    if skipped:
        reasons = ", ".join(f"{n} {reason.one if n == 1 else reason.many}" for reason, n in counts.items())
        parts.append(f"skipped {skipped} input{'s' if skipped != 1 else ''}: {reasons}")
    if scan.problems:
        parts.append(f"{len(scan.problems)} INPUT argument{'s' if len(scan.problems) != 1 else ''} named nothing")
    return "; ".join(parts)


def run(rec, files: list[tuple[str, str]], args, out: AtomicOutput) -> list[str]:
    """Transcribe ``files`` into ``out`` and commit it; returns the messages of the files that failed."""
    failed: list[str] = []
    bar = _progress_bar(len(files), not args.no_progress)

    def on_error(path: str, e: UnreadableFileError) -> None:
        failed.append(str(e))
        bar.write(f"{args.prog}: skipped {e}", file=sys.stderr)

    try:
        results = rec.iter_transcribe([p for p, _ in files], on_error=on_error, progress=bar.update)
        # results come in input order without the failed files; matching them by position, not by
        # path, keeps apart one file given twice (a folder and a file in it) under two ids
        t = next(results, None)
        for path, uid in files:
            if t is not None and t.source == path:
                out.write(format_result(t, uid, args.format))
                t = next(results, None)
        out.commit()
    finally:
        bar.close()
    return failed
