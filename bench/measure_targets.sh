#!/usr/bin/env bash
# The quiet measurement behind docs/targets.md: every target row of the open issues, in one run.
# Usage, from the repository root with build/dev built (`make dev`) and nothing else running:
#     bash bench/measure_targets.sh OUTDIR
set -u
O=${1:?out dir}; mkdir -p "$O"; O=$(cd "$O" && pwd)
cd "$(dirname "$0")/.."
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; export PYTHONPATH=build/dev/python
log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$O/steps.txt"; }
log start; uptime >> "$O/steps.txt"
python3 -c "import json, npfast; print(json.dumps(npfast.config(), indent=1, default=str))" > "$O/config.json"
log zeros; python3 bench/bench_zeros.py --samples 15 > "$O/zeros.txt" 2>&1
log gemm2; python3 bench/bench_gemm.py --threads 2 --sizes 16,32,48,64,96,128,192,256,384,512,768,1000,1500,2000,3000,4000 > "$O/gemm2.txt" 2>&1
log gemm1; python3 bench/bench_gemm.py --threads 1 --sizes 16,64,128,256,512,1000,2000,4000 > "$O/gemm1.txt" 2>&1
log conv2; python3 bench/bench_conv.py --threads 2 --only "3x3/2" "stem" > "$O/conv2.txt" 2>&1
AV="MKL_ENABLE_INSTRUCTIONS=AVX2 NPFAST_ISA=avx2 ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2"
log conv2avx2; env $AV python3 bench/bench_conv.py --threads 2 --only "3x3/2" "stem" > "$O/conv2avx2.txt" 2>&1
log conv1avx2; env $AV python3 bench/bench_conv.py --threads 1 --only "3x3/2" "stem" > "$O/conv1avx2.txt" 2>&1
log report; python3 -m npfast bench --only limits ndimage interference scaling --threads 1,2 --out "$O/bench-out" > "$O/report.txt" 2>&1
log done; uptime >> "$O/steps.txt"
