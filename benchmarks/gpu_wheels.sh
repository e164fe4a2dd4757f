#!/usr/bin/env bash
# Wheels of the seqlab dependencies that the GPU machine's image lacks (it has torch, torchaudio,
# lightning, numpy, pillow, matplotlib, pytest, hypothesis), for its Python 3.12 on x86-64, at the
# versions constraints.txt locks. benchmarks/gpu_check.sh installs them from .whl/ when present.
#
#   bash benchmarks/gpu_wheels.sh          # writes .whl/ (about 10 MB); keep it out of git
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=.whl
PYVER="${GPU_PYTHON_VERSION:-3.12}"
# compiled packages: a binary wheel for the GPU machine's Python and platform
BINARY="editdistance soundfile cffi rapidfuzz flashlight-text"
# pure-Python packages (antlr4-python3-runtime is published as an sdist only: built here into a wheel)
PURE="hydra-core omegaconf antlr4-python3-runtime pycparser"
pin() {  # the version constraints.txt locks for $1 on Python $PYVER (markers: python_full_version)
  python3 - "$1" "$PYVER" <<'PY'
import re, sys
name, pyver = sys.argv[1].lower(), tuple(int(v) for v in sys.argv[2].split("."))
for line in open("constraints.txt"):
    m = re.match(r"([\w.-]+)==([^\s;]+)\s*(?:;\s*(.*))?$", line.strip())
    if not m or m.group(1).lower().replace("_", "-") != name:
        continue
    marker = (m.group(3) or "").replace("python_full_version", "pv")
    ok = True
    for op, v in re.findall(r"pv\s*(<=|>=|==|<|>)\s*'([\d.*]+)'", marker):
        have = pyver + (0,)
        want = tuple(int(x) for x in v.replace(".*", "").split("."))
        have = have[: len(want)]
        ok &= {"<": have < want, "<=": have <= want, ">": have > want, ">=": have >= want, "==": have == want}[op]
    if ok and "sys_platform == 'win32'" not in marker:
        print(m.group(2)); break
PY
}
mkdir -p "$DEST"
rm -f "$DEST"/*.whl
for name in $BINARY; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$PYVER" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64 \
    -d "$DEST" "$name==$(pin "$name")"
done
for name in $PURE; do
  python3 -m pip wheel -q --no-deps -w "$DEST" "$name==$(pin "$name")"
done
ls -l "$DEST"
