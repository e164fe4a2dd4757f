#!/usr/bin/env python
"""Transcription throughput on the CPU: seconds of audio per second, or lines per second.

Times the :class:`~seqlab.recognizer.Recognizer` end to end, in two stages:

- ``prepare``: read the files (or take the in-memory inputs) and preprocess
  them (image resizing; filterbank, deltas, normalisation), on the
  recognizer's workers as ``seqlab transcribe`` does;
- ``recognize``: the network (batched, sorted by length), greedy or beam
  decoding, forced alignment and confidences;
- ``transcribe`` (files only): both through ``Recognizer.transcribe``, which
  reads the next files while the network runs, as ``seqlab transcribe``
  does: the headline figure for files.

``--workers 1 2`` times each setting of :class:`~seqlab.workers.Workers`: 1 is
one batch at a time on all of torch's ``--threads``; N is N batches at once,
each on one thread (the default is one worker per thread).

For speech the result is the speed in seconds of audio per second of wall
time ("x real time"; the real-time factor is its inverse); for line images,
lines per second.

    # a trained checkpoint and its inputs (files, folders, list files)
    seqlab bench transcribe --checkpoint best.ckpt /data/TIMIT/TEST/DR1 --threads 1
    # beam search with a lexicon and an n-gram LM (seqlab build-lm)
    seqlab bench transcribe --checkpoint best.ckpt test_lines.lst --lexicon words.txt --lm lm.arpa
    # random-weight networks of the timit_graves2013 size (3 x 250 BLSTM, 123
    # features, 62 classes), of the default handwriting BLSTM (2 x 128, 24 px
    # high lines, 4 columns per frame) and of the synth_crnn_cpu and
    # synth_mdlstm_cpu presets (32 px lines): no trained model needed
    seqlab bench transcribe --synthetic --threads 2 --batch-size 16
    # one batch at a time on both threads against two batches on one thread each
    seqlab bench transcribe --synthetic --threads 2 --quantize bf16 --workers 1 2

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


def synthetic_speech(batch_size: int, decoder: str, quantize: str | None = None,
                     workers: int | None = None) -> Recognizer:
    from seqlab.data.features import FeatureStats, FilterbankFeatures
    from seqlab.data.frontends import SpeechFrontend
    from seqlab.nn import CTCModel, RecurrentEncoder
    from seqlab.text import Alphabet
    from seqlab.text.phones import TIMIT_PHONES_61

    torch.manual_seed(0)
    features = FilterbankFeatures()
    model = CTCModel(RecurrentEncoder(features.feature_size, 250, 3), Alphabet(TIMIT_PHONES_61, unit="token"))
    frontend = SpeechFrontend(features=features, stats=FeatureStats.identity(features.feature_size))
    return Recognizer(model, frontend, batch_size=batch_size, decoder=decoder, quantize=quantize, workers=workers)


def handwriting_encoders() -> dict[str, tuple[torch.nn.Module, int]]:
    """Random-weight encoders of the CPU handwriting presets, and the line height each reads."""
    from seqlab.nn import CRNNEncoder, HierarchicalMDLSTMEncoder, RecurrentEncoder

    torch.manual_seed(0)
    return {
        "handwriting 2x128 BLSTM": (RecurrentEncoder(24, 128, 2, frame_stack=4), 24),  # the default run
        "handwriting CRNN (synth_crnn_cpu)": (CRNNEncoder(32, channels=[16, 32, 48, 64], pool=[[2, 2], [2, 2], [2, 1], [1, 1]],
                                                          conv_dropout=0.0, hidden_size=128, num_layers=2), 32),
        "handwriting MDLSTM (synth_mdlstm_cpu)": (HierarchicalMDLSTMEncoder(32, hidden_sizes=[8, 32], conv_channels=[16],
                                                                            pool=[[2, 2]], tile=[4, 2]), 32),
    }


def synthetic_handwriting(encoder: torch.nn.Module, height: int, batch_size: int, decoder: str,
                          quantize: str | None = None, workers: int | None = None) -> Recognizer:
    from seqlab.data.frontends import ImageFrontend
    from seqlab.nn import CTCModel
    from seqlab.text import Alphabet

    alphabet = Alphabet(tuple(chr(c) for c in range(32, 127)))  # printable ASCII, as IAM's ~80 symbols
    return Recognizer(CTCModel(encoder, alphabet), ImageFrontend(height=height), batch_size=batch_size,
                      decoder=decoder, quantize=quantize, workers=workers)


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


def file_inputs(rec: Recognizer, inputs: list[str]) -> tuple[list, list[str]]:
    """Loaders of the readable input files, and their paths."""
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
    return [lambda p=p: rec.load(p) for p in readable], readable


def bench(rec: Recognizer, loaders: list, repeats: int, files: list[str] | None = None) -> dict:
    """Median times of the stages over ``repeats`` passes; with ``files``, also of ``rec.transcribe(files)``."""
    prepare_s, recognize_s, transcribe_s = [], [], []
    items: list[Prepared] = []
    for _ in range(repeats):
        start = time.perf_counter()
        items = rec.workers.map(lambda load: load(), loaders)
        prepare_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        rec.recognize(items)
        recognize_s.append(time.perf_counter() - start)
        if files:
            start = time.perf_counter()
            rec.transcribe(files)
            transcribe_s.append(time.perf_counter() - start)
    prep, recog = statistics.median(prepare_s), statistics.median(recognize_s)
    # the headline: the pipelined transcription of files, else the two stages one after the other
    total = statistics.median(transcribe_s) if files else prep + recog
    out = {"items": len(items), "workers": rec.workers.count, "prepare_s": prep, "recognize_s": recog,
           "total_s": total, "times": {"prepare_s": prepare_s, "recognize_s": recognize_s}}
    if files:
        out.update(transcribe_s=total, times={**out["times"], "transcribe_s": transcribe_s})
    if rec.frontend.unit == "seconds":
        audio = sum(i.extent for i in items)
        out.update(audio_seconds=audio, x_real_time=audio / total, x_real_time_network_and_decoding=audio / recog)
    else:
        out.update(lines_per_second=len(items) / total, lines_per_second_network_and_decoding=len(items) / recog)
    return out


def table(results: dict) -> str:
    w = max([len("model"), *map(len, results)])
    rows = [f"{'model':<{w}} {'items':>6} {'prepare s':>10} {'recognize s':>12} {'transcribe s':>13} "
            f"{'throughput (end to end)':>34}"]
    for name, r in results.items():
        if "x_real_time" in r:
            tp = f"{r['x_real_time']:.1f}x real time ({r['x_real_time_network_and_decoding']:.1f}x net)"
        else:
            tp = f"{r['lines_per_second']:.1f} lines/s ({r['lines_per_second_network_and_decoding']:.1f} net)"
        whole = f"{r['transcribe_s']:.2f}" if "transcribe_s" in r else "-"
        rows.append(f"{name:<{w}} {r['items']:>6} {r['prepare_s']:>10.2f} {r['recognize_s']:>12.2f} {whole:>13} {tp:>34}")
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
    p.add_argument("--workers", type=int, nargs="+", default=[None], metavar="N",
                   help="time each: batches recognised and files read at once, one torch thread each "
                        "(default: one per --threads; 1: one batch at a time on all --threads)")
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
    if "bf16" in schemes and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        print("seqlab bench transcribe: bf16 left out: this CPU has no bfloat16 instructions", file=sys.stderr)
        schemes.remove("bf16")
    for workers in args.workers:
        for scheme in schemes:
            tag = (f", {scheme}" if scheme else "") + (f", {workers} worker{'s' if workers > 1 else ''}"
                                                       if len(args.workers) > 1 else "")
            if args.synthetic:
                speech = synthetic_speech(args.batch_size, args.decoder, scheme, workers)
                results[f"speech 3x250 BLSTM, {args.decoder}{tag}"] = bench(
                    speech, speech_inputs(speech, args.utterances), args.repeats)
                for name, (encoder, height) in handwriting_encoders().items():
                    lines = synthetic_handwriting(encoder, height, args.batch_size, args.decoder, scheme, workers)
                    results[f"{name}, {args.decoder}{tag}"] = bench(lines, line_inputs(lines, args.utterances),
                                                                    args.repeats)
                continue
            settings = {"lexicon": args.lexicon, "lm": args.lm}
            if args.decoder == "beam":
                settings.update(lm_weight=args.lm_weight, word_score=args.word_score)
            rec = Recognizer.from_checkpoint(args.checkpoint, batch_size=args.batch_size, decoder=args.decoder,
                                             decoder_settings=settings, quantize=scheme, workers=workers)
            loaders, files = file_inputs(rec, args.inputs)
            if not loaders:
                p.error("no input files found")
            name = f"{Path(args.checkpoint).name}, {args.decoder}"
            if args.lexicon or args.lm:
                name += " + " + " + ".join(x for x, v in (("lexicon", args.lexicon), ("LM", args.lm)) if v)
            results[name + tag] = bench(rec, loaders, args.repeats, files)

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
