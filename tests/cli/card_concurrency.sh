#!/usr/bin/env bash
# ar-card: 8 processes writing 200 cards each into one knowledge base give
# 1600 distinct valid cards and an index that `index --check` accepts.
. "$(dirname "$0")/lib.sh"
P='{"class":"cpu-avx512"}'
ar-card write --hypothesis first --category other --status keep --commit abc1234 --val-bpb 1 \
    --platform "$P" >/dev/null
writer() {   # one process storing 200 cards, each locked and indexed in turn
    for i in $(seq 1 200); do
        printf '{"hypothesis":"writer %s card %s","category":"optimizer","status":"keep",' "$1" "$i"
        printf '"commit":"abc1234","metrics":{"val_bpb":1.%s},"platform":%s,"session":"w%s"}\n' "$i" "$P" "$1"
    done | ar-card write --jsonl >"$T/ids.$1" || echo "writer $1 failed" >>"$T/errors"
}
for w in 1 2 3 4 5 6 7 8; do writer $w & done
wait
expect "no write failed" test ! -e "$T/errors"
expect "each writer printed 200 ids" test "$(cat "$T"/ids.* | sort -u | wc -l)" -eq 1600
expect "1601 card files" test "$(ls "$KB/cards" | grep -c '\.json$')" -eq 1601
expect "no temp files left" test -z "$(ls -A "$KB/cards" | grep '^\.')"
expect_rc "every card is valid" 0 ar-card validate
expect_rc "the index agrees with the facts" 0 ar-card index --check
run ar-card list --json
expect "the index lists every card once" \
    test "$(jq -r .id <<<"$OUT" | sort -u | wc -l)" -eq 1601
expect "each writer's 200 cards are there" \
    test "$(jq -r 'select(.session=="w5") | .hypothesis' <<<"$OUT" | sort -u | wc -l)" -eq 200
# a query this large runs in several processes: same output as one
expect "index is large enough for a parallel query" test "$(ar-card list --json | wc -c)" -gt 524288
run ar-card query '[.id, .session]'
par=$OUT
OMP_NUM_THREADS=1 run ar-card query '[.id, .session]'
expect "a parallel query prints what one process prints, in order" test "$par" = "$OUT"
expect "the query saw every card" test "$(grep -c '' <<<"$par")" -eq 1601
finish
