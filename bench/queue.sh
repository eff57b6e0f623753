#!/usr/bin/env bash
# ar-queue throughput: 8 worker processes doing add -> claim -> done cycles
# on a queue of 1,000 pending entries (bench/queue.c, through lib/queue/queue.h:
# every operation locked, journalled and fdatasync'd). Three runs; prints
# each and the medians of cycles/s and of the 99th-percentile claim latency.
# Target: >= 500 cycles/s on 2 cores. The numbers depend on the disk's
# fdatasync latency and on what else the machine runs (load is printed).
# BENCH_WORKERS, BENCH_CYCLES (total) and BENCH_RUNS change the set-up.
set -eu
cd "$(dirname "$0")/.."
make -s lib/libar.a lib/libtrain.a
make -s -B bench/queue LOADLIBES="lib/libtrain.a lib/libar.a" OPT="${OPT:--O2}"
workers=${BENCH_WORKERS:-8}
cycles=${BENCH_CYCLES:-4000}
runs=${BENCH_RUNS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "cores $(nproc)  load $(cut -d' ' -f1-3 /proc/loadavg)  fs $(df -T "$tmp" | awk 'NR==2 {print $2}')"
for r in $(seq "$runs"); do
    bench/queue "$tmp/kb$r" --workers "$workers" --cycles $((cycles / workers)) --entries 1000 |
        tee -a "$tmp/runs"
done
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$tmp/runs" | sort -g; }
mid=$(( (runs + 1) / 2 ))
echo "median of $runs runs: $(field cycles/s | sed -n "${mid}p") cycles/s," \
    "claim p99 $(field p99 | sed -n "${mid}p") ms (target >= 500 cycles/s on 2 cores)"
