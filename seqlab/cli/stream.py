"""``seqlab transcribe --stream``: one audio file or raw PCM on stdin, chunk by chunk (:mod:`seqlab.streaming`)."""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Iterator

import numpy as np
import torch

from seqlab.errors import ConfigError


def stdin_chunks(samples: int) -> Iterator[torch.Tensor]:
    """Raw signed 16-bit little-endian mono PCM from standard input, ``samples`` at a time."""
    pipe = sys.stdin.buffer
    leftover = b""
    while True:
        data = pipe.read(2 * samples - len(leftover))
        if not data:
            break
        data = leftover + data
        whole = len(data) // 2 * 2
        data, leftover = data[:whole], data[whole:]
        if data:
            yield torch.from_numpy(np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768)
    if leftover:
        print("seqlab transcribe: warning: an odd byte at the end of standard input was ignored "
              "(16-bit samples expected)", file=sys.stderr)


def stream(args, out) -> int:
    """Run the streaming recognizer over ``args.inputs[0]`` into ``out``; returns the exit status.

    Raises:
        ConfigError: for a model that cannot stream, several inputs, or options streaming does not take.
    """
    from seqlab.cli.transcribe import decoder_choice
    from seqlab.streaming import StreamingRecognizer

    if len(args.inputs) != 1:
        raise ConfigError(f"--stream reads one input (a file, or - for standard input), got {len(args.inputs)}")
    decoder, _ = decoder_choice(args)
    if decoder != "greedy" or args.pages_out or args.quantize or args.format == "ctm":
        raise ConfigError("--stream decodes greedily frame by frame, to jsonl or txt; it takes no --decoder beam, "
                          "--lm, --lexicon, --quantize, --pages-out or --format ctm")
    if args.chunk_ms <= 0:
        raise ConfigError(f"--chunk-ms must be positive, got {args.chunk_ms:g}")
    rec = StreamingRecognizer.from_checkpoint(args.checkpoint)
    chunk = max(1, int(round(rec.sample_rate * args.chunk_ms / 1000)))
    source = args.inputs[0]
    if source == "-":
        rate = args.rate or rec.sample_rate
        if rate != rec.sample_rate:
            raise ConfigError(f"this model reads {rec.sample_rate} Hz audio; pipe raw PCM at that rate "
                              f"(ffmpeg -i IN -f s16le -ac 1 -ar {rec.sample_rate} -) or give a file")
        chunks = stdin_chunks(chunk)
    else:
        from seqlab.long_audio import AudioStream

        chunks = (wave for _, wave in AudioStream(source, rec.sample_rate).blocks(chunk / rec.sample_rate))
    latencies = []
    for wave in chunks:
        partial = rec.feed(wave)
        latencies.append(partial.latency_ms)
        if args.format == "jsonl":
            out.write(json.dumps({"type": "partial", "text": partial.text, "heard_s": round(partial.heard_s, 3),
                                  "latency_ms": round(partial.latency_ms, 2)}, ensure_ascii=False) + "\n")
            out.stream.flush()
    final = rec.finish()
    latencies.append(final.latency_ms)
    if args.format == "txt":
        out.write(f"{source}\t{final.text}\n")
    else:
        out.write(json.dumps({
            "type": "final", "id": source, "text": final.text, "heard_s": round(final.heard_s, 3),
            "chunks": len(latencies) - 1, "chunk_ms": args.chunk_ms,
            "latency_ms": {"median": round(statistics.median(latencies), 2),
                           "p95": round(float(np.percentile(latencies, 95)), 2), "max": round(max(latencies), 2)},
            "delay_ms": round(rec.delay_s * 1000, 1),
        }, ensure_ascii=False) + "\n")
    out.commit()
    return 0
