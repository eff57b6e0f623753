# Sourced by every CLI test. Gives a fresh temporary directory ($T), a
# knowledge base path ($KB, exported as AR_KB), the tools on PATH, and
# assertions that count passes and failures. Call `finish` at the end.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PATH="$ROOT/bin:$PATH"
T=$(mktemp -d "${TMPDIR:-/tmp}/ar-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
export AR_KB="$T/knowledge" KB="$T/knowledge"
export AR_AGENT=test-agent TZ=UTC
unset AR_DATA
_pass=0 _fail=0

pass() { _pass=$((_pass + 1)); echo "ok - $1"; }
fail() { _fail=$((_fail + 1)); echo "FAIL - $1"; [ $# -lt 2 ] || echo "    $2"; }

# run CMD...: runs it, keeping stdout in $OUT, stderr in $ERR, status in $RC
run() {
    "$@" >"$T/.out" 2>"$T/.err"; RC=$?
    OUT=$(cat "$T/.out"); ERR=$(cat "$T/.err")
}

# expect_rc NAME CODE CMD...: CMD exits with CODE
expect_rc() {
    local name=$1 code=$2; shift 2
    run "$@"
    if [ "$RC" -eq "$code" ]; then pass "$name"
    else fail "$name" "exit $RC, wanted $code; stderr: $ERR"; fi
}

# expect_err NAME CODE PATTERN CMD...: exits CODE, stderr is one line matching PATTERN
expect_err() {
    local name=$1 code=$2 pat=$3; shift 3
    run "$@"
    local lines; lines=$(printf '%s' "$ERR" | grep -c '')
    if [ "$RC" -ne "$code" ]; then fail "$name" "exit $RC, wanted $code; stderr: $ERR"
    elif [ "$lines" -ne 1 ]; then fail "$name" "wanted one line on stderr, got $lines: $ERR"
    elif ! grep -qE -- "$pat" <<<"$ERR"; then fail "$name" "stderr '$ERR' does not match '$pat'"
    else pass "$name"; fi
}

# expect NAME TEST-EXPRESSION...: passes when the shell test succeeds
expect() {
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name" "false: $*"; fi
}

# tree_sum DIR: a fingerprint of every file (name and content) under DIR,
# but the derived index (index.db and SQLite's files beside it, index.lock),
# which any reader may bring up to date from the facts at any time
tree_sum() {
    if [ -d "$1" ]; then
        (cd "$1" && find . -type f ! -path './index.*' -print0 | sort -z | xargs -0r sha256sum) | sha256sum
    else
        echo absent
    fi
}

# tiny_corpus [N]: N small documents (default 300) in $T/corpus.txt
tiny_corpus() {
    local i
    for i in $(seq 1 "${1:-300}"); do
        echo "Document $i tells how the fox $((i % 7)) met the dog $((i % 5)) by the river."
        echo
    done >"$T/corpus.txt"
}

# tiny_data [N]: tiny_corpus N prepared into $T/data, exported as AR_DATA
tiny_data() {
    tiny_corpus "$@"
    ar-train prepare --input "$T/corpus.txt" --vocab 300 --data "$T/data" >/dev/null 2>&1 ||
        fail "prepare the test data"
    export AR_DATA="$T/data"
}

# tiny_config FILE: a config small enough to train in a fraction of a second
tiny_config() {
    cat >"$1" <<'YAML'
depth: 2
aspect_ratio: 32
head_dim: 32
seq_len: 32
device_batch: 4
total_batch_tokens: 256
eval_tokens: 1024
ve_gate_channels: 16
threads: 1
YAML
}

finish() {
    echo "cli: $_pass passed, $_fail failed"
    [ "$_fail" -eq 0 ]
}
