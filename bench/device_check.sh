#!/usr/bin/env bash
# The prepared run for the 16-core AVX-512 device machine (docs/threads.md, "The many-core
# run"): it has no network and 15 minutes of time in all, start-up included, so this is one
# script, the most wanted figures first, each step under its own timeout, every result written
# under $OUT as soon as it exists. Run from the repository root:
#     OUT=/some/dir bash bench/device_check.sh
# Figures it prints: issue 20's scaling section at 1-16 threads (conv-cnn rows, correlate,
# max_pool2d, matmul, convert; speed-up and cliff checks), issue 19/20's stride-2, dilated,
# stem and ResNet 3x3 rows at 16 and 8 threads, matmul against NumPy at 16 threads, and the
# thread tests (bitwise results at 1-16 threads) where pytest is installed.
set -u
OUT=${OUT:-device-out}
mkdir -p "$OUT"
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE  # the benchmarks time NumPy (README)
log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$OUT/steps.txt"; }

log "machine"
{ lscpu; nproc; python3 -c "import numpy, torch; print(numpy.__version__, torch.__version__)"; } \
  >"$OUT/machine.txt" 2>&1

log "build"
if ! timeout 300 python3 -m pip install --no-build-isolation --no-deps -q . >"$OUT/build.txt" 2>&1; then
  log "build failed (see build.txt)"
  exit 1
fi
python3 -c "import json, npfast; print(json.dumps(npfast.config(), indent=1, default=str))" \
  >"$OUT/config.json" 2>&1

log "scaling 1-16"
timeout 240 python3 -m npfast bench --only scaling --threads 1,2,4,8,16 --out "$OUT/scaling" \
  >"$OUT/scaling.txt" 2>&1
log "conv rows at 16 and 8 threads"
for t in 16 8; do
  timeout 60 python3 bench/bench_conv.py --threads $t --only "3x3/2" "dil2" "resnet3x3 64->64" "stem" \
    >"$OUT/conv$t.txt" 2>&1
done
log "matmul at 16 threads"
timeout 60 python3 bench/bench_gemm.py --threads 16 --sizes 16,64,128,256,512,1000,2000,4000 \
  >"$OUT/gemm16.txt" 2>&1
if python3 -c "import pytest" 2>/dev/null; then
  log "thread tests"
  timeout 90 python3 -m pytest -q -x -p no:cacheprovider tests/python/test_threads.py \
    >"$OUT/test_threads.txt" 2>&1
fi
log "done"
