#!/usr/bin/env bash
# ar-card record: a train.py log and its commit -> one card with metrics,
# changes, status and the GPU's class, in one command; crash logs; --tsv;
# bad logs and options refused with nothing stored. Also issue 11's small
# things: a knowledge base's missing parents, ar-synth printing its
# report, ar-card write naming a missing field.
. "$(dirname "$0")/lib.sh"
unset AR_SESSION

# a fake nvidia-smi first on PATH: the machine has an H100
mkdir -p "$T/gpu" "$T/nogpu"
cat >"$T/gpu/nvidia-smi" <<'SH'
#!/bin/sh
case "$*" in
*--query-gpu=name,memory.total*) echo "NVIDIA H100 80GB HBM3, 81559" ;;
*) exit 9 ;;
esac
SH
# and one that finds no GPU (it shadows any real one)
printf '#!/bin/sh\necho "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver."\nexit 9\n' \
    >"$T/nogpu/nvidia-smi"
chmod +x "$T/gpu/nvidia-smi" "$T/nogpu/nvidia-smi"
GPU_PATH="$T/gpu:$PATH" NOGPU_PATH="$T/nogpu:$PATH"
# and a PATH with no nvidia-smi at all
NOSMI_PATH=$(tr ':' '\n' <<<"$PATH" | while read -r d; do [ -x "$d/nvidia-smi" ] || printf '%s:' "$d"; done)

# the fork: autoresearch's train.py, then a commit that halves the batch
R="$T/fork"
mkdir -p "$R"
cp "$ROOT/tests/fixtures/autoresearch-train.py" "$R/train.py"
g() { git -C "$R" -c user.name=t -c user.email=t@t "$@" >/dev/null 2>&1; }
g init -q -b autoresearch/mar8
printf 'run.log\nresults.tsv\n' >"$R/.gitignore"
g add -A && g commit -q -m "baseline"
c1=$(git -C "$R" rev-parse HEAD)

# summary LOG VAL_BPB [MEM]: a train.py log with its summary block
summary() {
    {
        echo "Vocab size: 8,192"
        echo "Time budget: 300s"
        printf 'step 00000 (0.0%%) | loss: 9.01\rstep 00952 (100.0%%) | loss: 3.10\r\n'
        echo "---"
        echo "val_bpb:          $2"
        echo "training_seconds: 300.1"
        echo "total_seconds:    325.9"
        echo "peak_vram_mb:     ${3:-45060.2}"
        echo "mfu_percent:      39.80"
        echo "total_tokens_M:   499.6"
        echo "num_steps:        953"
        echo "num_params_M:     50.3"
        echo "depth:            8"
    } >"$1"
}
cards() { find "$KB/cards" -name '*.json' 2>/dev/null | wc -l; }
field() { ar-card show --json "$1" | jq -r "$2"; }

summary "$T/base.log" 0.997900
run env PATH="$GPU_PATH" sh -c "cd '$R' && ar-card record '$T/base.log'"
base=$OUT
expect "record prints the new card's id" grep -qE '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{12}$' <<<"$base"
expect "the status goes to stderr" grep -q '^status: baseline' <<<"$ERR"
expect "the first run is the baseline" test "$(field "$base" .status)" = baseline
expect "its category is baseline" test "$(field "$base" .category)" = baseline
expect "val_bpb from the summary" test "$(field "$base" .metrics.val_bpb)" = 0.9979
expect "peak_vram_mb becomes peak_mem_mb" test "$(field "$base" .metrics.peak_mem_mb)" = 45060.2
expect "every summary metric is kept" test "$(field "$base" '.metrics | keys | join(",")')" = \
    "depth,mfu_percent,num_params_M,num_steps,peak_mem_mb,total_seconds,total_tokens_M,training_seconds,val_bpb"
expect "the commit from git" test "$(field "$base" .commit)" = "$c1"
expect "the hypothesis is the commit's subject" test "$(field "$base" .hypothesis)" = baseline
expect "the session from branch autoresearch/TAG" test "$(field "$base" .session)" = mar8
expect "the budget from the log's 'Time budget'" test "$(field "$base" .budget_s)" = 300
expect "an NVIDIA GPU gives its class" test "$(field "$base" .platform.class)" = h100
expect "and device cuda" test "$(field "$base" .platform.device)" = cuda
expect "and the GPU's memory" test "$(field "$base" .platform.gpu_mem_gb)" = 79.6
expect "the config holds train.py's constants by ar's keys" \
    test "$(field "$base" .config.total_batch_tokens)" = 524288
expect "but not the training loop's state (step = 0)" test "$(field "$base" '.config | has("step")')" = false

# the second commit halves the batch: TOTAL_BATCH_SIZE 2**19 -> 2**18
sed -i 's/^TOTAL_BATCH_SIZE = 2\*\*19/TOTAL_BATCH_SIZE = 2**18/' "$R/train.py"
g commit -q -am "halve batch 524K to 262K (more steps in 5 min)"
c2=$(git -C "$R" rev-parse HEAD)
summary "$T/batch.log" 0.986041 44950.0
run env PATH="$GPU_PATH" sh -c "cd '$R' && ar-card record '$T/batch.log' --tsv results.tsv"
batch=$OUT
expect_rc "record of the second commit" 0 test -n "$batch"
expect "changes from the diff of train.py's constants" \
    test "$(field "$batch" '.changes | map("\(.key) \(.from) \(.to)") | join(";")')" = \
    "total_batch_tokens 524288 262144"
expect "the parent commit from git" test "$(field "$batch" .parent_commit)" = "$c1"
expect "better by more than 2 sigma: keep" test "$(field "$batch" .status)" = keep
expect "the delta is against the session's best" test "$(field "$batch" .delta)" = "-0.011859"
expect "the baseline names that card" test "$(field "$batch" .baseline)" = "$base"
expect "the category from the changed key" test "$(field "$batch" .category)" = hyperparameter
expect "only constants changed: no patch" test "$(field "$batch" '.extra.patch // "none"')" = none
printf 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\n%s\t0.986041\t43.9\tkeep\thalve batch 524K to 262K (more steps in 5 min)\n' \
    "${c2:0:7}" >"$T/want.tsv"
expect "--tsv writes autoresearch's header and row" cmp -s "$R/results.tsv" "$T/want.tsv"

# --json prints the card; stdin is the log without LOG
summary "$T/worse.log" 1.010000
run env PATH="$GPU_PATH" sh -c "cd '$R' && ar-card record --json --tsv results.tsv < '$T/worse.log'"
worse=$(jq -r .id <<<"$OUT")
expect "--json prints the stored card, read from stdin" test -f "$KB/cards/$worse.json"
expect "worse by more than 2 sigma: discard" test "$(jq -r .status <<<"$OUT")" = discard
expect "--tsv appends without a second header" test "$(grep -c '^commit' "$R/results.tsv")" -eq 1
expect "--tsv's row of a discard" grep -qP "^${c2:0:7}\t1.010000\t44.0\tdiscard\t" "$R/results.tsv"

# a crash: no summary, the last lines of the log are the reason
printf 'step 00010 (3.1%%) | loss: 7.2\nTraceback (most recent call last):\n  File "train.py", line 590\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n' >"$T/crash.log"
run env PATH="$GPU_PATH" sh -c "cd '$R' && ar-card record '$T/crash.log' --tsv results.tsv"
crash=$OUT
expect "a log without val_bpb is a crash card" test "$(field "$crash" .status)" = crash
expect "a crash has no val_bpb" test "$(field "$crash" '.metrics.val_bpb // "none"')" = none
expect "its reason is the log's last lines" grep -q 'CUDA out of memory' <<<"$(field "$crash" .extra.crash)"
expect "--tsv's row of a crash" grep -qP "^${c2:0:7}\t0.000000\t0.0\tcrash\t" "$R/results.tsv"

# a code change that is not a constant: kept as the card's patch
printf '\ndef norm_scale(x):\n    return x * 0.5\n' >>"$R/train.py"
sed -i 's/^MATRIX_LR = 0.04 /MATRIX_LR = 0.05 /' "$R/train.py"
g commit -q -am "norm scale helper and matrix lr 0.05"
summary "$T/code.log" 0.985000
run env PATH="$GPU_PATH" sh -c "cd '$R' && ar-card record '$T/code.log'"
code=$OUT
expect "the constant of a code commit is a change" \
    test "$(field "$code" '.changes | map(.key) | join(",")')" = matrix_lr
expect "the code change is named in extra.code" grep -q 'norm_scale' <<<"$(field "$code" '.extra.code | join(",")')"
expect "and kept as the card's patch" grep -q '^+def norm_scale' "$KB/patches/$code.patch"
expect "extra.patch records it against the parent" \
    test "$(field "$code" .extra.patch.upstream)" = "$(git -C "$R" rev-parse HEAD^)"

# no GPU: the CPU's class; --platform takes a plain class in any case
run env PATH="$NOGPU_PATH" sh -c "cd '$R' && ar-card record '$T/code.log' --session cpu-run"
cpu=$OUT
expect "no nvidia-smi GPU: a CPU class" grep -qE '^cpu(-|$)' <<<"$(field "$cpu" .platform.class)"
expect "no nvidia-smi GPU: device cpu" test "$(field "$cpu" .platform.device)" = cpu
expect "--session names the session" test "$(field "$cpu" .session)" = cpu-run
run env PATH="$NOSMI_PATH" sh -c "cd '$R' && ar-card record '$T/code.log' --session cpu-run"
expect "no nvidia-smi on PATH at all: device cpu" test "$(field "$OUT" .platform.device)" = cpu
run env PATH="$NOGPU_PATH" sh -c "cd '$R' && ar-card record '$T/code.log' --platform H100 --session other --budget 120 --data climbmix"
plain=$OUT
expect "--platform H100 is class h100" test "$(field "$plain" .platform.class)" = h100
expect "--budget overrides the log's" test "$(field "$plain" .budget_s)" = 120
expect "--data names the data set of the comparability key" test "$(field "$plain" .data.fingerprint)" = climbmix
expect "another session's first run is its baseline" test "$(field "$plain" .status)" = baseline

# every tool's --platform CLASS is case-insensitive
run ar-card list --platform H100 --json
expect "ar-card list --platform H100 lists the h100 cards" test "$(grep -c '' <<<"$OUT")" -eq "$(ar-card list --platform h100 --json | grep -c '')"
expect "and there are some" test "$(grep -c '"class":"h100"' <<<"$OUT")" -ge 5
expect_rc "ar-brief --platform H100" 0 ar-brief --platform H100
expect_rc "ar-plot progress --platform H100" 0 ar-plot progress --platform H100 --term
run ar-card write --hypothesis "h100 by hand" --category other --status keep --val-bpb 1.0 \
    --commit abc1234 --platform H100
expect "ar-card write --platform takes a plain class too" test "$(field "$OUT" .platform)" = '{
  "class": "h100"
}'
expect_err "a --platform that is no class" 2 "--platform: 'h/100' is not a platform class" ar-card list --platform h/100

# an ar-train log names the card ar-train recorded: not recorded twice
n=$(cards)
printf -- '---\nval_bpb:          1.100000\npeak_mem_mb:      120.0\ndepth:            3\ncard:             %s\n' "$base" >"$T/artrain.log"
run sh -c "cd '$R' && ar-card record '$T/artrain.log'"
expect "an ar-train log with its card exits 0" test "$RC" -eq 0
expect "and prints that card's id" test "$OUT" = "$base"
expect "and says so" grep -q "ar-train recorded this run already" <<<"$ERR"
expect "and stores nothing" test "$(cards)" -eq "$n"

# an ar-train log without a card (--no-card): changes from trainer/config.yaml
A="$T/ar"
mkdir -p "$A/trainer"
tiny_config "$A/trainer/config.yaml"
ga() { git -C "$A" -c user.name=t -c user.email=t@t "$@" >/dev/null 2>&1; }
ga init -q -b main && ga add -A && ga commit -q -m "upstream"
sed -i 's/^depth: 2$/depth: 3/' "$A/trainer/config.yaml"
ga commit -q -am "one more layer"
printf -- '---\nval_bpb:          2.500000\ntraining_seconds: 1.0\npeak_mem_mb:      12.5\nnum_steps:        2\ndepth:            3\n' >"$T/nocard.log"
run env PATH="$GPU_PATH" sh -c "cd '$A' && ar-card record '$T/nocard.log' --session ar"
ar=$OUT
expect "an ar-train log without a card is recorded" test -f "$KB/cards/$ar.json"
expect "its changes come from trainer/config.yaml" \
    test "$(field "$ar" '.changes | map("\(.key) \(.from) \(.to)") | join(";")')" = "depth 2 3"
expect "its config is ar-train's snapshot" test "$(field "$ar" .config.total_batch_tokens)" = 256
expect "ar-train ran on the CPU: a CPU class" grep -qE '^cpu' <<<"$(field "$ar" .platform.class)"
expect "its peak_mem_mb is ar-train's" test "$(field "$ar" .metrics.peak_mem_mb)" = 12.5

# a real ar-train run: its log names its card, and record does not add one
tiny_data 60
(cd "$A" && ar-train --max-steps 2 --quiet --session ar-real >"$T/real.log" 2>&1)
real=$(awk '/^card:/ {print $2}' "$T/real.log")
n=$(cards)
run sh -c "cd '$A' && ar-card record '$T/real.log'"
expect "record of a real ar-train log prints ar-train's card" test -n "$real" -a "$OUT" = "$real"
expect "and adds none" test "$(cards)" -eq "$n"
(cd "$A" && ar-train --max-steps 2 --quiet --no-card >"$T/real-nocard.log" 2>&1)
run sh -c "cd '$A' && ar-card record '$T/real-nocard.log' --session ar-real"
expect "a real ar-train --no-card log is recorded" test "$(field "$OUT" .extra.recorded_from)" = "ar-train log"
expect "with ar-train's metrics" test "$(field "$OUT" .metrics.num_steps)" = 2

# bad logs and options: one line, exit 2, nothing stored
before=$(tree_sum "$KB")
: >"$T/empty.log"
expect_err "an empty log" 2 "empty.log: the log is empty" sh -c "cd '$R' && ar-card record '$T/empty.log'"
summary "$T/bad.log" abc
expect_err "a value that is not a number names field and line" 2 "bad.log:5: val_bpb: 'abc' is not a number" \
    sh -c "cd '$R' && ar-card record '$T/bad.log'"
summary "$T/implausible.log" 0.01
expect_err "an implausible val_bpb" 2 "metrics.val_bpb" sh -c "cd '$R' && ar-card record '$T/implausible.log'"
printf -- '---\nval_bpb: 1.0\n\0\n' >"$T/nul.log"
expect_err "a binary log" 2 "not a text log" sh -c "cd '$R' && ar-card record '$T/nul.log'"
expect_err "a missing log" 2 "no-such.log: no such file" sh -c "cd '$R' && ar-card record '$T/no-such.log'"
expect_err "outside a git repository" 2 "not inside a git repository" \
    sh -c "cd '$T' && ar-card record '$T/base.log'"
expect_err "--platform that is not a class" 2 "--platform: 'h 100' is not a platform class" \
    sh -c "cd '$R' && ar-card record '$T/base.log' --platform 'h 100'"
expect_err "--budget 0" 2 "--budget" sh -c "cd '$R' && ar-card record '$T/base.log' --budget 0"
echo "not a results file" >"$T/other.tsv"
expect_err "--tsv of another file" 2 "other.tsv: not a results.tsv" \
    sh -c "cd '$R' && ar-card record '$T/base.log' --tsv '$T/other.tsv'"
expect_err "--tsv in a directory that does not exist" 2 "no such directory" \
    sh -c "cd '$R' && ar-card record '$T/base.log' --tsv '$T/no/dir/results.tsv'"
expect "bad logs and options store nothing" test "$(tree_sum "$KB")" = "$before"
expect_err "a bad log and a knowledge base not there yet" 2 "the log is empty" \
    sh -c "cd '$R' && ar-card record '$T/empty.log' --kb '$T/fresh/knowledge'"
expect "leaves no knowledge base behind" test ! -e "$T/fresh"
expect "and leave --tsv's file as it was" test "$(cat "$T/other.tsv")" = "not a results file"
expect_rc "record --help" 0 ar-card record --help

# issue 11 §4: a knowledge base path whose parents do not exist is created
run env PATH="$NOGPU_PATH" sh -c "cd '$R' && ar-card record '$T/base.log' --kb '$T/a/b/c/knowledge'"
expect "missing parents of the knowledge base are created" test -f "$T/a/b/c/knowledge/cards/$OUT.json"

# ar-synth meta and session print the report they wrote, unless stdout is /dev/null
ar-synth meta >"$T/meta.out" 2>/dev/null
expect "ar-synth meta prints meta.md" cmp -s "$T/meta.out" "$KB/synthesis/meta.md"
ar-synth session mar8 >"$T/session.out" 2>/dev/null
expect "ar-synth session prints its report" cmp -s "$T/session.out" "$KB/synthesis/session-mar8.md"
expect "and the report is not empty" test -s "$T/session.out"
run ar-synth meta --print
expect "--print prints it too" test "$OUT" = "$(cat "$KB/synthesis/meta.md")"

# ar-card write names the missing field instead of printing its usage
expect_err "write without --hypothesis names the field" 2 "field 'hypothesis': required" \
    ar-card write --category other --status keep
expect_err "write without --status names the field" 2 "field 'status': required" \
    ar-card write --hypothesis h --category other --commit abc1234 --platform '{"class":"cpu"}'

finish
