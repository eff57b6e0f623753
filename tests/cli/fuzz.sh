#!/usr/bin/env bash
# The fuzz harness (tests/fuzz): builds the fuzzers with clang's libFuzzer
# and sanitizers, and replays every seed of tests/fuzz/corpus once, so the
# harness keeps building and the seeds (past findings among them) keep
# passing. The fuzzing itself is `make fuzz` (minutes; not part of make test).
. "$(dirname "$0")/lib.sh"
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$T/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined -o "$T/probe" "$T/probe.c" 2>/dev/null; then
    pass "fuzz harness: skipped (no clang with libFuzzer)"
    finish
    exit
fi
# one build at a time: make test may run beside another make test
if command -v flock >/dev/null; then
    run flock "$ROOT/tests/fuzz/obj.lock" make -s -C "$ROOT" fuzz-build
else
    run make -s -C "$ROOT" fuzz-build
fi
expect "the fuzzers build" test "$RC" -eq 0
for n in card import config; do
    f="$ROOT/tests/fuzz/fuzz_$n"
    expect "fuzz_$n is built" test -x "$f"
    seeds=("$ROOT/tests/fuzz/corpus/$n"/*)
    expect "fuzz_$n has seeds" test "${#seeds[@]}" -ge 3
    run "$f" "${seeds[@]}"
    expect "fuzz_$n replays its seeds without a finding" test "$RC" -eq 0
    expect "fuzz_$n ran every seed" grep -q "Executed .* in" <<<"$ERR"
done
finish
