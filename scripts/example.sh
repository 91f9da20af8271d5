#!/usr/bin/env bash
# The main job on a bundled example: `eric scan` with its built-in automata over the bundled
# dump (Fixtures/dumps/example.raw: 1 MiB of memory made by `eric synth --seed 2014 --size 1M`,
# whose ground truth is example.raw.truth.json), reporting what the device would find, what
# it would cost, and how fast the scan ran here.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build -c release --product eric >&2
status=0
.build/release/eric scan Fixtures/dumps/example.raw || status=$?
# eric scan exits 1 when it finds something, which is what this example expects.
[ "$status" -eq 1 ] || { echo "unexpected exit status $status" >&2; exit 1; }
