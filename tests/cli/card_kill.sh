#!/usr/bin/env bash
# ar-card: a writer killed with SIGKILL at a random point never leaves a
# torn or invalid card, note or index behind: every fact file is valid, the
# readers see every card exactly once, and the index agrees with the facts.
# Then the same for rebuilds (ar-card index) killed in their transaction.
. "$(dirname "$0")/lib.sh"
P='{"class":"cpu-avx512"}'
first=$(ar-card write --hypothesis first --category other --status keep --commit abc1234 \
    --val-bpb 1 --platform "$P")
RANDOM=42
rounds=${AR_KILL_ROUNDS:-25}
bad=0
for r in $(seq 1 "$rounds"); do
    # a burst of writes and notes in its own process group, all of it
    # killed somewhere inside
    setsid bash -c '
        for i in 1 2 3; do
            ar-card write --hypothesis "round $1 card $i" --category optimizer --status keep \
                --commit abc1234 --val-bpb 1.$1$i --platform "$2" --lesson "lesson $1 $i" >/dev/null
            ar-card note "$3" --comment "round $1 comment $i" >/dev/null
        done' burst "$r" "$P" "$first" 2>/dev/null &
    pid=$!
    sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
    kill -9 -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if ! ar-card validate >"$T/validate.out" 2>&1; then
        bad=1; fail "round $r: a fact is invalid" "$(head -3 "$T/validate.out")"; break
    fi
    cards=$(ls "$KB/cards" | grep -c '\.json$')
    run ar-card list --json
    if [ "$RC" -ne 0 ] || [ "$(jq -r .id <<<"$OUT" | sort -u | wc -l)" -ne "$cards" ]; then
        bad=1; fail "round $r: the readers do not see every card once" "rc $RC, $cards files, $(jq -r .id <<<"$OUT" | sort -u | wc -l) listed; $ERR"; break
    fi
    if ! ar-card index --check >"$T/check.out" 2>&1; then
        bad=1; fail "round $r: the index disagrees with the facts" "$(cat "$T/check.out")"; break
    fi
done
expect "$rounds kills left no torn or invalid fact or index" test "$bad" -eq 0

# rebuilds killed mid-transaction, with a writer beside them: the database
# still opens, holding the old index or the new one, and no fact is lost
bad=0
for r in $(seq 1 "$rounds"); do
    setsid bash -c '
        for j in $(seq 1 30); do ar-card index 2>/dev/null; done &   # bounded: never outlives the test
        for i in 1 2 3; do
            ar-card write --hypothesis "rebuild round $1 card $i" --category optimizer --status keep \
                --commit abc1234 --val-bpb 1.$1$i --platform "$2" >/dev/null
        done
        wait' burst "$r" "$P" 2>/dev/null &
    pid=$!
    sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
    kill -9 -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    cards=$(ls "$KB/cards" | grep -c '\.json$')
    run ar-card list --json
    if [ "$RC" -ne 0 ] || [ "$(jq -r .id <<<"$OUT" | sort -u | wc -l)" -ne "$cards" ]; then
        bad=1; fail "rebuild round $r: the readers do not see every card once" "rc $RC, $cards files; $ERR"; break
    fi
    if ! ar-card index --check >"$T/check.out" 2>&1; then
        bad=1; fail "rebuild round $r: the index disagrees with the facts" "$(cat "$T/check.out")"; break
    fi
done
expect "$rounds kills during rebuilds left an index that opens and agrees" test "$bad" -eq 0
# a killed rebuild leaves its new file, which the next command removes once
# the process is gone (the killed ones may linger a moment as zombies)
for f in $(ls -A "$KB" | grep '\.tmp\.'); do
    p=${f#*.tmp.}; p=${p%%.*}
    for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
done
ar-card list >/dev/null 2>&1
expect "no rebuild left a temp file once its process is gone" test -z "$(ls -A "$KB" | grep '\.tmp\.')"
expect "writes happened between the kills" test "$(ls "$KB/cards" | grep -c '\.json$')" -gt 5
expect "no temp file is taken for a fact" test -z "$(ls "$KB/cards" "$KB/notes" | grep -v '^\(20[0-9]*T[0-9]*Z-[0-9a-f]*\.json\)\?$' | grep -v ':$')"
finish
