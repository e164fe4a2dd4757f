"""``seqlab transcribe``: transcribe images or audio files with a trained checkpoint."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from seqlab.errors import SeqlabError, UnreadableFileError

log = logging.getLogger("seqlab.transcribe")

FORMATS = ("jsonl", "txt", "ctm")
LIST_SUFFIXES = (".lst", ".list", ".txt", ".scp")

EPILOG = """\
INPUT is an image or audio file, a folder (searched recursively for the
model's inputs: .png .jpg .jpeg .tif .tiff for handwriting models, .wav .sph
.flac in any letter case for speech models), or a list file (.lst .list .txt
.scp) naming one file per line (relative paths: from the current folder, else
from the list's folder).

Output formats:
  jsonl  one JSON object per input: id, source, text, confidence, unit
         ("seconds" or "pixels"), extent (duration or original width), frames,
         aligned, words and tokens (text, start, end, start_frame, end_frame,
         score). For images, start/end are x-pixel ranges of the original image.
  txt    ID<TAB>TEXT per input.
  ctm    NIST CTM, one line per word: ID 1 START DURATION WORD CONFIDENCE
         (speech models only).
ID is the path without its suffix: relative to the folder for folder inputs.

confidence = P(text | input) ** (1 / number of output symbols), from the CTC
forward score; a word's score is the mean posterior of its symbols over the
frames they are aligned to.

Unreadable files are reported on stderr (name and reason) and skipped; the
others are still transcribed, and the exit status is then 1 (2 for a bad
checkpoint, option or lexicon). The output file is written in full or not at
all. In a folder, a RIFF copy X.WAV.wav next to X.WAV (some TIMIT copies) is
left out.

Examples:
  seqlab transcribe runs/iam/checkpoints/best.ckpt line.png
  seqlab transcribe best.ckpt scans/ --format txt --output lines.txt
  seqlab transcribe best.ckpt lines.lst --decoder beam --beam-size 20 \\
      --lexicon words.txt --lm words.arpa --lm-weight 1.0 --word-score 0.5
  seqlab transcribe timit.ckpt /data/TIMIT/TEST/DR1 --format ctm --output dr1.ctm
  seqlab transcribe best.ckpt audio/ --device cuda --batch-size 32

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
    p.add_argument("--decoder", choices=("greedy", "beam"), default="greedy",
                   help="greedy: best path, as training evaluates (default); beam: beam search")
    p.add_argument("--beam-size", type=int, default=50, metavar="N", help="beam search width (default: 50)")
    p.add_argument("--lexicon", metavar="FILE", help="restrict the output to these words (implies --decoder beam)")
    p.add_argument("--lm", metavar="FILE", help="KenLM n-gram model, ARPA or binary (implies --decoder beam)")
    p.add_argument("--lm-weight", type=float, default=2.0, help="weight of the LM score (default: 2.0)")
    p.add_argument("--word-score", type=float, default=0.0,
                   help="score added per word, with --lexicon (default: 0)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default: cpu)")
    p.add_argument("--batch-size", type=int, default=16, metavar="N", help="inputs per forward pass (default: 16)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return p


def find_inputs(inputs: Sequence[str], suffixes: Sequence[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(path, id) of every input file, and ``"INPUT: reason"`` for inputs that name nothing readable."""
    found: list[tuple[str, str]] = []
    problems: list[str] = []
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            files = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in suffixes)
            names = set(files)
            # TIMIT copies hold X.WAV (SPHERE) and its RIFF conversion X.WAV.wav: take X.WAV once
            files = [f for f in files if f.with_suffix("") not in names]
            if not files:
                problems.append(f"{given}: no {'/'.join(suffixes)} files in this folder")
            found += [(str(f), _id(f.relative_to(path))) for f in files]
        elif path.is_file() and path.suffix.lower() in LIST_SUFFIXES and path.suffix.lower() not in suffixes:
            found += _read_list(path, problems)
        elif path.is_file():
            found.append((str(path), _id(path)))
        else:
            problems.append(f"{given}: no such file or folder")
    return found, problems


def _id(path: Path) -> str:
    return "_".join(str(path.with_suffix("")).split())


def _read_list(path: Path, problems: list[str]) -> list[tuple[str, str]]:
    try:
        rows = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        problems.append(f"{path}: cannot read the list ({e})")
        return []
    out = []
    for row in rows:
        name = row.strip()
        if not name or name.startswith("#"):
            continue
        p = Path(name)
        if not p.is_absolute() and not p.exists() and (path.parent / p).exists():
            p = path.parent / p
        out.append((str(p), _id(Path(name))))
    return out


def format_result(t, uid: str, fmt: str) -> str:
    """One transcription in the output format (with its trailing newline)."""
    if fmt == "txt":
        return f"{uid}\t{t.text}\n"
    if fmt == "ctm":
        utt = "_".join(uid.split())
        return "".join(f"{utt} 1 {w.start:.3f} {w.end - w.start:.3f} {w.text} {w.score:.4f}\n" for w in t.words)
    return json.dumps({"id": uid, **t.to_dict()}, ensure_ascii=False) + "\n"


class AtomicOutput:
    """Stdout, or a file written through a temporary name and renamed into place when complete."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self.tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}") if self.path else None
        self.stream: TextIO = open(self.tmp, "w", encoding="utf-8") if self.tmp else sys.stdout

    def write(self, text: str) -> None:
        self.stream.write(text)

    def commit(self) -> None:
        if self.tmp is None:
            self.stream.flush()
            return
        self.stream.flush()
        os.fsync(self.stream.fileno())
        self.stream.close()
        os.replace(self.tmp, self.path)

    def abandon(self) -> None:
        if self.tmp is not None:
            self.stream.close()
            self.tmp.unlink(missing_ok=True)


def _progress_bar(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="file", file=sys.stderr, disable=None if enabled else True, dynamic_ncols=True)


def main(argv: Sequence[str] | None = None, prog: str = "seqlab transcribe") -> int:
    args = build_parser(prog).parse_args(argv)
    args.prog = prog
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s", stream=sys.stderr)
    if args.lexicon or args.lm:
        args.decoder = "beam"
    from seqlab.recognizer import Recognizer

    device = args.device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        rec = Recognizer.from_checkpoint(
            args.checkpoint, device=device, decoder=args.decoder, beam_size=args.beam_size, lexicon=args.lexicon,
            lm=args.lm, lm_weight=args.lm_weight, word_score=args.word_score, batch_size=args.batch_size,
        )
    except SeqlabError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    if args.format == "ctm" and rec.kind != "speech":
        print(f"{prog}: error: --format ctm is for speech models; {args.checkpoint} reads line images "
              "(use --format jsonl for x-pixel ranges of the words, or txt)", file=sys.stderr)
        return 2
    files, problems = find_inputs(args.inputs, rec.suffixes)
    for msg in problems:
        print(f"{prog}: {msg}", file=sys.stderr)
    if not files:
        print(f"{prog}: error: no input files found", file=sys.stderr)
        return 2
    try:
        failed = run(rec, files, args, problems)
    except BrokenPipeError:
        # the reader of stdout went away (| head): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    total = len(files)
    if failed or problems:
        print(f"{prog}: {total - len(failed)} of {total} file(s) transcribed; {len(failed)} could not "
              f"be read{f', {len(problems)} input(s) named nothing' if problems else ''}", file=sys.stderr)
        return 1
    return 0


def run(rec, files: list[tuple[str, str]], args, problems: list[str]) -> list[str]:
    """Transcribe ``files`` into the output; returns the messages of the files that failed."""
    ids = dict(files)
    failed: list[str] = []
    out = AtomicOutput(args.output)
    bar = _progress_bar(len(files), not args.no_progress)

    def on_error(path: str, e: UnreadableFileError) -> None:
        failed.append(str(e))
        bar.write(f"{args.prog}: skipped {e}", file=sys.stderr)

    try:
        chunk = 16 * rec.batch_size
        for start in range(0, len(files), chunk):
            paths = [p for p, _ in files[start : start + chunk]]
            for t in rec.transcribe(paths, on_error=on_error, progress=bar.update):
                out.write(format_result(t, ids[t.source], args.format))
        out.commit()
    except BaseException:
        out.abandon()
        raise
    finally:
        bar.close()
    return failed
