#!/usr/bin/env bash
# ar-synth all on synthetic knowledge bases of 10,000, 30,000 and 100,000
# cards (bench/gencards: 5 platform classes, 50 config keys), median of 3
# runs each in three states:
#   parse   right after a rebuild of index.db (ar-card index, not timed), no
#           synthesis/: every output written
#   cold    no synthesis/: every output written
#   warm    nothing changed: nothing rewritten
# Target: under 5 s at 100k on 2 cores. Wall times depend on the machine's
# load (printed at the end); CPU seconds (user + sys) do not.
# Knowledge bases are kept in $AR_BENCH_DIR (default /tmp/ar-bench) and
# reused; SIZES="10000 100000" picks sizes.
set -eu
cd "$(dirname "$0")/.."
bench/build.sh
make -s bin/ar-synth
DIR=${AR_BENCH_DIR:-/tmp/ar-bench}
SIZES=${SIZES:-10000 30000 100000}
mkdir -p "$DIR"

median() { sort -n | sed -n 2p; }

# seconds (wall, then user+sys) of one command, as "WALL CPU"
timed() {
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$DIR/.time" "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    echo "$(echo "$t1 - $t0" | bc -l) $(awk '{print $1 + $2}' "$DIR/.time")"
}

declare -A wall cpu
printf '%-8s %8s %8s %8s %8s %8s %8s   (seconds)\n' cards parse cpu cold cpu warm cpu
for n in $SIZES; do
    kb="$DIR/synth-kb-$n"
    if [ ! -s "$kb/index.db" ]; then
        rm -rf "$kb"
        bench/gencards --kb "$kb" --cards "$n" --platforms 5 --keys 50 >/dev/null
    fi
    parse=() cold=() warm=()
    for r in 1 2 3; do
        rm -rf "$kb/synthesis"
        make -s bin/ar-card && bin/ar-card index --kb "$kb"
        parse+=("$(timed bin/ar-synth all --kb "$kb")")
        rm -rf "$kb/synthesis"
        cold+=("$(timed bin/ar-synth all --kb "$kb")")
        warm+=("$(timed bin/ar-synth all --kb "$kb")")
    done
    col() { printf '%s\n' "$@" | awk -v c="$COL" '{print $c}' | median; }
    pw=$(COL=1 col "${parse[@]}") pc=$(COL=2 col "${parse[@]}")
    cw=$(COL=1 col "${cold[@]}") cc=$(COL=2 col "${cold[@]}")
    ww=$(COL=1 col "${warm[@]}") wc=$(COL=2 col "${warm[@]}")
    wall[$n]=$pw cpu[$n]=$pc
    printf '%-8s %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f\n' "$n" "$pw" "$pc" "$cw" "$cc" "$ww" "$wc"
done
set -- $SIZES
first=$1; last=${!#}
if [ "$first" != "$last" ]; then
    echo "growth from $first to $last cards ($(echo "$last / $first" | bc -l | xargs printf '%.0f')x):" \
        "parse wall $(echo "${wall[$last]} / ${wall[$first]}" | bc -l | xargs printf '%.1f')x," \
        "cpu $(echo "${cpu[$last]} / ${cpu[$first]}" | bc -l | xargs printf '%.1f')x" \
        "(linear: index scan, sorts n log n; outputs grow with sessions and claims)"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
