#!/bin/bash
# Issue 15's UGS table: the same algorithm, rounds, seed and examples per step (the
# global batch B defaults to agents x --batch, so every row processes the same number of
# examples) with --sampling fixed, ugs and lds, on ring 5 and ring 8, label-skewed
# (classes:2) and size-skewed (dirichlet:0.1) splits. Prints final mean accuracy and
# the gain over fixed.
#   scripts/sampling_table.sh [OUT_DIR] [ALGO] [ROUNDS] [LOCAL_STEPS]
set -euo pipefail
OUT=${1:-runs/sampling}
ALGO=${2:-dpsgd}
ROUNDS=${3:-10}
STEPS=${4:-50}
G=${GRAPEVINE:-build/release/tools/grapevine}
mkdir -p "$OUT"
rows=()
for topo in ring5 ring8; do
  for part in classes:2 dirichlet:0.1; do
    for s in fixed ugs lds; do
      dir="$OUT/$topo-$part-$s"
      if [ ! -f "$dir/summary.json" ]; then
        "$G" launch "examples/$topo.dot" --algo "$ALGO" --partition "$part" --sampling "$s" \
          --rounds "$ROUNDS" --local-steps "$STEPS" --seed 1 --out "$dir" > "$dir.log" 2>&1 || {
          echo "run $dir failed, see $dir.log" >&2; exit 1; }
      fi
      rows+=("$topo $part $s $dir")
    done
  done
done
python3 - "${rows[@]}" <<'PY'
import json, sys
print(f"{'topology':<9}{'partition':<15}{'sampling':<9}{'mean acc':>9}{'min':>8}{'gain pts':>9}")
base = {}
for row in sys.argv[1:]:
    topo, part, s, d = row.split(" ", 3)
    f = json.load(open(d + "/summary.json"))["final"]
    acc = f["mean_accuracy"]
    if s == "fixed": base[(topo, part)] = acc
    gain = (acc - base[(topo, part)]) * 100
    print(f"{topo:<9}{part:<15}{s:<9}{acc:>9.4f}{f.get('min_accuracy', float('nan')):>8.4f}{gain:>9.2f}")
PY
