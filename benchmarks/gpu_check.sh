#!/usr/bin/env bash
# The GPU paths, run on a GPU, in one go (under 8 minutes on an H100 / H200):
#   1. the gpu-marked tests (cuDNN CTC, bf16 autocast, the custom LSTM and the MDLSTM on CUDA)
#   2. benchmarks/lstm.py: cuDNN nn.LSTM against the custom peephole LSTM, fp32 and bf16, T 300 B 32 3 x 250
#   3. benchmarks/mdlstm.py on CUDA at 32 x 256 and at the paper's 64-pixel lines (64 x 1024)
#   4. benchmarks/train_steps.py: bounded Lightning training steps of timit_graves2013 on TIMIT-sized
#      and of iam_crnn on IAM-sized inputs, fp32 and bf16 (steps/s, items/s, peak memory, GPU
#      utilisation, one epoch's time extrapolated)
# Every figure goes to JSON under the output folder ($OUT when set, else benchmarks/results/gpu),
# and one summary table is printed at the end (summary.json).
#
#   bash benchmarks/gpu_check.sh               # on the GPU machine
#   bash benchmarks/gpu_check.sh --dry-run     # tiny sizes on the CPU: checks every step runs (CI runs this)
#
# The GPU machine has torch, torchaudio and lightning but not the rest of seqlab's dependencies:
# `bash benchmarks/gpu_wheels.sh` downloads them as wheels into .whl/, which this script installs
# into /tmp/seqlab-site (never over the machine's own packages) when the folder is there and
# the packages are missing.
set -uo pipefail
cd "$(dirname "$0")/.."

DRY=0
OUT_DIR="${OUT:-benchmarks/results/gpu}"
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --out) OUT_DIR="$2"; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && PY=.venv/bin/python
mkdir -p "$OUT_DIR"
export PYTHONUNBUFFERED=1

# only where seqlab's own dependencies are missing (the GPU image), never over an environment that has them
if ! "$PY" -c "import hydra, editdistance, soundfile, rapidfuzz" 2>/dev/null && compgen -G ".whl/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/seqlab-site .whl/*.whl \
    || { echo "gpu_check.sh: could not install the wheels in .whl/" >&2; exit 1; }
  export PYTHONPATH="/tmp/seqlab-site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi

if [ "$DRY" = 1 ]; then
  DEV=cpu
  LSTM_ARGS=(--device cpu --T 20 --batch 4 --hidden 16 --layers 1 --variants vanilla --warmup 0 --repeats 1)
  MD_ARGS=(--device cpu --sizes 8x32 --batch 2 --hidden 4 --peephole off --warmup 0 --repeats 1 --reference-repeats 1)
  TIMIT_STEPS=(--steps 3 --warmup 1 --dry-run)
  IAM_STEPS=(--steps 2 --warmup 1 --dry-run --batch-size 2)
  PRECISIONS=(32-true bf16-mixed)
else
  DEV=cuda
  LSTM_ARGS=(--device cuda --T 300 --batch 32 --hidden 250 --layers 3 --variants vanilla NP --warmup 3 --repeats 10)
  MD_ARGS=(--device cuda --sizes 32x256 64x1024 --batch 8 --hidden 32 --peephole both --warmup 2 --repeats 5
           --reference-repeats 1 --cuda-reference-max-pixels 1024)
  TIMIT_STEPS=(--steps 300 --warmup 20)
  IAM_STEPS=(--steps 100 --warmup 10)
  PRECISIONS=(32-true bf16-mixed)
fi

STATUS=()
step() {  # step NAME TIMEOUT_S COMMAND...: run, log to $OUT_DIR/NAME.log, remember the exit status
  local name="$1" limit="$2"; shift 2
  echo; echo "=== $name: $*"
  local start=$SECONDS
  timeout "$limit" "$@" 2>&1 | tee "$OUT_DIR/$name.log"
  local rc=${PIPESTATUS[0]}
  STATUS+=("$name $rc $((SECONDS - start))")
}

"$PY" - <<'PY' | tee "$OUT_DIR/environment.log"
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())
print("device", torch.cuda.get_device_name() if torch.cuda.is_available() else "none (CPU)")
PY

# pytest's exit 5 ("no test ran") cannot happen: the gpu tests are collected and skip without CUDA
step gpu_tests 240 "$PY" -m pytest -q -p no:cacheprovider -m gpu tests
step lstm 180 "$PY" benchmarks/lstm.py "${LSTM_ARGS[@]}" --out "$OUT_DIR/lstm.json"
step mdlstm 180 "$PY" benchmarks/mdlstm.py "${MD_ARGS[@]}" --out "$OUT_DIR/mdlstm.json"
for p in "${PRECISIONS[@]}"; do
  step "timit_graves2013-$p" 120 "$PY" benchmarks/train_steps.py --experiment timit_graves2013 --corpus timit \
    --device "$DEV" --precision "$p" "${TIMIT_STEPS[@]}" --out "$OUT_DIR/train_timit_graves2013_$p.json"
  step "iam_crnn-$p" 120 "$PY" benchmarks/train_steps.py --experiment iam_crnn --corpus iam \
    --device "$DEV" --precision "$p" "${IAM_STEPS[@]}" --out "$OUT_DIR/train_iam_crnn_$p.json"
done

printf '%s\n' "${STATUS[@]}" > "$OUT_DIR/status.txt"
"$PY" benchmarks/gpu_summary.py "$OUT_DIR" $([ "$DRY" = 1 ] && echo --dry-run)
