#!/usr/bin/env bash
# ar-card: every kind of bad input gives one line naming the field or path,
# exit 2 (input) or 1 (run time), and changes nothing on disk.
. "$(dirname "$0")/lib.sh"
P='{"class":"cpu-avx512"}'
good() {   # a valid card as JSON, with one field replaced: good FIELD VALUE
    jq -cn --arg f "${1:-x}" --argjson v "${2:-null}" \
        '{hypothesis:"h", category:"optimizer", status:"keep", commit:"abc1234",
          metrics:{val_bpb:1.1}, platform:{class:"cpu-avx512"}}
         | if $f == "x" then . else setpath($f | split("."); $v) end'
}
id=$(good | ar-card write --stdin)
expect "a valid card is written" test -f "$KB/cards/$id.json"
before=$(tree_sum "$KB")

w() { ar-card write --stdin; }
expect_err "malformed JSON" 2 "^ar-card: stdin: malformed JSON" w <<<'{"hypothesis": "h",'
expect_err "trailing garbage" 2 "stdin: malformed JSON" w <<<'{"a":1} {"b":2}'
expect_err "NaN" 2 "field 'metrics.val_bpb': NaN or Infinity" w \
    <<<'{"hypothesis":"h","category":"other","status":"keep","commit":"abc1234","metrics":{"val_bpb":nan}}'
expect_err "Infinity" 2 "NaN or Infinity" w <<<'{"metrics":{"val_bpb":1e999}}'
expect_err "not an object" 2 "stdin: must be a JSON object, not array" w <<<'[1,2]'
expect_err "empty hypothesis" 2 "field 'hypothesis': empty" w <<<"$(good hypothesis '""')"
long=$(head -c 2001 /dev/zero | tr '\0' a)
expect_err "oversized hypothesis" 2 "field 'hypothesis': longer than 2000 bytes" w \
    <<<"$(good hypothesis "\"$long\"")"
expect_err "control characters" 2 "field 'hypothesis': control characters" w \
    <<<"$(good hypothesis '"a\u0007b"')"
expect_err "unknown status" 2 "field 'status': unknown value 'great'" w <<<"$(good status '"great"')"
expect_err "unknown category" 2 "field 'category': unknown value 'magic'" w <<<"$(good category '"magic"')"
expect_err "unknown field" 2 "field 'colour': unknown field" w <<<"$(good colour '"red"')"
expect_err "bad tag" 2 "field 'tags\[1\]': must match" w <<<"$(good tags '["ok","Not OK"]')"
expect_err "duplicate tag" 2 "field 'tags\[1\]': duplicate tag 'a'" w <<<"$(good tags '["a","a"]')"
expect_err "too many tags" 2 "field 'tags': more than 32 tags" w <<<"$(good tags "$(jq -cn '[range(33)|"t\(.)"]')")"
expect_err "bad commit" 2 "field 'commit': must be 7 to 40 lower-case hex" w <<<"$(good commit '"xyz"')"
expect_err "val_bpb not positive" 2 "field 'metrics.val_bpb': 0 bits per byte is not plausible" w \
    <<<"$(good metrics.val_bpb 0)"
expect_err "crash with val_bpb" 2 "must be absent on a crash card" w <<<"$(good status '"crash"')"
expect_err "bad prior id" 2 "field 'prior_cards\[0\]': not an id" w <<<"$(good prior_cards '["../x"]')"
expect_err "config_hash mismatch" 2 "field 'config_hash': does not match config" w \
    <<<"$(good config '{"lr":1}' | jq -c '.config_hash="'"$(printf '%064d' 0)"'"')"
big=$(jq -cn '[range(3000)|"xxxxxxxxxxxxxxxxxxxx"]|{big:.}')
expect_err "oversized extra" 2 "field 'extra': larger than 16384 bytes" w <<<"$(good extra "$big")"
expect_err "oversized card" 2 "card: larger than 65536 bytes" w \
    <<<"$(good config "$(jq -cn '[range(3000)|{("k\(.)"):"vvvvvvvv"}]|add')")"
head -c 300000 /dev/zero | tr '\0' ' ' >"$T/huge.json"
expect_err "oversized stdin" 2 "stdin: larger than" w <"$T/huge.json"
expect_rc "oversized file" 2 ar-card validate "$T/huge.json"
expect "validate names the oversized file" grep -q "huge.json: larger than" <<<"$OUT"
printf '{"hypothesis":"\xff\xfe","category":"other"}' >"$T/bad-utf8.json"
expect_err "invalid UTF-8 on stdin" 2 "stdin: invalid UTF-8" w <"$T/bad-utf8.json"
expect_err "invalid UTF-8 in a flag" 2 "option '--hypothesis': invalid UTF-8" \
    ar-card write --hypothesis "$(printf 'a\xffb')" --category other --status keep --commit abc1234 \
    --val-bpb 1 --platform "$P"
expect_err "NaN in a flag" 2 "option '--val-bpb': 'nan' is not a finite number" \
    ar-card write --hypothesis h --category other --status keep --commit abc1234 --val-bpb nan --platform "$P"
expect_err "bad JSON in a flag" 2 "option '--config': malformed JSON" \
    ar-card write --hypothesis h --category other --status keep --commit abc1234 --val-bpb 1 \
    --platform "$P" --config '{"lr":'
expect_err "unknown option" 2 "unknown option '--colour'" ar-card list --colour red
expect_err "unknown command" 2 "unknown command 'frobnicate'" ar-card frobnicate
expect_err "id with a slash" 2 "card id 'a/b': not of the form" ar-card show a/b
expect_err "id with dots" 2 "card id '../../etc/passwd': not of the form" ar-card note ../../etc/passwd --lesson x
expect_err "unknown card id" 2 "card 20260101T000000Z-0123456789ab: not found" \
    ar-card note 20260101T000000Z-0123456789ab --lesson x
expect_err "unknown card for retract" 2 "not found" ar-card retract 20260101T000000Z-0123456789ab --reason r
expect_err "note status unknown" 2 "field 'status': unknown value 'great'" ar-card note "$id" --status great
expect_err "empty lesson" 2 "field 'text': empty" ar-card note "$id" --lesson ""
expect_err "bad list filter" 2 "option '--status'" ar-card list --status great
expect_err "bad since" 2 "option '--since'" ar-card list --since yesterday
expect_err "bad jq program" 2 "query: syntax error" ar-card query '.x |||'
expect_err "jq runtime error" 2 "query: .*cannot be" ar-card query '.hypothesis + 1'
good status '"great"' >"$T/bad.json"
expect_rc "validate a bad file" 2 ar-card validate "$T/bad.json"
expect "validate prints one line naming the field" \
    test "$OUT" = "$T/bad.json: field 'status': unknown value 'great' (one of: keep, discard, crash, inconclusive, baseline, revert)"
expect "bad input changed nothing" test "$(tree_sum "$KB")" = "$before"

# the knowledge base itself missing or unusable: run-time errors
expect_err "missing knowledge base" 1 "knowledge base $T/nope: not found" ar-card list --kb "$T/nope"
: >"$T/plain"
expect_err "knowledge base is a file" 1 "knowledge base $T/plain: not a directory" \
    ar-card write --kb "$T/plain" --hypothesis h --category other --status keep --commit abc1234 \
    --val-bpb 1 --platform "$P"
if [ "$(id -u)" -ne 0 ]; then
    mkdir -p "$T/ro/cards" "$T/ro/notes" && chmod 555 "$T/ro" "$T/ro/cards" "$T/ro/notes"
    ro="$T/ro"
else
    ro=/proc/ar-kb   # root writes anywhere but here
fi
expect_err "unwritable knowledge base" 1 "knowledge base $ro: " \
    ar-card write --kb "$ro" --hypothesis h --category other --status keep --commit abc1234 \
    --val-bpb 1 --platform "$P"
expect "still nothing changed" test "$(tree_sum "$KB")" = "$before"
finish
