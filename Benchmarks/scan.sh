#!/usr/bin/env bash
# eric scan with every shipped automaton over a generated 1 GiB realistic dump, next to a
# native C scanner doing the same checks (Benchmarks/baseline/eric_scan.c) and YARA with rules
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

# The same findings: eric, the C scanner and the ground truth.
$eric scan --json "$dump" | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["type"] == "finding": print("0x%x %s/%s" % (r["page"], r["automaton"], r["name"]))' | sort > "$data/eric.txt" || true
"$data/eric_scan" -v "$dump" 2>/dev/null | sort > "$data/c.txt" || true
python3 -c '
import json, sys
truth = json.load(open(sys.argv[1]))
for s in truth["structures"]:
    for a in s["alerts"]: print("0x%x %s" % (s["address"], a))' "$dump.truth.json" | sort > "$data/truth.txt"
cmp -s "$data/eric.txt" "$data/c.txt" && cmp -s "$data/eric.txt" "$data/truth.txt" || { echo "MISMATCH between eric, C and the ground truth" >&2; exit 1; }
echo "findings: $(wc -l < "$data/eric.txt") in eric, the C scanner and the ground truth alike"

e=(); c=(); i=()
for round in 1 2 3; do
    e+=("$(seconds $eric scan --jobs 1 "$dump")")
    c+=("$(seconds "$data/eric_scan" "$dump")")
    i+=("$(seconds $eric scan --jobs 1 --engine interpreter "$dump")")
done
es=$(min "${e[@]}"); cs=$(min "${c[@]}"); is=$(min "${i[@]}")
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
