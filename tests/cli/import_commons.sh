#!/usr/bin/env bash
# ar-card import of autoresearch-commons cards: [from, to] config diffs,
# tags as category, the platform class from platform.gpu (never a made-up
# CPU), lessons as notes, bad cards reported, a directory of only bad cards
# exit 2; and no leak per rejected row (valgrind, when it is installed).
. "$(dirname "$0")/lib.sh"
q() { ar-card query "$@"; }
qr() { ar-card query "$@" | jq -r .; }

C="$T/commons/cards"
mkdir -p "$C"
cat >"$C/a.json" <<'EOF'
{"id": "c-001", "timestamp": "2026-03-05T12:00:00Z",
 "platform": {"gpu": "NVIDIA H100 80GB HBM3", "ram_gb": 80, "framework": "pytorch+cuda"},
 "parent_commit": "abc1234", "hypothesis": "higher matrix LR",
 "config_diff": {"MATRIX_LR": [0.04, 0.05], "rope theta": {"from": 10000, "to": 200000}, "WINDOW_PATTERN": "SSSL"},
 "results": {"val_bpb": 0.975, "delta": -0.003, "peak_vram_mb": 45000},
 "status": "keep", "lesson": "matrix LR 0.05 helps at depth 8", "tags": ["lr", "optimizer"]}
EOF
cat >"$C/b.json" <<'EOF'
{"id": "c-002", "timestamp": "2026-03-05T13:00:00Z",
 "platform": {"ram_gb": 64, "framework": "pytorch"},
 "parent_commit": "abc1235", "hypothesis": "no GPU named", "config_diff": {},
 "results": {"val_bpb": 0.99}, "status": "discard", "tags": ["misc"]}
EOF
cat >"$C/c.json" <<'EOF'
{"id": "c-003", "timestamp": "2026-03-05T14:00:00Z", "platform": {"gpu": "Apple M2 Pro", "framework": "mps"},
 "parent_commit": "abc1236", "hypothesis": "on a Mac", "results": {"val_bpb": 1.3}, "status": "keep"}
EOF
echo '{"timestamp": "yesterday", "status": "keep"}' >"$C/d.json"

run ar-card import --format commons "$C"
expect "a directory with one bad card imports the others" [ "$RC" -eq 0 -a "$(ls "$KB/cards" | wc -l)" -eq 3 ]
expect "... the bad one is one warning line naming it" [ "$(grep -c 'd.json.*card skipped' <<<"$ERR")" -eq 1 ]
expect "[from, to] config_diff -> from and to, the key through the vocabulary" \
    [ "$(q 'select(.hypothesis=="higher matrix LR") | .changes[] | select(.key=="matrix_lr") | [.from, .to]')" = '[0.04,0.05]' ]
expect "{from, to} config_diff with a phrase for its key" \
    [ "$(q 'select(.hypothesis=="higher matrix LR") | .changes[] | select(.key=="rope_base") | [.from, .to]')" = '[10000,200000]' ]
expect "a tag that names a category is the category" [ "$(qr 'select(.hypothesis=="higher matrix LR") | .category')" = optimizer ]
expect "no such tag: other" [ "$(qr 'select(.hypothesis=="no GPU named") | .category')" = other ]
expect "platform class from platform.gpu: h100" [ "$(qr 'select(.hypothesis=="higher matrix LR") | .platform.class')" = h100 ]
expect "... device cuda" [ "$(qr 'select(.hypothesis=="higher matrix LR") | .platform.device')" = cuda ]
expect "no GPU named: class unknown, not a made-up cpu" \
    [ "$(q 'select(.hypothesis=="no GPU named") | [.platform.class, .platform.device]')" = '["unknown",null]' ]
expect "an Apple chip's class" [ "$(qr 'select(.hypothesis=="on a Mac") | .platform.class + " " + .platform.device')" = "apple-m2-pro mps" ]
expect "the lesson becomes a note" [ "$(qr 'select(.hypothesis=="higher matrix LR") | .notes[0].text')" = "matrix LR 0.05 helps at depth 8" ]
expect "cards say they were imported" [ "$(qr '.extra.imported_from' | sort -u)" = autoresearch-commons ]
run ar-card import --format commons "$C"
expect "a re-import stores nothing new" [ "$(ls "$KB/cards" | wc -l)" -eq 3 ] 
grep -q "imported 0 cards and 0 notes; 3 already there" <<<"$OUT" && pass "... and says so" || fail "... and says so" "$OUT"

rm -rf "$KB"
mkdir -p "$T/bad"
echo '{"timestamp": "yesterday", "status": "keep"}' >"$T/bad/x.json"
echo '[1, 2]' >"$T/bad/y.json"
run ar-card import --format commons "$T/bad"
expect "a directory of only bad cards: exit 2" [ "$RC" -eq 2 ]
expect "... nothing written" [ "$(tree_sum "$KB")" = absent ]
expect_err "a card file given by name that is not JSON: exit 2, one line" 2 "not an autoresearch-commons card" \
    ar-card import --format commons "$ROOT/tests/fixtures/karpathy-mar8-results.tsv"

# the leak per rejected row (issue 17): valgrind finds none
if command -v valgrind >/dev/null; then
    rm -rf "$KB"
    { printf 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\n'
      printf 'baseline\t1.0\t1.0\tkeep\tbaseline\n'
      for i in $(seq 1 40); do printf 'abc%04d\tx%d\t1.0\tkeep\tbad row %d\n' "$i" "$i" "$i"
                               printf 'abd%04d\t1.0\t1.0\tmaybe\tbad status %d\n' "$i" "$i"; done
    } >"$T/rejects.tsv"
    valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 -q \
        "$ROOT/bin/ar-card" import --platform h100 "$T/rejects.tsv" >"$T/vg.out" 2>"$T/vg.err"
    rc=$?
    expect "valgrind: no definite leak and no error importing 80 rejected rows" [ "$rc" -eq 0 ]
    [ "$rc" -eq 0 ] || head -30 "$T/vg.err"
fi

finish
