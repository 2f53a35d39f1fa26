#!/usr/bin/env bash
# "Defaults work" across the board: every algorithm with its default settings, on every
# example topology and every built-in partition, short runs (ROUNDS x LOCAL_STEPS,
# default 3 x 50). One `launch --compare` per (topology, partition); prints a table of
# final mean accuracy per algorithm ("DIV" = the run stopped, e.g. "training
# diverged"; "-" = not applicable, e.g. an undirected algorithm on a digraph; "n/a" =
# classes:K on fewer than 10/K agents, which the agents refuse as bad input;
# ringN/completeN without an example file are generated) and
# whether each algorithm finished above `local`.
#   scripts/defaults_grid.sh [OUT]            # OUT default runs/defaults-grid
#   TOPOS="ring5 complete8" PARTS="classes:1" scripts/defaults_grid.sh
# Environment: GRAPEVINE (binary), BASE_PORT (default 23000), ROUNDS, LOCAL_STEPS,
# TOPOS, PARTS, ALGOS (default: every registered algorithm, from `grapevine agent --help`).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
out="${1:-runs/defaults-grid}"
gv="${GRAPEVINE:-$(ls -t "$repo"/build/*/tools/grapevine 2>/dev/null | head -1)}"
[ -x "$gv" ] || { echo "defaults_grid.sh: no grapevine binary (set GRAPEVINE=...)" >&2; exit 2; }
base_port="${BASE_PORT:-23000}"
rounds="${ROUNDS:-3}"
steps="${LOCAL_STEPS:-50}"
topos=(${TOPOS:-ring4 ring5 ring8 complete5 complete8 groups8 ring8-directed ring10})
parts=(${PARTS:-iid shards classes:1 classes:2 dirichlet:0.1})
algos=(${ALGOS:-dimat wa wm dpsgd cdsgd cga lasgd local sgp choco efficient-adam daso})
directed_algos=" sgp local "
mkdir -p "$out/topo"

launch_pid=
trap '[ -n "$launch_pid" ] && kill -INT "$launch_pid" 2>/dev/null; wait; exit 130' INT TERM

printf '| topology | partition |'; for a in "${algos[@]}"; do printf ' %s |' "$a"; done
printf ' all above local |\n|---|---|'; for a in "${algos[@]}"; do printf -- '---|'; done; printf -- '---|\n'
for topo in "${topos[@]}"; do
  # The example's ports moved to BASE_PORT.. (outside the ephemeral range); ringN or
  # completeN without an example file is generated.
  if [ ! -f "$repo/examples/$topo.dot" ]; then
    kind="${topo%%[0-9]*}"; n="${topo#"$kind"}"
    "$gv" topo gen "$kind" "$n" --host 127.0.0.1 --base-port "$base_port" -o "$out/topo/$topo.dot" \
        > /dev/null 2>&1 || exit 2
  else
  awk -v base="$base_port" '{
      if (match($0, /127\.0\.0\.1:[0-9]+/)) {
        port = substr($0, RSTART + 10, RLENGTH - 10) + 0
        $0 = substr($0, 1, RSTART - 1) "127.0.0.1:" (base + port % 100) substr($0, RSTART + RLENGTH)
      }
      print
    }' "$repo/examples/$topo.dot" > "$out/topo/$topo.dot"
  fi
  nodes=$(grep -c 'addr=' "$out/topo/$topo.dot")
  directed=0; grep -q '^ *digraph' "$out/topo/$topo.dot" && directed=1
  run=()
  for a in "${algos[@]}"; do
    if [ $directed = 0 ] || [[ "$directed_algos" == *" $a "* ]]; then run+=("$a"); fi
  done
  for part in "${parts[@]}"; do
    # classes:K gives each agent K classes: fewer than 10/K agents leave classes out,
    # which the agents refuse (exit 2, "use k >= ..."): not a defaults question.
    if [[ "$part" == classes:* ]] && [ $((nodes * ${part#classes:})) -lt 10 ]; then
      printf '| %s | `%s` |' "$topo" "$part"
      for a in "${algos[@]}"; do printf ' n/a |'; done
      printf ' (needs >= %s agents) |\n' $(( (10 + ${part#classes:} - 1) / ${part#classes:} ))
      continue
    fi
    dir="$out/$topo/${part//:/-}"
    rm -rf "$dir"; mkdir -p "$(dirname "$dir")"
    list=$(IFS=,; echo "${run[*]}")
    "$gv" launch "$out/topo/$topo.dot" --compare "$list" --partition "$part" \
        --rounds "$rounds" --local-steps "$steps" --eval-samples 2000 --timeout 600 \
        --out "$dir" > "$dir.log" 2>&1 &
    launch_pid=$!; wait "$launch_pid"; rc=$?; launch_pid=
    printf '| %s | `%s` |' "$topo" "$part"
    python3 - "$dir/compare.json" "$rc" "${algos[@]}" <<'PY'
import json, sys
path, rc, algos = sys.argv[1], sys.argv[2], sys.argv[3:]
try:
    runs = {r["run"]: r for r in json.load(open(path))["runs"]}
except Exception as e:
    print(" launch exit %s, no compare.json |" % rc + " |" * len(algos)); sys.exit()
local = runs.get("local", {}).get("final_mean_accuracy")
above = True
cells = []
for a in algos:
    r = runs.get(a)
    if r is None: cells.append("-"); continue
    acc = r.get("final_mean_accuracy")
    if not r.get("complete") or acc is None: cells.append("DIV"); above = False; continue
    cells.append("%.3f" % acc)
    if a != "local" and local is not None and acc <= local: above = False
print("".join(" %s |" % c for c in cells) + (" yes |" if above else " **no** |"))
PY
  done
done
