#!/usr/bin/env bash
# ar-queue across processes: 8 shell workers claim 120 entries with no
# entry taken twice or lost; workers killed with SIGKILL mid-operation leave
# a queue that parses and holds every entry. (tests/unit/test_queue.c has
# 16 processes on 2,000 entries and a kill inside a journal write.)
. "$(dirname "$0")/lib.sh"
run ar-queue grid --hypothesis "sweep" --set matrix_lr=$(seq -s, 0.01 0.01 0.12) \
    --set depth=$(seq -s, 1 10)
expect "the grid has 120 entries" test "$(grep -c '' <<<"$OUT")" -eq 120

for w in $(seq 8); do
    ( while e=$(ar-queue claim --worker "w$w" 2>/dev/null); do
          grep -oE '"id":"[^"]+"' <<<"$e" | cut -d'"' -f4
      done >"$T/claims.$w" ) &
done
wait
expect "every entry was claimed" test "$(cat "$T"/claims.* | wc -l)" -eq 120
expect "no entry was claimed twice" test "$(cat "$T"/claims.* | sort -u | wc -l)" -eq 120
run ar-queue status --json
expect "the queue agrees" grep -q '"claimed":120,"done":0,"failed":0,"pending":0' <<<"$OUT"

cat "$T"/claims.* | head -60 | while read -r id; do
    ar-queue release "$id" || echo "release $id failed"
done >"$T/rel" 2>&1
expect "releases succeed" test ! -s "$T/rel"

# workers in their own process groups, killed with SIGKILL at random moments
worker() {
    while :; do
        id=$(ar-queue claim --worker "$1" 2>/dev/null | grep -oE '"id":"[^"]+"' | cut -d'"' -f4)
        [ -z "$id" ] || ar-queue release "$id" 2>/dev/null
    done
}
export -f worker
for round in 1 2 3 4; do
    pids=()
    for w in 1 2 3; do
        setsid bash -c "worker k$w" >/dev/null 2>&1 &
        pids+=($!)
    done
    sleep 0.$((RANDOM % 4 + 2))
    for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
    wait "${pids[@]}" 2>/dev/null
    run ar-queue status --json
    total=$(grep -oE '"(pending|claimed)":[0-9]+' <<<"$OUT" | awk -F: '{ s += $2 } END { print s }')
    expect "round $round: the queue parses and holds all 120 entries" test "$RC" -eq 0 -a "$total" = 120
done
finish
