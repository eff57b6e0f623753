#!/usr/bin/env bash
# Research judgment on real data (issue 14): the seeds' own figures from
# Karpathy's public mar8 H100 log, and small two-platform logs for dead ends,
# contradictions, ranges and universal claims.
. "$(dirname "$0")/lib.sh"
FIX="$ROOT/tests/fixtures/karpathy-mar8-results.tsv"

# ------------------------------------------------------------------ mar8
run ar-card import --platform h100 "$FIX"
expect "mar8 imports" [ "$RC" -eq 0 ]
run ar-brief --json --max-bytes 200000
B=$OUT
expect "the seeds' batch halving (2^19 -> 2^18, -0.0119 on H100) is the top finding" \
    [ "$(jq -r '.findings[0].claim' <<<"$B")" = total_batch_tokens:down ]
expect "... with its effect -0.0119" [ "$(jq -r '.findings[0].effect' <<<"$B")" = -0.011859 ]
# the seed rerun (random seed 42 to 137: 0.973799 against 0.973104) is the
# log's one replicate pair: pooled sd 0.000491; with the prior 0.002 (4 dof)
# sigma is 0.0018, the seeds' "~0.002 seed noise"
expect "sigma pooled from the seed rerun: 0.000491" \
    [ "$(jq -r '.noise[] | select(.platform=="h100") | .pooled * 1e6 | round' <<<"$B")" = 491 ]
expect "sigma with the prior: 0.0018 (about the seeds' 0.002)" \
    [ "$(jq -r '.noise[] | select(.platform=="h100") | .sigma * 1e4 | round' <<<"$B")" = 18 ]
expect "the brief says where sigma came from" \
    [ "$(jq -r '.noise[] | select(.platform=="h100") | .source' <<<"$B")" = replicates+prior ]
# 22 keeps after the baseline; all but batch halving (-0.0119) and depth 9
# (-0.0043) are within 2 sigma = 0.0036 of their tip
w=$(jq -c '.warnings[] | select(.kind=="keeps_in_noise")' <<<"$B")
expect "20 of the 22 keeps on h100 are inside 2 sigma" \
    [ "$(jq -r '"\(.inside) \(.keeps)"' <<<"$w")" = "20 22" ]
emb=$(ar-card query 'select(.hypothesis=="embedding LR 0.6 to 0.8") | .id' | tr -d '"')
expect "the largest of them (embedding LR 0.6 -> 0.8, -0.0033) is first to replicate" \
    [ "$(jq -r '.replicate[0]' <<<"$w")" = "$emb" ]
run ar-brief
grep -q "h100: 20 of 22 keeps are inside 2 sigma (0.0036): replicate before building on them" <<<"$OUT" &&
    pass "the text brief counts them" || fail "the text brief counts them" "$OUT"
grep -q "keep inside 2 sigma, 125 runs" <<<"$OUT" &&
    pass "the best itself is flagged (-0.0003 against its tip)" || fail "the best is flagged" "$OUT"
expect "weight tying (+2.24) is the loudest dead end" \
    [ "$(jq -r '.dead_ends[0].claim' <<<"$B")" = tie_embeddings=true ]
expect "... with its effect +2.2437" [ "$(jq -r '.dead_ends[0].effect' <<<"$B")" = 2.243721 ]
expect "... in sigma, over a thousand" [ "$(jq -r '.dead_ends[0].effect_sigma | . > 1000' <<<"$B")" = true ]
expect "... one run, however strong, does not settle it (certainty 0.089, not 0)" \
    [ "$(jq -r '.dead_ends[0].certainty * 1000 | round' <<<"$B")" = 89 ]
sw() { jq -r --arg k "$1" '.sweeps[] | select(.key==$k) | .best' <<<"$B"; }
expect "RoPE base: optimum near 200K on h100 (10K..400K tried)" [ "$(sw rope_base)" = 200000 ]
expect "weight decay: optimum near 0.2" [ "$(sw muon_weight_decay)" = 0.2 ]
expect "warmdown: optimum near 0.75" [ "$(sw warmdown_frac)" = 0.75 ]
expect "window pattern: SSSSL the best of three" [ "$(sw window_pattern)" = SSSSL ]
expect "no section is cut silently: the omitted counts are given" \
    [ "$(jq -r '.omitted | type' <<<"$B")" = object ]
run ar-queue plan --json --platform h100
expect "plan runs" [ "$RC" -eq 0 ]
expect "the plan's first proposals replicate the keeps inside 2 sigma" \
    [ "$(head -5 <<<"$OUT" | jq -r .kind | sort -u)" = noisy-keep ]
expect "... the largest first" [ "$(head -1 <<<"$OUT" | jq -r .replicate)" = "$emb" ]
expect "... with the reason citing sigma" [ "$(head -1 <<<"$OUT" | jq -r '.reason | test("inside 2 sigma")')" = true ]
run ar-queue plan
grep -q "advice only" <<<"$OUT" && pass "a replication of another trainer's card is printed as advice" ||
    fail "advice for other trainers' cards" "$OUT"
expect "no baseline proposed for this machine's class, which has no cards" \
    [ -z "$(ar-queue plan --json | jq -r 'select(.kind=="noise-floor") | .hypothesis')" ]

# ------------------------------------------------------------------ order independence
claims() { AR_KB="$1" ar-synth findings >/dev/null && jq -c '[.claims[] | {claim, certainty, verdict, scope}]' "$1/synthesis/findings.json"; }
RTX="$ROOT/tests/fixtures/djordje-stojanovic-trainrtx5070-results.tsv"
mkdir -p "$T/o1" "$T/o2"
AR_KB="$T/o1/kb" ar-card import --platform h100 "$FIX" >/dev/null 2>&1
AR_KB="$T/o1/kb" ar-card import --platform rtx5070 "$RTX" >/dev/null 2>&1
AR_KB="$T/o2/kb" ar-card import --platform rtx5070 "$RTX" >/dev/null 2>&1

AR_KB="$T/o2/kb" ar-card import --platform h100 "$FIX" >/dev/null 2>&1
a=$(claims "$T/o1/kb") b=$(claims "$T/o2/kb")
expect "two import orders (and dates) give the same certainties" [ -n "$a" -a "$a" = "$b" ]

# ------------------------------------------------------------------ two platforms
tsv() {   # file, then rows "val_bpb status description"
    local f=$1; shift
    printf 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\n' >"$f"
    local r
    for r in "$@"; do
        IFS='|' read -r v s d <<<"$r"
        printf -- '-\t%s\t1.0\t%s\t%s\n' "$v" "$s" "$d" >>"$f"
    done
}
findings_of() { ar-synth findings >/dev/null && cat "$KB/synthesis/findings.json"; }
claim() { jq -c --arg c "$1" '.claims[] | select(.claim==$c)' <<<"$F"; }

# label smoothing: +0.32 on H100 (the seeds), +0.25 on a small card
mkdir -p "$T/ls"; export AR_KB="$T/ls/kb"
tsv "$T/ls-h100.tsv" "0.997900|keep|baseline" "1.317900|discard|add label smoothing 0.1"
tsv "$T/ls-rtx.tsv" "1.100000|keep|baseline" "1.350000|discard|label smoothing 0.1"
ar-card import --platform h100 "$T/ls-h100.tsv" >/dev/null && ar-card import --platform rtx5070 "$T/ls-rtx.tsv" >/dev/null
KB=$AR_KB; F=$(findings_of)
c=$(claim label_smoothing=0.1)
expect "label smoothing refuted on both classes" [ "$(jq -r .verdict <<<"$c")" = refuted ]
expect "... is a universal dead end" [ "$(jq -r .scope <<<"$c")" = universal ]
expect "... in the brief's dead ends" \
    [ "$(ar-brief --json | jq -r '.dead_ends[].claim' | grep -c '^label_smoothing=0.1$')" -eq 1 ]

# batch halving: confirmed on h100, refuted on rtx5070 from the same 2^19
mkdir -p "$T/contra"; export AR_KB="$T/contra/kb"
tsv "$T/b-h100.tsv" "0.997900|keep|baseline" "0.986041|keep|halve batch 524K to 262K"
tsv "$T/b-rtx.tsv" "1.100000|keep|baseline" "1.110000|discard|halve batch 524K to 262K"
ar-card import --platform h100 "$T/b-h100.tsv" >/dev/null && ar-card import --platform rtx5070 "$T/b-rtx.tsv" >/dev/null
KB=$AR_KB; F=$(findings_of)
c=$(claim total_batch_tokens:down)
expect "an opposite result on another class is a CONTRADICTS link" \
    [ "$(jq '[.links[] | select(.type=="CONTRADICTS")] | length' <<<"$c")" -eq 1 ]
expect "... and the claim is platform-specific" [ "$(jq -r .scope <<<"$c")" = platform-specific ]
expect "... in the brief's contradictions" \
    [ "$(ar-brief --json | jq -r '.contradictions[0].claim')" = total_batch_tokens:down ]

# the same direction past a small card's floor (2^15 -> 2^14) is another range
mkdir -p "$T/range"; export AR_KB="$T/range/kb"
tsv "$T/r-rtx.tsv" "1.100000|keep|baseline" "1.110000|discard|halve batch 32K to 16K"
ar-card import --platform h100 "$T/b-h100.tsv" >/dev/null && ar-card import --platform rtx5070 "$T/r-rtx.tsv" >/dev/null
KB=$AR_KB; F=$(findings_of)
c=$(claim total_batch_tokens:down)
expect "halving from 2^19 and from 2^15 do not contradict" \
    [ "$(jq '[.links[] | select(.type=="CONTRADICTS")] | length' <<<"$c")" -eq 0 ]
expect "... the claim is range-dependent" [ "$(jq -r .scope <<<"$c")" = range-dependent ]
expect "... with the ranges each class won and lost over" \
    [ "$(jq -c '[.classes.h100.won_over, .classes.rtx5070.lost_over]' <<<"$c")" = '[[262144,524288],[16384,32768]]' ]

# confirmed on both: universal
mkdir -p "$T/both"; export AR_KB="$T/both/kb"
tsv "$T/u-rtx.tsv" "1.100000|keep|baseline" "1.090000|keep|halve batch 524K to 262K"
ar-card import --platform h100 "$T/b-h100.tsv" >/dev/null && ar-card import --platform rtx5070 "$T/u-rtx.tsv" >/dev/null
KB=$AR_KB; F=$(findings_of)
c=$(claim total_batch_tokens:down)
expect "confirmed on two classes with no refutation: universal" [ "$(jq -r .scope <<<"$c")" = universal ]
expect "... two platforms behind it" [ "$(jq -r .platforms <<<"$c")" -eq 2 ]
finish
