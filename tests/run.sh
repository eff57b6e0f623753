#!/usr/bin/env bash
# Runs every unit test binary given as arguments, then every tests/cli/*.sh,
# and ends with one line: "N passed, N failed".
# Unit binaries are Check suites; CLI scripts use tests/cli/lib.sh, whose
# last line is "cli: N passed, N failed".
# TESTS=pattern restricts the run to tests whose path contains pattern.
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
log=$(mktemp); trap 'rm -f "$log"' EXIT

count() {   # name, then output in $log; adds to the totals
    local name=$1 rc=$2 p f
    if line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" | tail -1) && [ -n "$line" ]; then
        local n fl er
        n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
        fl=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
        er=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
        p=$((n - fl - er)); f=$((fl + er))
    elif line=$(grep -E '^cli: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -1) && [ -n "$line" ]; then
        p=$(sed -E 's/cli: ([0-9]+) passed.*/\1/' <<<"$line")
        f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")
    else
        p=0; f=1
    fi
    # a crash or non-zero exit after all checks passed still counts as a failure
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        echo "FAIL $name ($p passed, $f failed)"
        grep -vE '^(ok|[0-9]+%: Checks)' "$log" | tail -40 | sed 's/^/    /'
    else
        # a suite that could not run here (no GPU) says so in a "skipped:" line
        echo "ok   $name ($p passed)$(grep -m1 '^skipped:' "$log" | sed 's/^/; /')"
    fi
}

want() { [ -z "${TESTS:-}" ] || [[ "$1" == *"$TESTS"* ]]; }

for u in "$@"; do
    want "$u" || continue
    CK_VERBOSITY=normal CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120} "./$u" >"$log" 2>&1
    count "$u" $?
done
for c in tests/cli/*.sh; do
    [ -e "$c" ] && [ "$(basename "$c")" != lib.sh ] || continue
    want "$c" || continue
    bash "$c" >"$log" 2>&1
    count "$c" $?
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
