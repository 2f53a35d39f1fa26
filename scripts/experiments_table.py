#!/usr/bin/env python3
"""Markdown tables for the experiments grid (issue 6) from the runs' summary.json files.

Reads every OUT/<model>/<topology>/<split>/<algo>/summary.json written by
scripts/experiments.sh (`grapevine launch --out DIR`) and prints, per (model, topology,
split), one table with a row per algorithm: final mean test accuracy, rounds to reach the
target mean accuracy ("—" if never), MB sent (10^6 bytes, all agents), wall seconds.
Then an overview: algorithm x (topology, split) -> final mean accuracy.
With --per-round MODEL/TOPOLOGY/SPLIT (e.g. mlp/ring5/classes-2): instead, one table
algorithm x round -> mean accuracy and cumulative MB sent (from each run's metrics.csv).

Usage: scripts/experiments_table.py [OUT] [--target 0.8] [--overview-only]
                                    [--per-round GROUP [--rounds 1,5,10]]
Standard library only.
"""

import argparse
import csv
import json
import os
import sys

ALGO_ORDER = ["dimat", "wa", "wm", "dpsgd", "cdsgd", "cga", "lasgd", "local"]
TOPO_ORDER = ["ring5", "ring8", "complete5", "complete8"]
SPLIT_ORDER = ["iid", "classes-2", "dirichlet-0.1"]
MODEL_ORDER = ["mlp", "cnn", "extras"]


def order_key(order, value):
    return (order.index(value), value) if value in order else (len(order), value)


def load_runs(out):
    runs = []
    for root, _dirs, files in os.walk(out):
        if "summary.json" not in files:
            continue
        rel = os.path.relpath(root, out).split(os.sep)
        if len(rel) != 4:
            continue
        model, topo, split, algo = rel
        try:
            with open(os.path.join(root, "summary.json")) as f:
                summary = json.load(f)
        except (OSError, ValueError) as e:
            print(f"experiments_table: skipping {root}: {e}", file=sys.stderr)
            continue
        # The row label is the folder name: the algorithm in the grid, a variant name
        # (e.g. dimat-sync) in OUT/extras/.
        runs.append({"model": model, "topo": topo, "split": split, "algo": algo,
                     "base_algo": summary.get("algo", algo), "summary": summary})
    runs.sort(key=lambda r: (order_key(MODEL_ORDER, r["model"]),
                             order_key(TOPO_ORDER, r["topo"]),
                             order_key(SPLIT_ORDER, r["split"]),
                             order_key(ALGO_ORDER, r["base_algo"]), r["algo"]))
    return runs


def rounds_to_target(summary, target):
    """1-based round after which the mean accuracy first reaches target, else None."""
    for entry in sorted(summary.get("per_round", []), key=lambda e: e.get("round", 0)):
        acc = entry.get("mean_accuracy")
        if acc is not None and acc >= target:
            return int(entry.get("round", 0)) + 1
    return None


def final_accuracy(summary):
    final = summary.get("final") or {}
    return final.get("mean_accuracy")


def fmt_acc(value):
    return "—" if value is None else f"{value:.3f}"


def model_label(model):
    return {"mlp": "MLP", "cnn": "CNN", "extras": "Follow-ups"}.get(model, model)


def split_label(split):
    return {"classes-2": "classes:2", "dirichlet-0.1": "dirichlet:0.1"}.get(split, split)


def print_tables(runs, target):
    groups = {}
    for run in runs:
        groups.setdefault((run["model"], run["topo"], run["split"]), []).append(run)
    for (model, topo, split), group in groups.items():
        first = group[0]["summary"]
        print(f"#### {model_label(model)} ({first.get('model', '?')}), {topo}, "
              f"`{split_label(split)}`\n")
        print(f"| algo | final mean acc | min–max | rounds to {target:.0%} | MB sent | wall s |")
        print("|---|---|---|---|---|---|")
        for run in group:
            s = run["summary"]
            final = s.get("final") or {}
            r = rounds_to_target(s, target)
            note = "" if s.get("complete") is True else " (incomplete)"
            print(f"| {run['algo']}{note} | {fmt_acc(final.get('mean_accuracy'))} | "
                  f"{fmt_acc(final.get('min_accuracy'))}–{fmt_acc(final.get('max_accuracy'))} | "
                  f"{'—' if r is None else r} | "
                  f"{s.get('bytes_sent_total', 0) / 1e6:.1f} | "
                  f"{s.get('wall_seconds', 0):.0f} |")
        print()


def print_overview(runs):
    for model in sorted({r["model"] for r in runs}, key=lambda m: order_key(MODEL_ORDER, m)):
        model_runs = [r for r in runs if r["model"] == model]
        columns = []
        for r in model_runs:
            key = (r["topo"], r["split"])
            if key not in columns:
                columns.append(key)
        base = {r["algo"]: r["base_algo"] for r in model_runs}
        algos = sorted(base, key=lambda a: (order_key(ALGO_ORDER, base[a]), a))
        cell = {(r["algo"], r["topo"], r["split"]): final_accuracy(r["summary"])
                for r in model_runs}
        print(f"#### Overview {model_label(model)}: final mean test accuracy\n")
        print("| algo | " + " | ".join(f"{t} {split_label(s)}" for t, s in columns) + " |")
        print("|---|" + "---|" * len(columns))
        for algo in algos:
            print(f"| {algo} | " +
                  " | ".join(fmt_acc(cell.get((algo, t, s))) for t, s in columns) + " |")
        print()


def mb_sent_by_round(run_dir):
    """{0-based round: MB sent by all agents up to that round} from metrics.csv."""
    per_agent = {}
    try:
        with open(os.path.join(run_dir, "metrics.csv")) as f:
            for row in csv.DictReader(f):
                per_agent.setdefault(row["node"], {})[int(row["round"])] = int(row["bytes_out"])
    except (OSError, ValueError, KeyError):
        return {}
    rounds = sorted({r for agent in per_agent.values() for r in agent})
    totals = {}
    for r in rounds:
        total = 0
        for agent in per_agent.values():
            seen = [k for k in agent if k <= r]
            if seen:
                total += agent[max(seen)]
        totals[r] = total / 1e6
    return totals


def print_per_round(out, runs, group, rounds):
    model, topo, split = group.split("/")
    chosen = [r for r in runs if (r["model"], r["topo"], r["split"]) == (model, topo, split)]
    if not chosen:
        print(f"experiments_table: no runs for {group}", file=sys.stderr)
        return 1
    print(f"#### {model_label(model)}, {topo}, `{split_label(split)}`: mean test accuracy "
          f"(MB sent) after round\n")
    print("| algo | " + " | ".join(f"round {r}" for r in rounds) + " |")
    print("|---|" + "---|" * len(rounds))
    for run in chosen:
        acc = {int(e["round"]) + 1: e.get("mean_accuracy")
               for e in run["summary"].get("per_round", [])}
        mb = mb_sent_by_round(os.path.join(out, model, topo, split, run["algo"]))
        cells = []
        for r in rounds:
            value = mb.get(r - 1)
            if acc.get(r) is None and value is None:
                cells.append("—")
            else:
                cells.append(f"{fmt_acc(acc.get(r))} ({'—' if value is None else f'{value:.0f}'})")
        print(f"| {run['algo']} | " + " | ".join(cells) + " |")
    print()
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="runs/experiments")
    parser.add_argument("--target", type=float, default=0.8)
    parser.add_argument("--overview-only", action="store_true")
    parser.add_argument("--per-round", metavar="MODEL/TOPOLOGY/SPLIT")
    parser.add_argument("--rounds", default="1,5,10",
                        help="rounds (1-based) for --per-round, comma-separated")
    args = parser.parse_args()
    runs = load_runs(args.out)
    if not runs:
        print(f"experiments_table: no summary.json under {args.out}", file=sys.stderr)
        return 1
    if args.per_round:
        rounds = [int(r) for r in args.rounds.split(",") if r]
        return print_per_round(args.out, runs, args.per_round, rounds)
    print_overview(runs)
    if not args.overview_only:
        print_tables(runs, args.target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
