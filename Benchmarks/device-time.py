#!/usr/bin/env python3
"""The device's sweep time against the PCIe link's (issue 13, docs/performance.md).

    python3 Benchmarks/device-time.py DUMP [DUMP...]   (default: the lab's Linux guests)

For each dump, `eric scan --json` under `slides` (the zero-page flag) and `slides-plain` (the
first design): the link's transfer time (its page fetches) is the baseline a sweep cannot beat;
the ratio device / link is what the issue asks to bring within 1.25. Cycle counts are exact and
deterministic, so one run of each is the measurement.
"""
import glob, json, os, subprocess, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
eric = os.path.join(root, ".build/release/eric")
lab = os.environ.get("ERIC_LAB", os.path.expanduser("~/.cache/eric/lab"))
dumps = sys.argv[1:] or sorted(glob.glob(os.path.join(lab, "linux/out/guest-*.raw")))
if not dumps:
    sys.exit("no dumps: give some, or make the lab's (scripts/lab/make.sh)")

def summary(dump, timing):
    out = subprocess.run([eric, "scan", "--json", "--jobs", "1", "--timing", timing, dump], capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"{dump}: eric scan exited {out.returncode}: {out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])

print("| dump | timing | link (fetches) | automata + follow-ups | device | device / link | bottleneck |")
print("|---|---|---|---|---|---|---|")
for dump in dumps:
    for timing in ("slides-plain", "slides"):
        s = summary(dump, timing)
        link = s["fetch_cycles"] + s["follow_up_fetch_cycles"]
        automata = s["mpu_cycles"] + s["follow_up_cycles"]
        hz = s["clock_hz"]
        print(f"| {os.path.basename(dump)} | {timing} | {link / hz:.3f} s | {automata / hz:.3f} s | {s['device_seconds']:.3f} s "
              f"| {s['device_seconds'] / (link / hz):.2f} | {s['bottleneck']} |")
