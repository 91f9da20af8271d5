#!/usr/bin/env bash
# eric scan with every shipped automaton over a generated 1 GiB realistic dump and the lab's
# real 512 MiB guest, next to a native C scanner doing the same page checks (Benchmarks/baseline/eric_scan.c) and YARA with rules
# expressing them (Benchmarks/yara/eric.yar), in the same run; then eric's peak memory on a
# 4 GiB dump. Whole commands are timed (start-up included), best of 3 interleaved runs.
#   bash Benchmarks/scan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
data=.build/bench-data
mkdir -p "$data"
command -v yara >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq yara >&2; }
swift build -c release --product eric >&2
eric=.build/release/eric
gcc -O2 -mpopcnt -o "$data/eric_scan" Benchmarks/baseline/eric_scan.c
dump="$data/synth-1g.raw"
[ -f "$dump" ] || $eric synth --seed 2014 --size 1G --format raw -o "$dump"

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; end=$(date +%s.%N); echo "$end - $start" | bc; }
min() { printf '%s\n' "$@" | sort -g | head -1; }

# The same page checks: every page-level match eric reports (findings and candidates of the
# sweep, not of follow-up runs) is one the C scanner makes, and the other way round; on the
# generated dump and on the lab's real ones when they are there (scripts/lab/make.sh).
lab=${ERIC_LAB:-$HOME/.cache/eric/lab}
real=()
for f in "$lab/linux/out/guest-512M-4cpu.raw" "$lab/kvm/out/vmxdump.raw"; do [ -f "$f" ] && real+=("$f"); done
for d in "$dump" "${real[@]}"; do
    $eric scan --jobs 1 --json --candidates "$d" | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["type"] in ("finding", "candidate") and not r.get("follow_up"): print("0x%x %s/%s" % (r["page"], r["automaton"], r["name"]))' | sort > "$data/eric.txt" || true
    "$data/eric_scan" -v "$d" 2>/dev/null | sort > "$data/c.txt" || true
    cmp -s "$data/eric.txt" "$data/c.txt" || { echo "MISMATCH between eric and C on $d" >&2; diff "$data/eric.txt" "$data/c.txt" | head >&2; exit 1; }
    echo "$(basename "$d"): $(wc -l < "$data/eric.txt") page-level matches in eric and the C scanner alike"
done

e=(); c=(); i=()
for round in 1 2 3; do
    e+=("$(seconds $eric scan --jobs 1 "$dump")")
    c+=("$(seconds "$data/eric_scan" "$dump")")
    i+=("$(seconds $eric scan --jobs 1 --engine interpreter "$dump")")
done
es=$(min "${e[@]}"); cs=$(min "${c[@]}"); is=$(min "${i[@]}")
# The lab's real 512 MiB guest: eric (page checks, follow-ups and correlation) against the C
# scanner's page checks alone.
if [ ${#real[@]} -gt 0 ]; then
    re=(); rc=()
    for round in 1 2 3; do
        re+=("$(seconds $eric scan --jobs 1 "${real[0]}")")
        rc+=("$(seconds "$data/eric_scan" "${real[0]}")")
    done
    echo "real $(basename "${real[0]}"): eric scan, 1 job: $(min "${re[@]}") s   native C: $(min "${rc[@]}") s   eric / C: $(echo "scale=2; $(min "${re[@]}") / $(min "${rc[@]}")" | bc)"
fi
ys=$(seconds yara -w Benchmarks/yara/eric.yar "$dump")
echo "eric scan, 1 job, compiled engine: $es s"
echo "eric scan, 1 job, interpreter:     $is s"
echo "native C scanner:                  $cs s"
echo "yara (1 run):                      $ys s"
echo "eric / C: $(echo "scale=2; $es / $cs" | bc)   yara / eric: $(echo "scale=1; $ys / $es" | bc)"

big="$data/synth-4g.raw"
[ -f "$big" ] || $eric synth --seed 1 --size 4G --format raw -o "$big"
/usr/bin/time -v $eric scan "$big" >/dev/null 2>"$data/time.txt" || true
echo "peak memory scanning a 4 GiB dump: $(grep 'Maximum resident' "$data/time.txt" | awk '{print $6}') KiB"
