#!/usr/bin/env bash
# ar-train stopped by SIGTERM (timeout's), SIGINT or SIGHUP records a crash
# card with the reason and the steps done, and exits 128 + signal; a second
# signal ends it at once; a signal ignored at start (nohup) stays ignored.
. "$(dirname "$0")/lib.sh"
set -m   # background jobs of their own, so SIGINT reaches them

tiny_data
tiny_config "$T/tiny.yaml"

# start NAME ARGS...: a long run in the background ($pid), its output in
# $T/NAME.out and .err; waits (up to 120 s) for its first progress line
start() {
    local name=$1; shift
    ar-train --config "$T/tiny.yaml" --budget 600 --session sigtest "$@" \
        >"$T/$name.out" 2>"$T/$name.err" &
    pid=$!
    for _ in $(seq 1200); do
        grep -q '^step 00001 ' "$T/$name.err" && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    fail "$name: no first progress line" "$(tail -3 "$T/$name.err")"
}

# the knowledge base holds whole, valid facts and nothing else
kb_whole() {
    ar-card validate >/dev/null 2>&1 && ar-card index --check >/dev/null 2>&1 &&
        test -z "$(ls "$KB/cards" | grep -vE '^20[0-9]{6}T[0-9]{6}Z-[0-9a-f]+\.json$')"
}

declare -A code=([TERM]=143 [INT]=130 [HUP]=129)
for sig in TERM INT HUP; do
    start "$sig" --hypothesis "killed by $sig"
    kill -"$sig" "$pid"
    wait "$pid"
    rc=$?
    out=$(cat "$T/$sig.out")
    expect "SIG$sig: exits 128 + signal" test "$rc" -eq "${code[$sig]}"
    expect "SIG$sig: says why on stderr" grep -q "SIG$sig: stopping (killed by SIG$sig after" "$T/$sig.err"
    expect "SIG$sig: summary says crash" grep -qE '^status: +crash$' <<<"$out"
    expect "SIG$sig: summary gives the reason" grep -qE "^reason: +killed by SIG$sig after [0-9]+ steps" <<<"$out"
    id=$(awk '/^card:/ {print $2}' <<<"$out")
    card="$KB/cards/$id.json"
    expect "SIG$sig: a card is recorded" test -n "$id" -a -f "$card"
    expect "SIG$sig: the card is a crash" test "$(jq -r .status "$card")" = crash
    reason=$(jq -r .extra.crash "$card")
    steps=$(jq -r .metrics.num_steps "$card")
    expect "SIG$sig: the card has the reason" grep -qE "^killed by SIG$sig after [0-9]+ steps \(" <<<"$reason"
    expect "SIG$sig: the reason's steps are the card's num_steps, at least 1" \
        test "$(sed -E 's/^killed by SIG[A-Z]+ after ([0-9]+) steps.*/\1/' <<<"$reason")" = "$steps" -a "$steps" -ge 1
    expect "SIG$sig: the card has no val_bpb" test "$(jq -r '.metrics.val_bpb // "none"' "$card")" = none
    expect "SIG$sig: the knowledge base is whole" kb_whole
done
expect "three signals, three crash cards" test "$(ls "$KB/cards" | grep -c '\.json$')" -eq 3

# --max-steps: the reason counts against it
start steps --max-steps 100000 --no-card
kill -TERM "$pid"
wait "$pid"
rc=$?
expect "--no-card: exits 143" test "$rc" -eq 143
expect "--no-card: the reason counts against --max-steps" \
    grep -qE '^reason: +killed by SIGTERM after [0-9]+ of 100000 steps' "$T/steps.out"
expect "--no-card: still three cards" test "$(ls "$KB/cards" | grep -c '\.json$')" -eq 3

# a second signal ends it at once, of the signal, leaving nothing torn
start twice --hypothesis "killed twice"
kill -TERM "$pid"
kill -TERM "$pid"
wait "$pid"
rc=$?
expect "a second SIGTERM: exits 143" test "$rc" -eq 143
expect "a second SIGTERM: the knowledge base is whole" kb_whole

# nohup: an ignored SIGHUP stays ignored; the SIGTERM after it stops the run
( trap '' HUP; exec ar-train --config "$T/tiny.yaml" --budget 600 --session sigtest \
    --hypothesis nohup >"$T/nohup.out" 2>"$T/nohup.err" ) &
pid=$!
for _ in $(seq 1200); do grep -q '^step 00001 ' "$T/nohup.err" && break; sleep 0.1; done
kill -HUP "$pid"
kill -TERM "$pid"
wait "$pid"
rc=$?
expect "nohup: the SIGTERM after an ignored SIGHUP exits 143" test "$rc" -eq 143
expect "nohup: the reason is the SIGTERM" grep -qE '^reason: +killed by SIGTERM after' "$T/nohup.out"
finish
