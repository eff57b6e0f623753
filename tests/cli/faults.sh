#!/usr/bin/env bash
# Faults and hostile values: a full disk (a small tmpfs, when the test runs
# as root), a FIFO named like a card, absurd but well-formed values, keys
# written twice, and invisible format characters in text that reaches agents.
. "$(dirname "$0")/lib.sh"
P='{"class":"cpu-avx512"}'
card() {   # card HYPOTHESIS: a valid card on stdout
    jq -cn --arg h "$1" '{hypothesis:$h, category:"optimizer", status:"keep", commit:"abc1234",
                          metrics:{val_bpb:1.1}, platform:{class:"cpu-avx512"}}'
}
id=$(card "first" | ar-card write --stdin)
expect "a valid card is written" test -f "$KB/cards/$id.json"
before=$(tree_sum "$KB/cards")

# absurd values are refused with the reason
w() { ar-card write --stdin; }
expect_err "val_bpb 1e-300" 2 "field 'metrics.val_bpb': 1e-300 bits per byte is not plausible \(must be between 0.1 and 100\)" \
    w <<<"$(card h | jq -c '.metrics.val_bpb=1e-300')"
expect_err "val_bpb 0" 2 "field 'metrics.val_bpb': 0 bits per byte is not plausible" \
    w <<<"$(card h | jq -c '.metrics.val_bpb=0')"
expect_err "val_bpb 1e6" 2 "field 'metrics.val_bpb': 1e\+06 bits per byte is not plausible" \
    w <<<"$(card h | jq -c '.metrics.val_bpb=1e6')"
expect_err "created in 9999" 2 "field 'created': 9999-12-31T00:00:00.000Z is more than a day in the future" \
    w <<<"$(card h | jq -c '.created="9999-12-31T00:00:00.000Z"')"
tomorrow2=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%S.000Z)
expect_err "created two days ahead" 2 "field 'created': .* more than a day in the future" \
    w <<<"$(card h | jq -c --arg c "$tomorrow2" '.created=$c')"
expect_err "created before 2020" 2 "field 'created': 2019-12-31T23:59:59.999Z is before 2020-01-01" \
    w <<<"$(card h | jq -c '.created="2019-12-31T23:59:59.999Z"')"
hours=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%S.000Z)
run w <<<"$(card "a clock a little ahead" | jq -c --arg c "$hours" '.created=$c')"
expect "a card two hours ahead is accepted" test "$RC" -eq 0 -a -f "$KB/cards/$OUT.json"
expect_err "a note dated 9999" 2 "field 'created': 9999-.* more than a day in the future" \
    env AR_NOW=9999-01-01T00:00:00.000Z ar-card note "$id" --lesson "from the future"

expect_err "a key written twice" 2 "^ar-card: stdin: duplicate key 'status'$" \
    w <<<'{"hypothesis":"h","category":"other","status":"keep","commit":"abc1234","metrics":{"val_bpb":1.1},"status":"crash"}'
printf '%s' '{"hypothesis":"h","category":"other","status":"keep","commit":"abc1234","metrics":{"val_bpb":1.1,"val_bpb":0.5}}' >"$T/dup.json"
expect_rc "validate refuses a repeated key" 2 ar-card validate "$T/dup.json"
expect "validate names the repeated key" grep -q "dup.json: duplicate key 'val_bpb'" <<<"$OUT$ERR"

expect_err "a key written twice" 2 "^ar-card: stdin: duplicate key 'status'$" \
    w <<<'{"hypothesis":"h","category":"other","status":"keep","commit":"abc1234","metrics":{"val_bpb":1.1},"status":"crash"}'
printf '%s' '{"hypothesis":"h","category":"other","status":"keep","commit":"abc1234","metrics":{"val_bpb":1.1,"val_bpb":0.5}}' >"$T/dup.json"
expect_rc "validate refuses a repeated key" 2 ar-card validate "$T/dup.json"
expect "validate names the repeated key" grep -q "dup.json: duplicate key 'val_bpb'" <<<"$OUT$ERR"

# invisible format characters: bidirectional overrides, zero-width, tags
for cp in 202A 202E 2066 2069 200B 200F FEFF E0041; do
    ch=$(printf "\\U$(printf %08X $((16#$cp)))")
    expect_err "U+$cp in a hypothesis" 2 "field 'hypothesis': invisible format character U\+$cp is not allowed" \
        w <<<"$(card "rename the file ${ch}txt.exe")"
done
rlo=$(printf '\u202e')
expect_err "an override in a lesson" 2 "field 'text': invisible format character U\+202E" \
    ar-card note "$id" --lesson "looks fine${rlo}"
expect_err "an override in config" 2 "field 'config': invisible format character U\+202E" \
    w <<<"$(card h | jq -c --arg v "x${rlo}y" '.config={window_pattern:$v}')"
expect_err "an override in a flag" 2 "field 'hypothesis': invisible format character U\+202E" \
    ar-card write --hypothesis "a${rlo}b" --category other --status keep --commit abc1234 --val-bpb 1 --platform "$P"
run w <<<"$(card "visible non-ASCII stays: é, ü, 日本, →, emoji 🙂")"
expect "ordinary non-ASCII text is accepted" test "$RC" -eq 0
before=$(tree_sum "$KB/cards")
expect "refused values stored nothing" test "$(ls "$KB/cards" | wc -l)" -eq 3

# a FIFO named like a card (put there by hand: readers do not list cards/,
# a rebuild does): skipped instead of hanging (timeout is only the guard
# against the hang; nothing here waits on time)
mkfifo "$KB/cards/20261201T000000Z-0123456789ab.json"
run timeout 60 ar-card index
expect "a rebuild does not hang on a FIFO" test "$RC" -eq 0
expect "the rebuild warns about the FIFO" grep -q "not a regular file" <<<"$ERR"
run timeout 60 ar-card list
expect "list does not hang on a FIFO" test "$RC" -eq 0
expect "list shows the real cards" grep -q "$id" <<<"$OUT"
run timeout 60 ar-card show 20261201T000000Z-0123456789ab
expect "show refuses the FIFO" test "$RC" -eq 2
expect "show names the card" grep -qE "not a regular file|not found" <<<"$ERR"
rm -f "$KB/cards/20261201T000000Z-0123456789ab.json"


# readers need no write access: on a read-only knowledge base (a read-only
# bind mount as root, who ignores permissions; a chmod'ed copy otherwise)
# list, show, query, the brief and the queue's status read the facts, with
# one warning line that the derived index could not be written
ar-queue add --hypothesis "read me from a read-only queue" --category optimizer >/dev/null
ncards=$(ls "$KB/cards" | wc -l)
cp -a "$KB" "$T/rosrc" && rm -f "$T/rosrc"/index.db*
RO=""
if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$T/ro"
    trap 'umount "$T/ro" 2>/dev/null; rm -rf "$T"' EXIT
    if mount --bind "$T/rosrc" "$T/ro" 2>/dev/null; then
        if mount -o remount,ro,bind "$T/ro" 2>/dev/null; then RO="$T/ro"; else umount "$T/ro"; fi
    fi
else
    chmod -R a-w "$T/rosrc" && RO="$T/rosrc"
fi
if [ -n "$RO" ]; then
    rosum=$(tree_sum "$RO")
    onewarn() {   # onewarn NAME: exit 0 and exactly one warning line naming index.db
        expect "$1: exit 0" test "$RC" -eq 0
        expect "$1: one warning line" test "$(printf '%s' "$ERR" | grep -c '')" -eq 1
        expect "$1: the warning names the index" grep -q "warning: .*index.db cannot be written" <<<"$ERR"
    }
    run ar-card list --kb "$RO"
    onewarn "list on a read-only knowledge base"
    expect "list shows every card" test "$(grep -c '^2026\|^20[0-9][0-9]' <<<"$OUT")" -eq "$ncards"
    run ar-card show --kb "$RO" "$id"
    onewarn "show on a read-only knowledge base"
    expect "show prints the card" grep -q '"hypothesis": "first"' <<<"$OUT"
    run ar-card query --kb "$RO" '.id'
    onewarn "query on a read-only knowledge base"
    expect "query gives every card" test "$(grep -c '"' <<<"$OUT")" -eq "$ncards"
    AR_KB="$RO" run ar-brief
    onewarn "the brief on a read-only knowledge base"
    expect "the brief counts the cards" grep -q "^ar-brief: $ncards experiments" <<<"$OUT"
    AR_KB="$RO" run ar-queue status
    expect "queue status on a read-only knowledge base: exit 0" test "$RC" -eq 0
    expect "queue status reads the entry" grep -q "read me from a read-only queue" <<<"$OUT"
    expect "queue status: no error" test -z "$ERR"
    AR_KB="$RO" run ar-queue claim
    expect "a claim on a read-only knowledge base fails" test "$RC" -eq 1
    expect "the claim names the read-only file system" grep -q "Read-only file system\|Permission denied" <<<"$ERR"
    AR_KB="$RO" run ar-synth all
    expect "ar-synth all on a read-only knowledge base: exit 1" test "$RC" -eq 1
    expect "ar-synth names the write it could not do" grep -q "synthesis.*Read-only file system\|synthesis.*Permission denied" <<<"$ERR"
    expect "ar-synth read the facts first (the index warning, not a read error)" grep -q "index.db cannot be written" <<<"$ERR"
    expect "readers changed nothing there" test "$(tree_sum "$RO")" = "$rosum"
    expect "no index file was made there" test ! -e "$RO/index.db"
    [ "$RO" = "$T/ro" ] && umount "$T/ro"
else
    pass "read-only knowledge base: skipped (no read-only bind mount)"
fi
chmod -R u+w "$T/rosrc" 2>/dev/null

# no permission to write (EACCES, not a read-only file system): a chmod'ed
# copy read by an unprivileged user (root ignores permissions)
nob() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp "$@"; }
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && chmod o+x "$T" &&
   cp -a "$KB" "$T/permkb" && rm -f "$T/permkb"/index.db* && chmod -R a-w,a+rX "$T/permkb" &&
   nob test -x "$ROOT/bin/ar-card" -a -r "$T/permkb/cards"; then
    AR_KB="$T/permkb" run nob "$ROOT/bin/ar-card" list
    expect "list without write permission: exit 0" test "$RC" -eq 0
    expect "list without write permission shows every card" test "$(grep -c '^20[0-9][0-9]' <<<"$OUT")" -eq "$ncards"
    expect "list without write permission: one warning naming the permission" \
        test "$(printf '%s' "$ERR" | grep -c '')" -eq 1 -a -n "$(grep 'index.db cannot be written (.*Permission denied' <<<"$ERR")"
    AR_KB="$T/permkb" run nob "$ROOT/bin/ar-queue" status
    expect "queue status without write permission" test "$RC" -eq 0 -a -z "$ERR"
    expect "queue status without write permission reads the entry" grep -q "read me from a read-only queue" <<<"$OUT"
    AR_KB="$T/permkb" run nob "$ROOT/bin/ar-brief"
    expect "the brief without write permission" test "$RC" -eq 0
    expect "the brief without write permission counts the cards" grep -q "^ar-brief: $ncards experiments" <<<"$OUT"
    chmod -R u+w "$T/permkb"
else
    pass "no write permission: skipped (needs root, setpriv and a tree user nobody can read)"
fi

# a full disk: every write either stores its card and exits 0, or exits
# non-zero and stores nothing; never a stored card behind a failure
if [ "$(id -u)" -eq 0 ] && mkdir -p "$T/small" && mount -t tmpfs -o size=256k tmpfs "$T/small" 2>/dev/null; then
    trap 'umount "$T/small" 2>/dev/null; umount "$T/ro" 2>/dev/null; rm -rf "$T"' EXIT
    sk="$T/small/kb"
    mkdir -p "$sk"
    card "on a small disk" | ar-card write --kb "$sk" --stdin >/dev/null
    avail=$(df -k --output=avail "$T/small" | tail -1)
    head -c $(( (avail - 24) * 1024 )) /dev/zero >"$T/small/filler" 2>/dev/null
    bad=0 failed=0 stored=0
    for i in $(seq 1 40); do
        n0=$(ls "$sk/cards" | wc -l)
        long=$(head -c 1500 /dev/zero | tr '\0' "$(printf '%x' $((i % 16)))")
        card "fill $i $long" | ar-card write --kb "$sk" --stdin >/dev/null 2>"$T/err"
        rc=$? n1=$(ls "$sk/cards" | wc -l)
        if [ $rc -eq 0 ]; then stored=$((stored + 1)); [ "$n1" -eq $((n0 + 1)) ] || bad=$((bad + 1))
        else failed=$((failed + 1)); [ "$n1" -eq "$n0" ] || bad=$((bad + 1)); fi
    done
    expect "the disk filled up (some writes failed)" test "$failed" -gt 0
    expect "no failed write left a card, no success lost one" test "$bad" -eq 0
    expect "no temp files are left on the full disk" test -z "$(find "$sk/cards" -name '.*')"

    # readers on the full disk: the index is gone (so it must be built) and
    # the space it held is filled again
    AR_KB="$sk" ar-queue add --hypothesis "queued before the disk filled" --category other >/dev/null 2>&1
    rm -f "$sk"/index.db*
    head -c 8M /dev/zero >"$T/small/filler2" 2>/dev/null
    nsk=$(ls "$sk/cards" | wc -l)
    run ar-card list --kb "$sk"
    expect "list on a full disk: exit 0" test "$RC" -eq 0
    expect "list on a full disk shows every card" test "$(grep -c '^20[0-9][0-9]' <<<"$OUT")" -eq "$nsk"
    expect "list on a full disk: one warning line" test "$(printf '%s' "$ERR" | grep -c '')" -eq 1
    expect "the warning says the index cannot be written" grep -q "index.db cannot be written (.*full" <<<"$ERR"
    AR_KB="$sk" run ar-brief
    expect "the brief on a full disk: exit 0" test "$RC" -eq 0
    expect "the brief on a full disk counts the cards" grep -q "^ar-brief: $nsk experiments" <<<"$OUT"
    expect "the brief on a full disk: one warning line" test "$(printf '%s' "$ERR" | grep -c '')" -eq 1
    AR_KB="$sk" run ar-queue status
    expect "queue status on a full disk" test "$RC" -eq 0
    AR_KB="$sk" run ar-synth all
    expect "ar-synth all on a full disk: done, or exit 1 naming the write" \
        test "$RC" -eq 0 -o \( "$RC" -eq 1 -a -n "$(grep 'synthesis.*No space left on device' <<<"$ERR")" \)
    expect "ar-synth all read the facts (the warning, not a read error)" grep -q "index.db cannot be written" <<<"$ERR"
    expect "ar-synth left no temp file" test -z "$(find "$sk" -name '.*.tmp.*')"
    umount "$T/small"
else
    pass "full disk: skipped (needs root and tmpfs)"
fi
# ar-train prepare killed with SIGKILL mid-way (at whatever point the kill
# lands): the next prepare removes the temp files it left, and the data is
# whole. A temp file of a writer that is gone is planted as well, so the
# clean-up is asserted even when no kill landed inside a write.
tiny_corpus 3000
pd="$T/pdata"
ar-train prepare --input "$T/corpus.txt" --vocab 300 --data "$pd" >/dev/null 2>&1
fp=$(jq -r .fingerprint "$pd/manifest.json")
for i in 1 2 3 4 5 6 7 8; do
    ar-train prepare --input "$T/corpus.txt" --vocab 300 --data "$pd" >/dev/null 2>&1 &
    pid=$!
    sleep "0.0$i"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
done
head -c 1000 /dev/zero >"$pd/.train.bin.tmp.2147483646.0"
run ar-train prepare --input "$T/corpus.txt" --vocab 300 --data "$pd"
expect "prepare after killed prepares: exit 0" test "$RC" -eq 0
expect "no temp file is left in the data directory" test -z "$(find "$pd" -name '.*.tmp.*')"
expect "the data is the same as before the kills" test "$(jq -r .fingerprint "$pd/manifest.json")" = "$fp"

# odd values in the queue and the trainer's config, refused with ar's own
# one-line errors
qk="$T/qkb"
AR_KB="$qk" ar-queue add --hypothesis "first entry" --category other >/dev/null
AR_KB="$qk" ar-queue add --hypothesis "second entry" --category other >/dev/null
jq -c '.entries += [.entries[0]]' "$qk/queue.json" >"$T/q.json" && cp "$T/q.json" "$qk/queue.json"
qsum=$(tree_sum "$qk")
qid=$(jq -r '.entries[0].id' "$qk/queue.json")
AR_KB="$qk" expect_err "queue.json with an id twice" 1 "queue.json: does not parse: entry $qid appears twice" \
    ar-queue status
AR_KB="$qk" expect_err "a claim from it too" 1 "entry $qid appears twice" ar-queue claim
expect "the queue is left as it is" test "$(tree_sum "$qk")" = "$qsum"

tiny_data
tiny_config "$T/cfg.yaml"
ncards=$(ls "$KB/cards" | wc -l)
expect_err "threads=4096" 2 "^ar-train: threads: 4096 is more than this machine can use \([0-9]+ CPUs online: at most [0-9]+; 0 takes every core\)$" \
    ar-train --config "$T/cfg.yaml" --set threads=4096 --max-steps 1
many=$(( $(getconf _NPROCESSORS_ONLN) * 8 + 65 ))   # past both the floor (64) and 8 per CPU
{ cat "$T/cfg.yaml"; printf 'threads: %d\n' "$many"; } | grep -v '^threads: 1$' >"$T/cfg-threads.yaml"
expect_err "threads: $many in config.yaml" 2 "threads: $many is more than this machine can use" \
    ar-train --config "$T/cfg-threads.yaml" --max-steps 1
{ cat "$T/cfg.yaml"; printf -- '---\ndepth: 3\n'; } >"$T/cfg-docs.yaml"
expect_err "a second YAML document in config.yaml" 2 "^ar-train: $T/cfg-docs.yaml:10: a second YAML document \('---'\)" \
    ar-train --config "$T/cfg-docs.yaml" --max-steps 1
{ printf -- '---\n'; cat "$T/cfg.yaml"; printf '...\n'; } >"$T/cfg-one.yaml"
run ar-train --config "$T/cfg-one.yaml" --max-steps 1
expect "one document between '---' and '...' is a config" test "$RC" -eq 0
expect "refused configs recorded no card" test "$(ls "$KB/cards" | wc -l)" -eq $((ncards + 1))

# ar-sync init on a full disk: a whole repository or none, at every level
# of free space (a half-made .git broke every later sync)
if [ "$(id -u)" -eq 0 ] && mkdir -p "$T/small2" && mount -t tmpfs -o size=2m tmpfs "$T/small2" 2>/dev/null; then
    trap 'umount "$T/small2" 2>/dev/null; rm -rf "$T"' EXIT
    gk="$T/small2/kb"
    for i in 1 2 3; do card "init on a small disk $i" | ar-card write --kb "$gk" --stdin >/dev/null; done
    half=0 failed=0 made=0
    for k in 0 4 8 12 16 24 32 40 48 56 64 96 128; do
        rm -f "$T/small2/filler"
        avail=$(df -k --output=avail "$T/small2" | tail -1)
        [ "$avail" -gt "$k" ] && head -c $(( (avail - k) * 1024 )) /dev/zero >"$T/small2/filler" 2>/dev/null
        AR_KB="$gk" ar-sync init >/dev/null 2>"$T/err"; rc=$?
        aside=$(find "$gk" -maxdepth 1 -name '.git.*' | wc -l)
        if [ $rc -eq 0 ]; then
            made=$((made + 1))
            git -C "$gk" log --oneline -1 >/dev/null 2>&1 || half=$((half + 1))
            rm -rf "$gk/.git"
        else
            failed=$((failed + 1))
            [ ! -e "$gk/.git" ] || half=$((half + 1))
        fi
        [ "$aside" -eq 0 ] || half=$((half + 1))
    done
    expect "init failed on the fullest disks" test "$failed" -gt 0
    expect "init worked with room to spare" test "$made" -gt 0
    expect "no failed init left a .git, no success a broken one, nothing aside" test "$half" -eq 0
    rm -f "$T/small2/filler"
    mkdir -p "$gk/.git.tmp.2147483646/.git/objects"   # what an init killed mid-way left (no such process)
    AR_KB="$gk" run ar-sync init
    expect "init after the disk is freed" test "$RC" -eq 0
    expect "init removes what a killed init left aside" test ! -e "$gk/.git.tmp.2147483646"
    expect "its repository has the facts" test "$(git -C "$gk" ls-files cards | wc -l)" -eq 3
    umount "$T/small2"
else
    pass "ar-sync init on a full disk: skipped (needs root and tmpfs)"
fi
finish
