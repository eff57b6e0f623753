#!/usr/bin/env bash
# bench/import.sh [N...]: times `ar-card import` of a synthetic results.tsv
# of N rows (default 2,000 and 20,000) into an empty knowledge base, and
# prints rows per second beside the target (>= 1000 rows/s, issue 17: it
# was 2,000 rows in 4.6 s and 20,000 not done in 120 s). The rows are like
# a real log's: a baseline, keeps and discards with descriptions the
# vocabulary reads, a crash now and then. CPU seconds and the load average
# are printed too: on a loaded machine the wall time is mostly waiting.
# AR_BENCH_DIR keeps the files.
set -eu
cd "$(dirname "$0")/.."
make -s bin/ar-card
dir=${AR_BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/ar-bench-import.XXXXXX")}
[ -n "${AR_BENCH_DIR:-}" ] || trap 'rm -rf "$dir"' EXIT
export AR_AGENT=bench TZ=UTC
TARGET=1000
[ $# -gt 0 ] || set -- 2000 20000

gen() {   # gen N FILE
    awk -v n="$1" 'BEGIN {
        srand(7)
        print "commit\tval_bpb\tmemory_gb\tstatus\tdescription"
        print "baseline\t1.000000\t44.0\tkeep\tbaseline"
        best = 1.0
        for (i = 1; i < n; i++) {
            commit = sprintf("%07x", 1048576 + i * 7919)
            if (i % 97 == 0) { printf "%s\t0.000000\t0.0\tcrash\tdepth %d (out of memory)\n", commit, 12 + i % 5; continue }
            v = best + (rand() - 0.7) * 0.0001
            st = v < best ? "keep" : "discard"
            if (v < best) best = v
            k = i % 4
            if (k == 0) d = sprintf("matrix LR 0.04 to 0.0%d", 3 + i % 6)
            else if (k == 1) d = sprintf("warmdown 0.5 to 0.%d", 5 + i % 4)
            else if (k == 2) d = sprintf("depth %d aspect %d", 8 + i % 3, 50 + i % 9)
            else d = sprintf("weight decay 0.2 to 0.%d", 1 + i % 3)
            printf "%s\t%.6f\t44.0\t%s\t%s\n", commit, v, st, d
        }
    }' >"$2"
}

echo "ar-card import of results.tsv ($(nproc) cores); target >= $TARGET rows/s"
for n in "$@"; do
    f="$dir/results-$n.tsv"
    gen "$n" "$f"
    rm -rf "$dir/kb-$n"
    TIMEFORMAT='%R %U %S'
    t=$( { time bin/ar-card import --kb "$dir/kb-$n" --platform bench "$f" >/dev/null; } 2>&1 | tail -1)
    got=$(ls "$dir/kb-$n/cards" | wc -l)
    awk -v n="$n" -v got="$got" -v t="$t" -v target="$TARGET" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
        split(t, a, " "); w = a[1]; cpu = a[2] + a[3]; r = n / w
        printf "%6d rows: %6d cards in %7.3f s wall (%6.3f s cpu, load %s)  %8.0f rows/s  %s\n", n, got, w, cpu,
            load, r, (r >= target && got == n ? "ok, target >= " target " rows/s" : "MISSED, target >= " target " rows/s")
    }'
done
