#!/bin/sh
# Instructions (and, with BENCH_CG_CACHE=1, simulated L1 cache misses) per
# request of the whole nginx worker, for the baseline (proxy_pass) and the
# gateway, with the configs and mock of bench/run.sh.  Deterministic, so
# it settles what a wrk run on a noisy machine cannot: how much work the
# gateway adds.  See bench/README.md.  POSIX sh.
#
#   sh bench/callgrind.sh                 both targets, both modes
#   BENCH_MODES=nonstream sh bench/callgrind.sh
#   BENCH_CG_REQUESTS=2000                requests measured (after as many
#                                         unmeasured ones)
#   BENCH_CG_CACHE=1                      also I1 and D1 misses (slower)
#   BENCH_MOCK_HEADERS=none               as in bench/run.sh
#   NGINX_BIN, LLM_MODULE, WRK

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
WRK=${WRK:-wrk}
MODES=${BENCH_MODES:-nonstream stream}
N=${BENCH_CG_REQUESTS:-2000}
CACHE=${BENCH_CG_CACHE:-0}

PIDS=""
DIR=""
OUT=$(mktemp -d /tmp/ngx_llm_cg.XXXXXX) || exit 1

log() { printf '%s\n' "callgrind: $*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() {
    rc=$?
    trap - EXIT INT TERM HUP
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    [ -n "$DIR" ] && rm -rf "$DIR"
    rm -rf "$OUT"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

command -v valgrind >/dev/null 2>&1 || die "valgrind not found"
command -v callgrind_control >/dev/null 2>&1 || die "callgrind_control not found"

# bench/run.sh writes the configs, bodies and mock; one short round, kept
log "writing the configs with bench/run.sh (one 1 s round)"
DIR=$(BENCH_KEEP_TMP=1 BENCH_ROUNDS=1 BENCH_DURATION=1s BENCH_WARMUP=1s \
      BENCH_MODES="$MODES" BENCH_PIN=0 BENCH_RESULTS="$OUT" \
      sh "$HERE/run.sh" 2>&1 >/dev/null \
      | sed -n 's/^bench: temp dir kept: //p' | tail -n 1)
[ -n "$DIR" ] && [ -d "$DIR" ] || die "bench/run.sh did not leave its configs"

port_of() {  # conf n: the n-th listen port
    sed -n 's/.*listen 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1" | sed -n "${2}p"
}

# a wrk script that stops its thread after n responses
stop_after() {  # n body file
    cat > "$3" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-client"
local f = io.open("$2"); wrk.body = f:read("*a"); f:close()
local n = 0
function response(status, headers, body)
  n = n + 1
  if n >= $1 then wrk.thread:stop() end
end
EOF
}

"$NGINX_BIN" -p "$DIR/mock/" -e "$DIR/mock/error.log" \
    -c "$DIR/mock/nginx.conf" > /dev/null 2>&1 &
PIDS="$PIDS $!"

# one target and mode under callgrind, master_process off -> res.<t>.<m>:
# "Ir I1-misses D1-misses" per request
measure() {  # target mode port
    t=$1; m=$2; port=$3
    sed 's/^master_process on;/master_process off;/' "$DIR/$t/nginx.conf" \
        > "$DIR/$t/cg.conf"
    cs=""; [ "$CACHE" = 1 ] && cs="--cache-sim=yes"
    # shellcheck disable=SC2086
    valgrind --tool=callgrind $cs --callgrind-out-file="$OUT/cg.$t.$m" \
        "$NGINX_BIN" -p "$DIR/$t/" -e "$DIR/$t/error.log" \
        -c "$DIR/$t/cg.conf" > /dev/null 2> "$OUT/vg.$t.$m" &
    vp=$!
    PIDS="$PIDS $vp"
    i=0
    until curl -s -o /dev/null "http://127.0.0.1:$port/"; do
        i=$((i + 1))
        [ $i -gt 300 ] && { cat "$OUT/vg.$t.$m" >&2; die "$t did not start"; }
        sleep 0.2
    done
    stop_after "$N" "$DIR/body_$m.json" "$OUT/n.lua"
    url="http://127.0.0.1:$port/v1/chat/completions"
    # warm: caches, keepalive connections, lazy state
    "$WRK" -t1 -c4 -d120s -s "$OUT/n.lua" "$url" > /dev/null 2>&1
    callgrind_control -z "$vp" > /dev/null 2>&1
    "$WRK" -t1 -c4 -d120s -s "$OUT/n.lua" "$url" > "$OUT/wrk.$t.$m" 2>&1
    callgrind_control -d "$vp" > /dev/null 2>&1
    kill -QUIT "$vp"; wait "$vp"
    np=""; for q in $PIDS; do [ "$q" = "$vp" ] || np="$np $q"; done; PIDS=$np
    reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$OUT/wrk.$t.$m")
    f=$(ls -t "$OUT/cg.$t.$m".* 2>/dev/null | head -n 1)
    [ -n "$f" ] && [ -n "$reqs" ] || die "no callgrind dump for $t/$m"
    # summary: Ir [Dr Dw I1mr D1mr D1mw ...]
    sed -n 's/^summary: //p' "$f" | awk -v n="$reqs" -v c="$CACHE" '{
        if (c == 1) printf "%d %d %d\n", $1 / n, $4 / n, ($5 + $6) / n
        else printf "%d - -\n", $1 / n }' > "$OUT/res.$t.$m"
}

printf '%-10s %-9s %9s %9s %9s\n' mode target Ir/req I1miss/req D1miss/req
for m in $MODES; do
    if [ "$m" = stream ]; then bp=$(port_of "$DIR/base/nginx.conf" 2)
    else bp=$(port_of "$DIR/base/nginx.conf" 1); fi
    gp=$(port_of "$DIR/gw/nginx.conf" 1)
    measure base "$m" "$bp"
    measure gw "$m" "$gp"
    # shellcheck disable=SC2046
    set -- $(cat "$OUT/res.base.$m"); printf '%-10s %-9s %9s %9s %9s\n' "$m" base "$1" "$2" "$3"
    bi=$1
    # shellcheck disable=SC2046
    set -- $(cat "$OUT/res.gw.$m"); printf '%-10s %-9s %9s %9s %9s\n' "$m" gw "$1" "$2" "$3"
    awk -v b="$bi" -v g="$1" -v m="$m" \
        'BEGIN { printf "%-10s base/gw   %9.3f  (instructions)\n", m, b / g }'
done
