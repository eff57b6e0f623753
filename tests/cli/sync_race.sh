#!/usr/bin/env bash
# ar-sync: two peers pushing at the same moment. The one that loses the
# race fetches, merges and pushes again; no card is lost, and when both
# report success the remote already holds every card.
. "$(dirname "$0")/lib.sh"
P='{"class":"cpu-avx512"}'
R="$T/remote.git" A="$T/a" B="$T/b"
git init -q --bare "$R"
ar-sync init --kb "$A" --remote "$R" >/dev/null
ar-sync init --kb "$B" --remote "$R" >/dev/null
card() {
    ar-card write --kb "$1" --hypothesis "$2" --category optimizer --status keep \
        --commit abc1234 --val-bpb 1.1 --platform "$P" >/dev/null
}
card "$A" "a0"; ar-sync --kb "$A" >/dev/null; ar-sync --kb "$B" >/dev/null

# a forced race: alice fetches and merges, then waits before pushing while
# bob pushes; alice's push must be refused and retried
card "$A" "a1"; card "$B" "b1"
AR_SYNC_PAUSE=1 ar-sync --kb "$A" --json >"$T/a.json" 2>"$T/a.err" &
pid=$!
sleep 0.4
expect_rc "bob pushes while alice waits" 0 ar-sync --kb "$B"
wait $pid
expect "alice succeeds in the end" grep -q '"ok":true' "$T/a.json"
expect "alice needed a second round" grep -q '"attempts":2,' "$T/a.json"
expect "the remote holds all three cards" test "$(git -C "$R" ls-tree --name-only main cards/ | wc -l)" -eq 3

# free races: both peers write and sync at once, several times
for i in 1 2 3 4; do
    card "$A" "a-race-$i"; card "$B" "b-race-$i"
    ar-sync --kb "$A" --retries 20 >"$T/a.out" 2>&1 & pa=$!
    ar-sync --kb "$B" --retries 20 >"$T/b.out" 2>&1 & pb=$!
    wait $pa; ra=$?; wait $pb; rb=$?
    expect "round $i: both syncs succeed" test "$ra$rb" = 00
    expect "round $i: the remote holds every card" \
        test "$(git -C "$R" ls-tree --name-only main cards/ | wc -l)" -eq $((3 + 2 * i))
done
ar-sync --kb "$A" >/dev/null; ar-sync --kb "$B" >/dev/null
expect "both peers hold all 11 cards" test "$(ls "$A/cards" | wc -l)$(ls "$B/cards" | wc -l)" = 1111
expect "byte-identical views" cmp -s <(ar-card list --json --kb "$A") <(ar-card list --json --kb "$B")
expect "no temporary refs are left on the remote" test -z "$(git -C "$R" for-each-ref refs/ar-sync)"
finish
