#!/usr/bin/env python
"""Transcription throughput on the CPU: seconds of audio per second, or lines per second.

Times the :class:`~seqlab.recognizer.Recognizer` end to end, in two stages:

- ``prepare``: read the files (or take the in-memory inputs) and preprocess
  them (image resizing; filterbank, deltas, normalisation);
- ``recognize``: the network (batched, sorted by length), greedy or beam
  decoding, forced alignment and confidences.

For speech the result is the speed in seconds of audio per second of wall
time ("x real time"; the real-time factor is its inverse); for line images,
lines per second.

    # a trained checkpoint and its inputs (files, folders, list files)
    seqlab bench transcribe --checkpoint best.ckpt /data/TIMIT/TEST/DR1 --threads 1
    # beam search with a lexicon and an n-gram LM (seqlab build-lm)
    seqlab bench transcribe --checkpoint best.ckpt test_lines.lst --lexicon words.txt --lm lm.arpa
    # random-weight networks of the timit_graves2013 size (3 x 250 BLSTM, 123
    # features, 62 classes) and of the default handwriting BLSTM (2 x 128,
    # 24 px high lines, 4 columns per frame): no trained model needed
    seqlab bench transcribe --synthetic --threads 2 --batch-size 16

Results print as a table and go to ``--out`` (JSON). Synthetic speech is
2..6 s of harmonics and noise per utterance; synthetic lines are noise images of
the size of rendered 15..45-character lines (48 px high, resized to 24).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from seqlab.atomic import write_json_atomic
from seqlab.recognizer import Prepared, Recognizer


def synthetic_speech(batch_size: int, decoder: str, quantize: str | None = None) -> Recognizer:
    from seqlab.data.features import FeatureStats, FilterbankFeatures
    from seqlab.data.frontends import SpeechFrontend
    from seqlab.nn import CTCModel, RecurrentEncoder
    from seqlab.text import Alphabet
    from seqlab.text.phones import TIMIT_PHONES_61

    torch.manual_seed(0)
    features = FilterbankFeatures()
    model = CTCModel(RecurrentEncoder(features.feature_size, 250, 3), Alphabet(TIMIT_PHONES_61, unit="token"))
    frontend = SpeechFrontend(features=features, stats=FeatureStats.identity(features.feature_size))
    return Recognizer(model, frontend, batch_size=batch_size, decoder=decoder, quantize=quantize)


def synthetic_handwriting(batch_size: int, decoder: str, quantize: str | None = None) -> Recognizer:
    from seqlab.data.frontends import ImageFrontend
    from seqlab.nn import CTCModel, RecurrentEncoder
    from seqlab.text import Alphabet

    torch.manual_seed(0)
    alphabet = Alphabet(tuple(chr(c) for c in range(32, 127)))  # printable ASCII, as IAM's ~80 symbols
    model = CTCModel(RecurrentEncoder(24, 128, 2, frame_stack=4), alphabet)
    return Recognizer(model, ImageFrontend(height=24), batch_size=batch_size, decoder=decoder, quantize=quantize)


def speech_inputs(rec: Recognizer, count: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    waves = []
    for _ in range(count):
        n = int(rng.uniform(2.0, 6.0) * 16000)
        t = np.arange(n) / 16000
        phase = 2 * np.pi * np.cumsum(110 + 30 * np.sin(2 * np.pi * 2 * t)) / 16000
        x = sum(np.sin(k * phase) / k for k in range(1, 8)) * 0.1 + rng.normal(0, 0.003, n)
        waves.append(torch.from_numpy(x.astype(np.float32)))
    return [lambda w=w, i=i: rec.prepare_audio(w, 16000, f"utt{i}") for i, w in enumerate(waves)]


def line_inputs(rec: Recognizer, count: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        width = int(rng.uniform(15, 45) * 22)  # ~22 px per character at 48 px high
        images.append(Image.fromarray(rng.integers(0, 256, (48, width), dtype=np.uint8)))
    return [lambda im=im, i=i: rec.prepare_image(im, f"line{i}") for i, im in enumerate(images)]


def file_inputs(rec: Recognizer, inputs: list[str]) -> list:
    from seqlab.cli.transcribe import find_inputs
    from seqlab.errors import UnreadableFileError

    files, problems = find_inputs(inputs, rec.suffixes)
    readable = []
    for path, _ in files:
        try:
            rec.load(path)
            readable.append(path)
        except UnreadableFileError as e:
            problems.append(f"left out {e}")
    for p in problems:
        print(f"seqlab bench transcribe: {p}", file=sys.stderr)
    return [lambda p=p: rec.load(p) for p in readable]


def bench(rec: Recognizer, loaders: list, repeats: int) -> dict:
    prepare_s, recognize_s = [], []
    items: list[Prepared] = []
    for _ in range(repeats):
        start = time.perf_counter()
        items = [load() for load in loaders]
        prepare_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        rec.recognize(items)
        recognize_s.append(time.perf_counter() - start)
    prep, recog = statistics.median(prepare_s), statistics.median(recognize_s)
    out = {"items": len(items), "prepare_s": prep, "recognize_s": recog, "total_s": prep + recog,
           "times": {"prepare_s": prepare_s, "recognize_s": recognize_s}}
    if rec.frontend.unit == "seconds":
        audio = sum(i.extent for i in items)
        out.update(audio_seconds=audio, x_real_time=audio / (prep + recog),
                   x_real_time_network_and_decoding=audio / recog)
    else:
        out.update(lines_per_second=len(items) / (prep + recog),
                   lines_per_second_network_and_decoding=len(items) / recog)
    return out


def table(results: dict) -> str:
    rows = [f"{'model':<34} {'items':>6} {'prepare s':>10} {'recognize s':>12} {'throughput':>28}"]
    for name, r in results.items():
        if "x_real_time" in r:
            tp = f"{r['x_real_time']:.1f}x real time ({r['x_real_time_network_and_decoding']:.1f}x net)"
        else:
            tp = f"{r['lines_per_second']:.1f} lines/s ({r['lines_per_second_network_and_decoding']:.1f} net)"
        rows.append(f"{name:<34} {r['items']:>6} {r['prepare_s']:>10.2f} {r['recognize_s']:>12.2f} {tp:>28}")
    return "\n".join(rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="*", help="files or folders to transcribe (with --checkpoint)")
    p.add_argument("--checkpoint", help="a trained checkpoint")
    p.add_argument("--synthetic", action="store_true", help="random-weight networks and synthetic inputs")
    p.add_argument("--utterances", type=int, default=32, help="synthetic utterances / lines (default: 32)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default: 1)")
    p.add_argument("--decoder", choices=("greedy", "beam"), default="greedy")
    p.add_argument("--lexicon", help="with --checkpoint: beam search over these words (implies --decoder beam)")
    p.add_argument("--lm", help="with --checkpoint: KenLM n-gram for the beam search (implies --decoder beam)")
    p.add_argument("--lm-weight", type=float, default=2.0)
    p.add_argument("--word-score", type=float, default=0.0)
    p.add_argument("--quantize", choices=("int8", "bf16"), nargs="+", default=[],
                   help="also time the network in these lower precisions (dynamic int8, bfloat16)")
    p.add_argument("--repeats", type=int, default=3, help="passes; the median is reported (default: 3)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/transcribe.json"))
    args = p.parse_args(argv)
    if bool(args.checkpoint) == args.synthetic:
        p.error("give --checkpoint CKPT INPUT... or --synthetic")
    if args.lexicon or args.lm:
        if args.synthetic:
            p.error("--lexicon and --lm need a trained --checkpoint")
        args.decoder = "beam"
    torch.set_num_threads(args.threads)

    results = {}
    schemes = [None, *args.quantize]
    if args.synthetic:
        for scheme in schemes:
            tag = f", {scheme}" if scheme else ""
            speech = synthetic_speech(args.batch_size, args.decoder, scheme)
            results[f"speech 3x250 BLSTM, {args.decoder}{tag}"] = bench(
                speech, speech_inputs(speech, args.utterances), args.repeats)
            lines = synthetic_handwriting(args.batch_size, args.decoder, scheme)
            results[f"handwriting 2x128 BLSTM, {args.decoder}{tag}"] = bench(
                lines, line_inputs(lines, args.utterances), args.repeats)
    else:
        settings = {"lexicon": args.lexicon, "lm": args.lm}
        if args.decoder == "beam":
            settings.update(lm_weight=args.lm_weight, word_score=args.word_score)
        for scheme in schemes:
            rec = Recognizer.from_checkpoint(args.checkpoint, batch_size=args.batch_size, decoder=args.decoder,
                                             decoder_settings=settings, quantize=scheme)
            loaders = file_inputs(rec, args.inputs)
            if not loaders:
                p.error("no input files found")
            name = f"{Path(args.checkpoint).name}, {args.decoder}"
            if args.lexicon or args.lm:
                name += " + " + " + ".join(x for x, v in (("lexicon", args.lexicon), ("LM", args.lm)) if v)
            results[name + (f", {scheme}" if scheme else "")] = bench(rec, loaders, args.repeats)

    print(f"threads={args.threads} batch_size={args.batch_size} torch={torch.__version__} cpu_count={os.cpu_count()}")
    print(table(results))
    write_json_atomic(args.out, {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "torch": torch.__version__, "cpu": platform.machine(), "cpu_count": os.cpu_count(),
        "results": results,
    })
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
