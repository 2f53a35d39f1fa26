#!/usr/bin/env bash
# DIMAT vs WA in the DIMAT paper's setting, side by side over several seeds
# (issue 5: "dimat ahead of wa at equal rounds"; docs/results.md).
#
# Ring of 5, Fashion-MNIST classes:2 (DIMAT's non-IID split), MLP, every agent
# pre-trained alone (--pretrain-steps 500) from its own seed, then 10 lock-step
# (--sync) rounds of 50 SGD steps at lr 0.01 — the paper starts DIMAT and its WA
# baseline from the same per-agent pre-trained models. Variants:
#   dimat                       the default (REPAIR after merges that matched)
#   dimat --dimat-repair every  REPAIR after every merge
#   dimat --dimat-repair off    steps 3-7 of ALGORITHMS.md §1 only
#   wa --init per-node          the paper's WA baseline (same starting models)
#   wa                          WA's own default: one shared initial model
# Prints, per variant, the mean over seeds of the mean test accuracy after each
# round, the mean of the last 5 rounds, the final round, MB sent per run, and how
# many seeds each variant beats `wa --init per-node` on (last-5 mean).
#
# Usage: scripts/dimat_vs_wa.sh [OUT] [SEEDS]   (defaults: runs/dimat-vs-wa, "1 2 3 4 5 6 7 8")
# Environment: GRAPEVINE (binary), BASE_PORT (default 45200; node i gets BASE_PORT+i),
#   ROUNDS (default 10), VARIANTS (";"-separated subset of the variants above)
# Restartable: a run whose summary.json says "complete": true is kept.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
out="${1:-runs/dimat-vs-wa}"
seeds="${2:-1 2 3 4 5 6 7 8}"
gv="${GRAPEVINE:-$(command -v grapevine || ls -t "$repo"/build/*/tools/grapevine 2>/dev/null | head -1)}"
if [ -z "$gv" ] || [ ! -x "$gv" ]; then
  echo "dimat_vs_wa.sh: no grapevine binary (set GRAPEVINE=...)" >&2
  exit 2
fi
base_port="${BASE_PORT:-45200}"
mkdir -p "$out"
"$gv" topo gen ring 5 --base-port "$base_port" > "$out/ring5.dot" || exit 2

rounds="${ROUNDS:-10}"
variants=("dimat" "dimat --dimat-repair every" "dimat --dimat-repair off"
          "wa --init per-node" "wa")
if [ -n "${VARIANTS:-}" ]; then IFS=';' read -r -a variants <<< "$VARIANTS"; fi
launch_pid=
trap '[ -n "$launch_pid" ] && kill -INT "$launch_pid" 2>/dev/null; wait; exit 130' INT TERM
for variant in "${variants[@]}"; do
  name="$(echo "$variant" | tr ' ' '_' | tr -d '-')"
  for seed in $seeds; do
    dir="$out/$name/s$seed"
    if python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get("complete") else 1)' \
        "$dir/summary.json" 2>/dev/null; then
      continue
    fi
    rm -rf "$dir"; mkdir -p "$(dirname "$dir")"
    # shellcheck disable=SC2086  # the variant is words on purpose
    "$gv" launch "$out/ring5.dot" --algo $variant --partition classes:2 --seed "$seed" \
        --sync --pretrain-steps 500 --rounds "$rounds" --local-steps 50 --lr 0.01 \
        --out "$dir" > "$dir.log" 2>&1 &
    launch_pid=$!
    wait "$launch_pid" || echo "dimat_vs_wa.sh: $variant seed $seed failed (see $dir.log)" >&2
    launch_pid=
    echo "$variant seed $seed: $(grep -m1 '^done' "$dir.log")"
  done
done

python3 - "$out" "$seeds" "$rounds" "${variants[@]}" <<'PY'
import json, os, sys
out, seeds, n_rounds, variants = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4:]
def load(variant, seed):
    name = variant.replace(' ', '_').replace('-', '')
    with open(os.path.join(out, name, 's' + seed, 'summary.json')) as f:
        s = json.load(f)
    acc = [r['mean_accuracy'] for r in s['per_round']]
    return acc, s.get('bytes_sent_total', 0) / 1e6
runs = {v: [load(v, s) for s in seeds] for v in variants}
ref = 'wa --init per-node'
base = [sum(a[-5:]) / 5 for a, _ in runs[ref]] if ref in runs else None
rounds = min(len(a) for v in variants for a, _ in runs[v])
print(f"\nring5 classes:2, pretrain 500, {n_rounds} x 50 steps, --sync; "
      f"mean over seeds {' '.join(seeds)}\n")
print('| variant | ' + ' | '.join(f'r{r + 1}' for r in range(rounds)) +
      ' | last 5 | final | MB/run | seeds ahead of wa per-node |')
print('|---|' + '---|' * (rounds + 4))
for v in variants:
    accs = [a for a, _ in runs[v]]
    per_round = [sum(a[r] for a in accs) / len(accs) for r in range(rounds)]
    last5 = [sum(a[-5:]) / 5 for a in accs]
    wins = '—' if base is None else sum(1 for x, b in zip(last5, base) if x > b)
    mb = sum(m for _, m in runs[v]) / len(accs)
    print(f'| `{v}` | ' + ' | '.join(f'{x:.3f}' for x in per_round) +
          f' | {sum(last5) / len(last5):.3f} | {sum(a[-1] for a in accs) / len(accs):.3f}'
          f' | {mb:.0f} | {wins}/{len(accs)} |')
PY
