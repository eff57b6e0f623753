#!/usr/bin/env bash
# ar-mcp with the official MCP TypeScript SDK client (tests/mcp/client.mjs,
# installed by `make deps`): initialize, every tool, every resource, the
# error cases with the CLI's own messages, --read-only, and two servers
# claiming from one queue. Each check of the client is one pass or fail here.
. "$(dirname "$0")/lib.sh"

if ! command -v node >/dev/null || [ ! -d "$ROOT/tests/mcp/node_modules/@modelcontextprotocol/sdk" ]; then
    fail "the MCP SDK client is installed" "run make deps (npm ci --prefix tests/mcp)"
    finish
    exit
fi

expect_rc "ar-mcp --help" 0 ar-mcp --help
expect "--help names the tools and how to register" grep -q "claude mcp add ar" <<<"$OUT"
expect_err "an unknown option" 2 "^ar-mcp: unknown option '--nope'" ar-mcp --nope
expect_err "--read-only on a missing knowledge base" 1 "^ar-mcp: .*$T/none" ar-mcp --read-only --kb "$T/none"
expect "--read-only creates nothing" test ! -e "$T/none"
run ar-mcp </dev/null
expect "end of input at once: exit 0, nothing on stdout" test "$RC" -eq 0 -a -z "$OUT"
# the raw stream: malformed JSON, invalid UTF-8, a batch, a notification and
# two requests in one write, answered in order, one line each
printf '{"jsonrpc":"2.0","id":1,"method":"ping"}\n{oops\n{"jsonrpc":"2.0","id":2,"method":"p\xffing"}\n[{"jsonrpc":"2.0","id":3,"method":"ping"}]\n{"jsonrpc":"2.0","method":"notifications/initialized"}\n{"jsonrpc":"2.0","id":4,"method":"ping"}' >"$T/raw"
run ar-mcp <"$T/raw"
# each reply as its id and its error code or "ok"
got=$(sed -E 's/.*"code":(-[0-9]+).*"id":([a-z0-9]+).*/\2 \1/; s/^\{"id":([0-9]+).*"result".*/\1 ok/' <<<"$OUT" | tr '\n' ,)
expect "raw stream: one reply a request, in order" test "$(grep -c "" <<<"$OUT")" -eq 5
expect "raw stream: errors by the codes of JSON-RPC, in order" test "$got" = "1 ok,null -32700,null -32700,null -32600,4 ok,"

P='{"class":"cpu-avx2"}'
card() {   # status val_bpb [more ar-card write options]
    local status=$1 bpb=$2; shift 2
    ar-card write --hypothesis "test $status" --category optimizer --status "$status" --commit abc1234 \
        --session s1 --platform "$P" --budget 300 --val-bpb "$bpb" "$@"
}
up='[{"key":"matrix_lr","from":0.04,"to":0.06}]'
export BASE KEEP
BASE=$(card baseline 1.100 --config '{"matrix_lr":0.04,"depth":4}')
KEEP=$(card keep 1.080 --delta -0.020 --baseline "$BASE" --changes "$up" --config '{"matrix_lr":0.06,"depth":4}')
expect "two cards to serve" test -n "$BASE" -a -n "$KEEP"

# libjq aborted on an import without a module path: ar-card query (and the
# cards_query tool, below) refuse it instead
expect_err "ar-card query: import is refused, not a crash" 2 "^ar-card: query: module not found: /etc/passwd" \
    ar-card query 'import "/etc/passwd" as $p; $p'

# the CLI's messages for the same bad inputs, which the tools must give
run ar-card show nope
export MSG_SHOW=${ERR#ar-card: }
run ar-queue add --hypothesis h --category optimizer --set nosuch=1
export MSG_SET=${ERR#ar-queue: }
run ar-card note "$BASE" --lesson a --comment b
export MSG_NOTE=${ERR#ar-card: }
expect "the CLI refuses them" test -n "$MSG_SHOW" -a -n "$MSG_SET" -a -n "$MSG_NOTE"

# a fork with autoresearch's train.py and a run's log, for card_record
export FORK="$T/fork" LOG_OK="$T/ok.log" LOG_BAD="$T/bad.log"
mkdir -p "$FORK"
cp "$ROOT/tests/fixtures/autoresearch-train.py" "$FORK/train.py"
git -C "$FORK" init -q -b autoresearch/mar8
git -C "$FORK" add -A
git -C "$FORK" -c user.name=t -c user.email=t@t commit -q -m "baseline"
printf 'Time budget: 300s\n---\nval_bpb:          0.997900\ntraining_seconds: 300.1\npeak_vram_mb:     45060.2\nnum_steps:        953\n' >"$LOG_OK"
printf -- '---\nval_bpb: fast\n' >"$LOG_BAD"
run sh -c "cd '$FORK' && ar-card record --platform h100 '$LOG_BAD'"
export MSG_RECORD=${ERR#ar-card: }
expect "ar-card record refuses the bad log" test "$RC" -eq 2 -a -n "$MSG_RECORD"

# a remote for the sync tool
git init -q --bare "$T/remote.git"
expect_rc "ar-sync init" 0 ar-sync init --remote "$T/remote.git"

# a second knowledge base for the two servers on one queue
export QKB="$T/qkb"
mkdir -p "$QKB"
expect_rc "40 entries to claim" 0 ar-queue grid --kb "$QKB" --hypothesis "sweep" \
    --set matrix_lr=0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.08 --set depth=2,3,4,5,6

before=$(tree_sum "$KB")
export AR_MCP="${AR_MCP:-$ROOT/bin/ar-mcp}"   # a wrapper may stand in (sanitizer runs)
cd "$ROOT"
node tests/mcp/client.mjs >"$T/node.out" 2>"$T/node.err"
rc=$?
while IFS= read -r line; do
    case "$line" in
        "ok - "*) pass "${line#ok - }" ;;
        "FAIL - "*) fail "${line#FAIL - }" "$(grep -A1 -F -- "$line" "$T/node.out" | sed -n 2p)" ;;
    esac
done <"$T/node.out"
expect "the client ran to its end" grep -q '^done$' "$T/node.out"
[ "$rc" -eq 0 ] || fail "node exits 0" "exit $rc: $(tail -5 "$T/node.err")"
expect "the tools wrote to the knowledge base" test "$before" != "$(tree_sum "$KB")"
finish
