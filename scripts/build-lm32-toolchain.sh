#!/usr/bin/env bash
# Builds the reference LM32 tools (GNU as/objdump/ld for lm32-elf, and gdb with its LM32
# simulator) from Debian's binutils-source and gdb-source packages, into a cache directory
# outside the clone, and prints that directory. Does nothing if they are already there.
# About 9 minutes for both on two cores (measured from scratch: 8 min 55 s).
#   LM32_TOOLCHAIN=/path bash scripts/build-lm32-toolchain.sh
set -euo pipefail
prefix=${LM32_TOOLCHAIN:-${XDG_CACHE_HOME:-$HOME/.cache}/eric/lm32-toolchain}
if [ -x "$prefix/bin/lm32-elf-as" ] && [ -x "$prefix/bin/lm32-elf-objdump" ] && [ -x "$prefix/bin/lm32-elf-gdb" ] && [ -x "$prefix/bin/lm32-elf-run" ]; then
    echo "$prefix"
    exit 0
fi
packages=(binutils-source gdb-source flex bison m4 texinfo libgmp-dev libmpfr-dev xz-utils gcc g++ make)
missing=()
for package in "${packages[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=900 "${missing[@]}" >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jobs=$(nproc)
# The tarballs lack some generated lexers and parsers: have make run the tools.
tools=(LEX=flex M4=m4 BISON=bison "YACC=bison -y")

if [ ! -x "$prefix/bin/lm32-elf-as" ] || [ ! -x "$prefix/bin/lm32-elf-objdump" ]; then
echo "building binutils for lm32-elf into $prefix" >&2
tar -C "$work" -xf /usr/src/binutils/binutils-*.tar.xz
binutils=$(ls -d "$work"/binutils-*/)
mkdir "$work/build-binutils"
(cd "$work/build-binutils" && "$binutils/configure" --target=lm32-elf --prefix="$prefix" --disable-nls --disable-werror \
    --disable-gdb --disable-gdbserver --disable-sim --disable-gprofng >&2 &&
    make -j"$jobs" all-binutils all-gas all-ld "${tools[@]}" >&2 &&
    make install-binutils install-gas install-ld >&2)
fi

echo "building gdb and its simulator for lm32-elf into $prefix" >&2
# Debian's gdb-source holds the patched source tree, as gdb/.
mkdir "$work/gdb-source"
tar -C "$work/gdb-source" -xf /usr/src/gdb.tar.xz
gdbsrc=$(dirname "$(ls "$work"/gdb-source/*/configure | head -1)")
mkdir "$work/build-gdb"
(cd "$work/build-gdb" && "$gdbsrc/configure" --target=lm32-elf --prefix="$prefix" --disable-nls --disable-werror \
    --with-python=no --disable-tui --without-guile --disable-gdbserver --disable-binutils --disable-gas --disable-ld \
    --disable-gprof --disable-gprofng >&2 &&
    make -j"$jobs" all-gdb all-sim "${tools[@]}" >&2 &&
    make install-gdb install-sim >&2)
echo "$prefix"
