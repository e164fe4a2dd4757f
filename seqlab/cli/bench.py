"""``seqlab bench``: the benchmark suite and its members.

The benchmarks are the scripts in the source tree's ``benchmarks/`` folder (one
per measurement, each printing a table and writing JSON); ``seqlab bench NAME
ARGS`` runs ``benchmarks/NAME.py ARGS``, and ``seqlab bench suite`` runs them
all in turn. They need a source checkout (``git clone`` + ``pip install -e .``):
they are measurements of the project, not part of an installed package.
"""

from __future__ import annotations

import ast
import runpy
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


def benchmarks() -> dict[str, str]:
    """Benchmark name -> the first line of its docstring, read without importing it."""
    found = {}
    for path in sorted(BENCH_DIR.glob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        found[path.stem] = doc.strip().splitlines()[0] if doc.strip() else ""
    return found


def main(argv: list[str] | None = None, prog: str = "seqlab bench") -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not BENCH_DIR.is_dir():
        print(f"{prog}: error: no benchmarks/ folder beside the seqlab package ({BENCH_DIR}); the "
              "benchmarks run from a source checkout: git clone the repository and pip install -e .",
              file=sys.stderr)
        return 2
    found = benchmarks()
    if not argv or argv[0] in ("-h", "--help", "--list"):
        width = max(map(len, found))
        rows = "\n".join(f"  {name:<{width}}  {summary}" for name, summary in found.items())
        print(f"usage: {prog} NAME [ARGS ...]\n\nbenchmarks ({BENCH_DIR}):\n{rows}\n\n"
              f"'{prog} NAME --help' gives each one's options; '{prog} suite --quick' runs them all "
              "(a few minutes on 2 cores) and writes one JSON file.")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in found:
        print(f"{prog}: error: no benchmark '{name}'; choose from {', '.join(found)}", file=sys.stderr)
        return 2
    saved = list(sys.argv)
    sys.argv = [f"{prog} {name}", *rest]
    try:
        runpy.run_path(str(BENCH_DIR / f"{name}.py"), run_name="__main__")
    except SystemExit as done:  # the scripts end with sys.exit(main())
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.argv = saved
    return 0
