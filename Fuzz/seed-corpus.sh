#!/usr/bin/env bash
# Writes the seed corpus of each fuzz target into Fuzz/corpus/TARGET from the project's own
# fixtures and reproducers (committed; run again after adding fixtures). Needs the release
# build of eric, mpuas and lm32as (swift build -c release).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release
out=Fuzz/corpus
rm -rf "$out"; mkdir -p "$out"/{mpuas,mpu-image,lm32as,lm32-elf,dump,pcap,alert-record,gdb-remote,soc,sealed,control}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
n=0
# The assemblers' seeds are the project's sources and reproducers themselves (run.sh adds
# automata/, Fixtures/mpuas/, firmware/ and Fixtures/bad-inputs/).
for f in automata/*.s Fixtures/mpuas/ok/*.s; do
    "$bin/mpuas" "$f" -o "$out/mpu-image/$(basename "${f%.s}").mpu" 2>/dev/null || true
done
cp Fixtures/bad-inputs/*.elf "$out/lm32-elf/" 2>/dev/null || true
rm -f "$out/lm32-elf/elf-"*.elf "$out/lm32-elf/firmware-"*.elf
cp Fixtures/bad-inputs/firmware-*.elf "$out/lm32-elf/"
"$bin/lm32as" firmware/eric.S -o "$out/lm32-elf/eric-firmware.elf"
cp Fixtures/bad-inputs/*.lime Fixtures/bad-inputs/elf-*.elf "$out/dump/"
python3 Fuzz/seed-dumps.py Fixtures/dumps/example.raw "$out/dump"
"$bin/eric" run --pcap "$work/example.pcap" Fixtures/dumps/example.raw >/dev/null || true
cp "$work/example.pcap" Fixtures/bad-inputs/*.pcap "$out/pcap/"
python3 Fuzz/seed-frames.py "$work/example.pcap" "$out/alert-record"
cp Fixtures/control/*.bin "$out/alert-record/"     # a READ and a MAP answer of a keyed board (the lab's KVM host)
python3 Fuzz/seed-gdb.py "$out/gdb-remote"
python3 Fuzz/seed-rom.py "$out/lm32-elf/eric-firmware.elf" "$out/soc/firmware.rom"
# Sealed: a key file (the fuzz target's key, bytes 0-31) and the shipped automata sealed for it,
# which the target's checker installs whole.
printf '# the fuzz target key\neric-device-key 1\n%s\n' "$(python3 -c 'print(bytes(range(32)).hex())')" > "$out/sealed/fuzz.key"
"$bin/eric" seal --key "$out/sealed/fuzz.key" --version 1 -o "$out/sealed/shipped.bundle" 2>/dev/null
"$bin/eric" seal --key "$out/sealed/fuzz.key" --version 2 idt -o "$out/sealed/idt.bundle" 2>/dev/null
# Control: frames to the built-in firmware, the shipped set sealed for the target's key loaded among them.
python3 Fuzz/seed-control.py "$out/control" "$out/sealed/shipped.bundle"
find "$out" -type f | wc -l
