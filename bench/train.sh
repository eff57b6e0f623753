#!/usr/bin/env bash
# Training speed and budget scaling of ar-train on this machine:
#   - the measured sgemm peak (bench/sgemm when present, else ar-train's own
#     start-up measurement), the reference for MFU;
#   - tokens/s, achieved GFLOP/s and MFU of the default config and of a
#     larger one (depth 6, width 384);
#   - val_bpb of the default config after 60 s and after 300 s of training
#     on the default corpus (it should keep falling with the longer budget).
# Takes about 9 minutes. BENCH_SHORT=S and BENCH_LONG=S change the budgets.
# Uses $AR_DATA (default ~/.cache/ar), preparing the default corpus if needed.
set -eu
cd "$(dirname "$0")/.."
make -s bin/ar-train
short=${BENCH_SHORT:-60}
long=${BENCH_LONG:-300}
data=${AR_DATA:-$HOME/.cache/ar}
[ -f "$data/manifest.json" ] || bin/ar-train prepare --data "$data" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -z "${AR_PEAK_GFLOPS:-}" ] && [ -f bench/sgemm.c ] && bench/build.sh >/dev/null 2>&1; then
    AR_PEAK_GFLOPS=$(bench/sgemm | awk '/^sgemm peak:/ {print $3}')
    src="bench/sgemm"
else
    src="ar-train start-up"
fi
[ -n "${AR_PEAK_GFLOPS:-}" ] && export AR_PEAK_GFLOPS

# run NAME BUDGET ARGS...: one training run; prints a result row
row() {
    local name=$1 budget=$2; shift 2
    bin/ar-train --data "$data" --budget "$budget" --no-card "$@" >"$tmp/out" 2>"$tmp/err" || {
        echo "$name: ar-train failed"; tail -3 "$tmp/err"; return 1; }
    local tp
    tp=$(grep '^throughput:' "$tmp/err")
    awk -v name="$name" -v tp="$tp" '
        /^val_bpb:/ {bpb = $2} /^num_params_M:/ {p = $2} /^num_steps:/ {s = $2}
        /^training_seconds:/ {t = $2}
        END {
            split(tp, f, /[ ,]+/)   # throughput: N tok/s, G GFLOP/s, mfu M% of P GFLOP/s, ...
            printf "%-22s %8s %6s %7.1f %9s %9s %7s %9s\n", name, p, s, t, f[2], f[4], f[7], bpb
        }' "$tmp/out"
    [ -z "${PEAK_SHOWN:-}" ] && PEAK_SHOWN=$(awk '{for (i = 1; i <= NF; i++) if ($i == "of") print $(i+1)}' <<<"$tp")
    awk '/^val_bpb:/ {print $2}' "$tmp/out" >"$tmp/bpb.$name"
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
printf "%-22s %8s %6s %7s %9s %9s %7s %9s\n" config params_M steps train_s tok/s GFLOP/s "MFU%" val_bpb
row "default-${short}s" "$short"
row "larger-${short}s" "$short" --set depth=6 --set aspect_ratio=64
row "default-${long}s" "$long"
echo "sgemm peak: ${AR_PEAK_GFLOPS:-$PEAK_SHOWN} GFLOP/s (from $src)"
a=$(cat "$tmp/bpb.default-${short}s") b=$(cat "$tmp/bpb.default-${long}s")
awk -v a="$a" -v b="$b" -v s="$short" -v l="$long" 'BEGIN {
    printf "val_bpb %s s -> %s s: %s -> %s (%s)\n", s, l, a, b,
        b < a ? "falls with the longer budget" : "does NOT fall" }'
