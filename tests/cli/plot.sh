#!/usr/bin/env bash
# ar-plot: progress and findings charts as PNG, SVG and text; empty
# knowledge base; filters; bad input and unwritable output.
. "$(dirname "$0")/lib.sh"

is_png() { [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' ')" = "89504e47" ]; }
max_width() { awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' <<<"$1"; }
lines() { grep -c '' <<<"$1"; }

mkdir -p "$KB/cards" "$KB/notes"
run ar-plot progress --term
expect_rc "an empty knowledge base is not an error" 0 ar-plot progress --term
expect "empty chart carries a note" grep -q "no experiments yet" <<<"$OUT"
expect_rc "empty PNG" 0 ar-plot progress -o "$T/empty.png"
expect "empty PNG is a PNG" is_png "$T/empty.png"
run ar-plot findings --term
expect "empty findings chart carries a note" grep -q "no claims yet" <<<"$OUT"

A='{"class":"cpu-avx2"}' B='{"class":"cpu-neon"}'
card() {   # status class session val_bpb [more ar-card write options]
    local status=$1 plat=$2 session=$3 bpb=$4; shift 4
    ar-card write --hypothesis "test $status" --category optimizer --status "$status" \
        --commit abc1234 --session "$session" --platform "$plat" --budget 300 \
        ${bpb:+--val-bpb "$bpb"} "$@"
}
base_a=$(card baseline "$A" s1 1.100 --created 2026-11-20T10:00:00.000Z)
base_b=$(card baseline "$B" s2 1.300 --created 2026-11-20T10:00:00.000Z)
up='[{"key":"matrix_lr","from":0.04,"to":0.06}]'
card keep "$A" s1 1.080 --delta -0.020 --baseline "$base_a" --changes "$up" \
    --created 2026-11-20T11:00:00.000Z --metric training_seconds=300 >/dev/null
card discard "$B" s2 1.320 --delta 0.020 --baseline "$base_b" --changes "$up" \
    --created 2026-11-20T12:00:00.000Z >/dev/null
card crash "$A" s1 "" --created 2026-11-20T13:00:00.000Z >/dev/null
gone=$(card keep "$A" s1 1.000 --delta -0.1 --baseline "$base_a" --created 2026-11-20T14:00:00.000Z)
ar-card retract "$gone" --reason "bad data" >/dev/null

run ar-plot progress --term
expect_rc "progress --term" 0 ar-plot progress --term
expect "text chart fits 80 columns" test "$(max_width "$OUT")" -le 80
expect "text chart fits 24 lines" test "$(lines "$OUT")" -le 24
expect "legend counts kept cards" grep -q "o keep (1)" <<<"$OUT"
expect "crashes are drawn as ticks" grep -q "x crash (1)" <<<"$OUT"
expect "retracted cards are left out" grep -q "1 retracted not shown" <<<"$OUT"
expect "a running-best line per class" grep -q "best: cpu-avx2" <<<"$OUT"
run ar-plot progress --term --width 60 --height 16
expect "--width and --height size the text chart" \
    test "$(max_width "$OUT")" -le 60 -a "$(lines "$OUT")" -le 16
run ar-plot progress --term --x time
expect "--x time labels dates" grep -q "11-20" <<<"$OUT"
run ar-plot progress --term --x hours
expect "--x hours" grep -q "accumulated training hours" <<<"$OUT"
run ar-plot progress --term --by session
expect "--by session" grep -q "best: s1" <<<"$OUT"
run ar-plot progress --term --session s2
expect "--session keeps one session" grep -q "2 experiments (session s2)" <<<"$OUT"
run ar-plot progress --term --platform cpu-avx2 --since 2026-11-20T10:30
expect "--platform and --since" grep -q "2 experiments (platform cpu-avx2, since" <<<"$OUT"

expect_rc "progress -o PNG" 0 ar-plot progress -o "$T/p.png"
expect "the PNG is a PNG" is_png "$T/p.png"
expect_rc "progress --output SVG" 0 ar-plot progress --output "$T/p.svg"
expect "the SVG is SVG" grep -q "<svg" "$T/p.svg"
expect_rc "progress with no output writes plots/" 0 ar-plot progress
expect "plots/progress.png and .svg" test -s "$KB/plots/progress.png" -a -s "$KB/plots/progress.svg"

run ar-plot findings --term
expect "findings names the claim" grep -q "matrix_lr:up" <<<"$OUT"
expect "a claim confirmed on one class and refuted on another is marked" \
    grep -qE "matrix_lr:up .*\| ! " <<<"$OUT"
expect "findings text fits 80 columns" test "$(max_width "$OUT")" -le 80
expect_rc "findings -o PNG" 0 ar-plot findings -o "$T/f.png"
expect "findings PNG" is_png "$T/f.png"

before=$(tree_sum "$KB")
expect_err "unknown session" 2 "session 'nope': no card" ar-plot progress --term --session nope
expect_err "unknown platform class" 2 "platform class 'tpu': no card" ar-plot findings --term --platform tpu
expect_err "bad --since" 2 "option '--since'" ar-plot progress --term --since yesterday
expect_err "bad --x" 2 "option '--x'" ar-plot progress --term --x steps
expect_err "bad --by" 2 "option '--by'" ar-plot progress --by agent
expect_err "unknown image format" 2 "must end in .png or .svg" ar-plot progress -o "$T/p.gif"
expect_err "--term with -o" 2 "exclude each other" ar-plot progress --term -o "$T/x.png"
expect_err "image too small" 2 "out of range" ar-plot progress -o "$T/x.png" --width 10
expect_err "--top 0" 2 "option '--top'" ar-plot findings --top 0
expect_err "unknown subcommand" 2 "unknown command 'pie'" ar-plot pie
expect_err "unwritable output" 1 "$T/no/such/dir" ar-plot progress -o "$T/no/such/dir/p.png"
expect "bad input changed nothing" test "$(tree_sum "$KB")" = "$before"
expect "nothing written for the bad -o" test ! -e "$T/p.gif" -a ! -e "$T/x.png"
expect_err "missing knowledge base" 1 "$T/none" ar-plot progress --term --kb "$T/none"
finish
