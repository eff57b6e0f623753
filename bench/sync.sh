#!/usr/bin/env bash
# ar-sync at scale: a knowledge base of N synthetic cards (bench/gencards)
# pushed to a bare remote, received by an empty peer (every file checked),
# then a no-op sync and a one-card sync (medians of 3).
# Usage: bench/sync.sh [N...]   (default 10000)
set -eu
cd "$(dirname "$0")/.."
[ -x bench/gencards ] || bench/build.sh
export PATH="$PWD/bin:$PATH" AR_AGENT=bench
T=$(mktemp -d "${TMPDIR:-/tmp}/ar-bench-sync.XXXXXX")
trap 'rm -rf "$T"' EXIT
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
for n in "${@:-10000}"; do
    rm -rf "$T"/*
    git init -q --bare -b main "$T/r.git"
    bench/gencards --kb "$T/a" --cards "$n" >/dev/null
    facts=$(( $(ls "$T/a/cards" | wc -l) + $(ls "$T/a/notes" | wc -l) ))
    ar-sync init --kb "$T/a" --remote "$T/r.git" >/dev/null   # commits every fact
    push=$(secs ar-sync --kb "$T/a")
    ar-sync init --kb "$T/b" --remote "$T/r.git" >/dev/null
    recv=$(secs ar-sync --kb "$T/b")
    got=$(( $(ls "$T/b/cards" | wc -l) + $(ls "$T/b/notes" | wc -l) ))
    noop=$(median3 "$(secs ar-sync --kb "$T/b")" "$(secs ar-sync --kb "$T/b")" "$(secs ar-sync --kb "$T/b")")
    one=()
    for i in 1 2 3; do
        ar-card write --kb "$T/a" --hypothesis "bench $i" --category other --status keep \
            --commit abc1234 --val-bpb 1.5 --platform '{"class":"bench"}' >/dev/null
        ar-sync --kb "$T/a" >/dev/null
        one+=("$(secs ar-sync --kb "$T/b")")
    done
    printf '%6d cards (%d facts): first push %.2f s, receive all (checked) %.2f s (%d facts), no-op %.2f s, one new card %.2f s\n' \
        "$n" "$facts" "$push" "$recv" "$got" "$noop" "$(median3 "${one[@]}")"
done
