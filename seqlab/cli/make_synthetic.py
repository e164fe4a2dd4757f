"""``seqlab make-synthetic``: generate synthetic corpora in the on-disk layout of the real ones.

Examples::

    seqlab make-synthetic handwriting --out data/synth_iam
    seqlab make-synthetic handwriting --out /tmp/tiny --num-train 100 \\
        --num-val 20 --num-test 20 --workers 2
    seqlab make-synthetic speech --out data/synth_timit --workers 2
    seqlab make-synthetic pages --format page --out data/synth_page

Each corpus kind is a subcommand; ``seqlab make-synthetic KIND --help``
lists its options.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from seqlab.errors import SeqlabError


def _add_handwriting(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "handwriting",
        help="text-line images in the IAM layout (lines/, ascii/lines.txt, split lists)",
        description=(
            "Render English text lines with handwriting-like fonts and write them as an "
            "IAM-layout corpus: lines/<sNN>/<sNN-FFF>/<sNN-FFF-LL>.png grey-level images "
            "of fixed height, ascii/lines.txt with IAM-tokenised transcriptions, and "
            "trainset.txt / validationset1.txt / testset.txt. The output is identical "
            "for the same options, whatever --workers is. An existing complete corpus "
            "made with the same options is left as it is."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (must not exist, or be complete)")
    parser.add_argument("--num-train", type=int, default=2000, help="training lines")
    parser.add_argument("--num-val", type=int, default=200, help="validation lines (validationset1.txt)")
    parser.add_argument("--num-test", type=int, default=200, help="test lines")
    parser.add_argument("--height", type=int, default=48, help="image height in pixels")
    parser.add_argument("--seed", type=int, default=0, help="seed of the text and the rendering")
    parser.add_argument("--min-chars", type=int, default=15, help="shortest text line, in characters")
    parser.add_argument("--max-chars", type=int, default=45, help="longest text line, in characters")
    parser.add_argument("--workers", type=int, default=1, help="rendering processes")
    parser.set_defaults(run=_run_handwriting)


def _run_handwriting(args: argparse.Namespace) -> None:
    # Imported here so that --help answers without loading Pillow and numpy.
    from seqlab.data.synthetic_handwriting import DEFAULT_FONTS, generate_handwriting_corpus

    already = (args.out / ".complete").is_file()
    start = time.perf_counter()
    out = generate_handwriting_corpus(
        args.out,
        num_train=args.num_train,
        num_val=args.num_val,
        num_test=args.num_test,
        height=args.height,
        seed=args.seed,
        min_chars=args.min_chars,
        max_chars=args.max_chars,
        workers=args.workers,
    )
    elapsed = time.perf_counter() - start
    total = args.num_train + args.num_val + args.num_test
    if already:
        print(f"{out} is already a complete corpus with these options; nothing to do")
        return
    print(
        f"wrote {total} lines ({args.num_train} train, {args.num_val} val, {args.num_test} test) "
        f"of height {args.height} px to {out}"
    )
    print(f"  images:      {out / 'lines'}/sNN/sNN-FFF/sNN-FFF-LL.png")
    print(f"  transcripts: {out / 'ascii' / 'lines.txt'}")
    print(f"  splits:      {out / 'trainset.txt'}, {out / 'validationset1.txt'}, {out / 'testset.txt'}")
    print(f"  fonts:       {len(DEFAULT_FONTS)} handwriting-style fonts shipped with seqlab")
    print(f"took {elapsed:.1f} s ({total / elapsed:.0f} lines/s with {args.workers} worker(s))")


def _add_pages(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pages",
        help="page images with PAGE-XML or ALTO, or line folders (line.png + line.gt.txt)",
        description=(
            "Render pages of handwriting-like lines (the synthetic IAM styles) and write them "
            "as users' ground truth is written: --format page gives NAME.png and page/NAME.xml "
            "(PAGE 2013, Transkribus' layout), alto gives NAME.png and NAME.xml (ALTO v4), lines "
            "gives NAME/LL.png with NAME/LL.gt.txt. No split lists: train with the reader's "
            "seeded split by page (seqlab train data=page data.root=OUT). The output is "
            "identical for the same options."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (must not exist, or be complete)")
    parser.add_argument("--format", choices=("page", "alto", "lines"), default="page", help="what to write")
    parser.add_argument("--num-pages", type=int, default=30, help="pages")
    parser.add_argument("--lines-per-page", type=int, default=8, help="text lines on each page")
    parser.add_argument("--height", type=int, default=48, help="line height in pixels")
    parser.add_argument("--seed", type=int, default=0, help="seed of the text and the rendering")
    parser.add_argument("--min-chars", type=int, default=15, help="shortest text line, in characters")
    parser.add_argument("--max-chars", type=int, default=45, help="longest text line, in characters")
    parser.add_argument("--fonts", nargs="+", default=None, metavar="FONT",
                        help="render with these fonts only (another style): names of packaged fonts "
                             "(seqlab/data/fonts/, e.g. Kristi.ttf) or font file paths; default: all packaged fonts")
    parser.add_argument("--diacritics", type=float, default=0.0,
                        help="chance of an accent (ä é ö ü, capitals too) on each vowel: symbols the synthetic IAM "
                             "corpus lacks, for fine-tuning")
    parser.set_defaults(run=_run_pages)


def _run_pages(args: argparse.Namespace) -> None:
    from seqlab.data.synthetic_pages import generate_page_corpus

    already = (args.out / ".complete").is_file()
    start = time.perf_counter()
    out = generate_page_corpus(args.out, args.format, num_pages=args.num_pages, lines_per_page=args.lines_per_page,
                               height=args.height, seed=args.seed, min_chars=args.min_chars,
                               max_chars=args.max_chars, fonts=args.fonts,
                               diacritics=args.diacritics)
    if already:
        print(f"{out} is already a complete corpus with these options; nothing to do")
        return
    total = args.num_pages * args.lines_per_page
    layout = {"page": "NAME.png + page/NAME.xml (PAGE 2013)", "alto": "NAME.png + NAME.xml (ALTO v4)",
              "lines": "NAME/LL.png + NAME/LL.gt.txt"}[args.format]
    print(f"wrote {args.num_pages} pages ({total} lines) to {out}: {layout}")
    print(f"  train on it: seqlab train data={args.format} data.root={out}")
    print(f"took {time.perf_counter() - start:.1f} s")


def _add_speech(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "speech",
        help="eSpeak NG speech in the TIMIT layout (TRAIN/ and TEST/, .WAV .PHN .WRD .TXT)",
        description=(
            "Speak English sentences with eSpeak NG voices (accents x voice variants x pitch "
            "x rate) and write them as a TIMIT-layout corpus: <TRAIN|TEST>/DR<n>/<SPEAKER>/ "
            "with NIST SPHERE .WAV (16 kHz, 16-bit), .PHN in TIMIT's 61 phones with eSpeak's "
            "own phoneme timing, .WRD and .TXT; speakers.txt lists each speaker's use and "
            "voice. Validation and test speakers (in TEST/) have voices no training speaker "
            "has. Needs espeak-ng (apt-get install espeak-ng). The output is identical for "
            "the same options, whatever --workers is."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (must not exist, or be complete)")
    parser.add_argument("--num-train-speakers", type=int, default=100, help="training speakers (TRAIN/)")
    parser.add_argument("--num-dev-speakers", type=int, default=20, help="validation speakers (in TEST/)")
    parser.add_argument("--num-test-speakers", type=int, default=24, help="test speakers (in TEST/)")
    parser.add_argument("--utterances-per-speaker", type=int, default=8,
                        help="sentences per speaker besides SA1 and SA2")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sentences and voices")
    parser.add_argument("--workers", type=int, default=1, help="synthesis processes")
    parser.set_defaults(run=_run_speech)


def _run_speech(args: argparse.Namespace) -> None:
    import json

    from seqlab.data.synthetic_speech import corpus_speakers, generate_speech_corpus

    already = (args.out / ".complete").is_file()
    start = time.perf_counter()
    out = generate_speech_corpus(
        args.out,
        num_train_speakers=args.num_train_speakers,
        num_dev_speakers=args.num_dev_speakers,
        num_test_speakers=args.num_test_speakers,
        utterances_per_speaker=args.utterances_per_speaker,
        seed=args.seed,
        workers=args.workers,
    )
    elapsed = time.perf_counter() - start
    if already:
        print(f"{out} is already a complete corpus with these options; nothing to do")
        return
    marker = json.loads((out / ".complete").read_text())
    speakers = corpus_speakers(marker["params"])
    info = marker["info"]
    print(f"wrote {info['utterances']} utterances ({info['seconds'] / 60:.1f} min of audio) "
          f"of {info['speakers']} speakers to {out}")
    print("  layout:   TRAIN|TEST/DR<n>/<SPEAKER>/<UTT>.WAV (NIST SPHERE) .PHN .WRD .TXT; speakers.txt")
    print(f"  dev speakers:  {' '.join(speakers['dev'])}")
    print(f"  test speakers: {' '.join(speakers['test'])}")
    print(f"took {elapsed:.1f} s with {args.workers} worker(s); train on it with:")
    print(f"  seqlab train experiment=timit_graves2013 data.root={out} "
          f"'data.dev_speakers=[{','.join(speakers['dev'])}]' 'data.test_speakers=[{','.join(speakers['test'])}]'")


def build_parser(prog: str = "seqlab make-synthetic") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Generate a synthetic corpus in the on-disk format of a real one.",
    )
    subparsers = parser.add_subparsers(dest="kind", required=True, metavar="KIND", title="corpus kinds")
    _add_handwriting(subparsers)
    _add_speech(subparsers)
    _add_pages(subparsers)
    return parser


def main(argv: list[str] | None = None, prog: str = "seqlab make-synthetic") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        args.run(args)
    except SeqlabError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
