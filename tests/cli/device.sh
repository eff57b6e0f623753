#!/usr/bin/env bash
# ar-train's device: --device and the device key choose auto, cpu or cuda;
# cuda where none can be had (no GPU, or a build without CUDA) is one line
# and exit 2 before any data or card is touched; auto on a machine without
# a GPU trains on the CPU with exactly the result of --device cpu; the card
# says where it ran.
. "$(dirname "$0")/lib.sh"
tiny_data
tiny_config "$T/tiny.yaml"
# a fixed learning rate: the schedule follows the clock, the weights then do not
FIXED=(--set warmdown_frac=0 --set muon_weight_decay=0)
TRAIN=(ar-train --config "$T/tiny.yaml" --budget 30 --max-steps 8 --quiet --seed 3 "${FIXED[@]}")

expect_err "an unknown --device is bad input" 2 "option '--device': 'gpu' is not auto, cpu or cuda" \
    "${TRAIN[@]}" --device gpu
expect_err "an unknown device key is bad input" 2 "device" "${TRAIN[@]}" --set device=tpu
expect_err "an unknown precision is bad input" 2 "precision" "${TRAIN[@]}" --set precision=fp8

run ar-train --keys
expect "--keys lists device" grep -qE '^device +choice' <<<"$OUT"
expect "--keys lists precision" grep -qE '^precision +choice' <<<"$OUT"

if nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
    pass "--device cuda without a GPU: skipped, this machine has one"
else
    expect_err "--device cuda without a GPU: one line, exit 2" 2 '^ar-train: device cuda: ' \
        "${TRAIN[@]}" --device cuda --no-card
    expect "... and no knowledge base was created" test ! -e "$KB"
    expect_err "the device key too" 2 '^ar-train: device cuda: ' "${TRAIN[@]}" --set device=cuda --no-card

    run "${TRAIN[@]}" --no-card
    auto=$(awk '/^val_bpb:/ {print $2}' <<<"$OUT")
    run "${TRAIN[@]}" --no-card --device cpu
    cpu=$(awk '/^val_bpb:/ {print $2}' <<<"$OUT")
    run "${TRAIN[@]}" --no-card --set device=cpu --set precision=fp32
    key=$(awk '/^val_bpb:/ {print $2}' <<<"$OUT")
    expect "auto without a GPU trains on the CPU: same val_bpb as --device cpu" \
        test -n "$auto" -a "$auto" = "$cpu"
    expect "the CPU ignores precision: same val_bpb" test "$key" = "$cpu"
fi

run "${TRAIN[@]}" --device cpu
card=$(awk '/^card:/ {print $2}' <<<"$OUT")
cfile="$KB/cards/$card.json"
expect "a CPU run's card says device cpu" grep -q '"device": "cpu"' "$cfile"
expect "its config snapshot keeps the device key" \
    test "$(jq -r '.config.device' "$cfile")" = auto
expect "and the precision" test "$(jq -r '.config.precision' "$cfile")" = bf16
expect "peak_mem_mb of a CPU run is the process's" \
    test "$(jq -r '.metrics.peak_mem_mb > 0' "$cfile")" = true
finish
