#!/usr/bin/env bash
# ar-queue plan: suggestions from findings, coverage and the noise floor,
# each with its reason and cards; --apply queues them once.
. "$(dirname "$0")/lib.sh"
P='{"class":"cpu-test"}' D='{"fingerprint":"fp1"}'
card() { ar-card write --commit abc1234 --data "$D" --budget 60 --seed 1 "$@"; }
base=$(card --hypothesis base --category baseline --status baseline --val-bpb 1.0 --platform "$P" \
    --config '{"depth":4,"matrix_lr":0.04}')
lr=$(card --hypothesis "lr up" --category optimizer --status keep --val-bpb 0.99 --delta -0.01 \
    --baseline "$base" --platform "$P" --config '{"depth":4,"matrix_lr":0.08}' \
    --changes '[{"key":"matrix_lr","from":0.04,"to":0.08}]')
card --hypothesis "deeper" --category architecture --status keep --val-bpb 0.995 --delta -0.005 \
    --baseline "$base" --platform '{"class":"h100"}' --config '{"depth":6,"matrix_lr":0.04}' \
    --changes '[{"key":"depth","from":4,"to":6}]' >/dev/null
deep=$(card --hypothesis "deeper again" --category architecture --status keep --val-bpb 0.994 \
    --delta -0.006 --baseline "$base" --platform '{"class":"h100"}' \
    --config '{"depth":6,"matrix_lr":0.04}' --changes '[{"key":"depth","from":4,"to":6}]')

before=$(tree_sum "$KB")
run ar-queue plan --platform cpu-test --max 6
expect "plan succeeds" test "$RC" -eq 0
expect "plan without --apply queues nothing" test "$(tree_sum "$KB")" = "$before"
expect "noise floor: replicate the baseline, twice" \
    test "$(grep -c "noise-floor.*replicate $base (run [12] of 2)" <<<"$OUT")" -eq 2
expect "a tentative claim with a large effect is replicated" \
    grep -q "\[replicate, priority 2\] replicate $lr (matrix_lr:up)" <<<"$OUT"
expect "the reason names the claim and its z" grep -q "why: claim matrix_lr:up rests on one confirmation.*z 5.0" <<<"$OUT"
expect "a single-platform claim is tested on this class" \
    grep -q "\[platform, priority 3\] replicate $deep (depth:up)" <<<"$OUT"
expect "its reason says where it was confirmed" grep -q "single-platform (confirmed on h100); untested on cpu-test" <<<"$OUT"
expect "the best confirmed changes are stacked" grep -qE "set: (depth=6 matrix_lr=0.08|matrix_lr=0.08 depth=6)$" <<<"$OUT"
expect "suggestions list their cards" grep -q "cards: $lr $deep" <<<"$OUT"
expect "under-explored categories are explored" grep -qE "\[explore, priority 6\] explore [a-z_]+: " <<<"$OUT"
expect "--max bounds the suggestions" grep -q "^6 suggestions$" <<<"$OUT"

run ar-queue plan --platform cpu-test --max 6 --json
expect "--json prints one line per suggestion" test "$(grep -c '^{"' <<<"$OUT")" -eq 6
expect "--json carries reason and cards" grep -q "\"cards\":\[\"$lr\"\].*\"reason\":\"claim matrix_lr:up" <<<"$OUT"

run ar-queue plan --platform cpu-test --max 6 --apply
expect "--apply queues the suggestions" grep -q "^queued 6 suggestions$" <<<"$OUT"
run ar-queue status --json
expect "the queue holds them" grep -q '"pending":6' <<<"$OUT"
expect "replications verify their card" grep -q "\"verifies\":\"$lr\"" <<<"$OUT"
expect "the noise-floor replicates get distinct seeds" \
    test "$(grep -oE "\"seed\":[0-9]+,\"status\":\"pending\",\"verifies\":\"$base\"" <<<"$OUT" | sort -u | wc -l)" -eq 2
run ar-queue plan --platform cpu-test --max 6 --apply
expect "a second --apply does not queue the same again" \
    test "$(ar-queue status --json | grep -o '"pending":[0-9]*')" = '"pending":12'
run ar-queue plan --platform cpu-test --json --max 0
expect "queued suggestions are marked" grep -q '"queued":"' <<<"$OUT"
expect "no replication is suggested twice" test "$(grep -c '"kind":"replicate"' <<<"$OUT")" -eq 0
expect_err "negative --max" 2 "option '--max'" ar-queue plan --max -1
expect_err "a bad config file" 2 "nope.yaml" ar-queue plan --config "$T/nope.yaml"
# another trainer's platform: the real mar8 session (train.py fork, h100)
export AR_KB="$T/mar8" KB="$T/mar8"
ar-card import --platform h100 "$ROOT/tests/fixtures/karpathy-mar8-results.tsv" >/dev/null
best=$(ar-card query 'select(.platform.class == "h100" and .metrics.val_bpb != null and .status != "crash") | "\(.metrics.val_bpb) \(.id)"' | tr -d '"' |
    sort -n | head -1 | cut -d' ' -f2)
run ar-queue plan --platform h100 --max 0
expect "mar8: plan succeeds" test "$RC" -eq 0
expect "mar8: explore starts from the best h100 configuration" \
    grep -q "why: from the best h100 configuration, card $best: " <<<"$OUT"
expect "mar8: from the chain's kept value (300 -> 200), not ar's default" \
    grep -q "explore muon_momentum_warmup_steps: 200 -> 400" <<<"$OUT"
expect "mar8: keys the session never touched are not explored from ar's values" \
    bash -c '! grep -q "explore seq_len:" <<<"$0"' "$OUT"
expect "mar8: those suggestions are advice only" \
    grep -q "advice only (not queueable here: starts from the best h100 configuration (card $best)" <<<"$OUT"
run ar-queue plan --platform h100 --max 0 --apply
expect "mar8: --apply queues no advice" grep -q "^queued 0 suggestions" <<<"$OUT"
run ar-queue plan --platform h100 --max 0 --json
expect "mar8: --json names the class and the base card" \
    grep -q "\"advice\":\"starts from.*\"base\":\"$best\".*\"platform\":\"h100\"" <<<"$OUT"

# two classes: batch halving is confirmed on h100 and mixed on rtx5070
ar-card import --platform rtx5070 "$ROOT/tests/fixtures/djordje-stojanovic-trainrtx5070-results.tsv" >/dev/null
run ar-queue plan --platform rtx5070 --max 0
expect "rtx5070 has batch evidence: no test of batch halving there" \
    bash -c '! grep -q "\[platform, priority 3\].*(total_batch_tokens:down)" <<<"$0"' "$OUT"
expect "rtx5070 starts from its own best configuration" \
    grep -q "why: from the best rtx5070 configuration, card " <<<"$OUT"
run ar-queue plan --platform cpu --max 0
expect "a class with no evidence gets batch halving from its h100 card" \
    grep -q "\[platform, priority 3\] replicate [^ ]* (total_batch_tokens:down): halve batch 524K" <<<"$OUT"
expect "its reason says where it held and where not" \
    grep -q "total_batch_tokens:down is open (confirmed on h100, refuted or mixed on rtx5070); untested on cpu" <<<"$OUT"
finish
