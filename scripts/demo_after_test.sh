#!/usr/bin/env bash
# Runs the main job N times in a row (default 20), as a user would right after
# `make test`, and reports how many runs succeeded. ROUNDS=K shortens each run (the
# demo's default is 80 rounds); AFTER_TEST=1 runs `make test` first.
#   scripts/demo_after_test.sh            # 20 full demos
#   ROUNDS=5 N=10 scripts/demo_after_test.sh
set -uo pipefail
cd "$(dirname "$0")/.."
N=${N:-20}
BUILD=${BUILD:-build/release}
if [[ "${AFTER_TEST:-0}" == 1 ]]; then make test >/dev/null 2>&1 || echo "make test failed"; fi
extra=()
[[ -n "${ROUNDS:-}" ]] && extra=(--rounds "$ROUNDS")
ok=0
out=$(mktemp -d)
for i in $(seq 1 "$N"); do
  if "$BUILD/tools/grapevine" launch "${extra[@]}" --out "$out/run$i" >"$out/run$i.log" 2>&1; then
    ok=$((ok + 1))
  else
    echo "run $i failed:"; tail -3 "$out/run$i.log"
  fi
done
echo "demo_after_test: $ok passed, $((N - ok)) failed (logs in $out)"
[[ $ok == "$N" ]]
