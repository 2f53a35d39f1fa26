#!/usr/bin/env bash
# Side-by-side training throughput, grapevine vs PyTorch, in one run:
#   MLP 784-256-128-10, batch 64, SGD lr 0.05 momentum 0.9, ONE thread each.
# Prints both medians (of REPEATS runs of STEPS steps), the ratio, and grapevine's
# utilisation of this machine's Eigen fp32 GEMM rate (MLP training ≈ 6 × params FLOPs
# per sample, the usual fwd + bwd count). Rates are given per wall-clock second and per
# CPU second of the process; on a shared, busy machine the CPU figures are the stable
# ones (Google Benchmark's GEMM rate is per CPU second too).
#
#   bench/learn/compare_pytorch.sh [BUILD_DIR]      (default build/release)
#   STEPS=3000 REPEATS=5 bench/learn/compare_pytorch.sh build/release
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$ROOT/build/release}"
STEPS="${STEPS:-3000}"
REPEATS="${REPEATS:-3}"
GRAPEVINE="$BUILD/tools/grapevine"
BENCH="$BUILD/bench/learn/learn_bench"
PY=/usr/bin/python3   # Debian's python3-torch lives in the system interpreter
for f in "$GRAPEVINE" "$BENCH"; do
  [[ -x "$f" ]] || { echo "missing $f: build first (cmake --build $BUILD --target grapevine learn_bench)" >&2; exit 2; }
done
if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "python3-torch is not installed; installing it (apt-get install -y python3-torch)" >&2
  if [[ $(id -u) -eq 0 ]]; then apt-get install -y python3-torch >&2; else
    echo "run: sudo apt-get install -y python3-torch" >&2; exit 2; fi
fi

TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
PARAMS=$(( 784*256 + 256 + 256*128 + 128 + 128*10 + 10 ))

gv_rates=()
gv_cpu=()
for ((r = 0; r < REPEATS; r++)); do
  "$GRAPEVINE" train --data synthetic:60000:784:10 --model mlp:784-256-128-10 --optimizer sgd \
      --lr 0.05 --momentum 0.9 --batch 64 --epochs 1000 --steps "$STEPS" --threads 1 \
      --json "$TMP/gv.json" > /dev/null 2>&1
  gv_rates+=("$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["samples_per_second"])' "$TMP/gv.json")")
  gv_cpu+=("$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["samples_per_cpu_second"])' "$TMP/gv.json")")
done
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
GV=$(median "${gv_rates[@]}")
GV_CPU=$(median "${gv_cpu[@]}")

TORCH_JSON=$("$PY" "$ROOT/bench/learn/compare_pytorch.py" "$STEPS" "$REPEATS")
PT=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["samples_per_second"])' "$TORCH_JSON")
PT_CPU=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["samples_per_cpu_second"])' "$TORCH_JSON")

"$BENCH" --benchmark_filter='BM_Gemm/(256/784/64|512/512/512)' --benchmark_format=json \
    --benchmark_min_time=1 > "$TMP/gemm.json" 2>/dev/null
read -r GEMM_MLP GEMM_SQ < <("$PY" - "$TMP/gemm.json" <<'PYEOF'
import json, sys
b = {x["name"]: x["GFLOP/s"] for x in json.load(open(sys.argv[1]))["benchmarks"]}
print(b["BM_Gemm/256/784/64"], b["BM_Gemm/512/512/512"])  # counter is already GFLOP/s
PYEOF
)

"$PY" - "$GV" "$GV_CPU" "$PT" "$PT_CPU" "$PARAMS" "$GEMM_MLP" "$GEMM_SQ" <<'PYEOF'
import sys
gv, gv_cpu, pt, pt_cpu, params, gemm_mlp, gemm_sq = map(float, sys.argv[1:])
flops = 6 * params
print(f"MLP 784-256-128-10, batch 64, SGD momentum 0.9, 1 thread, median of runs")
print(f"                 per wall second   per CPU second")
print(f"  grapevine : {gv:14.0f}   {gv_cpu:14.0f}  samples/s")
print(f"  pytorch   : {pt:14.0f}   {pt_cpu:14.0f}  samples/s")
print(f"  ratio     : {gv / pt:14.1f}   {gv_cpu / pt_cpu:14.1f}  x")
print(f"  Eigen GEMM (per CPU second): {gemm_mlp:.1f} GFLOP/s (256x784 * 784x64), "
      f"{gemm_sq:.1f} GFLOP/s (512^3)")
g = flops * gv_cpu / 1e9
print(f"  grapevine training: {g:.1f} GFLOP/s per CPU second at 6 x {int(params)} FLOPs/sample "
      f"= {100 * g / gemm_mlp:.0f} % of the MLP-shaped GEMM rate, {100 * g / gemm_sq:.0f} % of 512^3")
# grapevine skips the input gradient of the first layer (2 x 784 x 256 FLOPs per sample).
executed = flops - 2 * 784 * 256
e = executed * gv_cpu / 1e9
print(f"  executed FLOPs ({int(executed)}/sample): {e:.1f} GFLOP/s = {100 * e / gemm_mlp:.0f} % of the "
      f"MLP-shaped GEMM rate")
PYEOF
