#!/usr/bin/env bash
# Experiments grid for docs/results.md (issue 6, "Experiments table").
#
# Runs one `grapevine launch` swarm at a time over
#   MLP: {ring5, ring8, complete5, complete8} x {iid, classes:2, dirichlet:0.1}
#        x {dimat, wa, wm, dpsgd, cdsgd, cga, lasgd, local}
#   CNN (cnn:c16-p-c32-p-d128): ring5 x {iid, classes:2, dirichlet:0.1}
#        x {dimat, wa, dpsgd, cga, local}
# all with 10 rounds x 50 local steps, SGD lr 0.01, seed 1, one run folder per
# configuration: OUT/<model>/<topology>/<split>/<algo>/. Restartable: a configuration
# whose summary.json says "complete": true is skipped. Then prints the markdown tables
# (scripts/experiments_table.py OUT).
#
# Usage: scripts/experiments.sh [OUT] [PHASE...]
#   OUT    output folder (default runs/experiments)
#   PHASE  any of mlp-ring5 mlp-ring8 mlp-complete5 mlp-complete8 cnn-ring5 extras
#          (default: all, in that order; extras = follow-up runs on ring5 classes:2
#          under OUT/extras/, one folder per variant)
# Environment:
#   GRAPEVINE  binary to run (default: grapevine on PATH, else build/*/tools/grapevine)
#   BASE_PORT  first port of the generated topologies (default 45000; node i gets BASE_PORT+i)
#   TIMEOUT    seconds before a run is stopped (default 300)
#   ROUNDS / LOCAL_STEPS / LR / SEED  override the grid's 10 / 50 / 0.01 / 1
#   ALGOS      space-separated subset of the grid's algorithms to run (default: all),
#              e.g. ALGOS=dimat to re-run one algorithm's rows into a copy of OUT
set -u

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
out="${1:-runs/experiments}"
shift || true
phases=("$@")
if [ ${#phases[@]} -eq 0 ]; then
  phases=(mlp-ring5 mlp-ring8 mlp-complete5 mlp-complete8 cnn-ring5 extras)
fi

gv="${GRAPEVINE:-}"
if [ -z "$gv" ]; then
  if command -v grapevine >/dev/null 2>&1; then
    gv="$(command -v grapevine)"
  else
    gv="$(ls -t "$repo"/build/*/tools/grapevine 2>/dev/null | head -1)"
  fi
fi
if [ -z "$gv" ] || [ ! -x "$gv" ]; then
  echo "experiments.sh: no grapevine binary (set GRAPEVINE=...)" >&2
  exit 2
fi

base_port="${BASE_PORT:-45000}"
timeout_s="${TIMEOUT:-300}"
rounds="${ROUNDS:-10}"
local_steps="${LOCAL_STEPS:-50}"
lr="${LR:-0.01}"
seed="${SEED:-1}"

mkdir -p "$out/topo"

# Topology files: the examples with their ports moved to BASE_PORT.. so that the grid
# does not collide with swarms on the examples' 47000 range.
make_topology() {
  local name="$1"
  local src="$repo/examples/$name.dot"
  local dst="$out/topo/$name.dot"
  if [ ! -f "$src" ]; then
    echo "experiments.sh: missing $src" >&2
    exit 2
  fi
  awk -v base="$base_port" '{
      if (match($0, /127\.0\.0\.1:[0-9]+/)) {
        port = substr($0, RSTART + 10, RLENGTH - 10) + 0
        $0 = substr($0, 1, RSTART - 1) "127.0.0.1:" (base + port % 100) substr($0, RSTART + RLENGTH)
      }
      print
    }' "$src" > "$dst"
}

is_complete() {
  local summary="$1/summary.json"
  [ -f "$summary" ] && python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get("complete") is True else 1)' "$summary" 2>/dev/null
}

# run_one MODEL_DIR MODEL_SPEC TOPOLOGY SPLIT ALGO [NAME [EXTRA FLAGS...]]
run_one() {
  local model_name="$1" model="$2" topo="$3" split="$4" algo="$5"
  local name="${6:-$algo}"
  shift 6 2>/dev/null || shift $#
  # --rounds / --lr among the extra flags replace the grid's values (given once only).
  local run_rounds="$rounds" run_lr="$lr" extra=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --rounds) run_rounds="$2"; shift 2 ;;
      --lr) run_lr="$2"; shift 2 ;;
      *) extra+=("$1"); shift ;;
    esac
  done
  local split_dir="${split//:/-}"
  local dir="$out/$model_name/$topo/$split_dir/$name"
  if is_complete "$dir"; then
    echo "skip  $dir (complete)"
    return 0
  fi
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  local start end
  start=$(date +%s)
  echo "run   $dir"
  # In the background so that Ctrl-C / TERM reach the launcher, which stops its agents.
  "$gv" launch "$out/topo/$topo.dot" --model "$model" --algo "$algo" --partition "$split" \
      --rounds "$run_rounds" --local-steps "$local_steps" --lr "$run_lr" --seed "$seed" \
      --timeout "$timeout_s" "${extra[@]}" --out "$dir" > "$dir.log" 2>&1 &
  launch_pid=$!
  wait "$launch_pid"
  local rc=$?
  launch_pid=
  end=$(date +%s)
  echo "      rc=$rc $((end - start)) s: $(tail -3 "$dir.log" | grep -m1 '^done' || tail -1 "$dir.log")"
}

launch_pid=
stop() {
  if [ -n "$launch_pid" ]; then
    kill -INT "$launch_pid" 2>/dev/null
    wait "$launch_pid" 2>/dev/null
  fi
  echo "experiments.sh: interrupted; run again to resume" >&2
  exit 130
}
trap stop INT TERM

mlp_algos=(dimat wa wm dpsgd cdsgd cga lasgd local)
cnn_algos=(dimat wa dpsgd cga local)
splits=(iid classes:2 dirichlet:0.1)

# Follow-ups on the case where DIMAT trails WA (ring5, classes:2): one shared initial
# model, a weight-cosine prior in the matching, lock-step rounds, the paper's optimizer,
# and 4x the rounds.
run_extras() {
  make_topology ring5
  local m="mlp:784-256-128-10" s="classes:2"
  run_one extras "$m" ring5 "$s" dimat dimat-shared-init --init shared
  run_one extras "$m" ring5 "$s" dimat dimat-weight-prior --dimat-weight-prior 1
  run_one extras "$m" ring5 "$s" dimat dimat-sync --sync
  run_one extras "$m" ring5 "$s" wa wa-sync --sync
  run_one extras "$m" ring5 "$s" dimat dimat-adam --optimizer adam --lr 0.001
  run_one extras "$m" ring5 "$s" wa wa-adam --optimizer adam --lr 0.001
  run_one extras "$m" ring5 "$s" dimat dimat-40rounds --rounds 40
  run_one extras "$m" ring5 "$s" wa wa-40rounds --rounds 40
  run_one extras "$m" ring5 "$s" cga cga-40rounds --rounds 40
  run_one extras "$m" ring5 "$s" local local-40rounds --rounds 40
  # What alignment buys: WA from unrelated per-node initial models; DIMAT from a shared
  # one on IID data (where the own-data probe covers every class).
  run_one extras "$m" ring5 "$s" wa wa-per-node-init --init per-node
  run_one extras "$m" ring5 iid wa wa-per-node-init --init per-node
  run_one extras "$m" ring5 iid dimat dimat-shared-init --init shared
}

for phase in "${phases[@]}"; do
  if [ "$phase" = extras ]; then
    run_extras
    continue
  fi
  model_name="${phase%%-*}"
  topo="${phase#*-}"
  make_topology "$topo"
  case "$model_name" in
    mlp) model="mlp:784-256-128-10"; algos=("${mlp_algos[@]}") ;;
    cnn) model="cnn:c16-p-c32-p-d128"; algos=("${cnn_algos[@]}") ;;
    *) echo "experiments.sh: unknown phase $phase" >&2; exit 2 ;;
  esac
  for split in "${splits[@]}"; do
    for algo in "${algos[@]}"; do
      if [ -n "${ALGOS:-}" ] && [[ " $ALGOS " != *" $algo "* ]]; then continue; fi
      run_one "$model_name" "$model" "$topo" "$split" "$algo"
    done
  done
done

python3 "$here/experiments_table.py" "$out"
