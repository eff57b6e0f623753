#!/usr/bin/env bash
# ar-card: the write -> note -> list/show/query -> index round trip.
. "$(dirname "$0")/lib.sh"
P='{"class":"cpu-avx512"}'

run ar-card write --hypothesis "baseline" --category baseline --status baseline \
    --commit abc1234 --val-bpb 1.25 --platform "$P"
base=$OUT
expect "write prints an id" grep -qE '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{12}$' <<<"$base"
expect "card file is named by its id" test -f "$KB/cards/$base.json"

run ar-card write --hypothesis "raise lr" --category optimizer --status keep --commit abc1235 \
    --val-bpb 1.20 --delta -0.05 --baseline "$base" --platform "$P" --tags lr,muon
id=$OUT
expect_rc "note --lesson" 0 ar-card note "$id" --lesson "higher matrix lr helps"
expect_rc "note --status" 0 ar-card note "$base" --status discard --comment "superseded"

run ar-card list --json
expect "list --json prints one line per card" test "$(grep -c '' <<<"$OUT")" -eq 2
expect "list --json lists the cards in id order" \
    test "$(jq -r .id <<<"$OUT" | tr '\n' ' ')" = "$(ls "$KB/cards" | sed 's/\.json$//' | tr '\n' ' ')"
expect "list --json lines are the views query sees" \
    test "$(jq -c . <<<"$OUT")" = "$(ar-card query . | jq -c .)"
ar-card list --json >/dev/full 2>"$T/full.err"; RC=$?
expect "list --json to a full disk fails with exit 1" test "$RC" -eq 1
expect "list --json to a full disk says so in one line" \
    test "$(grep -c '' "$T/full.err")" -eq 1 -a -n "$(grep 'write error' "$T/full.err")"
run ar-card list --status discard --json
expect "status notes change the listed status" grep -q "\"id\":\"$base\"" <<<"$OUT"
run ar-card query 'select(.status=="keep") | .notes[0].text'
expect "query runs jq over views" test "$OUT" = '"higher matrix lr helps"'
run ar-card show "$id"
expect "show includes the notes" grep -q '"kind": "lesson"' <<<"$OUT"
expect_rc "index --check accepts a fresh index" 0 ar-card index --check
rm -f "$KB/index.db" "$KB/index.db-wal" "$KB/index.db-shm"
expect_rc "index --check reports a missing index" 1 ar-card index --check
run ar-card list --json
expect "readers rebuild a missing index" test "$(grep -c '' <<<"$OUT")" -eq 2
expect_rc "index --check after the rebuild" 0 ar-card index --check

before=$(tree_sum "$KB")
expect_err "empty hypothesis" 2 "field 'hypothesis': empty" \
    ar-card write --hypothesis "" --category other --status keep --commit abc1234 --val-bpb 1 --platform "$P"
expect_err "unknown category" 2 "field 'category': unknown value 'magic'" \
    ar-card write --hypothesis h --category magic --status keep --commit abc1234 --val-bpb 1 --platform "$P"
expect_err "bad jq filter" 2 "query: syntax error" ar-card query '.x |||'
expect_err "export without --tsv names what is missing" 2 "export: --tsv is required" ar-card export --status keep
expect_err "unknown card" 2 "not found" ar-card show 20260101T000000Z-000000000000
expect_err "id with a slash" 2 "card id" ar-card show ../../etc/passwd
expect "bad input changed nothing" test "$(tree_sum "$KB")" = "$before"
finish
