#!/usr/bin/env bash
# LM32 simulator speed: ours (lm32-bench, release) against gdb's LM32 simulator (lm32-elf-run,
# built by scripts/build-lm32-toolchain.sh) on the same executable, in the same run, rounds
# interleaved so both see the same machine load.
#   bash Benchmarks/lm32.sh [iterations] [rounds]     (defaults: 20000000 iterations, 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
iterations=${1:-20000000}
rounds=${2:-3}
tools=$(bash scripts/build-lm32-toolchain.sh)/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$tools/lm32-elf-as" --defsym ITERATIONS="$iterations" Benchmarks/lm32/loop.S -o "$work/loop.o"
"$tools/lm32-elf-ld" -Ttext=0 "$work/loop.o" -o "$work/loop.elf"
swift build -c release --product lm32-bench >&2
expected=$(python3 -c "print((($iterations * ($iterations + 1) // 2) & 0xffffffff) & 255)")
echo "program: $((10 * iterations + 8)) instructions; expected exit status $expected"
for round in $(seq "$rounds"); do
    .build/release/lm32-bench --elf "$work/loop.elf"
    start=$(date +%s.%N)
    status=0; "$tools/lm32-elf-run" "$work/loop.elf" || status=$?
    end=$(date +%s.%N)
    python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); n=10*int(sys.argv[3])+8; print(f'gdb-sim   instructions={n} seconds={s:.3f} rate={n/s/1e6:.1f}M/s exit={sys.argv[4]}')" "$start" "$end" "$iterations" "$status"
done
