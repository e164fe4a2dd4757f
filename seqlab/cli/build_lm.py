"""``seqlab build-lm``: estimate a word n-gram LM (ARPA) and a lexicon from text."""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.text.files import BOM
from seqlab.text.files import read_text as read_utf8

EPILOG = """\
The text is one sentence (or text line) per line, words separated by spaces,
exactly as the model writes them: for IAM that is lines.txt's tokenisation
(`It 's late .`), which --iam reads for you. Never put test transcriptions in
the LM text.

Examples:
  # LM and lexicon from the training lines of an IAM-layout folder
  seqlab build-lm --iam /data/IAM --order 3 --output iam3.arpa --lexicon iam-words.txt
  # from text files, with a perplexity check on held-out text
  seqlab build-lm lob.txt brown.txt --output lm.arpa --eval dev.txt
  # a phone bigram from TIMIT's training .PHN files (61 labels; SA sentences left out)
  seqlab build-lm --timit /data/TIMIT --order 2 --output timit-phones2.arpa
  # then
  seqlab transcribe best.ckpt lines/ --lexicon iam-words.txt --lm iam3.arpa
  seqlab evaluate checkpoint=best.ckpt decoder.name=beam decoder.lexicon=iam-words.txt decoder.lm=iam3.arpa
  seqlab evaluate checkpoint=timit.ckpt data=timit data.root=/data/TIMIT decoder.name=beam \
      decoder.lm=timit-phones2.arpa decoder.lm_weight=0.5

A phone (or character) LM is used without a lexicon: its words are the model's
own symbols.

The model is interpolated modified Kneser-Ney (lmplz's estimate; see
seqlab/decode/ngram.py), written as a back-off ARPA file that KenLM loads.
It counts in memory, in Python (1.2 million words take about 20 s on one core):
fine for a few million words (IAM's LOB text,
TIMIT, LibriSpeech's transcripts); for LibriSpeech's 800-million-word LM
corpus use KenLM's lmplz, whose ARPA files the decoder reads the same way.
"""


def build_parser(prog: str = "seqlab build-lm") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Estimate a word n-gram language model (ARPA) and a lexicon for beam search.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("text", metavar="TEXT", nargs="*", help="UTF-8 text files, one sentence per line (- = stdin)")
    p.add_argument("--iam", metavar="ROOT", help="add the transcriptions of an IAM-layout folder's training lines")
    p.add_argument("--iam-list", metavar="FILE", default="trainset.txt",
                   help="which lines --iam reads, relative to ROOT (default: trainset.txt)")
    p.add_argument("--timit", metavar="ROOT",
                   help="add the phone sequences of a TIMIT-layout folder's TRAIN .PHN files (SA excluded)")
    p.add_argument("--order", type=int, default=3, help="n-gram order (default: 3)")
    p.add_argument("--output", "-o", metavar="FILE", required=True, help="the ARPA file to write")
    p.add_argument("--lexicon", metavar="FILE", help="also write the vocabulary, one word per line")
    p.add_argument("--vocabulary", metavar="FILE",
                   help="extra words (one per line) for the LM and lexicon, even if the text never uses them")
    p.add_argument("--eval", metavar="FILE", help="held-out text: print its perplexity and out-of-vocabulary rate")
    return p


def read_text(path: str) -> list[str]:
    """Lines of a UTF-8 text file (``-``: standard input)."""
    if path == "-":
        return sys.stdin.read().removeprefix(BOM).splitlines()
    try:
        return read_utf8(path).splitlines()
    except FileNotFoundError:
        raise SeqlabError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise SeqlabError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def iam_training_text(root: str, list_file: str) -> list[str]:
    """Transcriptions (``|`` -> space) of the lines that ``ROOT/list_file`` names."""
    from seqlab.data.readers.iam import read_id_list, read_lines_txt

    lines, _ = read_lines_txt(Path(root) / "ascii" / "lines.txt")
    ids = read_id_list(Path(list_file) if Path(list_file).is_absolute() else Path(root) / list_file)
    missing = [i for i in ids if i not in lines]
    if missing:
        print(f"warning: {len(missing)} ids of {list_file} are not in lines.txt (first: {missing[0]}); "
              "left out", file=sys.stderr)
    return [lines[i].text for i in ids if i in lines]


def timit_training_phones(root: str) -> list[str]:
    """The 61-label phone string of every TRAIN utterance but SA1/SA2 (what the TIMIT data module trains on)."""
    from seqlab.data.readers.timit import read_phn, scan_timit

    found = [u for u in scan_timit(root) if u.split == "train" and not u.name.startswith("SA") and u.phn]
    if not found:
        raise SeqlabError(f"{root}: no TRAIN .PHN files (expected ROOT/TRAIN/DRn/SPEAKER/*.PHN)")
    return [" ".join(p.label for p in read_phn(u.phn)) for u in found]


def perplexity(model, lines: Sequence[str]) -> tuple[float, float, int]:
    """(perplexity over in-vocabulary words and </s>, OOV rate, words) of held-out text."""
    from seqlab.decode.ngram import EOS

    known = set(model.vocabulary)
    log_sum, n, oov, words = 0.0, 0, 0, 0
    for line in lines:
        context = ["<s>"]
        for w in [*line.split(), EOS]:
            words += w != EOS
            if w not in known:
                oov += 1
                context = ["<s>"]  # KenLM/SRILM convention: an OOV is not scored and resets the context
                continue
            log_sum += math.log(model.prob(context, w))
            n += 1
            context.append(w)
    return (math.exp(-log_sum / n) if n else math.inf), (oov / words if words else 0.0), words


def main(argv: Sequence[str] | None = None, prog: str = "seqlab build-lm") -> int:
    args = build_parser(prog).parse_args(argv)
    from seqlab.atomic import write_text_atomic
    from seqlab.decode.ngram import BOS, EOS, UNK, estimate_kneser_ney

    try:
        if not args.text and not args.iam and not args.timit:
            raise SeqlabError("no text: give TEXT files, --iam ROOT or --timit ROOT")
        lines: list[str] = []
        for path in args.text:
            lines += read_text(path)
        if args.iam:
            lines += iam_training_text(args.iam, args.iam_list)
        if args.timit:
            lines += timit_training_phones(args.timit)
        extra = read_text(args.vocabulary) if args.vocabulary else []
        extra = [w.strip() for w in extra if w.strip() and not w.lstrip().startswith("#")]
        model = estimate_kneser_ney(lines, order=args.order, vocabulary=extra)
        model.write_arpa(args.output)
        tokens = Counter(w for line in lines for w in line.split())
        print(f"{args.output}: order {args.order}, {sum(1 for l in lines if l.split())} sentences, "
              f"{sum(tokens.values())} words, {len(tokens)} distinct; "
              + ", ".join(f"{n}-grams {len(t)}" for n, t in enumerate(model.probs, start=1)))
        if args.lexicon:
            words = [w for w in model.vocabulary if w not in (BOS, EOS, UNK)]
            write_text_atomic(args.lexicon, "".join(f"{w}\n" for w in words))
            print(f"{args.lexicon}: {len(words)} words")
        if args.eval:
            ppl, oov, n = perplexity(model, read_text(args.eval))
            print(f"{args.eval}: {n} words, OOV rate {100 * oov:.2f} %, perplexity {ppl:.1f}")
    except SeqlabError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    return 0
