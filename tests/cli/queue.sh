#!/usr/bin/env bash
# ar-queue: add, grid, claim, heartbeat, done, fail, release, cancel, status,
# show, replicate; stale claims; bad input; an unparsable queue; lock timeout.
. "$(dirname "$0")/lib.sh"
ID='^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{12}$'

expect_rc "--help exits 0" 0 ar-queue --help
expect "--help lists the commands" grep -qE '^  (plan|export|claim) ' <<<"$OUT"
expect_rc "a command's --help exits 0" 0 ar-queue claim --help
expect "it shows the options" grep -q -- "--worker ID" <<<"$OUT"
expect_rc "no command is a usage error" 2 ar-queue
expect_err "an unknown command" 2 "unknown command 'frobnicate'" ar-queue frobnicate
expect_err "an unknown option" 2 "unknown option '--colour'" ar-queue status --colour

export AR_NOW=2026-11-23T10:00:00.000Z
run ar-queue add --hypothesis "Raise the matrix LR" --category optimizer --set matrix_lr=0.04
a=$OUT
expect "add prints an id" grep -qE "$ID" <<<"$a"
expect_err "a duplicate is refused, naming the entry" 2 "duplicate of pending entry $a" \
    ar-queue add --hypothesis "raise the  matrix lr." --category optimizer --set matrix_lr=0.040
run ar-queue add --hypothesis "Raise the matrix LR" --category optimizer --set matrix_lr=0.04 --force
forced=$OUT
expect "--force adds a duplicate" grep -qE "$ID" <<<"$forced"
expect_rc "cancel" 0 ar-queue cancel "$forced" --reason "duplicate"

export AR_NOW=2026-11-23T10:00:01.000Z
run ar-queue add --hypothesis "urgent" --category architecture --priority 1 --set depth=6
urgent=$OUT
run ar-queue grid --hypothesis "lr by depth" --set matrix_lr=0.02,0.04 --set depth=4,6
expect "grid prints one line per entry" test "$(grep -c '' <<<"$OUT")" -eq 4
expect "grid lines carry the overrides" grep -q ' matrix_lr=0.04 depth=6$' <<<"$OUT"
grid_first=$(head -1 <<<"$OUT" | cut -d' ' -f1)
expect "the first --set varies slowest" grep -q "^$grid_first matrix_lr=0.02 depth=4$" <<<"$OUT"

before=$(tree_sum "$KB")
expect_err "unknown config key" 2 "--set: unknown key 'lr'" \
    ar-queue add --hypothesis x --category optimizer --set lr=0.1
expect_err "malformed value" 2 "--set: depth: 'four' is not an integer" \
    ar-queue add --hypothesis x --category optimizer --set depth=four
expect_err "out of range value" 2 "--set: depth: '0' is out of range" \
    ar-queue grid --hypothesis x --set depth=4,0
expect_err "not key=value" 2 "--set: 'depth' is not of the form key=value" \
    ar-queue add --hypothesis x --category optimizer --set depth
expect_err "bad priority" 2 "option '--priority': 10 is not an integer from 1 to 9" \
    ar-queue add --hypothesis x --category optimizer --priority 10
expect_err "priority not a number" 2 "option '--priority': 'high'" \
    ar-queue add --hypothesis x --category optimizer --priority high
expect_err "unknown category" 2 "field 'category': unknown value 'magic'" \
    ar-queue add --hypothesis x --category magic
expect_err "grid duplicate of an entry" 2 "duplicate of pending entry $urgent" \
    ar-queue grid --hypothesis urgent --category architecture --set depth=6,8 --priority 1
expect_err "unknown id" 2 "entry 20260101T000000Z-000000000000: not found" \
    ar-queue fail 20260101T000000Z-000000000000 --reason x
expect_err "malformed id" 2 "entry id '../x'" ar-queue cancel ../x
expect_err "show unknown id" 2 "not found" ar-queue show 20260101T000000Z-000000000000
expect_err "fail needs a reason" 2 "fail: --reason is required" ar-queue fail "$a"
expect "bad input changed nothing" test "$(tree_sum "$KB")" = "$before"

run ar-queue status
expect "status lists pending entries in claim order" \
    test "$(awk 'NR == 4 {print $1}' <<<"$OUT") $(awk 'NR == 5 {print $1}' <<<"$OUT")" = "$urgent $a"

# claims: priority first, then age
run ar-queue claim --worker w1
expect "claim prints the entry as JSON" grep -q "\"id\":\"$urgent\"" <<<"$OUT"
expect "the claim names the worker" grep -q '"claimed_by":"w1"' <<<"$OUT"
expect "the claim counts an attempt" grep -q '"attempts":1' <<<"$OUT"
run ar-queue claim --worker w2
expect "then the oldest of equal priority" grep -q "\"id\":\"$a\"" <<<"$OUT"
expect_rc "heartbeat by the owner" 0 ar-queue heartbeat "$a" --worker w2
expect_err "heartbeat by another worker" 1 "claimed by w2, not w1" ar-queue heartbeat "$a" --worker w1
expect_rc "release" 0 ar-queue release "$a"
run ar-queue show --json "$a"
expect "a released entry is pending again, attempt not counted" \
    grep -q '"attempts":0.*"status":"pending"' <<<"$OUT"

card=$(ar-card write --hypothesis "urgent" --category architecture --status keep \
    --commit abc1234 --val-bpb 1.2 --platform '{"class":"cpu-avx2"}' \
    --config '{"depth":6,"matrix_lr":0.04}' --seed 7)
expect_rc "done with a card" 0 ar-queue done "$urgent" --card "$card"
expect_err "done twice" 1 "already done" ar-queue done "$urgent" --card "$card"
expect_err "done with an unknown card" 2 "card 20260101T000000Z-000000000000: not found" \
    ar-queue done "$a" --card 20260101T000000Z-000000000000
run ar-queue show "$urgent"
expect "show prints the entry" grep -q "\"card\": \"$card\"" <<<"$OUT"

# replicate: the card's config, a new seed, verifies
run ar-queue add --replicate "$card"
rep=$OUT
run ar-queue show --json "$rep"
expect "replicate verifies the card" grep -q "\"verifies\":\"$card\"" <<<"$OUT"
expect "replicate uses a new seed" grep -q '"seed":8' <<<"$OUT"
expect "replicate runs the card's full config" grep -q '"overrides":{"depth":6,"matrix_lr":0.04}' <<<"$OUT"
expect_err "a second replicate is a duplicate" 2 "duplicate of pending entry $rep" \
    ar-queue add --replicate "$card"
expect_err "replicate an unknown card" 2 "not found" ar-queue add --replicate 20260101T000000Z-000000000000

# stale claims go back to pending at the next operation, then fail
export AR_NOW=2026-11-23T11:00:00.000Z
run ar-queue claim --worker w3
stale=$(grep -oE '"id":"[^"]+"' <<<"$OUT" | head -1 | cut -d'"' -f4)
export AR_NOW=2026-11-23T11:14:00.000Z
run ar-queue show --json "$stale"
expect "a 14-minute-old claim is not stale" grep -q '"status":"claimed"' <<<"$OUT"
export AR_NOW=2026-11-23T11:16:00.000Z
run ar-queue status
expect "a 16-minute-old claim is returned to pending" grep -q "^$stale  pending " <<<"$OUT"
export AR_NOW=2026-11-23T11:20:00.000Z
ar-queue claim --worker w4 >/dev/null
export AR_NOW=2026-11-23T11:23:00.000Z
run ar-queue show --json --stale 2 "$stale"
expect "--stale sets the time" grep -q '"attempts":2.*"status":"pending"' <<<"$OUT"
for t in 12 13; do
    export AR_NOW=2026-11-23T$t:00:00.000Z
    ar-queue claim --worker w5 >/dev/null
done
export AR_NOW=2026-11-23T14:00:00.000Z
run ar-queue show --json "$stale"
expect "after 3 attempts the entry fails" grep -q '"attempts":3.*"status":"failed"' <<<"$OUT"
expect "the reason says why" grep -q 'failed after 3 attempts' <<<"$OUT"

expect_rc "fail" 0 ar-queue fail "$grid_first" --reason "diverged"
run ar-queue status
expect "status counts" grep -qE '^pending [0-9]+  claimed [0-9]+  done 1  failed 2  cancelled 1$' <<<"$OUT"
expect "status lists pending entries" grep -q "$rep" <<<"$OUT"
run ar-queue status --json
expect "status --json has counts" grep -q '"counts":{"cancelled":1,"claimed":[0-9]*,"done":1,"failed":2' <<<"$OUT"

# drain: nothing pending is exit 1
while ar-queue claim >/dev/null 2>&1; do :; done
expect_err "claim with nothing pending" 1 "no pending entry" ar-queue claim

# a queue file that does not parse: every command stops, nothing is overwritten
cp "$KB/queue.json" "$T/good.json"
printf '{"entries":[' >"$KB/queue.json"
sum=$(sha256sum "$KB/queue.json" "$KB/queue.log")
for cmd in "add --hypothesis y --category other" "claim" "status" "show $a" "cancel $a" "release $a"; do
    # shellcheck disable=SC2086
    expect_err "unparsable queue: $cmd" 1 "queue.json: does not parse" ar-queue $cmd
done
expect "the unparsable queue was not overwritten" test "$(sha256sum "$KB/queue.json" "$KB/queue.log")" = "$sum"
cp "$T/good.json" "$KB/queue.json"

# a lock that cannot be had is an error, not a hang
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a"); fcntl.lockf(f, fcntl.LOCK_EX); print("locked", flush=True); time.sleep(20)' \
    "$KB/queue.lock" >"$T/locker" &
locker=$!
for _ in $(seq 100); do grep -q locked "$T/locker" 2>/dev/null && break; sleep 0.05; done
start=$(date +%s%N)
expect_err "lock timeout" 1 "queue: lock .*queue.lock: timed out after 0.5s" ar-queue status --lock-timeout 0.5
took=$(( ($(date +%s%N) - start) / 1000000 ))
expect "the lock timeout is honoured (${took} ms)" test "$took" -lt 5000
AR_LOCK_TIMEOUT=0.2 expect_err "AR_LOCK_TIMEOUT sets the default" 1 "timed out after 0.2s" ar-queue claim
kill "$locker"; wait "$locker" 2>/dev/null
expect_rc "the lock is free again" 0 ar-queue status
expect_err "negative lock timeout" 2 "--lock-timeout" ar-queue status --lock-timeout -1
finish
