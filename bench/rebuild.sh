#!/usr/bin/env bash
# bench/rebuild.sh KB [AR_CARD...]: medians of 3 full rebuilds of a copy of
# knowledge base KB's index (ar-card index) for each ar-card binary given
# (default bin/ar-card), wall and CPU seconds, interleaved so that a change
# in the machine's load falls on all alike; the load average before. The
# target (issue 10) is under 3 s at 100,000 cards on 2 cores. KB is copied
# (its index included), never written.
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/rebuild.sh KB [AR_CARD...]" >&2; exit 2; }
src=$1; shift
[ $# -ge 1 ] || set -- bin/ar-card
dir=$(mktemp -d "${TMPDIR:-/tmp}/ar-bench-rebuild.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cp -a "$src" "$dir/kb"
export AR_KB="$dir/kb" AR_AGENT=bench
"$1" index >/dev/null   # a first rebuild, so each run starts from the same index
TIMEFORMAT='%R %U %S'
declare -A walls cpus
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(ls "$dir/kb/cards" | wc -l) cards"
for r in 1 2 3; do
    for b in "$@"; do
        t=$( { time "$b" index >/dev/null; } 2>&1 | tail -1)
        walls[$b]+="$(awk '{print $1}' <<<"$t") "
        cpus[$b]+="$(awk '{print $2 + $3}' <<<"$t") "
    done
done
for b in "$@"; do
    w=$(tr ' ' '\n' <<<"${walls[$b]}" | grep . | sort -g | sed -n 2p)
    c=$(tr ' ' '\n' <<<"${cpus[$b]}" | grep . | sort -g | sed -n 2p)
    printf '%-40s %7.3f s wall (runs: %s) %7.3f s cpu\n' "$b" "$w" "${walls[$b]% }" "$c"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
