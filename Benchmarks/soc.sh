#!/usr/bin/env bash
# The full SoC against the direct scanner on the same dump, rounds interleaved: `eric scan
# --soc` (firmware on the LM32 driving the checker), `eric scan --jobs 1` (the direct scanner
# on one thread, issue 13's baseline) and `eric scan` (the direct scanner on every core). Each
# line gives the wall time, the peak resident memory and the findings.
#   bash Benchmarks/soc.sh [DUMP | size] [rounds]
# DUMP: a memory dump (default: the lab's real 256 MiB Linux guest when it is built, see
# scripts/lab/make.sh); size: a synthetic dump of that size instead (eric synth --seed 9).
set -euo pipefail
cd "$(dirname "$0")/.."
lab_guest=${ERIC_LAB:-$HOME/.cache/eric/lab}/linux/out/guest-256M-2cpu.raw
input=${1:-}
rounds=${2:-3}
[ -n "$input" ] || { [ -f "$lab_guest" ] && input=$lab_guest || input=256M; }
source scripts/setup.sh
swift build -c release --product eric >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -f "$input" ]; then
    dump=$input
else
    dump=$work/dump.raw
    .build/release/eric synth --seed 9 --size "$input" -o "$dump" >&2
fi
echo "dump: $dump"
python3 - "$dump" "$rounds" "$work/out.json" <<'PY'
import json, subprocess, sys
dump, rounds, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
# Each scan runs in a child of its own that times it and reads its peak resident memory
# (a process's children's ru_maxrss is the largest of them all).
measure = """
import resource, subprocess, sys, time
start = time.monotonic()
with open(sys.argv[1], "w") as out:
    status = subprocess.run(sys.argv[2:], stdout=out).returncode
print(status, time.monotonic() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
for _ in range(rounds):
    for mode in (["--soc"], ["--jobs", "1"], []):
        result = subprocess.run(["python3", "-c", measure, out, ".build/release/eric", "scan", *mode, "--json", dump],
                                capture_output=True, text=True)
        status, seconds, peak = result.stdout.split()
        if status not in ("0", "1"):
            sys.exit(f"eric scan {' '.join(mode)} failed ({status}): {result.stderr.strip()}")
        with open(out) as records:
            findings = sum(1 for line in records if json.loads(line).get("type") == "finding")
        label = " ".join(mode) or "(all cores)"
        print(f"eric scan {label:12} {float(seconds):.3f} s  peak RSS {int(peak) / 1024:.0f} MiB  {findings} findings", flush=True)
PY
