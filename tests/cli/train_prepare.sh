#!/usr/bin/env bash
# ar-train prepare: inputs, determinism, bad input leaves no trace, the npm
# fetch of the default corpus (with a stand-in npm: tests use no network).
. "$(dirname "$0")/lib.sh"

: "${NLP_CORPUS_VERSION:=$(sed -n 's/^NLP_CORPUS_VERSION *:= *//p' "$ROOT/Makefile")}"
mkdir -p "$T/in" "$T/fakebin"
printf 'First paragraph, line one.\nline two of it.\n\nSecond paragraph \xff\xfe (bad UTF-8).\n\n\nThird one, 1234567.\n' >"$T/in/a.txt"
printf 'one line per document\nno blank lines here\r\nthird line\n' >"$T/in/lines.txt"
printf '{"text": "a jsonl document"}\n"a bare string line"\n\n{"text": "caf\\u00e9 \\u2014 d\\u00e9j\\u00e0 vu"}\n' >"$T/in/b.jsonl"
printf '["json array doc one", "json array doc two", "three"]' >"$T/in/c.json"
IN=("$T/in/a.txt" "$T/in/lines.txt" "$T/in/b.jsonl" "$T/in/c.json")
prep() { ar-train prepare --vocab 300 --val-frac 0.3 "$@"; }
mval() { jq -r "$1" "$2/manifest.json"; }

run ar-train prepare --help
expect "--help prints usage on stdout" grep -q '^usage: ar-train prepare' <<<"$OUT"
expect "--help names the pinned corpus version" grep -q "nlp-corpus@$NLP_CORPUS_VERSION" <<<"$OUT"

for f in "${IN[@]}"; do args+=(--input "$f"); done
expect_rc "prepare --input txt, jsonl and json" 0 prep "${args[@]}" --data "$T/d1"
for f in manifest.json tokenizer.bin train.bin val.bin; do
    expect "writes $f" test -s "$T/d1/$f"
done
expect "manifest names the inputs" test "$(mval .corpus "$T/d1")" = "input:a.txt,lines.txt,b.jsonl,c.json"
expect "txt: paragraphs (3) or lines (3); jsonl 3; json 3" test "$(mval .docs "$T/d1")" -eq 12
expect "documents split into train and val" \
    test "$(( $(mval .train.docs "$T/d1") + $(mval .val.docs "$T/d1") ))" -eq 12
expect "fingerprint is a sha256" grep -qE '^[0-9a-f]{64}$' <<<"$(mval .fingerprint "$T/d1")"
expect "val_tokens matches val.bin" \
    test "$(mval .val_tokens "$T/d1")" -eq $(( ($(stat -c %s "$T/d1/val.bin") - 40) / 2 ))
expect "train.bin starts with its magic" test "$(head -c 8 "$T/d1/train.bin")" = ARTOKENS

AR_DATA="$T/d2" prep "${args[@]}" >/dev/null
expect "same input, same bytes (AR_DATA selects the directory)" \
    test "$(cd "$T/d1" && sha256sum manifest.json tokenizer.bin train.bin val.bin)" = \
         "$(cd "$T/d2" && sha256sum manifest.json tokenizer.bin train.bin val.bin)"
run prep "${args[@]}" --data "$T/d1" --json
expect "--json prints the manifest as one line" test "$(jq -r .fingerprint <<<"$OUT")" = "$(mval .fingerprint "$T/d2")"

before=$(tree_sum "$T/d1")
printf '{"text": "fine"}\n{"text": oops}\n' >"$T/in/bad.jsonl"
expect_err "a malformed jsonl line names file and line" 2 'bad\.jsonl: line 2' \
    prep --input "$T/in/a.txt" --input "$T/in/bad.jsonl" --data "$T/d1"
printf '{"title": "no text"}\n' >"$T/in/notext.jsonl"
expect_err "a jsonl object without text is refused" 2 'notext\.jsonl: line 1: .*"text"' \
    prep --input "$T/in/notext.jsonl" --data "$T/d1"
printf '[1, 2]' >"$T/in/nums.json"
expect_err "a JSON array of non-strings is refused" 2 'nums\.json: element 0' \
    prep --input "$T/in/nums.json" --data "$T/d1"
printf 'a,b\n' >"$T/in/a.csv"
expect_err "an unknown input type is refused" 2 'unknown input type' \
    prep --input "$T/in/a.csv" --data "$T/d1"
expect_err "a missing input is refused" 2 'missing\.txt' \
    prep --input "$T/in/missing.txt" --data "$T/d1"
expect_err "a stray argument is refused" 2 "unexpected argument 'extra'" \
    prep --input "$T/in/a.txt" --data "$T/d1" extra
expect_err "vocab out of range" 2 'vocab' prep --input "$T/in/a.txt" --vocab 100 --data "$T/d1"
expect_err "val-frac out of range" 2 'val-frac' prep --input "$T/in/a.txt" --val-frac 1 --data "$T/d1"
printf 'just one document\n' >"$T/in/one.txt"
expect_err "one document cannot be split" 2 'need at least 2' \
    prep --input "$T/in/one.txt" --data "$T/d1"
expect "bad input changes nothing on disk" test "$(tree_sum "$T/d1")" = "$before"
expect_rc "bad input into a new directory" 2 prep --input "$T/in/bad.jsonl" --data "$T/new"
expect "does not create it" test ! -e "$T/new"

# default corpus: `npm pack nlp-corpus@VERSION`, here a stand-in that fails...
cat >"$T/fakebin/npm" <<'SH'
#!/bin/sh
echo "npm error code ENOTFOUND" >&2
echo "npm error network request failed" >&2
exit 1
SH
chmod +x "$T/fakebin/npm"
expect_err "a failed fetch says so in one line and suggests --input" 1 \
    "nlp-corpus@$NLP_CORPUS_VERSION.*ENOTFOUND.*--input" \
    env PATH="$T/fakebin:$PATH" ar-train prepare --data "$T/d3"
expect "a failed fetch leaves no temporary files" test -z "$(ls -A "$T/d3" 2>/dev/null)"

# ...and one that packs a small nlp-corpus lookalike
cat >"$T/fakebin/npm" <<'SH'
#!/bin/sh
[ "$1" = pack ] || exit 1
v=${2#nlp-corpus@}
mkdir -p p/package/builds
printf '["Doc zero one.", "Doc zero two.", "Doc zero three."]' >p/package/builds/doc-0.json
printf '["Doc one one.", "Doc one two."]' >p/package/builds/doc-1.json
tar -czf "nlp-corpus-$v.tgz" -C p package && rm -rf p
echo "nlp-corpus-$v.tgz"
SH
expect_rc "prepare fetches the default corpus with npm" 0 \
    env PATH="$T/fakebin:$PATH" ar-train prepare --vocab 260 --data "$T/d3"
expect "manifest names the pinned corpus" test "$(mval .corpus "$T/d3")" = "nlp-corpus@$NLP_CORPUS_VERSION"
expect "reads every builds/doc-N.json" test "$(mval .docs "$T/d3")" -eq 5
expect "keeps the package for next time" test -s "$T/d3/nlp-corpus-$NLP_CORPUS_VERSION.tgz"
printf '#!/bin/sh\nexit 1\n' >"$T/fakebin/npm"
expect_rc "a second prepare needs no network" 0 \
    env PATH="$T/fakebin:$PATH" ar-train prepare --vocab 260 --data "$T/d3"

finish
