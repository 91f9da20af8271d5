#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine with Swift; installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift test --disable-xctest "$@"
