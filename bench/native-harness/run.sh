#!/usr/bin/env bash
# Builds the two standalone kernel harnesses (oneDNN + OpenBLAS, and ATen)
# and runs them in turn, one thread each, printing the load average before
# every run: the figures that chose the native engine's library
# (src/engine/NATIVE.md). Needs libdnnl-dev, libopenblas-dev, libtorch-dev.
#
#   bench/native-harness/run.sh [rounds=3] [batch=128] [reps=15]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rounds="${1:-3}"
batch="${2:-128}"
reps="${3:-15}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

g++ -O2 -std=c++17 "$here/onednn-blas.cc" -o "$out/onednn-blas" -ldnnl -lopenblas
g++ -O2 -std=c++17 "$here/aten.cc" -o "$out/aten" -ltorch_cpu -lc10

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
for round in $(seq 1 "$rounds"); do
  echo "== round $round, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  "$out/onednn-blas" "$batch" "$reps"
  echo "-- load average $(cut -d' ' -f1-3 /proc/loadavg)"
  "$out/aten" "$batch" "$reps"
done
