#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine with Swift; installs what it needs.
# The reference lm32-elf tools (GNU binutils, gdb and its simulator) are built once per machine
# into ~/.cache/eric/lm32-toolchain (about 9 minutes the first time) for the tests that compare
# against them; set ERIC_SKIP_LM32_TOOLCHAIN=1 to skip those tests instead.
# The real-memory lab (scripts/lab/make.sh: Linux guests under QEMU, a KVM host under Bochs) is
# made once per machine into ~/.cache/eric/lab (about 15 minutes the first time) for the tests
# that check findings on real memory; ERIC_SKIP_LAB=1 skips those tests instead.
# Before the tests, each fuzz target runs for ERIC_FUZZ_SECONDS (default 12; 0 skips).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
if [ "${ERIC_SKIP_LM32_TOOLCHAIN:-0}" != 1 ]; then
    LM32_TOOLCHAIN=$(bash scripts/build-lm32-toolchain.sh)
    export LM32_TOOLCHAIN ERIC_REQUIRE_LM32_TOOLCHAIN=1
fi
if [ "${ERIC_SKIP_LAB:-0}" != 1 ]; then
    ERIC_LAB=${ERIC_LAB:-$HOME/.cache/eric/lab}
    export ERIC_LAB ERIC_REQUIRE_LAB=1
    bash scripts/lab/make.sh >/dev/null
fi
# Every parser of outside input under libFuzzer + ASan for a bounded time (Fuzz/run.sh;
# docs/reliability.md): a crash fails the run. ERIC_FUZZ_SECONDS=0 skips it.
if [ "${ERIC_FUZZ_SECONDS:-12}" != 0 ]; then
    bash Fuzz/run.sh "${ERIC_FUZZ_SECONDS:-12}"
fi
swift test --disable-xctest "$@"
