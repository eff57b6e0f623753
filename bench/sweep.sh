#!/usr/bin/env bash
# A hyperparameter sweep run the way agents run experiments: every line of
# a sweep file becomes an ar-queue entry, one worker works the queue with
# `ar-train --queue` (each run records a card), and the table at the end
# ranks the runs by val_bpb with their delta against the baseline line.
#
#   bench/sweep.sh [--budget S] [--kb DIR] [--seed N] [FILE]
#
# FILE (default bench/sweep-cpu.txt) holds one run per line: KEY=VALUE
# overrides separated by blanks, or the word `baseline` for the config as
# it is, or `replicate` and such a line for a re-run of that line's card
# with another seed; `#` starts a comment. The knowledge base (default
# /tmp/ar-sweep-kb) is kept, so an interrupted sweep goes on where it
# stopped when run again with the same --kb; the cards stay there for
# ar-brief, ar-synth and ar-plot. Takes budget + about 40 s per line.
# Uses $AR_DATA (default ~/.cache/ar), preparing the default corpus if needed.
set -eu
cd "$(dirname "$0")/.."
budget=300 kb=/tmp/ar-sweep-kb seed=42 file=bench/sweep-cpu.txt
while [ $# -gt 0 ]; do
    case $1 in
        --budget) budget=$2; shift 2 ;;
        --kb) kb=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "sweep.sh: unknown option '$1'" >&2; exit 2 ;;
        *) file=$1; shift ;;
    esac
done
[ -r "$file" ] || { echo "sweep.sh: $file: cannot read the sweep file" >&2; exit 2; }
make -s bin/ar-train bin/ar-queue bin/ar-card bin/ar-brief
data=${AR_DATA:-$HOME/.cache/ar}
[ -f "$data/manifest.json" ] || bin/ar-train prepare --data "$data" >/dev/null
export AR_KB=$kb AR_SESSION=sweep
mkdir -p "$kb"

# Queue every line once: ar-queue refuses an entry that repeats one, so a
# sweep run again on the same --kb goes on where it stopped, and lines
# added to the file since are queued.
prio=1
grep -v '^[[:space:]]*\(#\|$\|replicate[[:space:]]\)' "$file" | sed 's/[[:space:]]*#.*//' | while read -r line; do
    sets=()
    for kv in $line; do [ "$kv" = baseline ] || sets+=(--set "$kv"); done
    if ! err=$(bin/ar-queue add --hypothesis "sweep: $line" --category hyperparameter \
            --priority $prio "${sets[@]}" 2>&1 >/dev/null); then
        case $err in *"duplicate of"*) ;; *) echo "sweep.sh: $file: '$line': $err" >&2; exit 2 ;; esac
    fi
    prio=$(( prio < 9 ? prio + 1 : 9 ))   # the first lines (baseline) run first
done

pending() { bin/ar-queue status --json | sed -n 's/.*"pending":\([0-9]*\).*/\1/p'; }
# A line `replicate LINE` re-runs the card of LINE with another seed once
# that card exists (`ar-queue add --replicate`), which gives ar-brief and
# ar-synth the noise floor the deltas are judged against.
replicate_lines() {
    local line card
    sed -n 's/^replicate[[:space:]]\{1,\}//p' "$file" | sed 's/[[:space:]]*#.*//' | while read -r line; do
        card=$(bin/ar-card list --json | jq -r --arg h "sweep: $line" 'select(.hypothesis == $h) | .id' | head -1)
        [ -n "$card" ] || continue
        bin/ar-queue status --json --all | jq -e --arg c "$card" \
            'any(.entries[]; .hypothesis | startswith("replicate " + $c))' >/dev/null && continue
        bin/ar-queue add --replicate "$card" --priority 1 >/dev/null
    done
}
while replicate_lines; left=$(pending); [ "$left" != 0 ]; do
    echo "sweep: $left runs left, ${budget}s each" >&2
    bin/ar-train --queue --budget "$budget" --seed "$seed" --data "$data" --quiet >/dev/null ||
        echo "sweep: a run failed (its card says why)" >&2
done

# The table: one row per card, best first, delta against the baseline run.
bin/ar-card list --json | jq -rs --arg b "$budget" '
    map(select(.retracted | not))
    | (map(select((.hypothesis | endswith("sweep: baseline")) and .metrics.val_bpb != null))
        | map(.metrics.val_bpb) | if length > 0 then add / length else null end) as $base
    | map(select(.budget_s == ($b | tonumber)))
    | sort_by(.metrics.val_bpb // 1e9)
    | (["val_bpb", "delta", "steps", "params_M", "tok/s", "run"] | @tsv),
      (.[] | [ (if .metrics.val_bpb then .metrics.val_bpb * 10000 | round / 10000 else "crash" end),
               (if $base and .metrics.val_bpb then (.metrics.val_bpb - $base) * 10000 | round / 10000 else "" end),
               .metrics.num_steps, .metrics.num_params_M,
               ((.metrics.total_tokens_M // 0) * 1e6 / (.metrics.training_seconds // 1) | round),
               (.hypothesis | sub("^sweep: "; "")) ] | @tsv)' | column -t -s $'\t'
