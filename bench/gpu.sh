#!/usr/bin/env bash
# ar-train on a CUDA GPU at autoresearch's defaults: depth 8, width 512
# (aspect 64), head_dim 128, seq_len 2048, 2^19 tokens per step, SSSL
# windows, value embeddings, ReLU^2, vocabulary 8192; prints tokens/s, MFU
# (against the GPU's published dense bf16 peak), peak device memory and the
# steps a 300 s budget makes, beside train.py's published H100 figures
# (39.8% MFU, 953 steps in 300 s, 45 GB peak; its tokens/s is derived:
# 953 x 2^19 / 300). Target on an H100: >= 40%
# MFU in bf16.
#
# The data is a synthetic corpus prepared into a temporary directory (the
# speed does not depend on the text; the machine needs no network), unless
# BENCH_DATA names prepared data with a vocabulary of 8192. BENCH_BUDGET
# (default 60 s) is the training time of each run; BENCH_BATCH (default 32)
# the micro-batch in sequences: ar-train keeps fp32 activations, so 128
# (train.py's, in bf16) does not fit; the 2^19-token step accumulates over
# micro-batches. BENCH_FP32=1 adds a run with precision fp32 (TF32).
# Where no GPU is visible (nvidia-smi -L) or nvcc is missing it prints one
# "skipped" line and exits 0, so `make bench` runs on any machine.
set -eu
cd "$(dirname "$0")/.."
if ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
    echo "bench/gpu.sh: skipped: no GPU"; exit 0
fi
if ! command -v nvcc >/dev/null && [ ! -x /usr/local/cuda/bin/nvcc ]; then
    echo "bench/gpu.sh: skipped: no nvcc to build the CUDA kernels"; exit 0
fi
make -s cuda >/dev/null
budget=${BENCH_BUDGET:-60}
batch=${BENCH_BATCH:-32}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

data=${BENCH_DATA:-}
if [ -z "$data" ]; then
    data=$tmp/data
    awk 'BEGIN { srand(1); split("ka lo mi ne ru sa ti vo be da fi gu ha je ko lu ma no pi qu re so tu va we xi", s, " ")
        for (d = 0; d < 20000; d++) {
            line = ""; n = 30 + int(rand() * 40)
            for (w = 0; w < n; w++) {
                k = 1 + int(rand() * 3); word = ""
                for (j = 0; j < k; j++) word = word s[1 + int(rand() * 26)]
                line = line (w ? " " : "") word
            }
            print line "."; print ""
        } }' >"$tmp/corpus.txt"
    bin/ar-train prepare --input "$tmp/corpus.txt" --vocab 8192 --data "$data" >/dev/null
fi

run() {   # NAME PRECISION: one run, one result row
    local name=$1 prec=$2
    if ! bin/ar-train --device cuda --data "$data" --budget "$budget" --no-card \
        --set depth=8 --set aspect_ratio=64 --set head_dim=128 --set seq_len=2048 \
        --set window_pattern=SSSL --set total_batch_tokens=524288 --set device_batch="$batch" \
        --set eval_tokens=65536 --set warmup_steps_uncounted=3 --set precision="$prec" \
        >"$tmp/out" 2>"$tmp/err"; then
        echo "$name: ar-train failed (exit $?)"; tail -3 "$tmp/err"; return 1
    fi
    local tps
    tps=$(awk '/^throughput:/ {print $2}' "$tmp/err")
    awk -v name="$name" -v tps="$tps" '
        /^mfu_percent:/ {mfu = $2} /^peak_mem_mb:/ {mem = $2} /^num_steps:/ {s = $2}
        /^training_seconds:/ {t = $2} /^val_bpb:/ {bpb = $2}
        END {
            steps300 = t > 0 ? s * 300 / t : 0
            printf "%-14s %10.0f %8.2f %11.1f %14.0f %9.4f\n", name, tps, mfu, mem / 1024, steps300, bpb
        }' "$tmp/out"
}

gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
echo "GPU: ${gpu:-unknown}; budget ${budget}s per run; micro-batch $batch x 2048"
printf "%-14s %10s %8s %11s %14s %9s\n" run "tokens/s" "mfu_%" "peak_GB" "steps_in_300s" val_bpb
printf "%-14s %10s %8s %11s %14s %9s\n" "train.py H100" "~1665000" 39.80 45.0 953 -
run "ar-train bf16" bf16
[ "${BENCH_FP32:-0}" != 1 ] || run "ar-train fp32" fp32
echo "target on an H100: mfu >= 40% in bf16"
