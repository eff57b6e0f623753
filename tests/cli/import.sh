#!/usr/bin/env bash
# ar-card import of results.tsv: Karpathy's real 126-row H100 log (mar8)
# with its meaning kept, and every case of issue 11 section 3 and issue 17's
# import items on small logs.
. "$(dirname "$0")/lib.sh"
FIX="$ROOT/tests/fixtures/karpathy-mar8-results.tsv"
q() { ar-card query "$@"; }
qr() { ar-card query "$@" | jq -r .; }

# ------------------------------------------------------------------ mar8
run ar-card import --platform H100 "$FIX"
expect "mar8 imports" [ "$RC" -eq 0 ]
expect "mar8: all 126 rows become cards" [ "$(ls "$KB/cards" | wc -l)" -eq 126 ]
grep -q "imported 126 cards" <<<"$OUT" && pass "summary counts 126 cards" || fail "summary counts 126 cards" "$OUT"
grep -q "baseline 0.997900; best 0.969686 (-0.0282 vs baseline)" <<<"$OUT" &&
    pass "summary: baseline 0.997900, best 0.969686, -0.0282" || fail "summary: baseline and best" "$OUT"
base=$(q 'select(.status=="baseline") | .id')
expect "one baseline card" [ "$(wc -l <<<"$base")" -eq 1 ] 
expect "the baseline row is kept, val_bpb 0.9979" [ "$(q 'select(.status=="baseline") | .metrics.val_bpb')" = 0.9979 ]
expect "its non-hex commit is stored as absent" [ "$(q 'select(.status=="baseline") | has("commit")')" = false ]
expect "the baseline's category is baseline" [ "$(q 'select(.status=="baseline") | .category')" = '"baseline"' ]
expect "platform H100 is class h100" [ "$(q '.platform.class' | sort -u)" = '"h100"' ]
expect "the first keep's delta is against the baseline (-0.011859)" \
    [ "$(q 'select(.commit=="bea057b") | .delta')" = -0.011859 ]
expect "... and baseline names the baseline card" \
    [ "$(q 'select(.commit=="bea057b") | .baseline')" = "$base" ]
best=$(q 'select(.metrics.val_bpb==0.969686) | .id' | tr -d '"')
tip=$(q 'select(.commit=="b1d5004") | .id')
expect "the best's delta is against the branch tip it was tried on (-0.000266)" \
    [ "$(q 'select(.metrics.val_bpb==0.969686) | .delta')" = -0.000266 ]
expect "... and its baseline names that tip" [ "$(q 'select(.metrics.val_bpb==0.969686) | .baseline')" = "$tip" ]
expect "a discard after the best is against the best" \
    [ "$(q 'select(.commit=="d9322b9") | .baseline' | tr -d '"')" = "$best" ]
run ar-brief --json --max-bytes 200000
expect "brief: best vs baseline is -0.0282" \
    [ "$(jq -r '.best[0].delta * 10000 | round' <<<"$OUT")" = -282 ]
expect "brief: the baseline is found" [ "$(jq -r '.best[0].baseline.card' <<<"$OUT")" = "${base//\"/}" ]
with=$(q 'select((.changes // []) | length > 0) | .id' | wc -l)
expect ">= 90% of mar8's rows get changes ($with of 126)" [ "$with" -ge 114 ]
expect "changes: halve batch 524K to 262K" \
    [ "$(q 'select(.commit=="bea057b") | .changes')" = '[{"from":524288,"key":"total_batch_tokens","to":262144}]' ]
expect "category from the keys (optimizer for matrix LR)" \
    [ "$(q 'select(.commit=="ccf6012") | .category')" = '"optimizer"' ]
expect "budget 300 s by default" [ "$(q '.budget_s' | sort -u)" = 300 ]
expect "session from the file name" [ "$(q '.session' | sort -u)" = '"karpathy-mar8-results"' ]
expect "cards say they were imported" \
    [ "$(q 'select(.extra.imported_from=="results.tsv" and any(.tags[]; . == "imported")) | .id' | wc -l)" -eq 126 ]
ids=$(q '.extra.line' | tr '\n' ' ')
expect "created keeps the rows' order" [ "$ids" = "$(seq 2 127 | tr '\n' ' ')" ]
rerun=$(q 'select(.commit=="889dbed") | [.verifies, .seed, .config_hash]')
tipcfg=$(q 'select(.commit=="aa8f408") | [.id, .config_hash]')
expect "random seed 42 to 137 is a replicate of the tip (verifies, seed 137, same config)" \
    [ "$(jq -c '[.[0], .[2]]' <<<"$rerun")" = "$tipcfg" -a "$(jq '.[1]' <<<"$rerun")" = 137 ]
expect "the crash row is kept, without val_bpb" \
    [ "$(q 'select(.commit=="e05a87d") | [.status, (.metrics | has("val_bpb"))] | @text')" = '"[\"crash\",false]"' ]
brief=$(jq -r '[.findings[].claim, .dead_ends[].claim, .sweeps[].key] | join(" ")' <<<"$OUT")
for k in total_batch_tokens depth window_pattern rope_base; do
    grep -q "$k" <<<"$brief" && pass "brief has a finding about $k" || fail "brief has a finding about $k" "$brief"
done
grep -qE "weight_decay|_wd" <<<"$brief" && pass "brief has a finding about weight decay" ||
    fail "brief has a finding about weight decay" "$brief"
run ar-card import --platform h100 "$FIX"
grep -q "imported 0 cards and 0 notes; 126 already there" <<<"$OUT" && pass "a re-import stores nothing new" ||
    fail "a re-import stores nothing new" "$OUT"
expect "... and no card twice" [ "$(ls "$KB/cards" | wc -l)" -eq 126 ]

# ------------------------------------------------------- small logs, one case each
fresh() { rm -rf "$KB"; }
tsv() { printf '%s\n' "$@" | tr '|' '\t'; }

fresh
tsv "timestamp|commit|val_bpb|memory_gb|status|description|steps|mfu|gpu" \
    "2026-03-01T10:00:00Z||1.100000|10.0|baseline|baseline — M2 Pro, depth=4|900|12.5|m2" \
    "2026-03-01T10:06:00Z||1.090000|10.0|best|matrix LR 0.04 -> 0.05|910|12.6|m2" \
    "2026-03-01T10:12:00Z||1.095000|10.0|reverted|depth 5|800|11.0|m2" \
    "2026-03-01T10:18:00Z||1.080000|10.0|kept|RoPE base 200K|905|12.7|m2" \
    "2026-03-01T10:24:00Z||0.000000|0.0|fail|add label smoothing 0.1|0|0|m2" \
    "2026-03-01T10:30:00Z||1.085000|10.0|revert|weight tying|905|12.7|m2" >"$T/fork.tsv"
run ar-card import --platform Apple-M2-Pro --budget 600 --agent bob --data TinyStories "$T/fork.tsv"
expect "a log with a timestamp column and no commits imports" [ "$RC" -eq 0 ]
expect "rows with an empty commit are kept (6 cards)" [ "$(ls "$KB/cards" | wc -l)" -eq 6 ]
expect "a description starting with baseline is the baseline" \
    [ "$(q 'select(.status=="baseline") | .extra.line')" = 2 ]
expect "status synonyms: best, kept -> keep; reverted, revert -> discard; fail -> crash" \
    [ "$(qr '.status' | tr '\n' ' ')" = "baseline keep discard keep crash discard " ]
expect "steps and mfu columns become metrics" \
    [ "$(q 'select(.extra.line==3) | [.metrics.num_steps, .metrics.mfu_percent, .metrics.peak_mem_mb]')" = '[910,12.6,10240]' ]
expect "an unknown column is kept in extra.columns" [ "$(q 'select(.extra.line==3) | .extra.columns.gpu')" = '"m2"' ]
expect "created from the timestamp column" \
    [ "$(q 'select(.extra.line==4) | .created')" = '"2026-03-01T10:12:00.000Z"' ]
expect "--budget 600" [ "$(q '.budget_s' | sort -u)" = 600 ]
expect "--agent bob" [ "$(q '.agent' | sort -u)" = '"bob"' ]
expect "--data TinyStories is the data fingerprint" [ "$(q '.data.fingerprint' | sort -u)" = '"TinyStories"' ]
expect "--platform is case-insensitive" [ "$(q '.platform.class' | sort -u)" = '"apple-m2-pro"' ]
expect "a discard is against the tip before it (depth 5 vs 1.09)" [ "$(q 'select(.extra.line==4) | .delta')" = 0.005 ]
expect "after a new keep the tip moves (weight tying vs 1.08)" [ "$(q 'select(.extra.line==7) | .delta')" = 0.005 ]
expect "changes: MATRIX_LR 0.04 -> 0.05" \
    [ "$(q 'select(.extra.line==3) | .changes')" = '[{"from":0.04,"key":"matrix_lr","to":0.05}]' ]
expect "changes: RoPE base 200K" [ "$(q 'select(.extra.line==5) | .changes[0] | [.key, .to]')" = '["rope_base",200000]' ]
expect "changes: weight tying" [ "$(q 'select(.extra.line==7) | .changes[0] | [.key, .to]')" = '["tie_embeddings",true]' ]
run ar-card import --platform apple-m2-pro --budget 600 --session other-data --data ClimbMix "$T/fork.tsv"
brief=$(ar-brief --json)
expect "--data is part of the comparability key: one best per data set" \
    [ "$(jq -r '[.best[].key] | sort | join(" ")' <<<"$brief")" = "ClimbMix|600|apple-m2-pro TinyStories|600|apple-m2-pro" ]

fresh
tsv "commit|val_bpb|memory_gb|status|description" \
    "a1b2c3d|1.000000|10.0|keep|baseline DEPTH=12" \
    "b1b2c3d|0.990000|10.0|keep|warmdown 0.5 to 0.7" \
    "c1b2c3d|0.991000|10.0|discard|[re-run] warmdown 0.5 to 0.7" \
    "d1b2c3d|1.001000|10.0|discard|control rerun of the baseline" \
    "e1b2c3d|0.995000|10.0|discard|some idea nobody can parse" >"$T/results.tsv"
run ar-card import --platform h100 --json "$T/results.tsv"
expect "a hex commit on a baseline row is kept" [ "$(qr 'select(.status=="baseline") | .commit')" = a1b2c3d ]
w=$(qr 'select(.extra.line==3) | .id'); b=$(qr 'select(.extra.line==2) | .id')
expect "[re-run] X verifies the row X" [ "$(qr 'select(.extra.line==4) | .verifies')" = "$w" ]
expect "... with X's config_hash" \
    [ "$(qr 'select(.extra.line==4) | .config_hash')" = "$(qr 'select(.extra.line==3) | .config_hash')" ]
expect "control rerun of the baseline verifies the baseline" [ "$(qr 'select(.extra.line==5) | .verifies')" = "$b" ]
expect "--json counts structured rows" [ "$(jq .structured <<<"$OUT")" = 4 ]
expect "--json lists the free-text rows" \
    [ "$(jq -c '[.free_text[] | [.line, .description]]' <<<"$OUT")" = '[[6,"some idea nobody can parse"]]' ]
expect "session of results.tsv: its folder's name" [ "$(qr '.session' | sort -u)" = "$(basename "$T")" ]

# ------------------------------------------------------------ --repo
fresh
repo="$T/fork"
mkdir -p "$repo"
git -C "$repo" init -q -b autoresearch/mar9
printf 'DEPTH = 8\nTOTAL_BATCH_SIZE = 2**19\nMATRIX_LR = 0.04\n\ndef main():\n    pass\n' >"$repo/train.py"
git -C "$repo" add train.py
GIT_COMMITTER_DATE="2026-03-09T08:00:00Z" GIT_AUTHOR_DATE="2026-03-09T08:00:00Z" \
    git -C "$repo" -c user.name=t -c user.email=t@t commit -qm baseline
c1=$(git -C "$repo" rev-parse HEAD)
sed -i 's/2\*\*19/2**18/' "$repo/train.py"
GIT_COMMITTER_DATE="2026-03-09T08:07:00Z" GIT_AUTHOR_DATE="2026-03-09T08:07:00Z" \
    git -C "$repo" -c user.name=t -c user.email=t@t commit -qam "smaller batch"
c2=$(git -C "$repo" rev-parse HEAD)
sed -i 's/    pass/    return 0/' "$repo/train.py"
GIT_COMMITTER_DATE="2026-03-09T08:14:00Z" GIT_AUTHOR_DATE="2026-03-09T08:14:00Z" \
    git -C "$repo" -c user.name=t -c user.email=t@t commit -qam "main returns"
c3=$(git -C "$repo" rev-parse HEAD)
tsv "commit|val_bpb|memory_gb|status|description" \
    "${c1:0:7}|1.000000|10.0|keep|baseline" \
    "${c2:0:7}|0.990000|10.0|keep|a description that says nothing" \
    "1234567|0.995000|10.0|discard|matrix LR 0.04 to 0.05" \
    "${c3:0:7}|0.992000|10.0|discard|refactor" >"$repo/results.tsv"
run ar-card import --platform h100 --repo "$repo" "$repo/results.tsv"
expect "--repo imports" [ "$RC" -eq 0 ]
expect "--repo: changes from the commit's diff of train.py" \
    [ "$(q 'select(.extra.line==3) | .changes')" = '[{"from":524288,"key":"total_batch_tokens","to":262144}]' ]
expect "--repo: ... said so in extra" [ "$(qr 'select(.extra.line==3) | .extra.changes_from')" = git ]
expect "--repo: a code change that is not a constant is named in extra" \
    [ "$(qr 'select(.extra.line==5) | .extra.code_changes[0]')" = "def main" ]
expect "--repo: the commit's full id" [ "$(qr 'select(.extra.line==3) | .commit')" = "$c2" ]
expect "--repo: created is the commit's time" [ "$(qr 'select(.extra.line==3) | .created')" = 2026-03-09T08:07:00.000Z ]
expect "--repo: a commit the repository lacks takes its description's changes" \
    [ "$(qr 'select(.extra.line==4) | .changes[0].key + " " + .extra.changes_from')" = "matrix_lr description" ]
expect "--repo: the rows keep their order" [ "$(qr '.extra.line' | tr '\n' ' ')" = "2 3 4 5 " ]
expect "--repo: session from the repository's branch" [ "$(qr '.session' | sort -u)" = autoresearch/mar9 ]
expect_err "--repo that is not a repository" 2 "option '--repo'" ar-card import --platform h100 --repo "$T" "$repo/results.tsv"

# a file dated before 2020 (an old copy): the rows end now, not refused
fresh
cp "$FIX" "$T/old.tsv"
touch -d 2019-01-01 "$T/old.tsv"
run ar-card import --platform h100 "$T/old.tsv"
expect "a log file dated 2019 still imports all its rows" [ "$RC" -eq 0 -a "$(ls "$KB/cards" | wc -l)" -eq 126 ]

# ------------------------------------------------------------ refusals
for m in val_rmse val_loss score; do
    fresh
    tsv "commit|$m|memory_gb|status|description" "abc1234|0.5|1.0|keep|baseline" >"$T/m.tsv"
    expect_err "a log whose metric is $m: one line naming the column, exit 2" 2 "column '$m'.*not val_bpb" \
        ar-card import --platform h100 "$T/m.tsv"
    expect "... and nothing written ($m)" [ "$(tree_sum "$KB")" = absent ]
done
fresh
tsv "commit|val_bpb|memory_gb|status|description" "abc1234|x|1.0|keep|a" "abc1235|1.0|1.0|maybe|b" >"$T/bad.tsv"
run ar-card import --platform h100 "$T/bad.tsv"
expect "every row rejected: exit 2" [ "$RC" -eq 2 ]
grep -q "bad.tsv:2: val_bpb 'x' is not a number" <<<"$ERR" && pass "a bad row: FILE:LINE: why" || fail "a bad row: FILE:LINE: why" "$ERR"
grep -q "bad.tsv:3: status 'maybe'" <<<"$ERR" && pass "a bad status: FILE:LINE: why" || fail "a bad status: FILE:LINE: why" "$ERR"
expect "... nothing stored" [ ! -d "$KB/cards" ] || [ "$(ls "$KB/cards" | wc -l)" -eq 0 ]
tsv "commit|val_bpb|memory_gb|status|description" "abc1234|1.0|1.0|keep|baseline" "abc1235|x|1.0|keep|b" >"$T/some.tsv"
run ar-card import --platform h100 "$T/some.tsv"
expect "one bad row of two: the other is imported, exit 0" [ "$RC" -eq 0 -a "$(ls "$KB/cards" | wc -l)" -eq 1 ]
expect "... the bad one is one warning line" [ "$(grep -c 'some.tsv:3:' <<<"$ERR")" -eq 1 ]
# both a description and a hypothesis column (an MoE fork's log): the
# description gives the changes, the hypothesis is kept; a name twice is refused
fresh
tsv "commit|kind|val_bpb|memory_gb|status|hypothesis|description" \
    "153211f|baseline|0.964088|29.9|keep|a clean backbone|remove value embeddings" \
    "02ba694|lr|0.954881|29.9|keep|0.01 is too aggressive|change only MATRIX_LR from 0.04 to 0.03" >"$T/twodesc.tsv"
run ar-card import --platform h100 "$T/twodesc.tsv"
expect "description and hypothesis columns: imported" [ "$RC" -eq 0 -a "$(ls "$KB/cards" | wc -l)" -eq 2 ]
expect "... the description gives the changes" \
    [ "$(q 'select(.commit=="02ba694") | .changes[0].to')" = 0.03 ]
expect "... the hypothesis column is kept" \
    [ "$(qr 'select(.commit=="02ba694") | .extra.columns.hypothesis')" = "0.01 is too aggressive" ]
tsv "commit|val_bpb|memory_gb|status|description|description" "abc1234|1.0|1.0|keep|a|b" >"$T/twice.tsv"
expect_err "a column name twice: exit 2" 2 "twice.tsv:1: column 'description': given twice" \
    ar-card import --platform h100 "$T/twice.tsv"
# a row that restates the value at the tip (DGX Spark fork: "DEPTH=4, ..."
# after a DEPTH=4 baseline) changes only what it changes
fresh
tsv "commit|val_bpb|memory_gb|status|description" "b40743e|1.865|1.8|baseline|DEPTH=4, n_embd=256" \
    "79b4126|1.871|2.2|discard|DEPTH=4, ASPECT_RATIO=96, MATRIX_LR=0.06" "08fce00|1.878|3.1|discard|Eager mode DEPTH=4, no compile" >"$T/restate.tsv"
run ar-card import --platform gb10 "$T/restate.tsv"
expect "a restated value is no change" \
    [ "$(q 'select(.commit=="79b4126") | [.changes[].key] | join(",")')" = '"aspect_ratio,matrix_lr"' ]
expect "... a row that only restates one has no changes" \
    [ "$(q 'select(.commit=="08fce00") | .changes // [] | length')" = 0 ]
fresh
printf 'commit,val_bpb,memory_gb,status,description\nabc1234,1.0,1.0,keep,baseline\n' >"$T/r.csv"
expect_err "a CSV is not taken for a commons card: exit 2" 2 "r.csv: not an autoresearch-commons card.*CSV" \
    ar-card import --platform h100 "$T/r.csv"
expect_err "a CSV given as tsv: exit 2" 2 "r.csv:1: not tab-separated" ar-card import --platform h100 --format tsv "$T/r.csv"
expect_err "--platform that is not a class" 2 "option '--platform'" ar-card import --platform 'H 100' "$FIX"
expect_err "results.tsv without --platform" 2 "--platform CLASS is required" ar-card import "$FIX"
expect "... nothing written by the refusals" [ "$(tree_sum "$KB")" = absent ]

finish
