#!/bin/bash
# DASO against dpsgd and wa on the testbed (docs/testbed.md): 4 groups x 2 agents
# (`grapevine topo gen groups 4 2`), 1 Gbit/s host links inside the groups, 50 Mbit/s
# uplinks between them, one real `grapevine agent` per emulated host, Fashion-MNIST MLP.
# Prints per algorithm: final mean test accuracy, wall time, bytes per tier, and the wall
# time at which the mean accuracy first reached the target (default: dpsgd's final mean).
# Needs root (network namespaces). Results go to $OUT/<algo>/.
#   scripts/daso_testbed.sh                                   # IID, 10 x 50 steps
#   PART=dirichlet:0.5 ALGOS="daso dpsgd" scripts/daso_testbed.sh
#   DASO_FLAGS="--daso-merge faithful" OUT=runs/daso-faithful scripts/daso_testbed.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/build/release/tools/grapevine}
TB=${TB:-$PWD/build/release/tests/testbed/grapevine-testbed}
OUT=${OUT:-runs/daso-testbed}
ROUNDS=${ROUNDS:-10}
STEPS=${STEPS:-50}
PART=${PART:-iid}
ALGOS=${ALGOS:-"dpsgd daso wa"}
DASO_FLAGS=${DASO_FLAGS:---daso-warmup 1 --daso-cooldown 1}
HOST_RATE=${HOST_RATE:-1gbit}
UPLINK_RATE=${UPLINK_RATE:-50mbit}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

"$BIN" topo gen groups 4 2 -o "$OUT/groups.dot"
"$TB" up "$OUT/groups.dot" --host-rate "$HOST_RATE" --uplink-rate "$UPLINK_RATE" \
  --out "$OUT/tb.dot" >"$OUT/testbed.log" 2>&1 &
TBPID=$!
AGENTS=()
cleanup() {
  for p in "${AGENTS[@]}"; do kill "$p" 2>/dev/null || true; done
  # SIGTERM: a background job of a script ignores SIGINT. The testbed tears down on both.
  kill -TERM "$TBPID" 2>/dev/null || true
  wait "$TBPID" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  [ "$(grep -c 'ip netns exec' "$OUT/testbed.log" || true)" -ge 8 ] && [ -s "$OUT/tb.dot" ] && break
  sleep 0.2
done
mapfile -t NS < <(grep -o 'ip netns exec [^ ]*' "$OUT/testbed.log" | awk '{print $4}')
[ "${#NS[@]}" -eq 8 ] || { echo "testbed did not come up:"; cat "$OUT/testbed.log"; exit 1; }

for algo in $ALGOS; do
  dir="$OUT/$algo"
  rm -rf "$dir" && mkdir -p "$dir"
  extra=()
  [ "$algo" = daso ] && read -r -a extra <<<"$DASO_FLAGS"
  start=$(date +%s.%N)
  AGENTS=()
  for i in $(seq 0 7); do
    ip netns exec "${NS[$i]}" "$BIN" agent --topology "$OUT/tb.dot" --node "$i" --algo "$algo" \
      --partition "$PART" --rounds "$ROUNDS" --local-steps "$STEPS" --eval-samples 2000 \
      --metrics "$dir/$i.jsonl" "${extra[@]}" >"$dir/$i.log" 2>&1 &
    AGENTS+=($!)
  done
  for p in "${AGENTS[@]}"; do wait "$p" || echo "agent $p of $algo exited with $?"; done
  AGENTS=()
  end=$(date +%s.%N)
  echo "$algo $start $end" >>"$OUT/times.txt"
done

python3 - "$OUT" $ALGOS <<'EOF'
import json, sys, os
out, algos = sys.argv[1], sys.argv[2:]
times = {}
for line in open(os.path.join(out, "times.txt")):
    a, s, e = line.split()
    times[a] = float(e) - float(s)
res = {}
for a in algos:
    per_round, tiers, last = {}, {"local": 0, "global": 0}, []
    for i in range(8):
        lines = [json.loads(l) for l in open(os.path.join(out, a, f"{i}.jsonl")) if l.strip()]
        for l in lines:
            if "test_accuracy" in l:
                per_round.setdefault(l["round"], []).append((l["test_accuracy"], l["t"]))
        last.append([l for l in lines if "test_accuracy" in l][-1]["test_accuracy"])
        tiers["local"] += lines[-1].get("bytes_out_local_tier", 0)
        tiers["global"] += lines[-1].get("bytes_out_global_tier", 0)
    curve = [(r, sum(x for x, _ in v) / len(v), max(t for _, t in v))
             for r, v in sorted(per_round.items()) if len(v) == 8]
    res[a] = dict(final=sum(last) / 8, wall=times[a], curve=curve, tiers=tiers)
target = float(os.environ.get("TARGET", res["dpsgd"]["final"] if "dpsgd" in res else 0.8))
print(f"target mean accuracy {target:.4f}")
print(f"{'algo':8} {'final mean acc':>14} {'wall s':>8} {'s to target':>12} {'MB local':>9} {'MB global':>10}")
for a, r in res.items():
    hit = next((t for _, acc, t in r["curve"] if acc >= target - 1e-9), None)
    print(f"{a:8} {r['final']:14.4f} {r['wall']:8.1f} {('-' if hit is None else f'{hit:.1f}'):>12} "
          f"{r['tiers']['local']/1e6:9.1f} {r['tiers']['global']/1e6:10.1f}")
json.dump({a: {k: v for k, v in r.items()} for a, r in res.items()},
          open(os.path.join(out, "results.json"), "w"), indent=1)
EOF
