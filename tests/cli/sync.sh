#!/usr/bin/env bash
# ar-sync: three knowledge bases syncing through one bare repository with
# interleaved writes end with identical fact sets and byte-identical
# derived files; init, status and the errors.
. "$(dirname "$0")/lib.sh"
P='{"class":"cpu-avx512"}'
R="$T/remote.git"
git init -q --bare "$R"
mkdir -p "$T/proj"
git -C "$T/proj" init -q
A="$T/proj/knowledge" B="$T/b" C="$T/c"

card() {   # card KB AGENT HYPOTHESIS -> prints the id
    AR_AGENT=$2 ar-card write --kb "$1" --hypothesis "$3" --category optimizer --status keep \
        --commit abc1234 --val-bpb 1.1 --platform "$P"
}

mkdir -p "$T/e"
expect_err "sync before init" 1 "not a git repository \(run ar-sync init\)" ar-sync --kb "$T/e"
expect_rc "init with a path remote" 0 ar-sync init --kb "$A" --remote "$R"
expect "init adds the knowledge base to the project's .gitignore" grep -qx '/knowledge/' "$T/proj/.gitignore"
expect_rc "init again" 0 ar-sync init --kb "$A" --remote "$R"
expect "init again does not repeat the .gitignore line" test "$(grep -c knowledge "$T/proj/.gitignore")" -eq 1
expect_rc "init with a file:// remote" 0 ar-sync init --kb "$B" --remote "file://$R"
expect_rc "init a third peer" 0 ar-sync init --kb "$C" --remote "$R"

# peers that keep a synthesis (and plots) get them rebuilt by every sync
for kb in "$A" "$B" "$C"; do mkdir -p "$kb/synthesis"; done
mkdir -p "$A/plots" "$B/plots"

a1=$(card "$A" alice "alice: raise the matrix lr")
expect_rc "first sync pushes" 0 ar-sync --kb "$A"
expect "first push lands on the remote's main" test -n "$(git -C "$R" ls-tree -r --name-only main cards/)"
b1=$(card "$B" bob "bob: longer warmup")
c1=$(card "$C" carol "carol: smaller batch")
expect_rc "bob syncs" 0 ar-sync --kb "$B"
expect "bob received alice's card" test -f "$B/cards/$a1.json"
AR_AGENT=bob ar-card note --kb "$B" "$a1" --lesson "replicates on bob's machine" >/dev/null
a2=$(card "$A" alice "alice: drop the value embeddings")
run ar-sync --kb "$C" --json
expect "carol's report counts two received cards" grep -q '"received":{"cards":2' <<<"$OUT"
run ar-sync --kb "$A"
expect "alice's report" grep -q '^received 2 cards, 0 notes' <<<"$OUT"
b2=$(card "$B" bob "bob: no qk-norm")
for kb in "$B" "$C" "$A" "$B"; do ar-sync --kb "$kb" >/dev/null || fail "sync $kb"; done

facts() { (cd "$1" && ls cards notes); }
expect "alice and bob hold the same facts" test "$(facts "$A")" = "$(facts "$B")"
expect "alice and carol hold the same facts" test "$(facts "$A")" = "$(facts "$C")"
expect "all five cards arrived" test "$(ls "$A/cards" | wc -l)" -eq 5
expect "the note arrived" test "$(ls "$C/notes" | wc -l)" -eq 1
expect "fact files are byte-identical" test "$(tree_sum "$A/cards")$(tree_sum "$A/notes")" = \
    "$(tree_sum "$C/cards")$(tree_sum "$C/notes")"
ar-card list --json --kb "$A" >"$T/views.a"; ar-card list --json --kb "$B" >"$T/views.b"
ar-card list --json --kb "$C" >"$T/views.c"
expect "derived views are byte-identical (alice, bob)" cmp -s "$T/views.a" "$T/views.b"
expect "derived views are byte-identical (alice, carol)" cmp -s "$T/views.a" "$T/views.c"
expect "the index is not synced" test -z "$(git -C "$R" ls-tree -r --name-only main | grep '^index')"
expect_rc "the index agrees with the facts" 0 ar-card index --check --kb "$C"
expect "sync wrote the synthesis" test -s "$A/synthesis/meta.md"
expect "synthesis is byte-identical (alice, bob)" test "$(tree_sum "$A/synthesis")" = "$(tree_sum "$B/synthesis")"
expect "synthesis is byte-identical (alice, carol)" test "$(tree_sum "$A/synthesis")" = "$(tree_sum "$C/synthesis")"
expect "sync drew the plots" test -s "$A/plots/progress.svg"
expect "plots are byte-identical (alice, bob)" test "$(tree_sum "$A/plots")" = "$(tree_sum "$B/plots")"
expect "derived files are not tracked" test -z "$(git -C "$R" ls-tree -r --name-only main | grep -v -e '^cards/' -e '^notes/' -e '^.gitignore$')"
expect "the knowledge repository is clean" test -z "$(git -C "$A" status --porcelain)"

run ar-sync status --kb "$A" --fetch
expect "status: nothing ahead" grep -q '^ahead: *0$' <<<"$OUT"
expect "status: nothing behind" grep -q '^behind: *0$' <<<"$OUT"
expect "status lists the peers" test "$(grep -cE '^  (alice|bob|carol) ' <<<"$OUT")" -eq 3
card "$A" alice "alice: unsynced" >/dev/null
AR_AGENT=alice ar-sync --kb "$A" --local >/dev/null
run ar-sync status --kb "$A" --json
expect "status --json: one commit ahead" grep -q '"ahead":1,' <<<"$OUT"
expect "status --json: peers with platform classes" grep -q '"agent":"bob","cards":2,"last":"[^"]*","platforms":\["cpu-avx512"\]' <<<"$OUT"
ar-sync --kb "$A" >/dev/null
run ar-sync status --kb "$B" --fetch --json
expect "status --fetch: bob is one behind" grep -q '"behind":1,' <<<"$OUT"

expect_err "unknown option" 2 "unknown option" ar-sync --kb "$A" --bogus
expect_err "empty remote" 2 "empty url" ar-sync init --kb "$A" --remote ""
expect_err "bad retries" 2 "retries" ar-sync --kb "$A" --retries 0
ar-sync init --kb "$T/d" --remote "$T/nowhere" >/dev/null
expect_err "unreachable remote fails the sync" 1 "nowhere" ar-sync --kb "$T/d"
run ar-sync --help
expect "--help on stdout" grep -q 'usage: ar-sync' <<<"$OUT"
finish
