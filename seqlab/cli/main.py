"""``seqlab``: one command, a subcommand for everything a user does.

The table below is the whole registry: adding a subcommand is one module with
``main(argv, prog) -> int`` and one line here. Nothing heavy is imported until a
subcommand runs, so ``seqlab --help`` answers at once.
"""

from __future__ import annotations

import difflib
import gc
import importlib
import sys

# name -> (module, one-line summary)
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("seqlab.cli.train", "train a CTC model; Hydra overrides, e.g. seqlab train data=iam data.root=DIR"),
    "evaluate": ("seqlab.cli.evaluate", "score a checkpoint on a split and write a report (JSON, Markdown, HTML)"),
    "transcribe": ("seqlab.cli.transcribe", "transcribe line images or audio files with a checkpoint"),
    "export": ("seqlab.cli.export", "export a trained network to TorchScript or ONNX"),
    "build-lm": ("seqlab.cli.build_lm", "estimate an n-gram language model (ARPA) and a lexicon for beam search"),
    "make-synthetic": ("seqlab.cli.make_synthetic",
                       "write a synthetic corpus (IAM or TIMIT layout, PAGE-XML, ALTO, line folders)"),
    "bench": ("seqlab.cli.bench", "run the benchmark suite, or one benchmark (seqlab bench --list)"),
}

# the subcommands that import torch whatever they are asked (the others may not need it at all)
TORCH_COMMANDS = frozenset({"train", "evaluate", "transcribe", "export"})


def import_torch() -> None:
    """Import torch with Python's cyclic garbage collector paused, then freeze what the import made.

    Importing torch creates about 240,000 objects the collector tracks, and its
    passes over them while they are made cost about 0.2 s of the 1.5 s import
    (docs/benchmarks.md, "Start-up"). Frozen, these module-level objects stay out
    of every later collection too. The collector runs as usual afterwards.
    """
    if "torch" in sys.modules:
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        import torch  # noqa: F401
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def usage() -> str:
    from seqlab import __version__

    width = max(map(len, COMMANDS))
    rows = "\n".join(f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items())
    return (
        f"usage: seqlab COMMAND [ARGS ...]\n\n"
        f"seqlab {__version__}: sequence labelling with LSTM networks and CTC, for handwritten\n"
        f"text lines and speech.\n\ncommands:\n{rows}\n\n"
        f"'seqlab COMMAND --help' describes each one. train and evaluate take Hydra\n"
        f"overrides (key=value; --cfg job prints the composed config).\n"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage(), end="")
        return 0 if argv else 2
    if argv[0] in ("-V", "--version"):
        from seqlab import __version__

        print(f"seqlab {__version__}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        close = difflib.get_close_matches(name, COMMANDS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        print(f"seqlab: error: unknown command '{name}'{hint} (seqlab --help lists them)", file=sys.stderr)
        return 2
    if name in TORCH_COMMANDS:
        import_torch()
    module = importlib.import_module(COMMANDS[name][0])
    return int(module.main(rest, prog=f"seqlab {name}") or 0)


if __name__ == "__main__":
    sys.exit(main())
