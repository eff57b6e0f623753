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
# The exported task's run section, run here as SkyPilot would run it: in a
# copy of the project without knowledge/ (gitignored, so not uploaded),
# with the task's envs. Its card must arrive in the knowledge base's remote.
R="$T/remote.git"
git init -q --bare "$R"
expect_rc "the director's knowledge base gets a remote" 0 ar-sync init --remote "$R"
seed=$(ar-card write --hypothesis "the director's card" --category other --status keep --commit abc1234 \
    --val-bpb 1.2 --platform '{"class":"cpu-avx512"}')
ar-sync >/dev/null
ar-queue cancel "$a" >/dev/null
ar-queue cancel "$c" >/dev/null
run ar-queue add --hypothesis "a run on another machine" --category optimizer --set matrix_lr=0.03
e=$OUT
run ar-queue export --skypilot "$T/sky2"
expect "export with a remote: no warning" test -z "$ERR"
y2="$T/sky2/$e.yaml"
expect "the task carries the remote" grep -qxF "  AR_KB_REMOTE: \"$R\"" "$y2"
# the run block: the lines after "run: |", two spaces of indent removed
awk '/^run: \|/ {on = 1; next} on && /^[^ ]/ {on = 0} on {sub(/^  /, ""); print}' "$y2" >"$T/task-run.sh"
expect "the run section is there" grep -q "bin/ar-train" "$T/task-run.sh"
tiny_data
W="$T/work"
mkdir -p "$W/bin" "$W/trainer"
tiny_config "$W/trainer/config.yaml"
for t in "$ROOT"/bin/ar-*; do [ -x "$t" ] && [ "${t##*/}" != ar-train ] && ln -s "$t" "$W/bin/"; done
# ar-train itself, with a budget of two steps (the task's own is 300 s)
printf '#!/bin/sh\nexec "%s/bin/ar-train" --max-steps 2 "$@"\n' "$ROOT" >"$W/bin/ar-train"
chmod +x "$W/bin/ar-train"
printf '/knowledge/\n' >"$W/.gitignore"
git -C "$W" init -q && git -C "$W" add -A && git -C "$W" commit -qm "the project" >/dev/null
runtask() {   # runtask REMOTE: the run section in $W with the task's envs
    (cd "$W" && env -u AR_KB AR_QUEUE_ENTRY="$e" AR_KB_REMOTE="$1" bash -e task-run.sh)
}
cp "$T/task-run.sh" "$W/task-run.sh"
run runtask "$R"
expect "the task's run section succeeds" test "$RC" -eq 0
expect "the task cloned the knowledge base (it has the director's card)" test -f "$W/knowledge/cards/$seed.json"
pushed=$(git -C "$R" ls-tree -r --name-only main cards/ | while read -r f; do
    git -C "$R" show "main:$f" | jq -r 'select(.hypothesis == "a run on another machine") | .id'; done)
expect "the task's card arrived in the remote" test -n "$pushed"
expect "with the entry's override" \
    test "$(git -C "$R" show "main:cards/$pushed.json" | jq -r .config.matrix_lr)" = 0.03
ar-sync >/dev/null
expect "the director's next sync brings the card home" test -f "$KB/cards/$pushed.json"
rm -rf "$W/knowledge"
run runtask ""
expect "without a remote the task stops before training (exit 2)" test "$RC" -eq 2
expect "and says why" grep -q "AR_KB_REMOTE is not set: the card could not return" <<<"$ERR"
expect "and records nothing" test ! -e "$W/knowledge/cards"
finish
