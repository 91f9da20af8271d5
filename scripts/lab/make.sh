#!/usr/bin/env bash
# The real-memory lab: boots real kernels in emulators, dumps their physical memory and writes
# what the CPU said was there, for testing automata against memory no generator wrote.
#   scripts/lab/make.sh [KIND...]   (default: every kind below)
#     linux  Debian 12's kernel under QEMU TCG (KASLR on): 256 MiB/2 vCPUs and 512 MiB/4 vCPUs
#            idle, 256 MiB/2 vCPUs busy with page-table isolation, and 256 MiB/2 vCPUs with
#            5-level paging (linux/make-dump.sh), each as an ELF core (QEMU dump-guest-memory),
#            raw and LiME; about 1.5 minutes
#     kvm    Linux + kvm_intel under Bochs (VMX and EPT) running a 2-vCPU KVM guest; raw; ~4 minutes
#     kvm2   the same host running two VMs of 2 vCPUs each (four VMCS, two EPT hierarchies)
#     kvm-stale  the same host with one VM running and one destroyed just before the dump
#            (two live VMCS, two stale ones)
#     kvm-huge   the same host with guest RAM in 2 MiB huge pages (hugetlbfs): an EPT with
#            2 MiB leaves next to 4 KiB ones; each kvm kind about 2.5 minutes
#     kvm-series one boot of the host dumped eight times: before kvm loads, after, with one VM,
#            after it ran on, with two, after the first is destroyed, after the second, after
#            kvm_intel's code is overwritten; series.json names what each step must be called
#            (eric check); about 6 minutes
# The dumps are cached under $ERIC_LAB (default ~/.cache/eric/lab), never in git; existing ones
# are kept (FORCE=1 makes new ones: addresses change from boot to boot). Then
# scripts/lab/expect.py writes $ERIC_LAB/expected.json: the structures each dump holds.
# Root on Debian 12; installs the Debian packages it needs.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LAB=${ERIC_LAB:-$HOME/.cache/eric/lab}
kinds=("$@"); [ ${#kinds[@]} -gt 0 ] || kinds=(linux kvm kvm2 kvm-stale kvm-huge kvm-series)
folders=()
for kind in "${kinds[@]}"; do
    case $kind in
        linux) script=make-dump.sh; ready="$LAB/linux/truth.json" ;;
        kvm|kvm2|kvm-stale|kvm-huge) script=make-vmxdump.sh; ready="$LAB/$kind/out/vmxdump.raw" ;;
        kvm-series) script=make-vmxdump.sh; ready="$LAB/$kind/series.json" ;;
        *) echo "make.sh: unknown lab '$kind' (expected linux, kvm, kvm2, kvm-stale, kvm-huge or kvm-series)" >&2; exit 64 ;;
    esac
    dir="$LAB/$kind"
    source=$kind; [ "$kind" != linux ] && source=kvm
    export KVMGUEST_CFLAGS=""
    [ "$kind" = kvm2 ] && KVMGUEST_CFLAGS="-DNVM=2"
    [ "$kind" = kvm-stale ] && KVMGUEST_CFLAGS="-DSTALE_VM"
    [ "$kind" = kvm-huge ] && KVMGUEST_CFLAGS="-DHUGE_PAGES"
    export SERIES=0
    [ "$kind" = kvm-series ] && { KVMGUEST_CFLAGS="-DSERIES"; SERIES=1; }
    folders+=("$dir")
    mkdir -p "$dir"
    cp "$HERE/$source"/* "$dir/"
    chmod u+w "$dir"/*; chmod +x "$dir"/*.sh "$dir"/*.py 2>/dev/null || true
    if [ "$kind" != linux ] && [ -s "$ready" ] && { [ -s "$dir/truth.json" ] || [ "$kind" = kvm-series ]; } && [ "${FORCE:-0}" != 1 ]; then
        echo "lab $kind: $ready already made (FORCE=1 to redo)" >&2
        continue
    fi
    echo "lab $kind: making dumps in $dir" >&2
    (cd "$dir" && "./$script") >"$dir/make.log" 2>&1 || { tail -30 "$dir/make.log" >&2; echo "lab $kind failed: $dir/make.log" >&2; exit 1; }
done
# expected.json covers every lab folder present, not only those made now
all=()
for kind in linux kvm kvm2 kvm-stale kvm-huge; do [ -s "$LAB/$kind/truth.json" ] && all+=("$LAB/$kind"); done
python3 "$HERE/expect.py" "${all[@]}" -o "$LAB/expected.json" >&2
echo "$LAB/expected.json"
