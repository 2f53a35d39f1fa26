#!/usr/bin/env bash
# Side-by-side training throughput, grapevine vs PyTorch, in one run:
#   MLP 784-256-128-10, batch 64, SGD lr 0.05 momentum 0.9, ONE thread each.
# Prints both medians (of REPEATS runs of STEPS steps), the ratio, and grapevine's
# utilisation of this machine's Eigen fp32 GEMM rate (MLP training ≈ 6 × params FLOPs
# per sample, the usual fwd + bwd count).
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
for ((r = 0; r < REPEATS; r++)); do
  "$GRAPEVINE" train --data synthetic:60000:784:10 --model mlp:784-256-128-10 --optimizer sgd \
      --lr 0.05 --momentum 0.9 --batch 64 --epochs 1000 --steps "$STEPS" --threads 1 \
      --json "$TMP/gv.json" > /dev/null 2>&1
  gv_rates+=("$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["samples_per_second"])' "$TMP/gv.json")")
done
GV=$(printf '%s\n' "${gv_rates[@]}" | sort -g | sed -n "$(( (REPEATS + 1) / 2 ))p")

TORCH_JSON=$("$PY" "$ROOT/bench/learn/compare_pytorch.py" "$STEPS" "$REPEATS")
PT=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["samples_per_second"])' "$TORCH_JSON")

"$BENCH" --benchmark_filter='BM_Gemm/(256/784/64|512/512/512)' --benchmark_format=json \
    --benchmark_min_time=1 > "$TMP/gemm.json" 2>/dev/null
read -r GEMM_MLP GEMM_SQ < <("$PY" - "$TMP/gemm.json" <<'PYEOF'
import json, sys
b = {x["name"]: x["GFLOP/s"] for x in json.load(open(sys.argv[1]))["benchmarks"]}
print(b["BM_Gemm/256/784/64"] / 1e9 if b["BM_Gemm/256/784/64"] > 1e6 else b["BM_Gemm/256/784/64"],
      b["BM_Gemm/512/512/512"] / 1e9 if b["BM_Gemm/512/512/512"] > 1e6 else b["BM_Gemm/512/512/512"])
PYEOF
)

"$PY" - "$GV" "$PT" "$PARAMS" "$GEMM_MLP" "$GEMM_SQ" <<'PYEOF'
import sys
gv, pt, params, gemm_mlp, gemm_sq = map(float, sys.argv[1:])
gflops = 6 * params * gv / 1e9
print(f"MLP 784-256-128-10, batch 64, SGD momentum 0.9, 1 thread, median of runs")
print(f"  grapevine : {gv:10.0f} samples/s   ({gflops:.1f} GFLOP/s at 6 x {int(params)} FLOPs/sample)")
print(f"  pytorch   : {pt:10.0f} samples/s")
print(f"  ratio     : {gv / pt:10.1f} x")
print(f"  Eigen GEMM: {gemm_mlp:.1f} GFLOP/s (256x784 * 784x64), {gemm_sq:.1f} GFLOP/s (512^3)")
print(f"  utilisation of GEMM rate: {100 * gflops / gemm_mlp:.0f} % (MLP-shaped), "
      f"{100 * gflops / gemm_sq:.0f} % (512^3)")
PYEOF
