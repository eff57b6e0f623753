#!/usr/bin/env bash
# Everything a machine with an NVIDIA GPU should check, in one call:
#   1. builds ar-train and the GPU tests with the CUDA kernels (make cuda);
#   2. tests/gpu/test_* : every kernel against kernels/cpu, and 50 training
#      steps against the CPU's loss curve;
#   3. a tiny ar-train run on the GPU that records a card, whose platform
#      must say device cuda, a GPU class and gpu_mem_gb;
#   4. bench/gpu.sh (BENCH_BUDGET, default here 30 s per run);
# then prints a summary. Exit 0 when every part passed. Where no GPU is
# visible it says so and exits 0 after building (the build is checked
# everywhere). MAKEFLAGS=-jN speeds the build.
set -u
cd "$(dirname "$0")/../.."
summary=()
fails=0
note() { summary+=("$1"); }

t0=$(date +%s)
if make -s cuda >/tmp/ar-gpu-build.$$ 2>&1; then
    note "build: ok ($(( $(date +%s) - t0 )) s)"
else
    tail -20 /tmp/ar-gpu-build.$$
    note "build: FAILED"; fails=$((fails + 1))
    printf '%s\n' "${summary[@]}"; rm -f /tmp/ar-gpu-build.$$; exit 1
fi
rm -f /tmp/ar-gpu-build.$$

if ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
    note "gpu: skipped: no GPU visible (nvidia-smi -L)"
    printf '%s\n' "${summary[@]}"
    exit 0
fi
note "gpu: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1)"

for t in tests/gpu/test_*; do
    case $t in *.c|*.d) continue ;; esac
    out=$(CK_VERBOSITY=normal "$t" 2>&1); rc=$?
    echo "$out" | grep -vE '^[0-9]+%: Checks' | grep -v '^Running' | sed 's/^/    /' | tail -40
    line=$(echo "$out" | grep -E '^[0-9]+%: Checks' | tail -1)
    if [ "$rc" -eq 0 ] && [ -n "$line" ]; then note "$t: ok ($line)"
    else note "$t: FAILED (exit $rc; ${line:-no summary})"; fails=$((fails + 1)); fi
done

# a tiny run on the GPU, with its card
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for i in $(seq 1 300); do
    echo "Document $i tells how the fox $((i % 7)) met the dog $((i % 5)) by the river."; echo
done >"$T/corpus.txt"
if bin/ar-train prepare --input "$T/corpus.txt" --vocab 300 --data "$T/data" >/dev/null 2>&1 &&
    bin/ar-train --device cuda --data "$T/data" --kb "$T/kb" --budget 5 --max-steps 20 --quiet \
        --set depth=2 --set aspect_ratio=32 --set head_dim=32 --set seq_len=32 \
        --set device_batch=4 --set total_batch_tokens=256 --set eval_tokens=1024 \
        --set ve_gate_channels=16 >"$T/out" 2>"$T/err"; then
    id=$(awk '/^card:/ {print $2}' "$T/out")
    plat=$(AR_KB="$T/kb" bin/ar-card show --json "$id" 2>/dev/null |
           jq -c '.platform | {device, class, name, gpu_mem_gb}' 2>/dev/null)
    if echo "$plat" | jq -e '.device == "cuda" and (.class | length > 0) and .gpu_mem_gb > 0' \
        >/dev/null 2>&1; then
        note "ar-train --device cuda: ok, val_bpb $(awk '/^val_bpb:/ {print $2}' "$T/out"), platform $plat"
    else
        note "ar-train --device cuda: FAILED (platform: ${plat:-none})"; fails=$((fails + 1))
    fi
else
    tail -3 "$T/err"
    note "ar-train --device cuda: FAILED (see above)"; fails=$((fails + 1))
fi

if BENCH_BUDGET=${BENCH_BUDGET:-30} bench/gpu.sh >"$T/bench" 2>&1; then
    note "bench/gpu.sh: ok"
else
    note "bench/gpu.sh: FAILED"; fails=$((fails + 1))
fi

echo "== bench/gpu.sh"; cat "$T/bench"
echo "== summary"
printf '%s\n' "${summary[@]}"
echo "$fails failed"
[ "$fails" -eq 0 ]
