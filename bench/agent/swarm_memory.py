#!/usr/bin/env python3
"""Resident memory and start-up time of every agent of a `grapevine launch` swarm.

Runs `grapevine launch ARGS...`, samples /proc/PID/status (VmRSS, VmHWM, RssAnon,
RssFile) of each agent process every PERIOD seconds while it lives, and prints:
  - per agent: peak VmHWM, and at that agent's last sample RssAnon / RssFile (MB);
  - the median, min and max peak over agents, and the peak of the swarm's summed VmRSS;
  - start-up: seconds from the launch command to each agent's first training step
    (its log line "first training step"), median and max; for builds without that
    line, to the line that ends set-up ("training examples"), marked as such.
docs/memory.md explains the figures.

  bench/agent/swarm_memory.py build/release/tools/grapevine --nodes 16 --rounds 5 \\
      --local-steps 50 --algo wa --out /tmp/ring16
"""
import datetime
import glob
import os
import re
import statistics
import subprocess
import sys
import time

PERIOD = float(os.environ.get("PERIOD", "0.1"))


def status_kb(pid):
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                    fields[key] = int(rest.split()[0])
    except OSError:
        return None
    return fields


def agents(pid):
    """The launcher's children that are `grapevine agent` processes."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(p) for p in f.read().split()]
    except OSError:
        return []
    out = []
    for kid in kids:
        try:
            with open(f"/proc/{kid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and argv[1] == b"agent":
            out.append((kid, argv))
    return out


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def log_seconds(path, pattern, t0):
    """Seconds from t0 (a datetime) to the first log line matching pattern."""
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if pattern in line:
                    m = re.match(r"\[(\d+):(\d+):(\d+)\.(\d+)\]", line)
                    if not m:
                        continue
                    h, mi, s, ms = (int(g) for g in m.groups())
                    at = t0.replace(hour=h, minute=mi, second=s, microsecond=ms * 1000)
                    return (at - t0).total_seconds()
    except OSError:
        pass
    return None


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe, args = sys.argv[1], sys.argv[2:]
    out = None
    for i, a in enumerate(args):
        if a == "--out" and i + 1 < len(args):
            out = args[i + 1]
    if out is None:
        print("give --out DIR (the run folder whose logs/ are read)", file=sys.stderr)
        return 2
    t0 = datetime.datetime.now()
    launch = subprocess.Popen([exe, "launch", *args], stdout=subprocess.DEVNULL)
    peak, last, names, cpu = {}, {}, {}, {}
    swarm_peak = 0
    while launch.poll() is None:
        total = 0
        now = (datetime.datetime.now() - t0).total_seconds()
        for pid, argv in agents(launch.pid):
            s = status_kb(pid)
            if not s or "VmHWM" not in s:
                continue
            if pid not in names and b"--node" in argv:
                names[pid] = argv[argv.index(b"--node") + 1].decode()
            peak[pid] = max(peak.get(pid, 0), s["VmHWM"])
            last[pid] = s
            c = cpu_seconds(pid)
            if c is not None:
                cpu.setdefault(pid, []).append((now, c))
            total += s.get("VmRSS", 0)
        swarm_peak = max(swarm_peak, total)
        time.sleep(PERIOD)
    print(f"launch exit code {launch.returncode}; {len(peak)} agents sampled")
    if not peak:
        return 1
    print(f"{'node':>6} {'pid':>8} {'VmHWM MB':>9} {'RssAnon MB':>10} {'RssFile MB':>10}")
    for pid in sorted(peak):
        s = last[pid]
        print(f"{names.get(pid, '?'):>6} {pid:>8} {peak[pid] / 1024:9.1f} {s.get('RssAnon', 0) / 1024:10.1f} "
              f"{s.get('RssFile', 0) / 1024:10.1f}")
    peaks = sorted(v / 1024 for v in peak.values())
    print(f"peak VmHWM per agent: median {statistics.median(peaks):.1f} MB, "
          f"min {peaks[0]:.1f}, max {peaks[-1]:.1f}; sum of peaks {sum(peaks):.0f} MB; "
          f"peak of the summed VmRSS {swarm_peak / 1024:.0f} MB")
    # Start-up: wall seconds from the launch command to the marker line of each agent's
    # log, and that agent's CPU seconds by then (the last sample before the line).
    marker = "first training step"
    logs = {pid: os.path.join(out, "logs", names[pid] + ".log") for pid in names}
    if not any(log_seconds(p, marker, t0) is not None for p in logs.values()):
        marker = "training examples"
    starts, cpus = [], []
    for pid, path in logs.items():
        t = log_seconds(path, marker, t0)
        if t is None:
            continue
        starts.append(t)
        before = [c for (at, c) in cpu.get(pid, []) if at <= t]
        if before:
            cpus.append(before[-1])
    if starts:
        starts.sort()
        print(f"launch -> '{marker}': median {statistics.median(starts):.2f} s wall, "
              f"min {starts[0]:.2f}, max {starts[-1]:.2f} ({len(starts)} agents)")
    if cpus:
        print(f"CPU seconds of an agent by then (sampled every {PERIOD} s): "
              f"median {statistics.median(cpus):.2f}, max {max(cpus):.2f}")
    with open("/proc/loadavg") as f:
        print("load average at the end:", " ".join(f.read().split()[:3]))
    return 0 if launch.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
