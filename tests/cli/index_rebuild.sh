#!/usr/bin/env bash
# ar-card index builds the new index beside the old one while others go on
# writing and reading, then takes in what came meanwhile and swaps it in:
# cards and notes written during rebuilds are all in the index afterwards,
# their views carry their notes, readers never fail, and no temp file
# stays behind.
. "$(dirname "$0")/lib.sh"
P='{"class":"cpu-avx512"}'

# a base large enough that a rebuild takes a while (reading 3,000 files)
for i in $(seq 1 3000); do
    printf '{"hypothesis":"base card %d","category":"optimizer","status":"keep","commit":"abc1234",' "$i"
    printf '"metrics":{"val_bpb":1.%04d},"platform":%s}\n' "$i" "$P"
done | ar-card write --jsonl >/dev/null
expect_rc "the base is indexed" 0 ar-card index --check

writer() {   # cards, each with a lesson, one at a time, while rebuilds run
    for i in $(seq 1 12); do
        id=$(ar-card write --hypothesis "during rebuild $1 card $i" --category optimizer --status keep \
            --commit abc1234 --val-bpb "1.$1$i" --platform "$P") || { echo "write $1 $i" >>"$T/errors"; continue; }
        ar-card note "$id" --lesson "lesson $1 $i" >/dev/null || echo "note $1 $i" >>"$T/errors"
    done
}
reader() {   # readers during the rebuilds see an index, old or new
    for i in $(seq 1 8); do
        ar-card list --json >/dev/null 2>>"$T/read.err" || echo "list $1 $i" >>"$T/errors"
    done
}
for r in 1 2 3 4; do
    writer "$r" &
    w=$!
    reader "$r" &
    rd=$!
    for k in 1 2 3; do ar-card index 2>>"$T/index.err" || echo "index $r $k" >>"$T/errors"; done
    wait "$w" "$rd"
done
expect "no write, read or rebuild failed" test ! -s "$T/errors"
expect "no rebuild said anything" test ! -s "$T/index.err"
cards=$(ls "$KB/cards" | grep -c '\.json$')
expect "48 cards came during the rebuilds" test "$cards" -eq 3048
run ar-card list --json
expect "the index lists every card once" test "$(jq -r .id <<<"$OUT" | sort -u | wc -l)" -eq "$cards"
expect "every card of the rebuilds carries its lesson" \
    test "$(jq -r 'select(.hypothesis | startswith("during")) | select(.lesson != null or ((.notes // []) | length) > 0) | .id' <<<"$OUT" | wc -l)" -eq 48
expect_rc "the index agrees with the facts" 0 ar-card index --check
expect "no temp file is left" test -z "$(ls -A "$KB" | grep '\.tmp\.')"
# bytes 18 and 19 of an SQLite file: 2 and 2 in WAL mode
expect "the index is in WAL mode" test "$(od -An -tu1 -j18 -N2 "$KB/index.db" | tr -s ' ')" = " 2 2"
finish
