#!/usr/bin/env bash
# Measured sgemm peak of this machine, with the core type ar-train picks
# (AR_BLAS_CORETYPE=auto) and, for comparison, OpenBLAS's Haswell (AVX2)
# and Prescott (SSE3) kernels. The peak is the reference for MFU.
set -eu
cd "$(dirname "$0")/.."
bench/build.sh
echo "-- auto (what ar-train uses)"
AR_BLAS_CORETYPE=auto bench/sgemm
for ct in Haswell Prescott; do
    echo "-- $ct"
    AR_BLAS_CORETYPE=$ct bench/sgemm --quick | tail -1
done
