#!/bin/bash
# Issue 12's table: ring of 8, Fashion-MNIST MLP, same rounds, seed and schedule for every
# row, IID and dirichlet:0.5: uncompressed dpsgd against choco with each codec, and Adam
# (dpsgd --optimizer adam) against choco q4 with Adam (decentralized Efficient-Adam) and
# the two-way efficient-adam (group leader, q4 both ways).
# Prints final mean accuracy, bytes sent, the accuracy gap and the byte ratio to the
# uncompressed baseline of the same optimizer, and bytes to 85 % mean accuracy.
# Rows: dpsgd, choco with each codec, dpsgd --compress, and the Adam rows (dpsgd + Adam,
# choco q4 + Adam, the two-way efficient-adam with q4). ONLY=REGEX runs only the rows
# whose name matches (e.g. ONLY='adam' for the three Adam rows).
#   scripts/compression_table.sh [OUT_DIR] [ROUNDS] [LOCAL_STEPS]
set -euo pipefail
OUT=${1:-runs/compression}
ROUNDS=${2:-10}
STEPS=${3:-50}
G=${GRAPEVINE:-build/release/tools/grapevine}
mkdir -p "$OUT"
COMMON=(examples/ring8.dot --rounds "$ROUNDS" --local-steps "$STEPS" --seed 1)
ADAM=(--optimizer adam --lr 0.001)
rows=()
run() {  # name partition args...
  local name=$1 part=$2; shift 2
  if [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]]; then return 0; fi
  local dir="$OUT/$part/$name"
  mkdir -p "$OUT/$part"
  if [ ! -f "$dir/summary.json" ]; then
    "$G" launch "${COMMON[@]}" --partition "$part" "$@" --out "$dir" > "$dir.log" 2>&1 || {
      echo "run $part/$name failed, see $dir.log" >&2; return 1; }
  fi
  rows+=("$part $name $dir")
}
for part in iid dirichlet:0.5; do
  run dpsgd "$part" --algo dpsgd
  run choco-sign "$part" --algo choco --compress sign
  run choco-topk0.01 "$part" --algo choco --compress topk:0.01
  run choco-q8 "$part" --algo choco --compress q8
  run dpsgd-sign "$part" --algo dpsgd --compress sign
  run dpsgd-q8 "$part" --algo dpsgd --compress q8
  run adam "$part" --algo dpsgd "${ADAM[@]}"
  run choco-q4-adam "$part" --algo choco --compress q4 "${ADAM[@]}"
  run efficient-adam "$part" --algo efficient-adam --compress q4 "${ADAM[@]}"
done
python3 - "${rows[@]}" <<'PY'
import json, sys, glob, os
rows = [a.split(" ", 2) for a in sys.argv[1:]]
def load(d):
    s = json.load(open(os.path.join(d, "summary.json")))
    # bytes to 85 %: per-round mean accuracy over agents, bytes summed over agents
    per = {}
    for f in glob.glob(os.path.join(d, "metrics", "*.jsonl")):
        last = 0
        for line in open(f):
            try: r = json.loads(line)
            except ValueError: continue
            b = r.get("bytes_out", 0)
            e = per.setdefault(r["round"], [0, 0.0, 0])
            e[0] += max(0, b - last); last = b
            if "test_accuracy" in r: e[1] += r["test_accuracy"]; e[2] += 1
    sent, to85 = 0, None
    for k in sorted(per):
        sent += per[k][0]
        if to85 is None and per[k][2] and per[k][1] / per[k][2] >= 0.85: to85 = sent
    return s["final"]["mean_accuracy"], s["bytes_sent_total"], to85
print(f"{'partition':<14}{'run':<16}{'mean acc':>9}{'MB sent':>10}{'gap pts':>9}{'fewer':>8}{'MB to 85%':>11}{'fewer':>8}")
base = {}
for part, name, d in rows:
    acc, sent, to85 = load(d)
    ref = "adam" if "adam" in name else "dpsgd"
    if name == ref: base[(part, ref)] = (acc, sent, to85)
    b = base.get((part, ref))
    gap = (b[0] - acc) * 100 if b else 0.0
    ratio = b[1] / sent if b and sent else float("nan")
    r85 = (b[2] / to85) if b and b[2] and to85 else float("nan")
    t85 = f"{to85/1e6:.1f}" if to85 else "-"
    print(f"{part:<14}{name:<16}{acc:>9.4f}{sent/1e6:>10.1f}{gap:>9.2f}{ratio:>7.1f}x{t85:>11}{r85:>7.1f}x")
PY
