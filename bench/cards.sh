#!/usr/bin/env bash
# bench/cards.sh [N]: a knowledge base of N synthetic cards (default
# 100000, bench/gencards), then the medians of 3 runs of: ar-card write (20
# cards, one, and 1,000 through --jsonl), ar-card note (one), index (a full rebuild from the
# facts), list --json and query '.status=="keep"'. Wall and CPU seconds; the
# targets are for N = 100,000 on 2 cores. AR_BENCH_DIR keeps the knowledge
# base there.
set -eu
cd "$(dirname "$0")/.."
N=${1:-100000}
make -s bin/ar-card
bench/build.sh
dir=${AR_BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/ar-bench-cards.XXXXXX")}
[ -n "${AR_BENCH_DIR:-}" ] || trap 'rm -rf "$dir"' EXIT
kb="$dir/kb"
if [ ! -f "$kb/index.db" ]; then
    start=$(date +%s.%N)
    bench/gencards --kb "$kb" --cards "$N"
    echo "generated $N cards in $(echo "$(date +%s.%N) - $start" | bc) s"
fi
export AR_KB="$kb" AR_AGENT=bench
TIMEFORMAT='%R %U %S'

# one: median wall and cpu of 3 runs of a command (output discarded)
one() {
    local name=$1 target=$2; shift 2
    local walls=() cpus=()
    for r in 1 2 3; do
        local t
        t=$( { time "$@" >/dev/null; } 2>&1 | tail -1)
        walls+=("$(awk '{print $1}' <<<"$t")")
        cpus+=("$(awk '{print $2 + $3}' <<<"$t")")
    done
    local wall cpu verdict=""
    wall=$(printf '%s\n' "${walls[@]}" | sort -g | sed -n 2p)
    cpu=$(printf '%s\n' "${cpus[@]}" | sort -g | sed -n 2p)
    [ "$target" = - ] || verdict=$(awk -v w="$wall" -v t="$target" \
        'BEGIN { print (w < t ? "ok, target < " t " s" : "MISSED, target < " t " s") }')
    printf '%-32s %8.3f s wall %8.3f s cpu  %s\n' "$name" "$wall" "$cpu" "$verdict"
}

writes() {
    for i in $(seq 1 20); do
        bin/ar-card write --hypothesis "bench write $i" --category other --status keep \
            --commit abc1234 --val-bpb 1.5 --platform '{"class":"bench"}' >/dev/null
    done
}
write_one() {
    bin/ar-card write --hypothesis "bench write one" --category other --status keep \
        --commit abc1234 --val-bpb 1.5 --platform '{"class":"bench"}' >/dev/null
}
jsonl_1000() {   # 1,000 new cards in one ar-card write --jsonl
    local tag=$RANDOM$RANDOM
    for i in $(seq 1 1000); do
        printf '{"hypothesis":"bench jsonl %s %d","category":"other","status":"keep","commit":"abc1234","metrics":{"val_bpb":1.5},"platform":{"class":"bench"}}\n' "$tag" "$i"
    done | bin/ar-card write --jsonl >/dev/null
}
note_one() {
    bin/ar-card note "$last" --comment "bench note" >/dev/null
}
echo "ar-card on $N cards ($(nproc) cores; $(cat "$kb"/index.db* | wc -c) bytes of index)"
one "write x20" - writes
one "write (one card)" 0.05 write_one
one "write --jsonl (1000 cards)" - jsonl_1000
last=$(ls "$kb/cards" | tail -1); last=${last%.json}
one "note (one)" 0.05 note_one
one "index (full rebuild)" 3 bin/ar-card index
one "list --json" 1 bin/ar-card list --json
one "query '.status==\"keep\"'" 3 bin/ar-card query '.status=="keep"'
