#!/usr/bin/env bash
# Reproducible cards: ar-train stores the diff of trainer/ and kernels/
# against upstream beside the card; the patch travels through ar-sync; a
# peer rebuilds the code with ar-card checkout and replicates the run with
# ar-train --verify, which records a card that verifies the first.
. "$(dirname "$0")/lib.sh"

tiny_data 200
G=(git -c user.name=t -c user.email=t@t)

# the project: upstream main has the tiny config; the experiment branch
# commits depth 1 and leaves a kernel note uncommitted (it ran, so it counts)
P="$T/proj"
mkdir -p "$P/trainer" "$P/kernels"
tiny_config "$P/trainer/config.yaml"
echo "kernels" >"$P/kernels/README"
(cd "$P" && git init -q -b main && "${G[@]}" add -A && "${G[@]}" commit -qm base &&
    git checkout -qb autoresearch/t && sed -i 's/^depth: 2/depth: 1/' trainer/config.yaml &&
    "${G[@]}" commit -qam "depth 1" && echo "tuned" >>kernels/README)
upstream=$(git -C "$P" rev-parse main)

cd "$P" || exit 1
run ar-train --budget 30 --max-steps 2 --quiet
id=$(awk '/^card:/ {print $2}' <<<"$OUT")
expect "the run records a card" test -f "$KB/cards/$id.json"
patch="$KB/patches/$id.patch"
expect "its patch is stored beside it" test -f "$patch"
expect "the patch has the committed change" grep -q '^+depth: 1' "$patch"
expect "the patch has the uncommitted change" grep -q '^+tuned' "$patch"
run ar-card show --json "$id"
expect "the card records the upstream commit" grep -q "\"upstream\":\"$upstream\"" <<<"$OUT"
expect "the card records the patch hash" grep -q "\"sha256\":\"$(sha256sum <"$patch" | cut -c1-64)\"" <<<"$OUT"
seed=$(sed -nE 's/.*"seed":([0-9]+).*/\1/p' <<<"$OUT")
hash=$(sed -nE 's/.*"config_hash":"([0-9a-f]+)".*/\1/p' <<<"$OUT")

# through a remote to a peer that has only upstream
git init -q --bare "$T/remote.git"
ar-sync init --remote "$T/remote.git" >/dev/null && ar-sync >/dev/null
export AR_KB="$T/peer"
ar-sync init --remote "$T/remote.git" >/dev/null && ar-sync >/dev/null
expect "the patch reached the peer" cmp -s "$patch" "$T/peer/patches/$id.patch"
git clone -q -b main "$P" "$T/clone"
cd "$T/clone" || exit 1
run ar-card checkout "$id"
expect "checkout prints the new branch" test "$OUT" = "reproduce/$id"
expect "the branch is checked out" test "$(git rev-parse --abbrev-ref HEAD)" = "reproduce/$id"
expect "the config is the card's" grep -qx 'depth: 1' trainer/config.yaml
expect "the kernel change is back" grep -qx 'tuned' kernels/README
expect "the work tree is clean" test -z "$(git status --porcelain)"
expect_err "checkout twice" 2 "already exists" ar-card checkout "$id"

run ar-train --verify "$id" --max-steps 2 --quiet
vid=$(awk '/^card:/ {print $2}' <<<"$OUT")
expect "--verify records a card" test -n "$vid" -a -f "$T/peer/cards/$vid.json"
expect "the code matched the patch (no warning)" test -z "$ERR"
run ar-card show --json "$vid"
expect "the new card verifies the first" grep -q "\"verifies\":\"$id\"" <<<"$OUT"
expect "with a new seed" grep -q "\"seed\":$((seed + 1))," <<<"$OUT"
expect "and the same config" grep -q "\"config_hash\":\"$hash\"" <<<"$OUT"
expect "its hypothesis names the card" grep -q "\"hypothesis\":\"verify $id: depth 1\"" <<<"$OUT"

git checkout -q main
run ar-train --verify "$id" --max-steps 1 --quiet
expect "--verify on other code warns" grep -q "ar-card checkout $id" <<<"$ERR"
expect_err "--verify with --set" 2 "--verify" ar-train --verify "$id" --set depth=3
expect_err "--verify of an unknown card" 2 "not found" ar-train --verify 20260101T000000Z-000000000000

# a card from another agent: replaying its patch runs a peer's code, so
# checkout and --verify say so, show the diff stat and need --yes
cd "$P" || exit 1
run env AR_AGENT=alice AR_KB="$KB" ar-train --budget 30 --max-steps 2 --quiet --hypothesis "alice: depth 1"
aid=$(awk '/^card:/ {print $2}' <<<"$OUT")
expect "alice's run records a card with a patch" test -n "$aid" -a -f "$KB/patches/$aid.patch"
AR_KB="$KB" ar-sync >/dev/null && ar-sync >/dev/null
cd "$T/clone" || exit 1
git checkout -q main
before=$(tree_sum "$T/clone") head=$(git rev-parse HEAD)
run ar-card checkout "$aid"
expect "checkout of a peer's card without --yes is refused" test "$RC" -eq 2
expect "it says whose code it is" grep -q "card $aid is from agent 'alice', not from you ('test-agent')" <<<"$ERR"
expect "with the diff stat" grep -q "kernels/README *| *1 +" <<<"$ERR"
expect "and how to go on" grep -q "only with --yes (or AR_TRUST_PATCHES=1)" <<<"$ERR"
expect "the work tree is unchanged" test "$(tree_sum "$T/clone")" = "$before" -a "$(git rev-parse HEAD)" = "$head"
expect "no branch was made" test -z "$(git branch --list "reproduce/$aid")"
run ar-card checkout "$aid" --yes
expect "with --yes it is applied" test "$RC" -eq 0 -a "$OUT" = "reproduce/$aid"
expect "after the diff stat" grep -q "kernels/README *| *1 +" <<<"$ERR"
expect "alice's kernel change is here" grep -qx tuned kernels/README
cards_before=$(ls "$T/peer/cards" | wc -l)
run ar-train --verify "$aid" --max-steps 1 --quiet
expect "--verify of a peer's patch without --yes is refused" test "$RC" -eq 2
expect "it says so too" grep -q "this run trains code from a peer" <<<"$ERR"
expect "and records nothing" test "$(ls "$T/peer/cards" | wc -l)" -eq "$cards_before"
run env AR_TRUST_PATCHES=1 ar-train --verify "$aid" --max-steps 1 --quiet
expect "AR_TRUST_PATCHES=1 consents" test "$RC" -eq 0 -a -n "$(awk '/^card:/ {print $2}' <<<"$OUT")"
run ar-train --verify "$aid" --max-steps 1 --quiet --yes
expect "so does --yes" test "$RC" -eq 0 -a "$(ls "$T/peer/cards" | wc -l)" -eq $((cards_before + 2))
finish
