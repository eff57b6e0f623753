#!/usr/bin/env bash
# Many agents, many machines, one memory. Machine 1: two workers in two
# checkouts share one knowledge base and its queue; a director plans for
# them. Machine 2: a third knowledge base with its own worker. The two
# knowledge bases sync through a bare remote. Workers claim, train (tiny
# config, two steps), keep or discard, note and sync at the same time; at
# the end every peer holds the same facts and its brief shows the same best
# result and findings.
. "$(dirname "$0")/lib.sh"

tiny_data 200
mkdir -p "$T/shim"
cat >"$T/shim/ar-train" <<EOF
#!/bin/sh
exec "$ROOT/bin/ar-train" --max-steps 2 --quiet "\$@"
EOF
chmod +x "$T/shim/ar-train"
export PATH="$T/shim:$PATH" AR_DATA="$T/data"
export GIT_AUTHOR_NAME=agent GIT_AUTHOR_EMAIL=agent@test GIT_COMMITTER_NAME=agent GIT_COMMITTER_EMAIL=agent@test
R="$T/remote.git"
git init -q --bare -b main "$R"

# the project everyone starts from
U="$T/upstream"
mkdir -p "$U/trainer" "$U/kernels"
tiny_config "$U/trainer/config.yaml"
echo kernels >"$U/kernels/README"
printf '/knowledge/\n/run.log\n/claim.json\n' >"$U/.gitignore"
(cd "$U" && git init -q -b main && git add -A && git commit -qm upstream)
checkout() {   # DIR TAG: a worker's checkout on autoresearch/TAG
    git clone -q "$U" "$1" && git -C "$1" checkout -qb "autoresearch/$2"
}
K1="$T/m1/knowledge" K2="$T/m2/knowledge"
mkdir -p "$T/m1" "$T/m2"
checkout "$T/m1/w1" w1; checkout "$T/m1/w2" w2; checkout "$T/m2/w3" w3

# ---- set-up: a baseline on each machine, both knowledge bases on the remote -------
export AR_KB="$K1"
(cd "$T/m1/w1" && AR_AGENT=w1 ar-train --hypothesis baseline >run.log 2>&1) || fail "baseline on machine 1"
expect_rc "machine 1 joins the remote" 0 ar-sync init --remote "$R"
expect_rc "machine 1 syncs" 0 ar-sync
(cd "$T/m2/w3" && AR_KB="$K2" AR_AGENT=w3 ar-train --hypothesis baseline >run.log 2>&1) ||
    fail "baseline on machine 2"
expect_rc "machine 2 joins the remote" 0 env AR_KB="$K2" ar-sync init --remote "file://$R"
expect_rc "machine 2 syncs" 0 env AR_KB="$K2" ar-sync

# ---- the director of machine 1 plans ---------------------------------------------
export AR_AGENT=director
expect_rc "director: synthesis" 0 ar-synth all
expect_rc "director: plan --apply" 0 ar-queue plan --apply
expect_rc "director: add" 0 ar-queue add --hypothesis "matrix_lr 0.06" --category optimizer \
    --set matrix_lr=0.06 --priority 1
expect_rc "director: add" 0 ar-queue add --hypothesis "warmdown 0.3" --category schedule \
    --set warmdown_frac=0.3 --priority 1
expect_rc "director: add" 0 ar-queue add --hypothesis "no value embeddings" --category architecture \
    --set value_embeds=false --priority 1
expect_rc "director: add" 0 ar-queue add --hypothesis "gelu" --category architecture \
    --set mlp=gelu --priority 1

# ---- workers: program.md's loop, two rounds each, at the same time ----------------
worker() {   # NAME DIR: claim, edit, commit, train, keep/discard, note, done, sync
    export AR_AGENT=$1
    cd "$2" || return 1
    local round ENTRY CARD STATUS VERIFIES
    for round in 1 2; do
        ar-queue claim >claim.json || { echo "$1: nothing to claim"; return 1; }
        ENTRY=$(jq -r .id claim.json)
        VERIFIES=$(jq -r '.verifies // empty' claim.json)
        if [ -n "$VERIFIES" ]; then
            ar-train --verify "$VERIFIES" --seed "$(jq -r .seed claim.json)" >run.log 2>&1
        else
            jq -r '.overrides | to_entries[] | "\(.key): \(.value)"' claim.json | while IFS= read -r kv; do
                sed -i "/^${kv%%:*}:/d" trainer/config.yaml
                echo "$kv" >>trainer/config.yaml
            done
            git commit -qam "$(jq -r .hypothesis claim.json)" || return 1
            ar-train >run.log 2>&1
        fi
        CARD=$(awk '/^card:/ {print $2}' run.log)
        [ -n "$CARD" ] || { echo "$1: no card"; cat run.log; return 1; }
        STATUS=$(ar-card query "select(.id==\"$CARD\") | .status")
        if [ -z "$VERIFIES" ] && [ "$STATUS" != '"keep"' ]; then git reset -q --hard HEAD~1; fi
        ar-card note "$CARD" --lesson "$1 round $round: $(jq -r .hypothesis claim.json) gave $STATUS" >/dev/null &&
            ar-queue done "$ENTRY" --card "$CARD" && ar-sync >/dev/null || return 1
    done
}
worker w1 "$T/m1/w1" >"$T/w1.log" 2>&1 & p1=$!
worker w2 "$T/m1/w2" >"$T/w2.log" 2>&1 & p2=$!
# machine 2's worker runs an idea of its own meanwhile
(
    cd "$T/m2/w3" && export AR_KB="$K2" AR_AGENT=w3 &&
    echo "matrix_lr: 0.02" >>trainer/config.yaml && git commit -qam "matrix_lr 0.02" &&
    ar-train >run.log 2>&1 && card=$(awk '/^card:/ {print $2}' run.log) &&
    ar-card note "$card" --lesson "w3: lower matrix lr" >/dev/null && ar-sync >/dev/null
) >"$T/w3.log" 2>&1 & p3=$!
wait $p1; r1=$?; wait $p2; r2=$?; wait $p3; r3=$?
expect "worker 1 ran two rounds" test "$r1" -eq 0
expect "worker 2 ran two rounds" test "$r2" -eq 0
expect "worker 3 ran its experiment" test "$r3" -eq 0
[ "$r1$r2$r3" = 000 ] || cat "$T/w1.log" "$T/w2.log" "$T/w3.log"

# ---- the end: one more sync everywhere; every peer knows the same ------------------
unset AR_AGENT
ar-sync >/dev/null; AR_KB="$K2" ar-sync >/dev/null; ar-sync >/dev/null
run ar-queue status --json
expect "four entries done, none left claimed" grep -q '"claimed":0,"done":4' <<<"$OUT"
expect "each claim got its own card" \
    test "$(ar-queue status --all --json | jq '[.entries[] | select(.status=="done") | .card] | unique | length')" -eq 4
expect "both workers on machine 1 recorded cards" \
    test "$(ar-card query '.agent' | sort -u | grep -c '"w[12]"')" -eq 2
expect "the knowledge bases hold the same facts" test "$(cd "$K1" && ls cards notes)" = "$(cd "$K2" && ls cards notes)"
expect "7 cards in all (2 baselines, 4 claimed runs, 1 of machine 2)" test "$(ls "$K1/cards" | wc -l)" -eq 7
expect "lessons from every worker reached machine 2" \
    test "$(AR_KB="$K2" ar-card query '.notes[].agent' | sort -u | tr -d '"\n')" = "w1w2w3"
# the brief's size budget is shared with the (local) queue: compare uncut briefs
b1=$(ar-brief --json --max-bytes 1000000 | jq -cS 'del(.queue)')
b2=$(AR_KB="$K2" ar-brief --json --max-bytes 1000000 | jq -cS 'del(.queue)')
expect "both briefs show the same best result" \
    test "$(jq -c .best <<<"$b1")" = "$(jq -c .best <<<"$b2")" -a "$(jq -c .best <<<"$b1")" != null
expect "both briefs show the same findings" test "$(jq -c .findings <<<"$b1")" = "$(jq -c .findings <<<"$b2")"
expect "the briefs agree on everything but the local queue" test "$b1" = "$b2"
ar-synth all && AR_KB="$K2" ar-synth all
expect "the findings have claims" test "$(jq '.claims | length' "$K1/synthesis/findings.json")" -gt 0
expect "and are byte-identical on both machines" cmp -s "$K1/synthesis/findings.json" "$K2/synthesis/findings.json"
expect "so is the meta-synthesis" cmp -s "$K1/synthesis/meta.md" "$K2/synthesis/meta.md"
finish
