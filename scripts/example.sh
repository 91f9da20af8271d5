#!/usr/bin/env bash
# The main job on a bundled example: assemble the EPT identity-map automaton, then scan the
# bundled 1 MiB dump with it and report what the device would find and what it would cost.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build -c release --product mpuas >&2
swift build -c release --product eric >&2
mkdir -p out
.build/release/mpuas automata/ept-identity.s -o out/ept-identity.mpu
echo "assembled automata/ept-identity.s -> out/ept-identity.mpu"
echo
status=0
.build/release/eric scan --automaton out/ept-identity.mpu Fixtures/dumps/example.raw || status=$?
# eric scan exits 1 when it finds something, which is what this example expects.
[ "$status" -eq 1 ] || { echo "unexpected exit status $status" >&2; exit 1; }
