#!/usr/bin/env bash
# make check-layers: lib/ is one folder per subsystem, and dependencies point
# one way.  Two checks, both from what the compiler sees:
#   1. includes: a file under lib/L/ may include headers of L and of the
#      layers L builds on (the table below), always as "layer/name.h";
#   2. links: in the object files, a symbol one object uses and another
#      defines is an edge; every edge must follow the same table, and the
#      graph of objects must have no cycle (tsort finds loops).
# Also: trainer/prepare.c parses no command line, bin/ar-queue.c includes no
# trainer header.  Prints each violation on one line and exits 1 if any.
set -u
cd "$(dirname "$0")/.."

# layer: the layers it may use (besides itself)
declare -A USES=(
    [base]=""
    [host]="base"
    [facts]="base host"
    [index]="base host facts"
    [analysis]="base host facts index"
    [queue]="base facts"
    [sync]="base facts index"
    [plot]="base facts index analysis"
    [mcp]="base host facts index analysis queue sync"
)
bad=0
fail() { echo "check-layers: $*"; bad=1; }
may_use() {   # from to
    [ "$1" = "$2" ] && return 0
    local u; for u in ${USES[$1]-}; do [ "$u" = "$2" ] && return 0; done
    return 1
}

for d in lib/*/; do
    l=$(basename "$d")
    [ -n "${USES[$l]+x}" ] || fail "lib/$l: a folder that is not a layer (add it to tests/check-layers.sh)"
done
[ -z "$(ls lib/*.[ch] 2>/dev/null)" ] || fail "lib/ holds files outside the layer folders: $(ls lib/*.[ch] | tr '\n' ' ')"

# 1. includes
for f in lib/*/*.[ch]; do
    l=$(basename "$(dirname "$f")")
    while IFS= read -r inc; do
        case "$inc" in
            */*) t=${inc%%/*}
                 if [ -z "${USES[$t]+x}" ]; then fail "$f: includes \"$inc\", not a layer header"
                 elif ! may_use "$l" "$t"; then fail "$f: includes \"$inc\": $l may not use $t"; fi ;;
            *)   fail "$f: includes \"$inc\" without its layer folder" ;;
        esac
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
for f in kernels/*.h kernels/*/*.[ch]; do
    while IFS= read -r inc; do
        case "$inc" in */*) t=${inc%%/*}; [ "$t" = base ] || [ "$t" = cpu ] || [ "$t" = cuda ] \
            || fail "$f: includes \"$inc\": kernels may use only lib/base" ;; esac
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
if grep -qE '#[[:space:]]*include[[:space:]]*"(base/opt|base/cli)\.h"|getopt' trainer/prepare.c; then
    fail "trainer/prepare.c: parses a command line (that belongs in bin/ar-train.c)"
fi
for h in trainer/*.h; do
    n=$(basename "$h")
    if grep -qE "#[[:space:]]*include[[:space:]]*\"$n\"" bin/ar-queue.c; then
        fail "bin/ar-queue.c: includes the trainer header $n"
    fi
done

# 2. links, from the objects (make builds them before this runs)
objs=$(ls lib/*/*.o 2>/dev/null)
if [ -z "$objs" ]; then fail "no objects under lib/*/ (run make first)"; fi
defs=$(mktemp); uses=$(mktemp); edges=$(mktemp)
trap 'rm -f "$defs" "$uses" "$edges"' EXIT
for o in $objs; do
    nm --defined-only -g "$o" | awk -v o="$o" 'NF==3 && $2 ~ /[TDBRCVW]/ {print $3, o}'
done | sort -u >"$defs"
for o in $objs; do
    nm -u "$o" | awk -v o="$o" '{print $NF, o}'
done | sort -u >"$uses"
join "$uses" "$defs" | awk '$2 != $3 {print $2, $3, $1}' | sort -u >"$edges"
while read -r from to sym; do
    lf=$(basename "$(dirname "$from")"); lt=$(basename "$(dirname "$to")")
    may_use "$lf" "$lt" || fail "${from%.o}.c uses $sym from ${to%.o}.c: $lf may not use $lt"
done <"$edges"
if ! loops=$(awk '{print $1, $2}' "$edges" | sort -u | tsort 2>&1 >/dev/null); then
    fail "a cycle among lib objects: $(grep -v 'input contains a loop' <<<"$loops" | sed 's/^tsort: //;s/\.o$//' | tr '\n' ' ')"
fi

[ "$bad" -eq 0 ] && echo "check-layers: ok ($(echo $objs | wc -w) objects, $(wc -l <"$edges") links)"
exit "$bad"
