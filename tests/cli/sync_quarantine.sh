#!/usr/bin/env bash
# ar-sync: incoming facts are untrusted. A tampered card, a card whose file
# name is not its id, a symbolic link, a file outside cards/ and notes/ and
# a patch without a card are quarantined with a reason and never indexed;
# a card edited in place locally is restored.
. "$(dirname "$0")/lib.sh"
P='{"class":"cpu-avx512"}'
R="$T/remote.git" A="$T/a" B="$T/b"
git init -q --bare "$R"
ar-sync init --kb "$A" --remote "$R" >/dev/null
ar-sync init --kb "$B" --remote "$R" >/dev/null
card() {
    ar-card write --kb "$1" --hypothesis "$2" --category optimizer --status keep \
        --commit abc1234 --val-bpb "$3" --platform "$P"
}
good=$(card "$A" "raise the lr" 1.10)
victim=$(card "$A" "weight decay 0.1" 1.20)
other=$(card "$A" "another honest card" 1.30)
ar-sync --kb "$A" >/dev/null

# a forger with push access edits one card and adds bad files with plain git
W="$T/forger"
git clone -q -b main "$R" "$W"
sed -i 's/"val_bpb": 1.2/"val_bpb": 0.5/' "$W/cards/$victim.json"
fake=20260101T000000Z-0123456789ab
cp "$W/cards/$other.json" "$W/cards/$fake.json"                 # file name is not its id
cp "$W/cards/$other.json" "$W/cards/evil.json"                  # not an id at all
ln -s /etc/passwd "$W/cards/20260101T000000Z-aaaaaaaaaaaa.json"  # a link
mkdir -p "$W/scripts" && echo 'rm -rf ~' >"$W/scripts/run.sh"  # outside the facts
mkdir -p "$W/patches" && echo 'diff' >"$W/patches/20260101T000000Z-bbbbbbbbbbbb.patch"
git -C "$W" add -A && git -C "$W" -c user.name=f -c user.email=f@x commit -qm forge && git -C "$W" push -q origin HEAD:main

run ar-sync --kb "$B"
expect "sync with a forged remote still succeeds" test "$RC" -eq 0
expect "the report counts the quarantined files" grep -q '^quarantined 6 files' <<<"$OUT"
expect "the tampered card is reported" grep -q "quarantined cards/$victim.json (remote): field 'id': does not match" <<<"$ERR"
expect "the card under a wrong name is reported" grep -q "cards/$fake.json (remote): file name does not match id $other" <<<"$ERR"
expect "the bad file name is reported" grep -q "cards/evil.json (remote): file name is not <id>.json" <<<"$ERR"
expect "the link is reported" grep -q "(remote): not a regular file (a symbolic link)" <<<"$ERR"
expect "the file outside the facts is reported" grep -q "scripts/run.sh (remote): not inside cards/, notes/ or patches/" <<<"$ERR"
expect "the orphan patch is reported" grep -q "bbbbbbbbbbbb.patch (remote): no card" <<<"$ERR"
expect "the honest cards arrived" test -f "$B/cards/$good.json" -a -f "$B/cards/$other.json"
expect "the tampered card did not enter" test ! -e "$B/cards/$victim.json"
expect "nothing forged is in the work tree" test ! -e "$B/scripts" -a ! -e "$B/cards/evil.json" -a ! -e "$B/cards/$fake.json"
ar-card list --json --kb "$B" >"$T/views.b"
expect "the index holds only the honest cards" test "$(wc -l <"$T/views.b")" -eq 2
expect "the forged value is in no statistics" test -z "$(grep -l '"val_bpb":0.5' "$T/views.b")"
expect "quarantine keeps the bytes and the reason" grep -q "\"reason\": \"field 'id': does not match" "$B"/quarantine/*.json
expect "six records in quarantine" test "$(ls "$B"/quarantine/*.json | wc -l)" -eq 6
run ar-sync --kb "$B"
expect "a second sync does not report them again" test -z "$ERR"
run ar-sync status --kb "$B"
expect "status counts the quarantine" grep -q '^quarantined: 6$' <<<"$OUT"

# the author still holds the true card and restores it on the remote
run ar-sync --kb "$A"
expect "the author keeps the true card" grep -q '"val_bpb": 1.2' "$A/cards/$victim.json"
expect "and puts it back on the remote" grep -q '"val_bpb": 1.2' <(git -C "$R" show "main:cards/$victim.json")
ar-sync --kb "$B" >/dev/null 2>&1
expect "the true card reaches the peer again" grep -q '"val_bpb": 1.2' "$B/cards/$victim.json"
expect "peers end with the same facts" test "$(ls "$A/cards")" = "$(ls "$B/cards")"
expect "and byte-identical views" cmp -s <(ar-card list --json --kb "$A") <(ar-card list --json --kb "$B")

# an edit of a card the peer already holds is quarantined, the card kept
git -C "$W" fetch -q origin && git -C "$W" reset -q --hard origin/main
sed -i 's/"val_bpb": 1.1/"val_bpb": 0.4/' "$W/cards/$good.json"
git -C "$W" -c user.name=f -c user.email=f@x commit -qam edit && git -C "$W" push -q origin HEAD:main
run ar-sync --kb "$B"
expect "an edit of a held card is quarantined" grep -q "cards/$good.json (remote): differs from the fact already here" <<<"$ERR"
expect "the held card is unchanged" grep -q '"val_bpb": 1.1' "$B/cards/$good.json"

# a card with its patch: the patch travels; an altered patch does not
printf 'diff --git a/trainer/a.c b/trainer/a.c\nnew file mode 100644\nindex 0000000..4d6c5d6\n--- /dev/null\n+++ b/trainer/a.c\n@@ -0,0 +1 @@\n+int a;\n' >"$T/p.patch"
sum=$(sha256sum <"$T/p.patch" | cut -c1-64) n=$(wc -c <"$T/p.patch")
X="{\"patch\":{\"upstream\":\"$(printf 'a%.0s' {1..40})\",\"sha256\":\"$sum\",\"bytes\":$n}}"
pc=$(ar-card write --kb "$A" --hypothesis "with a patch" --category other --status keep \
    --commit abc1234 --val-bpb 1.4 --platform "$P" --extra "$X")
cp "$T/p.patch" "$A/patches/$pc.patch" 2>/dev/null || { mkdir -p "$A/patches"; cp "$T/p.patch" "$A/patches/$pc.patch"; }
ar-sync --kb "$A" >/dev/null 2>&1
ar-sync --kb "$B" >/dev/null 2>&1
expect "a patch travels with its card" cmp -s "$T/p.patch" "$B/patches/$pc.patch"
pc2=$(ar-card write --kb "$A" --hypothesis "with an altered patch" --category other --status keep \
    --commit abc1234 --val-bpb 1.4 --platform "$P" --extra "$X")
printf 'diff --git a/trainer/b.c b/trainer/a.c\n' >"$A/patches/$pc2.patch"
run ar-sync --kb "$A"
expect "an altered local patch is quarantined" grep -q "$pc2.patch (local): does not match the hash card $pc2 records" <<<"$ERR"

# an edit in place of a committed local card is undone, the edit kept aside
sed -i 's/"val_bpb": 1.1/"val_bpb": 0.9/' "$A/cards/$good.json"
run ar-sync --kb "$A"
expect "a local edit is quarantined" grep -q "cards/$good.json (local): local copy differs" <<<"$ERR"
expect "and the committed card restored" grep -q '"val_bpb": 1.1' "$A/cards/$good.json"
# a committed card lost from the work tree (deleted, or a crash between a
# merge and its files) comes back from the repository
rm "$A/cards/$other.json"
run ar-sync --kb "$A"
expect "a lost committed card is restored" cmp -s "$A/cards/$other.json" "$B/cards/$other.json"
expect "and the restore is reported" grep -q "restored 1 committed fact missing" <<<"$ERR"
# a hand-made invalid local card is never committed
echo '{"schema":"ar.card/1"}' >"$A/cards/20260101T000000Z-cccccccccccc.json"
run ar-sync --kb "$A"
expect "an invalid local card is quarantined" grep -q "cccccccccccc.json (local): field" <<<"$ERR"
expect "and moved out of cards/" test ! -e "$A/cards/20260101T000000Z-cccccccccccc.json"
expect "and never pushed" test -z "$(git -C "$R" ls-tree -r --name-only main | grep cccccccccccc)"

# a flood of junk: quarantine keeps a bounded prefix and the whole file's
# size and hash, and the folder stays under its cap
git -C "$W" fetch -q origin && git -C "$W" reset -q --hard origin/main
head -c 3000000 /dev/urandom >"$W/junk1.bin"
head -c 3000000 /dev/urandom >"$W/junk2.bin"
git -C "$W" add -A && git -C "$W" -c user.name=f -c user.email=f@x commit -qm junk && git -C "$W" push -q origin HEAD:main
C="$T/c"
git clone -q --bare "$R" "$T/copy.git"   # the junk as it was pushed, for a second victim
ar-sync init --kb "$C" --remote "$T/copy.git" >/dev/null
run env AR_QUARANTINE_MAX_BYTES=70000 ar-sync --kb "$C"
expect "a sync over the cap still succeeds" test "$RC" -eq 0
expect "and still reports every file" test "$(grep -c 'junk[12].bin (remote)' <<<"$ERR")" -eq 2
expect "the folder stays under its cap" test "$(find "$C/quarantine" -type f -printf "%s\n" | awk "{s += \$1} END {print s}")" -le 70000
expect "past the cap a record keeps no bytes" grep -q '"kept": 0' "$C"/quarantine/*.json
before_q=$(du -sb "$B/quarantine" | cut -f1)
run ar-sync --kb "$B"
expect "the junk is reported" grep -q "junk1.bin (remote): not inside cards/" <<<"$ERR"
rec=$(grep -l '"path": "junk1.bin"' "$B"/quarantine/*.json)
expect "the record has the whole size" grep -q '"bytes": 3000000' "$rec"
expect "and the whole file's hash" grep -q "\"sha256\": \"$(sha256sum <"$W/junk1.bin" | cut -c1-64)\"" "$rec"
expect "and how much it kept" grep -q '"kept": 65536' "$rec"
expect "only a prefix is kept" test "$(stat -c %s "${rec%.json}.data")" -eq 65536
expect "the prefix is the file's start" cmp -s "${rec%.json}.data" <(head -c 65536 "$W/junk1.bin")
after_q=$(du -sb "$B/quarantine" | cut -f1)
expect "two 3 MB files cost the quarantine less than 200 KB" test $((after_q - before_q)) -lt 200000
# a push of many cards from one agent is reported (valid cards are taken)
git -C "$W" fetch -q origin && git -C "$W" reset -q --hard origin/main
for i in 1 2 3 4 5 6; do
    ar-card write --kb "$W" --agent flooder --hypothesis "flood $i" --category other --status keep \
        --commit abc1234 --val-bpb 1.$i --platform "$P" >/dev/null
done
rm -f "$W"/index.* && git -C "$W" add cards && git -C "$W" -c user.name=f -c user.email=f@x commit -qm flood \
    && git -C "$W" push -q origin HEAD:main
run env AR_SYNC_FLOOD=5 ar-sync --kb "$B"
expect "a flood from one agent is reported" grep -q "warning: agent 'flooder' sent 6 cards in one sync (more than 5)" <<<"$ERR"
expect "its valid cards are taken" test "$(grep -l '"agent": "flooder"' "$B"/cards/*.json | wc -l)" -eq 6
run ar-sync --kb "$A"
expect "below the limit nothing is said" test -z "$(grep flooder <<<"$ERR")"

# ------------------------------------------------------------ untrusted peers
# Each attack below is pushed with plain git by "mallory", who has push
# access to the remote; the victim V runs ar-sync. Every attack leaves the
# victim's facts, brief and project work tree as they were.
R2="$T/trust.git" V="$T/victim" M="$T/mallory" S="$T/scratch"
git init -q --bare "$R2"
ar-sync init --kb "$V" --remote "$R2" >/dev/null
base=$(ar-card write --kb "$V" --hypothesis "the baseline" --category baseline --status baseline \
    --commit abc1234 --val-bpb 1.00 --platform "$P")
ar-sync --kb "$V" >/dev/null
git clone -q -b main "$R2" "$M"
push() {   # MESSAGE: mallory commits everything and pushes with plain git
    git -C "$M" add -A && git -C "$M" -c user.name=m -c user.email=m@x commit -qm "$1" &&
        git -C "$M" push -q origin HEAD:main
}
refresh() { git -C "$M" fetch -q origin && git -C "$M" reset -q --hard origin/main; }
# the victim's project: a Makefile that a patch must never reach
PJ="$T/project"
mkdir -p "$PJ/trainer" && printf 'all:\n\techo build\n' >"$PJ/Makefile" && echo 'int x;' >"$PJ/trainer/a.c"
(cd "$PJ" && git init -q -b main && git add -A && git -c user.name=v -c user.email=v@x commit -qm base)
proj_before=$(tree_sum "$PJ") proj_head=$(git -C "$PJ" rev-parse HEAD)
# a card whose patch edits the Makefile (the hash matches: only its scope is wrong)
cat >"$T/evil.patch" <<'EOF2'
diff --git a/Makefile b/Makefile
index 1111111..2222222 100644
--- a/Makefile
+++ b/Makefile
@@ -1,2 +1,3 @@
 all:
 	echo build
+	touch pwned
EOF2
patch_extra() {   # FILE: the card's extra.patch for it
    echo "{\"patch\":{\"upstream\":\"$(printf 'a%.0s' {1..40})\",\"sha256\":\"$(sha256sum <"$1" | cut -c1-64)\",\"bytes\":$(wc -c <"$1")}}"
}
evil=$(ar-card write --kb "$M" --agent mallory --hypothesis "faster build" --category efficiency --status keep \
    --commit abc1234 --val-bpb 0.90 --platform "$P" --extra "$(patch_extra "$T/evil.patch")")
mkdir -p "$M/patches" && cp "$T/evil.patch" "$M/patches/$evil.patch"
rm -f "$M"/index.* && push "a patch that edits the Makefile"
facts_before=$(tree_sum "$V/cards")
run ar-sync --kb "$V"
expect "a patch outside trainer/ and kernels/ is quarantined" \
    grep -q "quarantined patches/$evil.patch (remote): touches Makefile: a patch may change only trainer/ and kernels/" <<<"$ERR"
expect "the patch is not among the facts" test ! -e "$V/patches/$evil.patch"
run bash -c "cd '$PJ' && ar-card checkout '$evil' --kb '$V' --yes"
expect "checkout of the card without its patch is refused" test "$RC" -eq 2
expect "with the reason" grep -q "patch .* is missing" <<<"$ERR"
expect "the project is untouched" test "$(tree_sum "$PJ")" = "$proj_before" -a "$(git -C "$PJ" rev-parse HEAD)" = "$proj_head"
# the same patch placed by hand beside a local card: checkout refuses it too
own=$(ar-card write --kb "$V" --hypothesis "my own card" --category other --status keep \
    --commit abc1234 --val-bpb 1.01 --platform "$P" --extra "$(patch_extra "$T/evil.patch")")
mkdir -p "$V/patches" && cp "$T/evil.patch" "$V/patches/$own.patch"
run bash -c "cd '$PJ' && ar-card checkout '$own' --kb '$V' --yes"
expect "checkout refuses an out-of-scope patch of a local card" test "$RC" -eq 2
expect "naming the path" grep -q "touches Makefile: a patch may change only trainer/ and kernels/" <<<"$ERR"
expect "and the project is untouched" test "$(tree_sum "$PJ")" = "$proj_before" -a "$(git -C "$PJ" rev-parse HEAD)" = "$proj_head"
sed 's#a/Makefile#a/trainer/../Makefile#; s#b/Makefile#b/trainer/../Makefile#' "$T/evil.patch" >"$T/dots.patch"
dots=$(ar-card write --kb "$V" --hypothesis "dots" --category other --status keep \
    --commit abc1234 --val-bpb 1.02 --platform "$P" --extra "$(patch_extra "$T/dots.patch")")
cp "$T/dots.patch" "$V/patches/$dots.patch"
run ar-sync --kb "$V" --local
expect "a patch that climbs out with .. is quarantined" grep -q "patches/$dots.patch (local): touches trainer/../Makefile" <<<"$ERR"
rm -f "$V/patches/$own.patch"

# a card in another layout (compact, keys reversed): same id, other bytes
refresh
odd=$(ar-card write --kb "$M" --agent mallory --hypothesis "odd bytes" --category other --status keep \
    --commit abc1234 --val-bpb 1.05 --platform "$P")
cp "$M/cards/$odd.json" "$T/odd.canonical"
jq -c 'to_entries | reverse | from_entries' "$T/odd.canonical" >"$M/cards/$odd.json"
expect "the pushed card is not in ar's layout" test "$(cmp -s "$T/odd.canonical" "$M/cards/$odd.json"; echo $?)" -ne 0
rm -f "$M"/index.* && push "a card in another layout"
run ar-sync --kb "$V"
expect "a card in another layout is taken" test "$RC" -eq 0 -a -f "$V/cards/$odd.json"
expect "and said so" grep -q "stored 1 fact in canonical form" <<<"$OUT"
expect "stored in the bytes ar writes" cmp -s "$T/odd.canonical" "$V/cards/$odd.json"
expect "committed in the bytes ar writes" cmp -s "$T/odd.canonical" <(git -C "$V" show "HEAD:cards/$odd.json")
expect "and the remote holds those bytes now" cmp -s "$T/odd.canonical" <(git -C "$R2" show "main:cards/$odd.json")
refresh && jq -c . "$T/odd.canonical" >"$M/cards/$odd.json" && push "the held card in another layout again"
run ar-sync --kb "$V"
expect "the same card in another layout is the card here: nothing quarantined" test -z "$(grep "$odd" <<<"$ERR")"
expect "the bytes here stay canonical" cmp -s "$T/odd.canonical" "$V/cards/$odd.json"
expect "and go back to the remote" cmp -s "$T/odd.canonical" <(git -C "$R2" show "main:cards/$odd.json")

# an orphan note: waits in quarantine until its card arrives
ar-card write --kb "$S" --agent mallory --hypothesis "late card" --category other --status keep \
    --commit abc1234 --val-bpb 1.07 --platform "$P" >/dev/null
late=$(basename "$(ls "$S"/cards/*.json)" .json)
AR_AGENT=mallory ar-card note "$late" --kb "$S" --lesson "this card comes later" >/dev/null
lnote=$(basename "$(ls "$S"/notes/*.json)" .json)
refresh && mkdir -p "$M/notes" && cp "$S/notes/$lnote.json" "$M/notes/" && push "a note before its card"
notes_before=$(tree_sum "$V/notes")
run ar-sync --kb "$V"
expect "a note on a card that is not here is quarantined" \
    grep -q "quarantined notes/$lnote.json (remote): orphan: no card $late here" <<<"$ERR"
expect "it is not among the notes" test "$(tree_sum "$V/notes")" = "$notes_before"
expect "nor in the index" test -z "$(ar-card query --kb "$V" '.notes[].id' | grep "$lnote")"
refresh && cp "$S/cards/$late.json" "$M/cards/" && push "the card comes"
run ar-sync --kb "$V"
expect "when its card arrives the note is released" grep -q "released 1 note from quarantine" <<<"$OUT"
expect "into notes/, as it was written" cmp -s "$S/notes/$lnote.json" "$V/notes/$lnote.json"
expect "and into the card's view" test "$(ar-card query --kb "$V" "select(.id == \"$late\") | .notes[0].id")" = "\"$lnote\""
expect "its quarantine record is gone" test -z "$(grep -l "notes/$lnote.json" "$V"/quarantine/*.json)"
expect "and it travels on to the remote" git -C "$R2" cat-file -e "main:notes/$lnote.json"

# a peer's status note turns the victim's baseline into a crash, and a
# retract note takes away a keep: claims, counted nowhere
keep=$(ar-card write --kb "$V" --hypothesis "lr up" --category optimizer --status keep --commit abc1235 \
    --val-bpb 0.98 --delta -0.02 --baseline "$base" --platform "$P" --changes '[{"key":"matrix_lr","from":0.04,"to":0.05}]')
ar-sync --kb "$V" >/dev/null 2>&1
ar-synth findings --kb "$V" >/dev/null
brief_before=$(ar-brief --kb "$V") findings_before=$(cat "$V/synthesis/findings.json")
list_before=$(ar-card list --kb "$V")
refresh
AR_AGENT=mallory ar-card note "$base" --kb "$M" --status crash --comment "it crashed" >/dev/null
AR_AGENT=mallory ar-card retract "$keep" --kb "$M" --reason "fake" >/dev/null
rm -f "$M"/index.* && push "notes on the victim's cards"
run ar-sync --kb "$V"
expect "the peer's notes arrive" grep -q "received 0 cards, 2 notes" <<<"$OUT"
expect "the brief is unchanged" test "$(ar-brief --kb "$V")" = "$brief_before"
expect "the findings are unchanged" test "$(cat "$V/synthesis/findings.json")" = "$findings_before"
expect "the statuses are unchanged" test "$(ar-card list --kb "$V")" = "$list_before"
run ar-card show --kb "$V" --json "$base"
expect "the status note is shown as mallory's claim" \
    test "$(jq -c '[.status, .claims[0].agent, .claims[0].kind, .claims[0].status]' <<<"$OUT")" = '["baseline","mallory","status","crash"]'
expect "the retraction is a claim too" \
    test "$(ar-card show --kb "$V" --json "$keep" | jq -c '[.retracted, .claims[0].kind]')" = '[false,"retract"]'
expect "and the note is there to read" test "$(ar-card show --kb "$V" --json "$base" | jq '.notes | length')" -eq 1
# the card's own agent has authority: its note counts
ar-card note "$base" --kb "$V" --status discard --comment "superseded" >/dev/null
expect "the owner's status note counts" test "$(ar-card show --kb "$V" --json "$base" | jq -r .status)" = discard
ar-sync --kb "$V" >/dev/null 2>&1
# trusting mallory here gives her notes authority (a local list, never synced)
run ar-sync --kb "$V" --trust mallory
expect "--trust adds to the local list" grep -qx mallory "$V/trust"
expect "mallory's notes now count" \
    test "$(ar-card show --kb "$V" --json "$keep" | jq -c '[.retracted, .claims]')" = '[true,null]'
expect "the brief follows" grep -q "1 retracted" <<<"$(ar-brief --kb "$V")"
expect "ar-sync trust lists it" test "$(ar-sync trust --kb "$V")" = mallory
expect "status marks the trusted peer" grep -q "^  mallory .*(trusted)$" <<<"$(ar-sync status --kb "$V")"
expect "the list is never pushed" test -z "$(git -C "$R2" ls-tree -r --name-only main | grep -x trust)"
expect "the index agrees with the facts and the list" ar-card index --check --kb "$V"
run ar-sync trust --kb "$V" --remove mallory
expect "removing her makes them claims again" test -z "$(ar-brief --kb "$V" | grep '1 retracted')"
expect "so the keep counts again" \
    test "$(ar-card show --kb "$V" --json "$keep" | jq -c '[.retracted, .claims[0].agent]')" = '[false,"mallory"]'
expect_err "a bad agent name" 2 "not an agent name" ar-sync trust --kb "$V" "#x"
# a trust list pushed by a peer is not a fact: quarantined, the local list unchanged
refresh && printf 'mallory\n' >"$M/trust" && git -C "$M" add -f trust && push "trust me"
trust_before=$(cat "$V/trust")
run ar-sync --kb "$V"
expect "a pushed trust list is quarantined" grep -q "quarantined trust (remote): not inside cards/, notes/ or patches/" <<<"$ERR"
expect "the local list is unchanged" test "$(cat "$V/trust")" = "$trust_before"
expect "and mallory's notes are still claims" \
    test "$(ar-card show --kb "$V" --json "$keep" | jq -c '[.retracted, .claims[0].agent]')" = '[false,"mallory"]'
# a peer's note written locally trusts its writer here: the director's retraction counts on its machine
ar-card write --kb "$V" --agent w1 --hypothesis "a worker's run" --category other --status keep --commit abc1236 \
    --val-bpb 1.2 --platform "$P" >/dev/null
w1=$(ar-card list --kb "$V" --json | jq -r 'select(.agent == "w1") | .id')
ar-card retract "$w1" --kb "$V" --reason "wrong data" >/dev/null
expect "a retraction written here counts here" test "$(ar-card show --kb "$V" --json "$w1" | jq .retracted)" = true
expect "its writer joined the list" grep -qx test-agent "$V/trust"
finish
