#!/usr/bin/env bash
# ar-train: config errors, missing data, a tiny end-to-end run with its
# card, --no-card, save/eval round trip, a hand-computable val_bpb, crash.
. "$(dirname "$0")/lib.sh"

# ---- a tiny dataset and config ----------------------------------------------
tiny_data
tiny_config "$T/tiny.yaml"
TINY=(--config "$T/tiny.yaml")

# ---- help and keys --------------------------------------------------------------
expect_rc "--help exits 0" 0 ar-train --help
expect "--help is on stdout" grep -q -- "--budget SECONDS" <<<"$OUT"
expect_rc "--keys exits 0" 0 ar-train --keys
expect "--keys lists window_pattern" grep -qE '^window_pattern +pattern +SSSL' <<<"$OUT"

# ---- invalid input: exit 2, one line naming key and line, nothing written ------------
printf 'depth: 2\ndpth: 3\n' >"$T/bad1.yaml"
printf '# comment\ndepth: 2\nseq_len: long\n' >"$T/bad2.yaml"
printf 'mlp: tanh\n' >"$T/bad3.yaml"
expect_err "unknown key names file and line" 2 "bad1.yaml:2: unknown key 'dpth'" \
    ar-train --config "$T/bad1.yaml"
expect_err "wrong type names key and line" 2 "bad2.yaml:3: seq_len: 'long' is not an integer" \
    ar-train --config "$T/bad2.yaml"
expect_err "bad choice names the choices" 2 "bad3.yaml:1: mlp: 'tanh' is not one of relu2, gelu, swiglu" \
    ar-train --config "$T/bad3.yaml"
expect_err "--set out of range" 2 "--set: depth: '0' is out of range \[1, 64\]" \
    ar-train "${TINY[@]}" --set depth=0
expect_err "--set unknown key" 2 "unknown key 'nope'" ar-train "${TINY[@]}" --set nope=1
expect_err "--set without =" 2 "key=value" ar-train "${TINY[@]}" --set depth
expect_err "keys that do not fit together" 2 "total_batch_tokens: 100 is not a multiple" \
    ar-train "${TINY[@]}" --set total_batch_tokens=100
expect_err "missing config file" 2 "nothere.yaml" ar-train --config "$T/nothere.yaml"
expect_err "unknown option" 2 "unknown option '--bogus'" ar-train --bogus
expect_err "bad --budget" 2 "--budget" ar-train "${TINY[@]}" --budget -3
expect_err "bad --status" 2 "'--status': 'great'" ar-train "${TINY[@]}" --status great
expect_err "bad --tag" 2 "'--tag': 'Bad Tag'" ar-train "${TINY[@]}" --tag "Bad Tag"
expect "invalid input wrote no knowledge base" test ! -e "$KB"

# ---- missing data --------------------------------------------------------------
expect_err "missing data says to run prepare" 1 "run .ar-train prepare." \
    ar-train "${TINY[@]}" --data "$T/nodata"
expect "missing data wrote no knowledge base" test ! -e "$KB"

# ---- a tiny run records a valid card ---------------------------------------------
run ar-train "${TINY[@]}" --budget 1.5 --hypothesis "tiny baseline" --session clitest --tag smoke
expect "run exits 0" test "$RC" -eq 0
expect "summary starts with ---" test "$(head -1 <<<"$OUT")" = "---"
for key in val_bpb training_seconds total_seconds peak_mem_mb mfu_percent total_tokens_M \
    num_steps num_params_M depth card; do
    expect "summary has $key" grep -qE "^$key: +[^ ]+$" <<<"$OUT"
done
expect "progress lines on stderr" grep -qE '^step [0-9]+ \| loss [0-9.]+ ' <<<"$ERR"
expect "the summary says the status" grep -qE '^status: +baseline$' <<<"$OUT"
expect "the summary says sigma is the prior" \
    grep -qE '^sigma: +0.0020 \(prior: no replicates on this platform class yet\)$' <<<"$OUT"
expect "the summary gives advice" grep -qE '^advice: +the first run' <<<"$OUT"
BPB1=$(awk '/^val_bpb:/ {print $2}' <<<"$OUT")
ID1=$(awk '/^card:/ {print $2}' <<<"$OUT")
TRAINED=$(awk '/^training_seconds:/ {print $2}' <<<"$OUT")
expect "val_bpb is a positive number" awk -v v="$BPB1" 'BEGIN {exit !(v > 0 && v < 20)}'
expect "training stopped at the budget" awk -v t="$TRAINED" 'BEGIN {exit !(t >= 1.5 && t < 10)}'
expect "card file named by its id" test -f "$KB/cards/$ID1.json"
expect_rc "card passes ar-card validate" 0 ar-card validate "$KB/cards/$ID1.json"
card=$(cat "$KB/cards/$ID1.json")
expect "first card is the baseline" grep -q '"status": "baseline"' <<<"$card"
expect "card keeps the hypothesis" grep -q '"hypothesis": "tiny baseline"' <<<"$card"
expect "card has the session" grep -q '"session": "clitest"' <<<"$card"
expect "card has the full config" grep -q '"window_pattern": "SSSL"' <<<"$card"
expect "card has the data fingerprint" grep -qE '"fingerprint": "[0-9a-f]{64}"' <<<"$card"
expect "card has the platform class" grep -qE '"class": "cpu' <<<"$card"
expect "card has the blas kernel" grep -q '"blas": "OpenBLAS' <<<"$card"
expect "card has the budget" grep -q '"budget_s": 1.5' <<<"$card"
expect "card's mfu_percent is in (0, 100]" \
    jq -e '.metrics.mfu_percent > 0 and .metrics.mfu_percent <= 100' "$KB/cards/$ID1.json"
expect "card's peak is at least the measured one" \
    jq -e '.extra.peak_gflops >= .extra.peak_measured_gflops and
           (.extra.peak_from == "sgemm" or .extra.peak_from == "fastest step")' "$KB/cards/$ID1.json"

# a measured peak far too low is raised to the fastest step's rate: MFU <= 100
run env AR_PEAK_GFLOPS=0.001 ar-train "${TINY[@]}" --budget 100 --max-steps 6 --session mfutest \
    --hypothesis "a peak too low"
IDP=$(awk '/^card:/ {print $2}' <<<"$OUT")
expect "a low peak: mfu_percent <= 100 in the summary" \
    awk '/^mfu_percent:/ {m = $2} END {exit !(m > 0 && m <= 100)}' <<<"$OUT"
expect "a low peak: the card's mfu_percent <= 100" \
    jq -e '.metrics.mfu_percent > 0 and .metrics.mfu_percent <= 100' "$KB/cards/$IDP.json"
expect "a low peak: the card says the peak is the fastest step's" \
    jq -e '.extra.peak_from == "fastest step" and .extra.peak_measured_gflops == 0 and
           .extra.peak_gflops > 0.001' "$KB/cards/$IDP.json"
expect "a low peak: the throughput line says so" grep -q "the fastest step's" <<<"$ERR"
expect "--max-steps is on the card" jq -e '.extra.max_steps == 6' "$KB/cards/$IDP.json"

# the keep rule: the same config and seed again is within 2 sigma of the
# best, whatever the noise: inconclusive, with the advice to replicate
run ar-train "${TINY[@]}" --budget 100 --max-steps 6 --session mfutest --hypothesis "the same again" --quiet
IDR=$(awk '/^card:/ {print $2}' <<<"$OUT")
expect "a rerun is inconclusive" jq -e '.status == "inconclusive"' "$KB/cards/$IDR.json"
expect "the summary says inconclusive" grep -qE '^status: +inconclusive$' <<<"$OUT"
expect "the summary gives the delta against the best" grep -qE "^delta: +[-+][0-9.]+ \(vs $IDP\)$" <<<"$OUT"
expect "the summary advises replicating this card" grep -qE "^advice: .*within 2 sigma.*--verify $IDR" <<<"$OUT"
expect "the advice says the run was truncated" grep -qE '^advice: .*truncated run' <<<"$OUT"
expect "the card records its verdict" \
    jq -e ".extra.verdict.sigma_from == \"prior\" and .extra.verdict.against == \"$IDP\" and .extra.verdict.two_sigma == 0.004" \
    "$KB/cards/$IDR.json"
# two truncated runs of one config are not replicates: sigma stays the prior
run ar-card show --json "$IDR"
expect "truncated runs leave sigma at the prior" grep -qE '^sigma: +0.0020 \(prior' <<<"$(ar-train "${TINY[@]}" --budget 100 --max-steps 2 --session other --quiet)"
# --verify: judged against the card it replicates
run ar-train --verify "$IDR" --max-steps 6 --quiet
IDV=$(awk '/^card:/ {print $2}' <<<"$OUT")
expect "--verify says whether it agrees" grep -qE "^verify: +(agrees|disagrees) with $IDR \([-+][0-9.]+\)$" <<<"$OUT"
expect "--verify's card records it" \
    jq -e ".extra.verdict.verify.card == \"$IDR\" and (.extra.verdict.verify.result | test(\"^(agrees|disagrees)$\"))" \
    "$KB/cards/$IDV.json"
expect "a low peak: no progress line above 100%" \
    awk '/^step / {for (i = 1; i <= NF; i++) if ($i == "mfu") {v = $(i + 1); sub("%", "", v); if (v + 0 > 100) bad = 1}} END {exit bad}' <<<"$ERR"

run ar-train "${TINY[@]}" --budget 1.5 --session clitest --set matrix_lr=0.02 \
    --hypothesis "half the matrix lr"
ID2=$(awk '/^card:/ {print $2}' <<<"$OUT")
card2=$(cat "$KB/cards/$ID2.json" 2>/dev/null)
expect "second run exits 0" test "$RC" -eq 0
expect "second card is keep, discard or inconclusive" grep -qE '"status": "(keep|discard|inconclusive)"' <<<"$card2"
expect "the summary's status is the card's" \
    test "$(awk '/^status:/ {print $2}' <<<"$OUT")" = "$(jq -r .status "$KB/cards/$ID2.json")"
expect "second card compares with the first" grep -q "\"baseline\": \"$ID1\"" <<<"$card2"
expect "second card has a delta" grep -qE '"delta": -?[0-9]' <<<"$card2"
expect "second card lists the change" \
    grep -qzE '"from": 0.04,[[:space:]]+"key": "matrix_lr",[[:space:]]+"to": 0.02' <<<"$card2"

# ---- --no-card, save and eval -------------------------------------------------------
before=$(tree_sum "$KB")
run ar-train "${TINY[@]}" --budget 100 --max-steps 4 --no-card --save "$T/w.bin" --quiet
BPB3=$(awk '/^val_bpb:/ {print $2}' <<<"$OUT")
expect "--no-card run exits 0" test "$RC" -eq 0
expect "--no-card leaves the knowledge base alone" test "$(tree_sum "$KB")" = "$before"
expect "--no-card prints no card line" bash -c "! grep -q '^card:' <<<'$OUT'"
expect "--max-steps stops after 4 steps" grep -qE '^num_steps: +4$' <<<"$OUT"
expect "--quiet prints nothing on stderr" test -z "$ERR"
expect "--save wrote a checkpoint" test "$(head -c 8 "$T/w.bin")" = "ARGPTCKP"
run ar-train eval --init-from "$T/w.bin"
expect "eval exits 0" test "$RC" -eq 0
expect "eval gives the run's val_bpb" test "$(awk '/^val_bpb:/ {print $2}' <<<"$OUT")" = "$BPB3"
run ar-train "${TINY[@]}" --budget 100 --max-steps 1 --no-card --init-from "$T/w.bin" --quiet
expect "--init-from continues from the weights" test "$RC" -eq 0
expect_err "--init-from with another shape" 2 "w.bin: .*tensor" \
    ar-train "${TINY[@]}" --set depth=3 --no-card --init-from "$T/w.bin"
expect_err "eval without --init-from" 2 "--init-from FILE is required" ar-train eval
printf 'not a checkpoint at all' >"$T/junk.bin"
expect_err "eval of a file that is no checkpoint" 2 "junk.bin: not an ar-train checkpoint" \
    ar-train eval --init-from "$T/junk.bin"

# ---- val_bpb of a hand-computable case ---------------------------------------------
# Zero every weight of the checkpoint: all logits are 0, so each scored
# target costs ln(V) nats and val_bpb = log2(V) * scored / bytes.
u32() { od -An -tu4 -j"$2" -N4 "$1" | tr -d ' '; }
u64() { od -An -tu8 -j"$2" -N8 "$1" | tr -d ' '; }
f="$T/w.bin"
V=$(u32 "$f" 12)
off=$((20 + $(u32 "$f" 16)))
nt=$(u32 "$f" $off); off=$((off + 4))
for _ in $(seq "$nt"); do off=$((off + 4 + $(u32 "$f" $off) + 8)); done
P=$(u64 "$f" $off); off=$((off + 8))
expect "checkpoint size matches its header" test "$(stat -c %s "$f")" -eq $((off + 4 * P))
{ head -c "$off" "$f"; head -c $((4 * P)) /dev/zero; } >"$T/zero.bin"
run ar-train eval --init-from "$T/zero.bin"
got=$(awk '/^val_bpb:/ {print $2}' <<<"$OUT")
scored=$(awk '/^val_scored:/ {print $2}' <<<"$OUT")
bytes=$(awk '/^val_bytes:/ {print $2}' <<<"$OUT")
expect "zero model: val_bpb = log2(V) * scored / bytes" awk -v g="$got" -v V="$V" \
    -v s="$scored" -v b="$bytes" \
    'BEGIN {w = log(V) / log(2) * s / b; d = g - w; exit !(b > 0 && (d < 0 ? -d : d) < 2e-6)}'

# ---- a crash records a crash card -------------------------------------------------
run ar-train "${TINY[@]}" --budget 100 --max-steps 5 --set logit_softcap=0 \
    --set embed_lr=100 --set unembed_lr=100 --hypothesis "explode on purpose" --session clitest
expect "crash exits 1" test "$RC" -eq 1
expect "crash summary says so" grep -qE '^status: +crash$' <<<"$OUT"
expect "crash summary has no val_bpb" bash -c "! grep -q '^val_bpb:' <<<'$OUT'"
ID4=$(awk '/^card:/ {print $2}' <<<"$OUT")
expect "crash card recorded" grep -q '"status": "crash"' "$KB/cards/$ID4.json"
expect_rc "crash card passes ar-card validate" 0 ar-card validate "$KB/cards/$ID4.json"

finish
