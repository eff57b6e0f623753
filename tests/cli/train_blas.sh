#!/usr/bin/env bash
# ar-train picks the OpenBLAS core type from the CPU's features (whatever
# OPENBLAS_CORETYPE says), honours AR_BLAS_CORETYPE, falls back to a safer
# kernel when sgemm computes wrongly (simulated with AR_BLAS_TEST_BAD), and
# names library and kernel in its throughput line.
. "$(dirname "$0")/lib.sh"

if [ "$(uname -m)" != x86_64 ]; then
    echo "ok - skipped: OpenBLAS core types are x86 names"
    finish
    exit
fi
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { for f in "$@"; do grep -qw "$f" <<<"$flags" || return 1; done; }
if has avx512f avx512cd avx512bw avx512dq avx512vl; then best=SkylakeX next=Haswell
elif has avx2 fma; then best=Haswell next=Prescott
else best="" next=""; fi

for i in $(seq 1 60); do echo "Document $i: the fox $((i % 7)) and the dog $((i % 5))."; echo; done \
    >"$T/corpus.txt"
ar-train prepare --input "$T/corpus.txt" --vocab 260 --data "$T/data" >/dev/null 2>&1 ||
    fail "prepare the test data"
export AR_DATA="$T/data" AR_PEAK_GFLOPS=100
unset AR_BLAS_CORETYPE AR_BLAS_TEST_BAD
TINY=(--budget 5 --max-steps 1 --no-card --set depth=1 --set aspect_ratio=32 --set head_dim=32
      --set seq_len=16 --set device_batch=2 --set total_batch_tokens=32 --set eval_tokens=64
      --set ve_gate_channels=8 --set threads=1)
blas_line() { grep '^throughput:' <<<"$ERR" | sed 's/.*, OpenBLAS/OpenBLAS/'; }

if [ -n "$best" ]; then
    OPENBLAS_CORETYPE=Prescott run ar-train "${TINY[@]}"
    expect "auto picks $best over OPENBLAS_CORETYPE=Prescott" \
        grep -q "OpenBLAS .* $best (auto)" <<<"$(blas_line)"
    expect "auto run exits 0" test "$RC" -eq 0

    AR_BLAS_TEST_BAD=$best run ar-train "${TINY[@]}"
    expect "a broken $best falls back to $next" grep -q "$next (fallback)" <<<"$(blas_line)"
    expect "the fallback is announced" grep -q "core type $best computes wrong results, trying $next" <<<"$ERR"
    expect "fallback run exits 0" test "$RC" -eq 0

    AR_BLAS_TEST_BAD=SkylakeX,Haswell,Prescott run ar-train "${TINY[@]}"
    expect "no working kernel: exit 1" test "$RC" -eq 1
    expect "no working kernel: says so" grep -q "computes wrong results; set AR_BLAS_CORETYPE" <<<"$ERR"
fi

AR_BLAS_CORETYPE=Prescott run ar-train "${TINY[@]}"
expect "AR_BLAS_CORETYPE names the kernel" grep -q "Prescott (override)" <<<"$(blas_line)"

AR_BLAS_CORETYPE=env OPENBLAS_CORETYPE=Prescott run ar-train "${TINY[@]}"
expect "AR_BLAS_CORETYPE=env keeps OPENBLAS_CORETYPE" grep -q "Prescott (env)" <<<"$(blas_line)"

finish
