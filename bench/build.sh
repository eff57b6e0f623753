#!/usr/bin/env bash
# Builds the benchmark helpers (bench/gencards) with the project's compiler
# flags and libraries, which make's built-in "%: %.c" rule takes from the
# Makefile; the archives are passed as LOADLIBES. Usage: bench/build.sh
set -eu
cd "$(dirname "$0")/.."
make -s lib/libar.a lib/libtrain.a
for c in bench/*.c; do
    make -s -B "${c%.c}" LOADLIBES="lib/libtrain.a lib/libar.a" OPT="${OPT:--O2}"
done
