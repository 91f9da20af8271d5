#!/usr/bin/env bash
# Builds the fuzz targets (libFuzzer + AddressSanitizer) and runs each one.
#   bash Fuzz/run.sh [SECONDS] [TARGET...]   # default: 20 s each, every target
#   RUNS=10000000 bash Fuzz/run.sh 0 dump    # a fixed number of executions instead of a time
#   FUZZ_SCRATCH=DIR keeps the corpus a campaign grows; FUZZ_BUILD=DIR builds elsewhere
#   FUZZ_RESUME=1 seeds from Fuzz/campaigns/TARGET too (the corpora earlier campaigns grew);
#   FUZZ_KEEP=1 merges what a campaign grew into it at the end (a SIGINT ends a run cleanly)
# Starts from the committed seeds (Fuzz/corpus/TARGET, and the project's automata, assembler
# fixtures and firmware for the assemblers; new inputs go to a scratch folder so the committed
# corpus only changes on purpose). Fails on a crash, an ASan report, an input
# that runs over 10 s, or an allocation over 1 GiB; the input is kept in Fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-20}; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(mpuas mpu-image lm32as lm32-elf dump pcap alert-record gdb-remote soc host-state sealed control)
# The coverage flags explicitly: SwiftPM hands -sanitize=fuzzer to the frontend, which then
# instruments nothing for coverage (seen with Swift 6.3.1), and libFuzzer would fuzz blind.
# FUZZ_BUILD: another build folder, so that a second campaign never rebuilds the binary a
# running one uses.
# And both sanitizers in one -sanitize= for the Swift code: SwiftPM writes its two --sanitize
# flags in a random order (a Set), and the Swift driver keeps only the last -sanitize= it sees,
# so half the builds had no AddressSanitizer in the Swift code at all (seen on 2026-12-05:
# 74,000 instrumented edges instead of 132,000; -Xswiftc flags come after SwiftPM's own).
# Two builds: the parsers with trace-cmp (libFuzzer splices the constants they compare against
# into inputs: magic numbers, lengths, tags), and the targets that run a simulated LM32 without
# it. Swift runs SanitizerCoverage after AddressSanitizer, so trace-cmp also instruments every
# shadow check ASan puts before a memory access (a __sanitizer_cov_trace_const_cmp1 call per
# load and store, seen in the disassembly of LM32CPU.burst); for a target that interprets
# thousands of instructions per input that was half its time (perf), and the compares it traces
# there are of decoded instructions, nothing libFuzzer could splice. Without it: control 2.3x,
# soc 2.7x, gdb-remote 2x the executions per second (2026-12-06).
simulators=" lm32-elf gdb-remote soc control "
variant_of() { [[ $simulators == *" $1 "* ]] && echo nocmp || echo cmp; }
build() {   # build VARIANT -> prints the binary's path
    local coverage=edge,inline-8bit-counters,pc-table scratch=${FUZZ_BUILD:-.build}
    if [ "$1" = cmp ]; then coverage+=,trace-cmp; else scratch+=-nocmp; fi
    local flags=(-c release --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address
                 -Xswiftc -sanitize-coverage=$coverage --scratch-path "$scratch")
    # (errexit does not reach into a command substitution: each failure returns by hand.)
    swift build "${flags[@]}" >&2 || return 1
    local binary
    binary=$(swift build "${flags[@]}" --show-bin-path)/eric-fuzz || return 1
    # The build must catch what it is for: a read one byte past a heap block in Swift code must
    # be reported by AddressSanitizer (the asan-check target does it), or no campaign starts.
    local check report
    check=$(mktemp)
    printf x >"$check"
    report=$(ERIC_FUZZ_TARGET=asan-check SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$binary" "$check" 2>&1 || true)
    rm -f "$check"
    if ! grep -q 'AddressSanitizer: heap-buffer-overflow' <<<"$report"; then
        echo "fuzz: FAILED: the $1 build does not have AddressSanitizer in its Swift code" >&2; return 1
    fi
    echo "$binary"
}
declare -A binaries
for target in "${targets[@]}"; do
    variant=$(variant_of "$target")
    [ -n "${binaries[$variant]:-}" ] || binaries[$variant]=$(build $variant) || exit 1
done
scratch=${FUZZ_SCRATCH:-$(mktemp -d)}
mkdir -p crashes
status=0
for target in "${targets[@]}"; do
    binary=${binaries[$(variant_of "$target")]}
    mkdir -p "$scratch/$target"
    limits=(-rss_limit_mb=2560 -malloc_limit_mb=1024 -timeout=10 -artifact_prefix="crashes/$target-" -print_final_stats=1)
    # Six whole pages for dumps (room for pointers between them, and a kdump's four header blocks), 8 KiB for control sessions
    # (a sealed bundle of about 4 KiB goes in LOAD frames); libFuzzer's 4 KiB for the rest (larger inputs only slow every run down).
    case $target in
        dump) limits+=(-max_len=24576) ;;
        control) limits+=(-max_len=8192) ;;
        *) limits+=(-max_len=4096) ;;
    esac
    if [ -n "${RUNS:-}" ]; then length=(-runs="$RUNS"); else length=(-max_total_time="$seconds"); fi
    log="$scratch/$target.log"
    # Seeds: the committed ones, and the project's own sources of that kind where they are.
    # FUZZ_RESUME=1: also what earlier long campaigns kept (Fuzz/campaigns/TARGET, merged with
    # -merge=1 at a session's end; docs/reliability.md), so a campaign goes on from where the
    # last one stopped. CI's short runs leave it out: replaying it would be most of their time.
    candidates=("corpus/$target")
    [ "${FUZZ_RESUME:-0}" = 1 ] && candidates+=("campaigns/$target")
    case $target in
        mpuas) candidates+=(../automata ../Fixtures/mpuas/ok ../Fixtures/mpuas/err ../Fixtures/bad-inputs) ;;
        lm32as) candidates+=(../firmware ../Fixtures/bad-inputs) ;;
    esac
    seeds=()
    for folder in "${candidates[@]}"; do [ -d "$folder" ] && seeds+=("$folder"); done
    # No allocation stacks (malloc_context_size=0): recording one per allocation was a fifth of
    # a run's time; replaying a kept input without it gives them.
    run=(env ERIC_FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:malloc_context_size=0 "$binary")
    if "${run[@]}" "${limits[@]}" "${length[@]}" "$scratch/$target" "${seeds[@]}" >"$log" 2>&1 \
       || grep -q 'libFuzzer: run interrupted' "$log"; then   # SIGINT: stopped by hand, not a finding
        if ! grep -qE 'INITED cov: [1-9]' "$log"; then
            echo "fuzz $target: FAILED: no coverage (the build is not instrumented)"; status=1; continue
        fi
        how="no crash"; grep -q 'libFuzzer: run interrupted' "$log" && how="no crash (stopped by hand)"
        echo "fuzz $target: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') runs, $(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1), $how"
        # FUZZ_KEEP=1: what this campaign found that the kept corpus lacks goes into it
        # (libFuzzer's -merge=1 keeps the inputs that add coverage), for the next campaign.
        if [ "${FUZZ_KEEP:-0}" = 1 ]; then
            mkdir -p "campaigns/$target"
            before=$(find "campaigns/$target" -type f | wc -l)
            "${run[@]}" -merge=1 "${limits[@]}" "campaigns/$target" "$scratch/$target" >"$scratch/$target.merge.log" 2>&1 \
                || { echo "fuzz $target: FAILED to merge into Fuzz/campaigns/$target (log: $scratch/$target.merge.log)"; status=1; continue; }
            echo "fuzz $target: Fuzz/campaigns/$target: $before -> $(find "campaigns/$target" -type f | wc -l) inputs"
        fi
    else
        status=1
        echo "fuzz $target: FAILED (log below; the input is in Fuzz/crashes/)"
        grep -vE '^#[0-9]+' "$log" | tail -40
    fi
done
exit $status
