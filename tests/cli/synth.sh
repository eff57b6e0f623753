#!/usr/bin/env bash
# ar-synth: every subcommand on a small knowledge base, cron behaviour (quiet,
# idempotent), bad inputs, and byte-identical outputs for the same facts
# created in another order.
. "$(dirname "$0")/lib.sh"

# card N STATUS CLASS VAL DELTA CHANGES [more ar-card options]: a card created
# at minute N (VAL "-" for a crash, DELTA "-" for none)
card() {
    local n=$1 status=$2 cls=$3 val=$4 delta=$5 changes=$6; shift 6
    local args=(--created "$(printf '2026-11-23T10:%02d:00.000Z' "$n")" --hypothesis "try $n"
                --category optimizer --status "$status" --commit "abc12$(printf '%02d' "$n")"
                --platform "{\"class\":\"$cls\"}" --data '{"fingerprint":"fp1"}' --budget 300
                --session s1 --agent "agent-$cls" --changes "$changes")
    [ "$val" = - ] || args+=(--val-bpb "$val")
    [ "$delta" = - ] || args+=(--delta "$delta")
    ar-card write "${args[@]}" "$@" >/dev/null || echo "card $n: write failed" >&2
}

UP='[{"key":"matrix_lr","from":0.04,"to":0.05}]'
GELU='[{"key":"mlp","from":"relu2","to":"gelu"}]'
DEPTH='[{"key":"depth","from":8,"to":10}]'

# the facts, one command per line, so that they can be replayed in any order
facts() {
    card 1 baseline cpu 1.200 - '[]' --config '{"matrix_lr":0.04}'
    card 2 baseline cpu 1.202 - '[]' --config '{"matrix_lr":0.04}'
    card 3 baseline h100 1.000 - '[]' --config '{"matrix_lr":0.04}'
    card 4 keep cpu 1.190 -0.010 "$UP"
    card 5 keep h100 0.990 -0.010 "$UP"
    card 6 discard cpu 1.230 0.030 "$GELU"
    card 7 crash cpu - - "$DEPTH"
    card 8 keep h100 0.985 -0.015 "$GELU" --session s2
    card 9 discard h100 1.020 0.020 "$DEPTH" --session s2
    card 10 inconclusive cpu 1.199 -0.001 "$DEPTH" --session autoresearch/mar5
}

facts
expect "cards written" test "$(ls "$KB/cards" | wc -l)" -eq 10

# ------------------------------------------------------------------ all
run ar-synth all
expect "all exits 0" test "$RC" -eq 0
expect "all is quiet on success" test -z "$OUT$ERR"
for f in findings.json coverage.json meta.md meta.json session-s1.md session-s2.md; do
    expect "all writes $f" test -s "$KB/synthesis/$f"
done
expect "a tag with a slash gets a safe, distinct file name" \
    test "$(ls "$KB/synthesis" | grep -cE '^session-autoresearch_mar5-[0-9a-f]{8}\.md$')" -eq 1
sum=$(tree_sum "$KB/synthesis")
stamp=$(stat -c %Y.%y "$KB/synthesis/meta.md")
sleep 1
run ar-synth all
expect "a second run changes nothing" test "$(tree_sum "$KB/synthesis")" = "$sum"
expect "a second run rewrites nothing" test "$(stat -c %Y.%y "$KB/synthesis/meta.md")" = "$stamp"

# ------------------------------------------------------------------ findings
F="$KB/synthesis/findings.json"
expect "findings: matrix_lr:up confirmed on two classes is universal" \
    test "$(jq -r '.claims[] | select(.claim=="matrix_lr:up") | .scope' "$F")" = universal
expect "findings: mlp=gelu contradicts across classes" \
    test "$(jq -r '.claims[] | select(.claim=="mlp=gelu") | .scope' "$F")" = platform-specific
expect "findings: the contradiction is linked" \
    test "$(jq -r '[.claims[] | select(.claim=="mlp=gelu") | .links[] | select(.type=="CONTRADICTS")] | length' "$F")" -eq 1
expect "findings: the crash is tallied" \
    test "$(jq -r '.claims[] | select(.claim=="depth:up") | .crashes' "$F")" -eq 1
expect "findings: the cpu replicates' own pooled sd" \
    test "$(jq -r '.noise.cpu.pooled' "$F")" = 0.001414
expect "findings: noise floor from the cpu replicates, shrunk towards the prior (4 dof of 0.002)" \
    test "$(jq -r '.noise.cpu.sigma' "$F")" = 0.001897
expect "findings: default noise floor without replicates" \
    test "$(jq -r '.noise.h100.default' "$F")" = true

# ------------------------------------------------------------------ session
S="$KB/synthesis/session-s1.md"
expect "session report names the session" grep -q '^# Session s1$' "$S"
expect "session report counts its cards only" grep -q '^- cards: 7 ' "$S"
expect "session report lists the crash" grep -q '^## Crashes' "$S"
expect "session report has baseline and best" grep -q '^## Baseline and best' "$S"
rm "$S"
expect_rc "session TAG" 0 ar-synth session s1
expect "session TAG writes its report" test -s "$S"

# ------------------------------------------------------------------ coverage
run ar-synth coverage
expect "coverage prints a table" grep -qE '^category +experiments +kept' <<<"$OUT"
expect "coverage lists trainer keys nobody tried" grep -qE '^warmup_frac +0 .*under-explored' <<<"$OUT"
run ar-synth coverage --json
expect "coverage --json prints one JSON object" test "$(jq -r '.keys.matrix_lr.experiments' <<<"$OUT")" -eq 2
run ar-synth coverage --quiet
expect "coverage --quiet prints nothing" test -z "$OUT$ERR"

# ------------------------------------------------------------------ meta
M="$KB/synthesis/meta.md"
expect "meta has key findings" grep -q '^## Key findings' "$M"
expect "meta has platform-specific findings" grep -q '^## Platform-specific findings' "$M"
expect "meta has the certainty landscape" grep -q '^## Certainty landscape' "$M"
expect "meta.json lists the platform-specific claim" \
    test "$(jq -r '.platform_specific[0].claim' "$KB/synthesis/meta.json")" = mlp=gelu

# ------------------------------------------------------------------ retraction
id=$(ls "$KB/cards" | sed -n 5p); id=${id%.json}   # card 5: matrix_lr:up on h100
AR_NOW=2026-11-23T11:00:00.000Z ar-card retract "$id" --reason "bad run" >/dev/null
ar-synth findings
expect "a retracted card leaves the findings" \
    test "$(jq -r '.claims[] | select(.claim=="matrix_lr:up") | .runs' "$F")" -eq 1

# ------------------------------------------------------------------ bad input
before=$(tree_sum "$KB")
expect_err "unknown session" 2 "session 'nope': no cards" ar-synth session nope
expect "an unknown session writes nothing" test "$(tree_sum "$KB")" = "$before"
expect_rc "session without a tag" 2 ar-synth session
expect_err "unknown command" 2 "unknown command 'bogus'" ar-synth bogus
expect_err "unknown option" 2 "unknown option" ar-synth meta --bogus
expect_err "missing knowledge base" 1 "$T/none" ar-synth all --kb "$T/none"
run ar-synth --help
expect "--help on stdout" grep -q '^usage: ar-synth' <<<"$OUT"

U="$T/unwritable"
mkdir -p "$U"
cp -r "$KB/cards" "$KB/notes" "$U/"
: >"$U/synthesis"   # a file where the directory should be
expect_err "unwritable output" 1 "synthesis" ar-synth all --kb "$U"
rm "$U/synthesis"; mkdir -p "$U/synthesis/meta.md"   # a directory where a file should be
expect_err "unwritable output file" 1 "meta.md" ar-synth meta --kb "$U"

E="$T/empty"
mkdir -p "$E/cards" "$E/notes"
expect_rc "an empty knowledge base" 0 ar-synth all --kb "$E"
expect "an empty knowledge base has no claims" test "$(jq '.claims | length' "$E/synthesis/findings.json")" -eq 0

# ------------------------------------------------------------------ any order
# the same facts created in a shuffled order give byte-identical outputs
O="$T/other"
mkdir -p "$O"
mapfile -t lines < <(declare -f facts | sed -n '/^ *card /p')
for i in 6 3 9 1 7 2 10 8 4 5; do
    (export AR_KB="$O"; eval "${lines[$((i - 1))]%;}")
done
AR_KB="$O" AR_NOW=2026-11-23T11:00:00.000Z ar-card retract "$id" --reason "bad run" >/dev/null
expect "the shuffled order made the same facts" test "$(tree_sum "$O/cards")" = "$(tree_sum "$KB/cards")"
ar-synth all
ar-synth all --kb "$O"
expect "same facts, shuffled order: identical synthesis" \
    test "$(tree_sum "$O/synthesis")" = "$(tree_sum "$KB/synthesis")"
finish
