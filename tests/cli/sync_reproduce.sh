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
finish
