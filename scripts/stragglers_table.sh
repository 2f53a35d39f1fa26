#!/bin/bash
# Issue 15's LDS-with-stragglers measurement: ring 8 with nodes 3 and 7 at slowdown=4
# (examples/ring8-stragglers.dot), the same algorithm, rounds, seed and examples per step
# under --sampling fixed, ugs and lds:ALPHA for each ALPHA. Prints final mean accuracy,
# wall time, and the wall time each run took to reach ugs's final mean accuracy (the
# time of the first round whose mean accuracy over the agents is >= it).
#   scripts/stragglers_table.sh [OUT_DIR] [ALGO] [ROUNDS] [LOCAL_STEPS] [PARTITION]
# Environment: ALPHAS (default "0.1 1 10"), GRAPEVINE (binary).
set -euo pipefail
OUT=${1:-runs/stragglers}
ALGO=${2:-dpsgd}
ROUNDS=${3:-10}
STEPS=${4:-50}
PART=${5:-dirichlet:0.1}
G=${GRAPEVINE:-build/release/tools/grapevine}
TOPO=${TOPO:-examples/ring8-stragglers.dot}
mkdir -p "$OUT"
runs=(fixed ugs)
for a in ${ALPHAS:-0.1 1 10}; do runs+=("lds:$a"); done
rows=()
for s in "${runs[@]}"; do
  dir="$OUT/${s//:/-}"
  if [ ! -f "$dir/summary.json" ]; then
    "$G" launch "$TOPO" --algo "$ALGO" --partition "$PART" --sampling "$s" \
      --rounds "$ROUNDS" --local-steps "$STEPS" --seed 1 --out "$dir" > "$dir.log" 2>&1 || {
      echo "run $dir failed, see $dir.log" >&2; exit 1; }
  fi
  rows+=("$s $dir")
done
python3 - "${rows[@]}" <<'PY'
import glob, json, sys
runs = []
for row in sys.argv[1:]:
    s, d = row.split(" ", 1)
    summary = json.load(open(d + "/summary.json"))
    # Per round: mean accuracy over the agents that evaluated, and the wall time when the
    # last agent finished it (metrics "t" is seconds since that agent started; agents start
    # within a second of each other under launch).
    acc, t = {}, {}
    for path in glob.glob(d + "/metrics/*.jsonl"):
        for line in open(path):
            try: r = json.loads(line)
            except ValueError: continue
            k = r["round"]
            t[k] = max(t.get(k, 0.0), r.get("t", 0.0))
            if "test_accuracy" in r: acc.setdefault(k, []).append(r["test_accuracy"])
    mean = {k: sum(v) / len(v) for k, v in acc.items()}
    runs.append((s, summary["final"]["mean_accuracy"], summary.get("wall_seconds"), mean, t))
target = next(r[1] for r in runs if r[0] == "ugs")
print(f"target: ugs's final mean accuracy {target:.4f}")
print(f"{'sampling':<10}{'mean acc':>9}{'wall s':>8}{'s to target':>12}{'vs ugs':>8}")
def time_to(mean, t):
    return next((t[k] for k in sorted(mean) if mean[k] >= target - 1e-12), None)
ugs_time = next(time_to(r[3], r[4]) for r in runs if r[0] == "ugs")
for s, final, wall, mean, t in runs:
    hit = time_to(mean, t)
    rel = f"{(hit / ugs_time - 1) * 100:+.0f}%" if hit and ugs_time else "-"
    print(f"{s:<10}{final:>9.4f}{wall:>8.1f}{(f'{hit:.1f}' if hit else 'never'):>12}{rel:>8}")
PY
