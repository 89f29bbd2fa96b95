#!/bin/sh
# The adapter hot path of one gateway request, measured without nginx:
# instructions per operation with callgrind (deterministic, the figure to
# compare) and ns/op on the bare CPU (noisy on a busy machine).
#
#   sh bench/micro/run.sh              adapters/ as they are now
#   sh bench/micro/run.sh REV          adapters/ of a git revision (the
#                                      driver is always the current one)
#   MICRO_PIECES="build response"      only these pieces
#   MICRO_ANNOTATE=1                   callgrind_annotate of each piece
#   MICRO_NS=0                         skip the ns/op runs
#
# POSIX sh; needs cc, valgrind, libcjson, libyaml, libcrypto.

set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
REV=${1:-}
PIECES=${MICRO_PIECES:-parse build build_stream mint response stream request}
CG_N=${MICRO_CG_N:-200}
NS_N=${MICRO_NS_N:-20000}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ngx_llm_micro.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

if [ -n "$REV" ]; then
    (cd "$ROOT" && git archive "$REV" adapters) | tar -x -C "$TMP"
    SRC=$TMP/adapters
    LABEL="adapters/ of $(cd "$ROOT" && git rev-parse --short "$REV")"
else
    SRC=$ROOT/adapters
    LABEL="adapters/ of the work tree"
fi

# only what the OpenAI path links; other adapters are weak references
FILES="llm_buf.c llm_chunk.c llm_adapter.c llm_error.c llm_request.c
       llm_sse.c llm_config.c"
for f in "$SRC"/llm_openai*.c "$SRC"/llm_json.c "$SRC"/llm_request_scan.c; do
    [ -f "$f" ] && FILES="$FILES $(basename "$f")"
done

# the raw client body reaches the adapter only where llm_call_t has it
RAW=0
grep -q 'body_len' "$SRC/llm_adapter.h" && RAW=1

# the glue checks the body with the scanner where that exists
SCAN=0
[ -f "$SRC/llm_request_scan.c" ] && SCAN=1

SRCS=""
for f in $FILES; do SRCS="$SRCS $SRC/$f"; done

# -O2 -fPIC: as the module is built
cc -O2 -g -fPIC -Wall -Wextra -Wno-unused-parameter -DMICRO_RAW=$RAW -DMICRO_SCAN=$SCAN \
    -I"$SRC" "$HERE/micro.c" $SRCS -lcjson -lyaml -lcrypto -lm \
    -o "$TMP/micro"

echo "micro: $LABEL (raw client body: $RAW, body scanned: $SCAN)"
printf '%-13s %12s %10s\n' piece "Ir/op" "ns/op"

for p in $PIECES; do
    MICRO_ONCE=1 valgrind --tool=callgrind --collect-atstart=no \
        --toggle-collect=micro_loop --callgrind-out-file="$TMP/cg.$p" \
        "$TMP/micro" "$p" "$CG_N" > /dev/null 2> "$TMP/vg.$p"
    ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$TMP/cg.$p")
    per=$(awk -v t="$ir" -v n="$CG_N" 'BEGIN { printf "%.0f", t / n }')

    ns=-
    if [ "${MICRO_NS:-1}" != 0 ]; then
        ns=$("$TMP/micro" "$p" "$NS_N" | awk '{ print $2 }')
    fi

    printf '%-13s %12s %10s\n' "$p" "$per" "$ns"

    if [ "${MICRO_ANNOTATE:-0}" = 1 ]; then
        callgrind_annotate --inclusive=no "$TMP/cg.$p" 2>/dev/null \
            | sed -n '/^-* *$/,$p' | grep -v '^-*$' | head -28 \
            | sed 's/^/    /'
    fi
done
