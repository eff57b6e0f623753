#!/usr/bin/env bash
# ar-brief and ar-plot on synthetic knowledge bases (bench/gencards: 5
# platform classes, 50 config keys) of 10,000 and 100,000 cards. Prints the
# median wall time of 3 runs of each command, the CPU time of ar-brief, and
# how the time grows from 10k to 100k cards. ar-brief is timed four ways:
# cold (--no-cache: every statistic computed again, the card summaries read
# from index.db's rows), saved (the facts did not change since the last
# brief), right after a new card, and right after a note.
# Targets at 100,000 cards on 2 cores (issue 10): ar-brief cold <= 0.26 s,
# after a new card <= 0.35 s, after a note <= 0.32 s; ar-plot progress < 2 s.
#
#   bench/brief.sh                 # 10000 and 100000 cards in a temp dir
#   SIZES="1000 10000" bench/brief.sh
#   BENCH_KB=/tmp/kbs bench/brief.sh   # keep (and reuse) the generated bases
set -eu
cd "$(dirname "$0")/.."
make -s -j2 all >/dev/null
bench/build.sh >/dev/null
export PATH="$PWD/bin:$PATH"
sizes=${SIZES:-"10000 100000"}
if [ -n "${BENCH_KB:-}" ]; then
    dir=$BENCH_KB
    mkdir -p "$dir"
else
    dir=$(mktemp -d "${TMPDIR:-/tmp}/ar-bench-brief.XXXXXX")
    trap 'rm -rf "$dir"' EXIT
fi

# wall seconds of one run of "$@" (output discarded)
wall() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
# median of three runs
median3() {
    local a b c
    a=$(wall "$@"); b=$(wall "$@"); c=$(wall "$@")
    printf '%s\n%s\n%s\n' "$a" "$b" "$c" | sort -g | sed -n 2p
}
# user+system CPU seconds of one run
cpu() {
    /usr/bin/time -f '%U %S' "$@" 2>&1 >/dev/null | tail -1 | awk '{ printf "%.3f", $1 + $2 }'
}

# median wall seconds of ar-brief right after a new card lands (its row
# inserted, the saved brief no longer matching), and right after a lesson
# note on it (the card's row rewritten); three rounds, each adds a card and
# a note
after_change() {
    local kind=$1 r last tmpl times=()
    last=$(ls "$AR_KB/cards" | tail -1)
    tmpl=$(jq -c 'del(.id, .created, .agent, .schema)' "$AR_KB/cards/$last")
    for r in 1 2 3; do
        local id
        id=$(jq -c --arg h "bench: one more card $(date +%s%N)" '.hypothesis = $h' <<<"$tmpl" |
            ar-card write --stdin)
        [ "$kind" = note ] && ar-card note "$id" --lesson "bench: a lesson" >/dev/null
        times+=("$(wall ar-brief)")
    done
    printf '%s\n' "${times[@]}" | sort -g | sed -n 2p
}

printf '%-7s %8s %13s %14s %13s %13s %13s %11s %12s %12s %11s\n' cards index_MB brief_cold_s brief_cold_cpu brief_saved_s brief_card_s brief_note_s plot_png_s plot_png_cpu plot_term_s findings_s
declare -A brief plot
for n in $sizes; do
    kb=$dir/kb$n
    if [ ! -f "$kb/index.db" ]; then
        rm -rf "$kb"
        bench/gencards --kb "$kb" --cards "$n" --platforms 5 --keys 50 >/dev/null 2>&1
    fi
    export AR_KB=$kb
    ar-brief >/dev/null   # the index is fresh and in the page cache
    mb=$(du -cm "$kb"/index.db* | tail -1 | cut -f1)
    b=$(median3 ar-brief --no-cache)
    bc_=$(cpu ar-brief --no-cache)
    ar-brief >/dev/null
    w=$(median3 ar-brief)
    ac=$(after_change card)
    an=$(after_change note)
    p=$(median3 ar-plot progress -o "$dir/progress-$n.png")
    pc=$(cpu ar-plot progress -o "$dir/progress-$n.png")
    t=$(median3 ar-plot progress --term)
    f=$(median3 ar-plot findings -o "$dir/findings-$n.png")
    brief[$n]=$b
    plot[$n]=$p
    printf '%-7s %8s %13.3f %14s %13.3f %13.3f %13.3f %11.3f %12s %12.3f %11.3f\n' "$n" "$mb" "$b" "$bc_" "$w" "$ac" "$an" "$p" "$pc" "$t" "$f"
done

set -- $sizes
if [ $# -ge 2 ]; then
    lo=$1 hi=${!#}
    ratio() { echo "$1 / $2" | bc -l; }
    printf 'growth %s -> %s cards (x%d): ar-brief (cold) x%.1f, ar-plot progress x%.1f\n' "$lo" "$hi" \
        $((hi / lo)) "$(ratio "${brief[$hi]}" "${brief[$lo]}")" "$(ratio "${plot[$hi]}" "${plot[$lo]}")"
fi
echo "targets at 100000 cards on 2 cores: brief_cold_s <= 0.26, brief_card_s <= 0.35, brief_note_s <= 0.32, plot_png_s < 2"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (wall times grow with the load; *_cpu columns are user+system seconds)"
