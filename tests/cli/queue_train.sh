#!/usr/bin/env bash
# ar-train --queue: claims an entry, trains with its overrides (heartbeating
# while it trains), records the card and marks the entry done; a bad entry
# fails; nothing pending is exit 1.
. "$(dirname "$0")/lib.sh"
for i in $(seq 1 200); do
    echo "Document $i tells how the fox $((i % 7)) met the dog $((i % 5)) by the river."
done >"$T/corpus.txt"
ar-train prepare --input "$T/corpus.txt" --vocab 300 --data "$T/data" >/dev/null 2>&1 ||
    fail "prepare the test data"
export AR_DATA="$T/data" AR_QUEUE_HEARTBEAT=0.3
tiny_config "$T/tiny.yaml"
TRAIN=(ar-train --config "$T/tiny.yaml" --budget 1.5 --quiet --queue)

expect_err "nothing pending" 1 "queue: no pending entry" "${TRAIN[@]}"
run ar-queue add --hypothesis "higher matrix lr" --category optimizer --set matrix_lr=0.03 --priority 2
e1=$OUT
run ar-queue add --hypothesis "later" --category other --set depth=1
e2=$OUT
run "${TRAIN[@]}"
expect "a queued run trains and prints its card" grep -qE '^card: +[0-9]{8}T' <<<"$OUT"
card=$(awk '/^card:/ {print $2}' <<<"$OUT")
run ar-queue show --json "$e1"
expect "the best entry is done with the card" grep -q "\"card\":\"$card\".*\"status\":\"done\"" <<<"$OUT"
expect "it was claimed by the agent" grep -q '"claimed_by":"test-agent"' <<<"$OUT"
claimed=$(grep -oE '"claimed_at":"[^"]+"' <<<"$OUT" | cut -d'"' -f4)
beat=$(grep -oE '"heartbeat_at":"[^"]+"' <<<"$OUT" | cut -d'"' -f4)
expect "it heartbeat while training" test "$beat" \> "$claimed"
cfile="$KB/cards/$card.json"
expect "the card has the entry's hypothesis" grep -q '"hypothesis": "higher matrix lr"' "$cfile"
expect "the card has the entry's category" grep -q '"category": "optimizer"' "$cfile"
expect "the card ran the entry's overrides" grep -q '"matrix_lr": 0.03' "$cfile"
expect "the worker's own config still applies" grep -q '"seq_len": 32' "$cfile"

# an entry the trainer cannot run fails with the reason, not stuck as claimed
ar-queue add --hypothesis "too many kv heads" --category architecture --set n_kv_head=64 --priority 1 >/dev/null
bad=$(ar-queue status --json | grep -oE '"id":"[^"]+","overrides":\{"n_kv_head"' | cut -d'"' -f4)
run "${TRAIN[@]}"
expect "a bad entry stops the run" test "$RC" -eq 2
run ar-queue show --json "$bad"
expect "the bad entry failed with the trainer's error" grep -q '"reason":"ar-train: .*n_kv_head.*"status":"failed"' <<<"$OUT"
# a replication runs the card's config with the entry's seed and verifies it
run ar-queue add --replicate "$card" --priority 1
rep=$OUT
run "${TRAIN[@]}"
card2=$(awk '/^card:/ {print $2}' <<<"$OUT")
run ar-queue show --json "$rep"
expect "the replication is done with its card" grep -q "\"card\":\"$card2\".*\"status\":\"done\"" <<<"$OUT"
seed=$(grep -oE '"seed":[0-9]+' <<<"$OUT" | cut -d: -f2)
expect "the replication's card verifies the card" grep -q "\"verifies\": \"$card\"" "$KB/cards/$card2.json"
expect "with the entry's seed" grep -q "\"seed\": $seed," "$KB/cards/$card2.json"
expect "and the card's config" grep -q '"matrix_lr": 0.03' "$KB/cards/$card2.json"

# SIGTERM releases the entry at once instead of leaving a claim to go stale
run ar-queue add --hypothesis "interrupted" --category other --set matrix_lr=0.02 --priority 1
int=$OUT
ar-train --config "$T/tiny.yaml" --budget 60 --quiet --queue >/dev/null 2>"$T/int.err" &
pid=$!
for _ in $(seq 100); do
    ar-queue show --json "$int" | grep -q '"status":"claimed"' && break
    sleep 0.1
done
sleep 0.5
kill -TERM "$pid"
wait "$pid"
rc=$?
expect "the worker dies of the signal" test "$rc" -eq 143
expect "it says it released the entry" grep -q "queue entry $int released" "$T/int.err"
run ar-queue show --json "$int"
expect "the entry is pending again, the attempt not counted" grep -q '"attempts":0.*"status":"pending"' <<<"$OUT"
ar-queue cancel "$int" >/dev/null

expect_err "--queue with --no-card" 2 "option '--queue'" ar-train --queue --no-card
run ar-queue show --json "$e2"
expect "the other entry is still pending" grep -q '"status":"pending"' <<<"$OUT"
ar-queue cancel "$e2" >/dev/null

# a sweep: each entry's changes are its overrides against the config they
# apply to, and its delta is against that config's first run, not against
# whichever run of the sweep is best so far
export AR_SESSION=sweep-t
run ar-queue add --hypothesis "sweep: base" --category other --priority 1
run ar-queue add --hypothesis "sweep: lr" --category optimizer --set matrix_lr=0.03 --priority 2
run ar-queue add --hypothesis "sweep: depth" --category architecture --set depth=1 --priority 3
for _ in 1 2 3; do "${TRAIN[@]}" >/dev/null 2>&1 || fail "a sweep run"; done
view() { ar-card list --json --session sweep-t | jq -c --arg h "$1" 'select(.hypothesis == $h)'; }
base=$(view "sweep: base") depth=$(view "sweep: depth")
expect "an entry's changes are its overrides" \
    test "$(jq -c .changes <<<"$(view "sweep: lr")")" = '[{"from":0.04,"key":"matrix_lr","to":0.03}]'
expect "the last entry's changes are its overrides alone" \
    test "$(jq -c .changes <<<"$depth")" = '[{"from":2,"key":"depth","to":1}]'
expect "its baseline is the base config's run" test "$(jq -r .baseline <<<"$depth")" = "$(jq -r .id <<<"$base")"
close=$(jq --argjson b "$base" '(.delta - (.metrics.val_bpb - $b.metrics.val_bpb)) | fabs < 1e-12' <<<"$depth")
expect "its delta is against that run" test "$close" = true
finish
