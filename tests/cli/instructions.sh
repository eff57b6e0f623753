#!/usr/bin/env bash
# program.md and director.md: every command in their sh blocks runs, in
# order, in a sandbox (a project with a tiny trainer config, its own
# knowledge base, a bare remote, tiny data): the worker's set-up, then a
# director round, then one worker iteration, which claims the director's
# work. Any command that exits non-zero fails the test. ar-train runs
# through a shim that adds --max-steps 2 (and, for prepare, a tiny local
# corpus instead of the network); the agent's own edit before `git commit`
# is simulated by applying the claimed entry's overrides.
. "$(dirname "$0")/lib.sh"

# ---- the sandbox ---------------------------------------------------------------
tiny_corpus 200
mkdir -p "$T/shim"
cat >"$T/shim/ar-train" <<EOF
#!/bin/sh
if [ "\$1" = prepare ]; then shift; exec "$ROOT/bin/ar-train" prepare --input "$T/corpus.txt" --vocab 300 "\$@"; fi
exec "$ROOT/bin/ar-train" --max-steps 2 --quiet "\$@"
EOF
chmod +x "$T/shim/ar-train"
export PATH="$T/shim:$PATH" AR_DATA="$T/data" AR_REMOTE="$T/remote.git"
export GIT_AUTHOR_NAME=agent GIT_AUTHOR_EMAIL=agent@test GIT_COMMITTER_NAME=agent GIT_COMMITTER_EMAIL=agent@test
unset AR_KB
git init -q --bare -b main "$AR_REMOTE"
P="$T/proj"
mkdir -p "$P/trainer" "$P/kernels"
tiny_config "$P/trainer/config.yaml"
echo kernels >"$P/kernels/README"
printf '/knowledge/\n/run.log\n/claim.json\n' >"$P/.gitignore"
(cd "$P" && git init -q -b main && git add -A && git commit -qm "upstream")
cd "$P" || exit 1

# ---- the commands of a document ----------------------------------------------------
# commands FILE FIRST-HEADING STOP-HEADING: the lines of the sh blocks from
# the heading matching FIRST up to the one matching STOP (regexes)
commands() {
    awk -v from="$2" -v to="$3" '
        /^#/ && $0 ~ from { in_part = 1 }
        /^#/ && to != "" && $0 ~ to { in_part = 0 }
        /^ *```sh$/ { in_block = 1; next }
        /^ *```/ { in_block = 0; next }
        in_part && in_block { sub(/^ +/, ""); if ($0 != "" && $0 !~ /^#/) print }
    ' "$1"
}

# the agent's edit before a commit: the claimed overrides, else a change of its own
edit_config() {
    if [ -f claim.json ]; then
        jq -r '.overrides | to_entries[] | "\(.key): \(.value)"' claim.json >"$T/ov"
        while IFS= read -r kv; do
            key=${kv%%:*}
            sed -i "/^$key:/d" trainer/config.yaml
            echo "$kv" >>trainer/config.yaml
        done <"$T/ov"
    else
        sed -i '/^warmdown_frac:/d' trainer/config.yaml
        echo "warmdown_frac: 0.$((RANDOM % 9 + 1))" >>trainer/config.yaml
    fi
}

ran=0
run_part() {   # NAME FILE FIRST STOP
    local name=$1 line rc
    while IFS= read -r line; do
        case "$line" in "git commit"*) edit_config ;; esac
        eval "$line" >"$T/cmd.out" 2>"$T/cmd.err" </dev/null
        rc=$?
        ran=$((ran + 1))
        if [ "$rc" -eq 0 ]; then pass "$name: $line"
        else fail "$name: $line" "exit $rc: $(tail -n 3 "$T/cmd.err")"; fi
    done < <(commands "$2" "$3" "$4")
}

run_part "program.md set-up" "$ROOT/program.md" "^## Set-up" "^## The loop"
run_part "director.md round" "$ROOT/director.md" "^## Each round" "^## Judgement"
run_part "program.md loop" "$ROOT/program.md" "^## The loop" ""

# ---- what the commands did -------------------------------------------------------
expect "the documents show at least 30 commands" test "$ran" -ge 30
K="$P/knowledge"
expect "cards were recorded (baseline, a run, a verification)" test "$(ls "$K/cards" | wc -l)" -ge 3
expect "each card has its patch" test "$(ls "$K/patches" | wc -l)" -eq "$(ls "$K/cards" | wc -l)"
expect "a lesson was noted" grep -q '"kind": "lesson"' "$K"/notes/*.json
expect "the claimed entry is done" grep -q '"status":"done"' <(ar-queue show --json "$ENTRY" --kb "$K")
expect "a card verifies another" grep -q '"verifies"' "$K"/cards/*.json
ar-sync >/dev/null   # "before you stop for any reason"
expect "the remote holds every card" \
    test "$(git -C "$AR_REMOTE" ls-tree --name-only main cards/ | wc -l)" -eq "$(ls "$K/cards" | wc -l)"
expect "the synthesis was written" test -s "$K/synthesis/meta.md"
expect "the session branch exists" git rev-parse -q --verify autoresearch/nov23
finish
