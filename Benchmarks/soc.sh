#!/usr/bin/env bash
# The full SoC against the direct scanner on the same synthetic dump, rounds interleaved:
# `eric scan --soc` (firmware on the LM32 driving the checker), `eric scan --jobs 1` (the
# direct scanner on one thread) and `eric scan` (the direct scanner on every core).
#   bash Benchmarks/soc.sh [size] [rounds]      (defaults: 256M, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-256M}
rounds=${2:-3}
source scripts/setup.sh
swift build -c release --product eric >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.build/release/eric synth --seed 9 --size "$size" -o "$work/dump.raw" >&2
for round in $(seq "$rounds"); do
    for mode in "--soc" "--jobs 1" ""; do
        start=$(date +%s.%N)
        # shellcheck disable=SC2086
        .build/release/eric scan $mode --json "$work/dump.raw" > "$work/out.json" || [ $? -eq 1 ]
        end=$(date +%s.%N)
        findings=$(grep -c '"type":"finding"' "$work/out.json")
        python3 -c "import sys; label = sys.argv[1] or '(all cores)'; print(f'eric scan {label:12} {float(sys.argv[3])-float(sys.argv[2]):.3f} s  {sys.argv[4]} findings')" "$mode" "$start" "$end" "$findings"
    done
done
