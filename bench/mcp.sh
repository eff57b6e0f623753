#!/usr/bin/env bash
# bench/mcp.sh [N]: ar-mcp over stdio on a knowledge base of N synthetic
# cards (default 10000, bench/gencards). One session each, its requests
# written to the server's stdin at once and the replies counted: 10,000
# pings (the protocol's own cost), 20 tools/call brief, 200 tools/call
# queue_claim of a queue of 200 entries (each claim a locked queue
# write). Medians of 3 sessions, as requests per second and milliseconds
# per request, with the session's start (initialize) included. No target:
# these are the figures to compare a change against.
set -eu
cd "$(dirname "$0")/.."
N=${1:-10000}
make -s bin/ar-mcp bin/ar-queue bin/ar-card
[ -x bench/gencards ] || bench/build.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/ar-bench-mcp.XXXXXX")
trap 'rm -rf "$T"' EXIT
export AR_AGENT=bench
bench/gencards --kb "$T/kb" --cards "$N" >/dev/null
bin/ar-card index --kb "$T/kb" >/dev/null

init='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}'
# requests FILE KIND COUNT: the session's lines
requests() {
    {
        echo "$init"
        echo '{"jsonrpc":"2.0","method":"notifications/initialized"}'
        for i in $(seq 1 "$3"); do
            case $2 in
            ping) echo "{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"ping\"}" ;;
            brief) echo "{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"tools/call\",\"params\":{\"name\":\"brief\",\"arguments\":{}}}" ;;
            claim) echo "{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"tools/call\",\"params\":{\"name\":\"queue_claim\",\"arguments\":{\"worker\":\"w$i\"}}}" ;;
            esac
        done
    } >"$1"
}
fill_queue() {   # 200 pending entries, the queue emptied first
    rm -f "$T/kb"/queue.*
    for i in $(seq 1 200); do
        bin/ar-queue add --kb "$T/kb" --hypothesis "bench entry $i" --category other >/dev/null
    done
}
# session FILE COUNT: seconds of one ar-mcp session; checks COUNT+1 replies
session() {
    local s e got
    s=$(date +%s.%N)
    bin/ar-mcp --kb "$T/kb" <"$1" >"$T/out"
    e=$(date +%s.%N)
    got=$(grep -c '"result"' "$T/out")
    [ "$got" -eq $(($2 + 1)) ] || { echo "bench/mcp.sh: $got results of $(($2 + 1))" >&2; exit 1; }
    echo "$e - $s" | bc
}
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
report() {   # NAME COUNT SECONDS
    awk -v n="$1" -v c="$2" -v s="$3" 'BEGIN { printf "%-28s %6d requests %8.3f s %10.0f /s %8.2f ms each\n", n, c, s, c / s, 1000 * s / c }'
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $N cards"
requests "$T/ping" ping 10000
report ping 10000 "$(median3 "$(session "$T/ping" 10000)" "$(session "$T/ping" 10000)" "$(session "$T/ping" 10000)")"
requests "$T/brief" brief 20
report "tools/call brief" 20 "$(median3 "$(session "$T/brief" 20)" "$(session "$T/brief" 20)" "$(session "$T/brief" 20)")"
requests "$T/claim" claim 200
runs=()
for r in 1 2 3; do
    fill_queue
    runs+=("$(session "$T/claim" 200)")
    grep -q '"entry":null' "$T/out" && { echo "bench/mcp.sh: a claim found the queue empty" >&2; exit 1; }
done
report "tools/call queue_claim" 200 "$(median3 "${runs[@]}")"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
