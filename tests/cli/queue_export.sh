#!/usr/bin/env bash
# ar-queue export --skypilot: one task YAML per pending entry that runs
# ar-train with the entry's overrides; bad --gpu; nothing else written.
. "$(dirname "$0")/lib.sh"
run ar-queue add --hypothesis "it's \"quoted\"" --category optimizer --set matrix_lr=0.02 --set window_pattern=SL
a=$OUT
run ar-queue add --hypothesis "deeper" --category architecture --set depth=6
b=$OUT
ar-queue cancel "$b" >/dev/null
run ar-queue add --hypothesis "third" --category other
c=$OUT

run ar-queue export --skypilot "$T/sky" --gpu H100:1
expect "one path per pending entry" test "$(grep -c '' <<<"$OUT")" -eq 2
expect "files are named by entry id" test -f "$T/sky/$a.yaml" -a -f "$T/sky/$c.yaml"
expect "cancelled entries are not exported" test ! -e "$T/sky/$b.yaml"
y="$T/sky/$a.yaml"
expect "the task is named after the entry" grep -qx "name: ar-${a,,}" "$y"
expect "the accelerators are the --gpu" grep -qx "  accelerators: H100:1" "$y"
expect "the run sets the overrides" grep -q -- "--set 'matrix_lr=0.02'" "$y"
expect "the hypothesis is quoted for the shell" grep -qF -- "--hypothesis 'it'\\''s \"quoted\"'" "$y"
expect "the run records the card through ar-train" grep -q "bin/ar-train" "$y"
expect "a GPU task trains on the GPU" grep -q "bin/ar-train --device cuda" "$y"
py='import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
assert d["resources"] == {"accelerators": "H100:1"}, d["resources"]
assert d["envs"]["AR_QUEUE_ENTRY"] == sys.argv[2]
sys.stdout.write(d["run"])'
if python3 -c 'import yaml' 2>/dev/null; then
    run python3 -c "$py" "$y" "$a"
    expect "the YAML parses back to the task" test "$RC" -eq 0
    printf '%s\n' "$OUT" >"$T/run.sh"
    expect "the run script is valid shell" bash -n "$T/run.sh"
fi
run ar-queue export --skypilot "$T/cpu"
expect "without --gpu a CPU task" grep -qx '  cpus: "8+"' "$T/cpu/$c.yaml"
expect "... whose ar-train picks its device itself" test "$(grep -c -- '--device' "$T/cpu/$c.yaml")" = 0

before=$(tree_sum "$KB")
expect_err "bad --gpu" 2 "option '--gpu': 'H100:x'" ar-queue export --skypilot "$T/x" --gpu H100:x
expect_err "missing directory parent" 1 "cannot create directory" ar-queue export --skypilot "$T/no/such"
expect_err "--gpu without --skypilot names what is missing" 2 "export: --skypilot is required" ar-queue export --gpu H100:1
expect "bad input wrote nothing" test "$(tree_sum "$KB")" = "$before" -a ! -e "$T/x" -a ! -e "$T/no"
finish
