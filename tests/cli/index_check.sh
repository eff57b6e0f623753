#!/usr/bin/env bash
# ar-card index --check: a disagreement that a reader heals is healed by
# the check itself; one that a writer at work explains is reported as a
# pending rebuild (exit 0); any other fails (exit 1).
. "$(dirname "$0")/lib.sh"
P='{"class":"cpu-avx512"}'
card() { ar-card write --kb "$1" --hypothesis "$2" --category other --status keep --commit abc1234 \
    --val-bpb "$3" --platform "$P" "${@:4}"; }
base=$(card "$KB" base 1.0)
expect_rc "a fresh index agrees" 0 ar-card index --check

# a card put there by hand: no reader takes it in, the check fails
other=$(card "$T/other" "by hand" 1.1)
cp "$T/other/cards/$other.json" "$KB/cards/"
expect_err "a card put there by hand is a disagreement" 1 "lacks 1 card \(cards/$other.json" ar-card index --check
# while a writer is at work (it holds index.pending.lock), the same is a rebuild pending
python3 - "$KB/index.pending.lock" <<'PY' &
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.lockf(fd, fcntl.LOCK_SH)
open(sys.argv[1] + ".held", "w").close()
time.sleep(30)
PY
holder=$!
for _ in $(seq 1 100); do [ -e "$KB/index.pending.lock.held" ] && break; sleep 0.1; done
run ar-card index --check
expect "with a writer at work the check passes" test "$RC" -eq 0
expect "and says a rebuild is pending" grep -q "a writer is at work, rebuild pending (.*lacks 1 card" <<<"$ERR"
kill "$holder"; wait "$holder" 2>/dev/null
rm -f "$KB/index.pending.lock.held"
expect_rc "ar-card index takes the card in" 0 ar-card index
expect_rc "then the check agrees" 0 ar-card index --check

# a trust list edited by hand: the views were built with the old one; the
# check heals the index as the next reader would
AR_AGENT=mallory ar-card note "$base" --status crash --comment "peer says" >/dev/null
rm -f "$KB/trust"
expect_rc "the list lost: the next reader rebuilds" 0 ar-card list
printf 'mallory\n' >"$KB/trust"
run ar-card index --check
expect "a list changed by hand is healed by the check" test "$RC" -eq 0
expect "and the check says so" grep -q "healed, as the next reader would heal it" <<<"$ERR"
expect "the view follows the list" test "$(ar-card show --json "$base" | jq -r .status)" = crash
expect_rc "a second check has nothing to heal" 0 ar-card index --check
finish
