#!/usr/bin/env python
"""``seqlab export``: export a trained network (encoder + CTC head) for inference outside seqlab.

    seqlab export runs/DATE/TIME/checkpoints/best.ckpt --format torchscript --out model.ts
    seqlab export best.ckpt --format onnx --out model.onnx      # pip install -e ".[export]"

The exported model maps (inputs, lengths) to (log_probs, out_lengths); FILE.json
beside it holds the alphabet and the preprocessing recipe. Every export is
checked against PyTorch on inputs of other lengths than the traced example.
seqlab/export.py says which formats and encoders work on torch 2.11, and why.
"""

import argparse
import sys

from seqlab.errors import SeqlabError
from seqlab.export import FORMATS, export


def main(argv=None, prog: str = "seqlab export") -> int:
    p = argparse.ArgumentParser(
        prog=prog, description=__doc__.split("\n\n")[0],
        epilog="formats: torchscript (torch.jit.trace; default), onnx (legacy TorchScript-based "
               "exporter, needs the onnx package; checked with onnxruntime when installed), export "
               "(torch.export .pt2: fails for LSTM models on torch 2.11, pytorch/pytorch#115092)",
    )
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a .ckpt written by seqlab train")
    p.add_argument("--format", choices=FORMATS, default="torchscript")
    p.add_argument("--out", required=True, metavar="FILE", help="the exported model (metadata: FILE.json)")
    p.add_argument("--example-length", type=int, default=64,
                   help="input width / frames of the traced example (default: 64)")
    args = p.parse_args(argv)
    try:
        report = export(args.checkpoint, args.format, args.out, example_length=args.example_length)
    except SeqlabError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    diff = "not checked (install onnxruntime)" if report.max_abs_diff is None else f"{report.max_abs_diff:.3g}"
    print(f"wrote {report.path} ({report.format}) and {report.metadata}; largest |log-prob difference| "
          f"from PyTorch on lengths {report.checked_lengths}: {diff}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
