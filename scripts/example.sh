#!/usr/bin/env bash
# The main job on a bundled example: assemble the EPT identity-map automaton, show its listing, and
# disassemble the image back to source.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build -c release --product mpuas >&2
mpuas=.build/release/mpuas
mkdir -p out
$mpuas automata/ept-identity.s -o out/ept.mpu -l
echo "--- mpuas -d out/ept.mpu"
$mpuas -d out/ept.mpu
