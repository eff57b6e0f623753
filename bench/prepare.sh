#!/usr/bin/env bash
# Data preparation speed: `ar-train prepare` of the default corpus (the
# target is under 60 s on 2 cores), the median of 3 runs into a scratch data
# directory, and that the 3 runs wrote the same bytes. Reuses the package in
# $AR_DATA (default ~/.cache/ar) when it is there, so only the first run on
# a fresh machine needs the npm registry. Takes a few seconds.
set -eu
cd "$(dirname "$0")/.."
make -s bin/ar-train
v=$(sed -n 's/^NLP_CORPUS_VERSION *:= *//p' Makefile)
data=${AR_DATA:-$HOME/.cache/ar}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/d"
if [ -f "$data/nlp-corpus-$v.tgz" ]; then
    cp "$data/nlp-corpus-$v.tgz" "$tmp/d/"
else
    bin/ar-train prepare --data "$tmp/d" >/dev/null    # fetch once, untimed
    rm -rf "$tmp/d/nlp-corpus-$v"
fi

times=() sums=()
for i in 1 2 3; do
    rm -rf "$tmp/d/nlp-corpus-$v"          # unpacking and reading count too
    s=$(date +%s.%N)
    bin/ar-train prepare --data "$tmp/d" >"$tmp/out"
    e=$(date +%s.%N)
    times+=("$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')")
    sums+=("$(cd "$tmp/d" && cat manifest.json tokenizer.bin train.bin val.bin | sha256sum | cut -c1-16)")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
grep -E '^(corpus|tokenizer|train|val):' "$tmp/out"
printf 'prepare seconds: %.2f median of 3 (%s)\n' "$median" "$(printf '%.2f ' "${times[@]}")"
tokens=$(jq '.train.tokens + .val.tokens' "$tmp/d/manifest.json")
awk -v t="$tokens" -v s="$median" 'BEGIN { printf "end to end: %.2f M tokens/s\n", t / s / 1e6 }'
if [ "$(printf '%s\n' "${sums[@]}" | sort -u | wc -l)" -eq 1 ]; then
    echo "deterministic: yes (3 runs, same bytes)"
else
    echo "deterministic: NO"; exit 1
fi
