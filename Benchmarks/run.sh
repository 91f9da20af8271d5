#!/usr/bin/env bash
# MPU simulator benchmarks, each next to its baseline in the same run (the machines are
# shared and noisy: compare the ratio, not the absolute times). Release builds, one core.
#   bash Benchmarks/run.sh            # 1 GiB dumps (generated once into .build/bench-data)
#   SIZE_MIB=256 bash Benchmarks/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${SIZE_MIB:-1024}
data=.build/bench-data
mkdir -p "$data"
swift build -c release --product mpu-bench >&2
bench=.build/release/mpu-bench
# The C baseline gets the same instruction-set flags as the Swift build (-mpopcnt).
gcc -O2 -mpopcnt -o "$data/ept_identity_scan" Benchmarks/baseline/ept_identity_scan.c

echo "## Tight loop (add, hamm, add, equ: 50 M iterations), best of 3"
$bench loop

for mix in realistic tables; do
    dump="$data/$mix-${size_mib}m.raw"
    [ -f "$dump" ] || $bench generate "$dump" $((size_mib * 1024 * 1024)) $mix
    echo
    echo "## ept-identity over $dump ($mix mix), one thread, best of 3"
    swift_line=$($bench scan "$dump" automata/ept-identity.s)
    c_line=$("$data/ept_identity_scan" "$dump")
    echo "swift:    $swift_line"
    echo "native C: $c_line"
    s=$(sed -E 's/.*seconds=([0-9.]+).*/\1/' <<<"$swift_line")
    c=$(sed -E 's/.*seconds=([0-9.]+).*/\1/' <<<"$c_line")
    sm=$(sed -E 's/.*matches=([0-9]+).*/\1/' <<<"$swift_line")
    cm=$(sed -E 's/.*matches=([0-9]+).*/\1/' <<<"$c_line")
    [ "$sm" = "$cm" ] || { echo "MISMATCH: swift found $sm, C found $cm" >&2; exit 1; }
    echo "ratio swift/C: $(awk -v s="$s" -v c="$c" 'BEGIN { printf "%.2f", s / c }')"
done
