#!/usr/bin/env bash
# Measured sgemm peak of this machine, with the core type ar-train picks
# (AR_BLAS_CORETYPE=auto) and, for comparison, OpenBLAS's Haswell (AVX2)
# and Prescott (SSE3) kernels. Its peak is a sound AR_PEAK_GFLOPS for
# ar-train's MFU (ar-train otherwise measures a shorter sgemm peak at
# start-up and raises it to its fastest step's rate; ar-train(1), "MFU").
set -eu
cd "$(dirname "$0")/.."
bench/build.sh
echo "-- auto (what ar-train uses)"
AR_BLAS_CORETYPE=auto bench/sgemm
for ct in Haswell Prescott; do
    echo "-- $ct"
    AR_BLAS_CORETYPE=$ct bench/sgemm --quick | tail -1
done
