#!/bin/sh
# ngx_llm benchmark: the gateway (llm_pass) against a plain nginx
# proxy_pass baseline, both in front of the same mock OpenAI upstream
# (itself an nginx answering with `return 200`), measured with wrk.
# See bench/README.md.  POSIX sh (runs under dash).
#
# Environment:
#   BENCH_DURATION=1s   BENCH_WARMUP=2s  BENCH_CONNECTIONS=50
#   BENCH_THREADS=2     BENCH_WORKERS=1  BENCH_TIMEOUT=5s
#   BENCH_ROUNDS=25     measured runs per target and mode, interleaved;
#                       the table shows the medians, the verdict the
#                       median of the rounds' paired gw/base ratios
#   BENCH_ONLY_BASELINE=1   run the baseline only (no module needed)
#   BENCH_MODES="nonstream stream"
#   BENCH_PIN=auto|0    CPU pinning (auto: proxy under test gets its own
#                       core(s), mock + wrk share the rest)
#   BENCH_KEEPALIVE=N   idle upstream connections per worker, for both
#                       (upstream{} keepalive / llm_keepalive); default 64,
#                       more than the 50 connections, so that neither
#                       proxy opens connections once warm
#   BENCH_KEEP_TMP=1    keep the temp dir (configs, logs, wrk output)
#   BENCH_MOCK_HEADERS=openai|none  the mock's answer carries the headers
#                       OpenAI's does (x-request-id, x-ratelimit-*; see
#                       shared/providers/openai.md), or only nginx's own
#   BENCH_NICE=-10      run mock, proxies and wrk at this nice level (a
#                       negative one needs root): less noise from other
#                       work on a busy machine, which then gets less CPU
#   NGINX_BIN, LLM_MODULE, WRK

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
LLM_MODULE=${LLM_MODULE:-$ROOT/objs/ngx_http_llm_module.so}
WRK=${WRK:-wrk}
DURATION=${BENCH_DURATION:-1s}
WARMUP=${BENCH_WARMUP:-2s}
CONNS=${BENCH_CONNECTIONS:-50}
THREADS=${BENCH_THREADS:-2}
WORKERS=${BENCH_WORKERS:-1}
TIMEOUT=${BENCH_TIMEOUT:-5s}
ONLY_BASELINE=${BENCH_ONLY_BASELINE:-0}
MODES=${BENCH_MODES:-nonstream stream}
PIN=${BENCH_PIN:-auto}
KEEPALIVE=${BENCH_KEEPALIVE:-64}
KEEP_TMP=${BENCH_KEEP_TMP:-0}
MOCK_HEADERS=${BENCH_MOCK_HEADERS:-openai}
ROUNDS=${BENCH_ROUNDS:-25}
NICE=${BENCH_NICE:-}
RESULTS=${BENCH_RESULTS:-$HERE/results}
TARGET_RATIO=0.85

PIDS=""         # every process we started (nginx masters, wrk)
TMP=""

log() { printf '%s\n' "bench: $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- cleanup: only the PIDs we started (and the workers of our masters) ---

alive() {
    # a zombie (exited, not yet reaped) counts as gone
    [ -r "/proc/$1/stat" ] || return 1
    _st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ]
}

children() { ps -o pid= --ppid "$1" 2>/dev/null | tr -s ' \n' '  '; }

cleanup() {
    rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "$PIDS" ]; then
        # remember our nginx masters' workers, in case a master needs KILL
        kids=""
        for p in $PIDS; do alive "$p" && kids="$kids $(children "$p")"; done
        for p in $PIDS; do alive "$p" && kill -TERM "$p" 2>/dev/null; done
        i=0
        while [ $i -lt 50 ]; do
            left=""
            for p in $PIDS $kids; do alive "$p" && left="$left $p"; done
            [ -z "$left" ] && break
            sleep 0.1
            i=$((i + 1))
        done
        for p in $PIDS $kids; do
            if alive "$p"; then
                log "process $p did not stop, sending KILL"
                kill -KILL "$p" 2>/dev/null
            fi
        done
        for p in $PIDS; do wait "$p" 2>/dev/null; done
    fi
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        # kept after a failure (configs, error logs, wrk output), not
        # after an interrupt
        if [ "$KEEP_TMP" = 1 ] || [ "$rc" = 1 ]; then
            log "temp dir kept: $TMP"
        else
            rm -rf "$TMP"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- preconditions ---

[ -x "$NGINX_BIN" ] || die "nginx not found: $NGINX_BIN"
command -v "$WRK" >/dev/null 2>&1 || die "wrk not found (apt-get install wrk)"
command -v curl >/dev/null 2>&1 || die "curl not found"
if [ "$ONLY_BASELINE" != 1 ] && [ ! -f "$LLM_MODULE" ]; then
    die "module not found: $LLM_MODULE (make module, or BENCH_ONLY_BASELINE=1)"
fi
[ -n "$MODES" ] || die "BENCH_MODES is empty"
for m in $MODES; do
    case "$m" in nonstream|stream) ;; *) die "BENCH_MODES: unknown mode $m" ;; esac
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ngx_llm_bench.XXXXXX") || die "mktemp"

# Load a private copy of the module: a rebuild that rewrites
# objs/ngx_http_llm_module.so in place (cp) while nginx has it mapped
# would crash the gateway's workers in the middle of a run.
MODULE_INFO="-"
if [ "$ONLY_BASELINE" != 1 ]; then
    cp "$LLM_MODULE" "$TMP/ngx_http_llm_module.so" || die "cp $LLM_MODULE"
    MODULE_INFO="$LLM_MODULE, $(date -u -r "$LLM_MODULE" '+built %Y-%m-%d %H:%M:%S UTC'), sha256 $(sha256sum "$TMP/ngx_http_llm_module.so" | cut -c1-12)"
    LLM_MODULE=$TMP/ngx_http_llm_module.so
fi

# enough connections for wrk + upstream, within the fd limit we have
# (raising it with worker_rlimit_nofile needs privileges we may lack)
NOFILE=$(ulimit -n 2>/dev/null)
case "$NOFILE" in ''|unlimited|*[!0-9]*) NOFILE=65536 ;; esac
WCONNS=$((NOFILE / 2))
[ $WCONNS -gt 8192 ] && WCONNS=8192
[ $WCONNS -lt $((CONNS * 2 + 64)) ] && WCONNS=$((CONNS * 2 + 64))
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# --- free ports on 127.0.0.1 ---

TAKEN=""
FP=""
free_port() {
    while :; do
        r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
        FP=$((20000 + r % 40000))
        case " $TAKEN " in *" $FP "*) continue ;; esac
        if ss -Htan "( sport = :$FP or dport = :$FP )" 2>/dev/null \
               | grep -q .; then
            continue
        fi
        TAKEN="$TAKEN $FP"
        return 0
    done
}
free_port; MOCK_PORT=$FP
free_port; BASE_PORT=$FP        # baseline, non-streaming upstream path
free_port; BASE_SPORT=$FP       # baseline, streaming upstream path
free_port; GW_PORT=$FP          # gateway (model name selects the path)

# --- CPU layout ---

expand_cpus() {
    echo "$1" | awk -F, '{ for (i = 1; i <= NF; i++) {
        n = split($i, r, "-");
        if (n == 2) { for (c = r[1]; c <= r[2]; c++) printf "%d ", c }
        else printf "%d ", $i } }'
}
CPU_LIST=$(expand_cpus "$(taskset -cp $$ 2>/dev/null | sed 's/.*: *//')")
[ -n "$CPU_LIST" ] || CPU_LIST=$(seq -s ' ' 0 $(($(nproc) - 1)))
NCPU=$(echo $CPU_LIST | wc -w)
PROXY_CPUS=""
CLIENT_CPUS=""
if [ "$PIN" != 0 ] && command -v taskset >/dev/null 2>&1 \
        && [ "$NCPU" -ge 2 ] && [ "$WORKERS" -lt "$NCPU" ]; then
    i=0
    for c in $CPU_LIST; do
        if [ $i -lt "$WORKERS" ]; then PROXY_CPUS="$PROXY_CPUS,$c"
        else CLIENT_CPUS="$CLIENT_CPUS,$c"; fi
        i=$((i + 1))
    done
    PROXY_CPUS=${PROXY_CPUS#,}
    CLIENT_CPUS=${CLIENT_CPUS#,}
    LAYOUT="$NCPU cores, shared by wrk and nginx: the proxy under test (baseline or gateway, $WORKERS worker(s)) pinned to CPU $PROXY_CPUS; mock upstream and wrk ($THREADS threads) pinned to CPU $CLIENT_CPUS"
else
    LAYOUT="$NCPU cores, shared by wrk and nginx, no pinning (BENCH_PIN=0 or BENCH_WORKERS >= cores): proxy, mock and wrk all compete for the same cores"
fi

pinned() {  # cpus cmd...: run cmd on cpus (or unpinned if cpus is empty)
    c=$1; shift
    [ -n "$NICE" ] && set -- nice -n "$NICE" "$@"
    if [ -n "$c" ]; then exec taskset -c "$c" "$@"; else exec "$@"; fi
}

# --- request bodies (shared by wrk and the curl sanity checks) ---

write_body() {  # file model stream
    if [ "$3" = 1 ]; then s='"stream":true,'; else s=''; fi
    printf '%s' '{"model":"'"$2"'",'"$s"'"messages":[{"role":"system","content":"You are a helpful assistant. Answer concisely and accurately, and say so when you are unsure."},{"role":"user","content":"Summarize the main differences between TCP and UDP in three short bullet points for a beginner."}],"temperature":0.7,"max_tokens":256}' > "$1"
}
write_body "$TMP/body_nonstream.json" gpt-4o 0
write_body "$TMP/body_stream.json" gpt-4o-stream 1

# --- mock upstream responses ---

CMPL_ID=chatcmpl-B9mXq2Lw7RkT4yHn8VcP1aZs0Df3
# non-streaming chat.completion (~470 bytes); '\\n' in nginx.conf is a
# literal backslash-n in the body, i.e. a JSON newline escape
MOCK_JSON='{"id":"'$CMPL_ID'","object":"chat.completion","created":1732838400,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"- TCP: connection-oriented, reliable, ordered.\\n- UDP: connectionless, no delivery guarantees.\\n- UDP suits real-time traffic.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":41,"completion_tokens":38,"total_tokens":79},"system_fingerprint":"fp_a7d06e42a7"}'

# streaming: 10 chat.completion.chunk events then [DONE] ('\n' in
# nginx.conf is a real newline)
sse_event() {  # delta finish_reason
    printf '%s' 'data: {"id":"'$CMPL_ID'","object":"chat.completion.chunk","created":1732838400,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_a7d06e42a7","choices":[{"index":0,"delta":'"$1"',"logprobs":null,"finish_reason":'"$2"'}]}\n\n'
}
MOCK_SSE=$(
    sse_event '{"role":"assistant","content":"","refusal":null}' null
    for w in '- TCP is' ' connection-oriented' ' and reliable.\\n' '- UDP is' \
             ' connectionless' ' and faster.\\n' '- Use UDP for' ' real-time traffic.'; do
        sse_event '{"content":"'"$w"'"}' null
    done
    sse_event '{}' '"stop"'
    printf '%s' 'data: [DONE]\n\n'
)

# --- nginx configs ---

common_main() {  # dir
    cat <<EOF
daemon off;
master_process on;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections $WCONNS; }
EOF
}

common_http() {  # dir
    cat <<EOF
    access_log off;
    client_body_temp_path $1/client_body;
    proxy_temp_path $1/proxy;
    fastcgi_temp_path $1/fastcgi;
    uwsgi_temp_path $1/uwsgi;
    scgi_temp_path $1/scgi;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
EOF
}

mkdir -p "$TMP/mock" "$TMP/base" "$TMP/gw" || die "mkdir"

# the response headers of an OpenAI answer that a client may read
mock_headers() {
    [ "$MOCK_HEADERS" = openai ] || return 0
    cat <<EOF
            add_header x-request-id req_8f2a6c1e9b7d4a35b0c2e4f6a8d0c1e3;
            add_header openai-processing-ms 412;
            add_header x-ratelimit-limit-requests 10000;
            add_header x-ratelimit-limit-tokens 30000000;
            add_header x-ratelimit-remaining-requests 9999;
            add_header x-ratelimit-remaining-tokens 29999951;
            add_header x-ratelimit-reset-requests 6ms;
            add_header x-ratelimit-reset-tokens 0s;
EOF
}

{
    echo "worker_processes ${BENCH_MOCK_WORKERS:-1};"
    common_main "$TMP/mock"
    echo "http {"
    common_http "$TMP/mock"
    cat <<EOF
    server {
        listen 127.0.0.1:$MOCK_PORT backlog=4096;
        location = /v1/chat/completions {
            default_type application/json;
$(mock_headers)
            return 200 '$MOCK_JSON';
        }
        # SSE, sent with Transfer-Encoding: chunked like the real API
        # (a no-op sub_filter drops Content-Length)
        location = /stream/v1/chat/completions {
            default_type text/event-stream;
            add_header Cache-Control no-cache;
$(mock_headers)
            sub_filter_types text/event-stream;
            sub_filter 'bench-never-matches' '';
            return 200 '$MOCK_SSE';
        }
        # counts the connections the proxies open to the mock
        location = /bench-status { stub_status; }
        location / { return 404; }
    }
}
EOF
} > "$TMP/mock/nginx.conf"

# the baseline: what a plain nginx reverse proxy costs
{
    echo "worker_processes $WORKERS;"
    common_main "$TMP/base"
    echo "http {"
    common_http "$TMP/base"
    cat <<EOF
    upstream mock {
        server 127.0.0.1:$MOCK_PORT;
        keepalive $KEEPALIVE;
        # keepalive_requests/_timeout left at their defaults (1000, 60s),
        # which are also llm_keepalive_requests/_timeout's defaults
    }
    server {
        listen 127.0.0.1:$BASE_PORT backlog=4096;
        location / {
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "Bearer sk-bench";
        }
    }
    server {
        listen 127.0.0.1:$BASE_SPORT backlog=4096;
        location / {
            return 404;
        }
        location /v1/ {
            proxy_pass http://mock/stream/v1/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "Bearer sk-bench";
            proxy_buffering off;
        }
    }
}
EOF
} > "$TMP/base/nginx.conf"

# the gateway: same main/http settings, llm_pass instead of proxy_pass
cat > "$TMP/gw/models.yaml" <<EOF
- model_name: gpt-4o
  litellm_params:
    model: openai/gpt-4o
    api_base: http://127.0.0.1:$MOCK_PORT/v1
    api_key: sk-bench
- model_name: gpt-4o-stream
  litellm_params:
    model: openai/gpt-4o
    api_base: http://127.0.0.1:$MOCK_PORT/stream/v1
    api_key: sk-bench
EOF
{
    echo "load_module $LLM_MODULE;"
    echo "worker_processes $WORKERS;"
    common_main "$TMP/gw"
    echo "http {"
    common_http "$TMP/gw"
    cat <<EOF
    llm_config $TMP/gw/models.yaml;
    llm_keepalive $KEEPALIVE;
    server {
        listen 127.0.0.1:$GW_PORT backlog=4096;
        location / {
            llm_pass;
        }
    }
}
EOF
} > "$TMP/gw/nginx.conf"

# --- start / stop nginx ---

start_nginx() {  # name cpus
    d="$TMP/$1"
    if ! "$NGINX_BIN" -t -q -p "$d/" -e "$d/error.log" -c "$d/nginx.conf" \
            > "$d/test.out" 2>&1; then
        cat "$d/test.out" "$d/error.log" >&2 2>/dev/null
        die "nginx config test failed for $1 ($d/nginx.conf)"
    fi
    ( pinned "$2" "$NGINX_BIN" -p "$d/" -e "$d/error.log" -c "$d/nginx.conf" ) \
        > "$d/stdout.log" 2>&1 &
    # the subshell execs taskset, which execs nginx: $! is the master
    p=$!
    PIDS="$PIDS $p"
    eval "PID_$1=$p"
}

wait_ready() {  # name port
    eval "p=\$PID_$1"
    i=0
    while [ $i -lt 100 ]; do
        if ! alive "$p"; then
            tail -n 20 "$TMP/$1/error.log" "$TMP/$1/stdout.log" >&2 2>/dev/null
            die "nginx ($1) exited at startup"
        fi
        if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$2/" \
                2>/dev/null; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    die "nginx ($1) not answering on port $2"
}

# --- sanity check: one request through each target, body shape verified ---

sanity() {  # label url body stream
    out="$TMP/sanity_$(echo "$1" | tr / _)"
    code=$(curl -sS --max-time 10 -o "$out.body" -D "$out.hdr" \
        -w '%{http_code}' -H 'Content-Type: application/json' \
        -H 'Authorization: Bearer sk-client' --data-binary @"$3" "$2" \
        2>"$out.err") || code="curl-failed"
    ok=1
    case "$code" in 2??) ;; *) ok=0 ;; esac
    if [ "$4" = 1 ]; then
        grep -qi '^content-type: *text/event-stream' "$out.hdr" || ok=0
        grep -q 'chat\.completion\.chunk' "$out.body" || ok=0
        last=$(grep -v '^[[:space:]]*$' "$out.body" | tail -n 1 | tr -d '\r')
        [ "$last" = "data: [DONE]" ] || ok=0
        what="$(grep -c '^data:' "$out.body") SSE events, ends with [DONE]"
    else
        grep -q '"chat\.completion"' "$out.body" || ok=0
        grep -q '"choices"' "$out.body" || ok=0
        what="chat.completion JSON"
    fi
    if [ $ok = 1 ]; then
        log "sanity ok: $1: HTTP $code, $(wc -c < "$out.body") bytes, $what"
        return 0
    fi
    log "sanity FAILED: $1: HTTP $code, expected 2xx and $what"
    cat "$out.err" "$out.hdr" >&2 2>/dev/null
    head -c 2000 "$out.body" >&2 2>/dev/null; echo >&2
    return 1
}

# --- wrk runs ---

worker_pids() {  # name
    eval "m=\$PID_$1"
    children "$m"
}

# CPU time of this shell's reaped children (wrk, once waited for)
reaped_ticks() {
    sed 's/^.*) //' "/proc/$$/stat" | awk '{ print $14 + $15 }'
}

# busy:total:count jiffies of a CPU set (a,b,c; empty = all CPUs)
cpu_stat() {
    awk -v want=",$1," '
    $1 ~ /^cpu[0-9]+$/ {
        id = substr($1, 4)
        if (want != ",," && index(want, "," id ",") == 0) next
        b += $2 + $3 + $4 + $7 + $8 + $9
        for (i = 2; i <= 9; i++) t += $i
        n++
    }
    END { printf "%d:%d:%d", b, t, n }' /proc/stat
}

# connections the mock has accepted so far (one of them is this query)
mock_accepts() {
    curl -s --max-time 5 "http://127.0.0.1:$MOCK_PORT/bench-status" \
        | awk 'NR == 3 { print $1 + 0 }'
}

client_cpu_stat() {
    if [ -n "$CLIENT_CPUS" ]; then cpu_stat "$CLIENT_CPUS"; else echo 0:0:0; fi
}

cpu_ticks() {  # pids...
    for p in "$@"; do
        sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null
    done | awk '{ s += $12 + $13 } END { print s + 0 }'
}

run_wrk() {  # out duration url body [--latency]
    out=$1; dur=$2; url=$3; body=$4; shift 4
    ( BENCH_BODY=$body; export BENCH_BODY
      pinned "$CLIENT_CPUS" "$WRK" -t"$THREADS" -c"$CONNS" \
        -d"$dur" --timeout "$TIMEOUT" "$@" -s "$HERE/chat.lua" "$url" ) \
        > "$out" 2>&1 &
    w=$!
    PIDS="$PIDS $w"
    wait "$w"
    wrc=$?
    np=""
    for q in $PIDS; do [ "$q" = "$w" ] || np="$np $q"; done
    PIDS=$np
    return $wrc
}

FAILED=""

bench_one() {  # name(base|gw) mode url round
    name=$1; mode=$2; url=$3; round=$4
    body="$TMP/body_$mode.json"
    tag="${name}_${mode}_$round"
    res="$TMP/round_$tag"
    if [ "$round" = 1 ]; then
        log "$name $mode: warm-up $WARMUP"
        run_wrk "$TMP/warm_${name}_$mode.txt" "$WARMUP" "$url" "$body" \
            || { cat "$TMP/warm_${name}_$mode.txt" >&2; die "wrk failed"; }
    fi
    log "$name $mode round $round/$ROUNDS: measuring $DURATION"
    pw=$(worker_pids "$name"); mw=$(worker_pids mock)
    a0=$(mock_accepts)
    p0=$(cpu_ticks $pw); m0=$(cpu_ticks $mw); w0=$(reaped_ticks)
    s0=$(cpu_stat "$PROXY_CPUS"); c0=$(client_cpu_stat)
    run_wrk "$TMP/wrk_$tag.txt" "$DURATION" "$url" "$body" --latency \
        || { cat "$TMP/wrk_$tag.txt" >&2; die "wrk failed"; }
    p1=$(cpu_ticks $pw); m1=$(cpu_ticks $mw); w1=$(reaped_ticks)
    a1=$(mock_accepts)
    s1=$(cpu_stat "$PROXY_CPUS"); c1=$(client_cpu_stat)
    line=$(sed -n 's/^BENCH_RESULT //p' "$TMP/wrk_$tag.txt")
    if [ -z "$line" ]; then
        cat "$TMP/wrk_$tag.txt" >&2
        die "no BENCH_RESULT line from wrk"
    fi
    # CPU over the wrk run, in % of one core: the proxy's workers, the
    # mock's, wrk's, and whatever else ran (total busy minus ours); with
    # pinning also what else ran on the proxy's own core(s)
    extra=$(echo "$line $s0 $s1 $c0 $c1" | awk -v p="$((p1 - p0))" \
        -v m="$((m1 - m0))" -v w="$((w1 - w0))" -v hz="$CLK_TCK" \
        -v pinned="${PROXY_CPUS:+1}" -v uc="$((a1 - a0 - 1))" '{
        for (i = 1; i <= NF - 4; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        split($(NF - 3), a0, ":"); split($(NF - 2), a1, ":")
        split($(NF - 1), b0, ":"); split($NF, b1, ":")
        # elapsed ticks of one core: the total of a CPU set / its size
        el = (a1[2] - a0[2]) / (a0[3] > 0 ? a0[3] : 1)
        busy = (a1[1] - a0[1]) + (b1[1] - b0[1])
        oth = busy - p - m - w; if (oth < 0) oth = 0
        op = (a1[1] - a0[1]) - p; if (op < 0) op = 0
        n = f["requests"]
        pc = (el > 0) ? 100 / el : 0
        printf "proxy_cpu_pct=%.0f mock_cpu_pct=%.0f wrk_cpu_pct=%.0f other_cpu_pct=%.0f",
            p * pc, m * pc, w * pc, oth * pc
        if (pinned) printf " other_on_proxy_cpu_pct=%.0f", op * pc
        printf " proxy_cpu_us_per_req=%.1f", (n > 0 ? 1e6 * p / hz / n : 0)
        printf " upstream_conns_per_1k_req=%.2f", (n > 0 ? 1000 * uc / n : 0) }')
    echo "target=$name mode=$mode round=$round $line $extra" > "$res"
    log "BENCH_RESULT target=$name mode=$mode round=$round $line $extra"
    n2=$(field "$res" non2xx); se=$(field "$res" socket_errors)
    if [ "$n2" != 0 ] || [ "$se" != 0 ]; then
        log "$name $mode: $n2 non-2xx responses, $se socket errors:"
        grep -v '^BENCH_RESULT' "$TMP/wrk_$tag.txt" >&2
        tail -n 5 "$TMP/$name/error.log" >&2 2>/dev/null
        FAILED="$FAILED $name/$mode"
    fi
}

# the rounds of one target and mode -> one line: the median of each
# measured value, the sum of the counts
aggregate() {  # name mode
    cat "$TMP/round_${1}_${2}_"* | awk '
    function median(k,    a, n, i, j, t) {
        n = 0
        for (i = 1; i <= NR; i++) a[++n] = v[i, k] + 0
        for (i = 2; i <= n; i++) {
            t = a[i]
            for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
            a[j + 1] = t
        }
        return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[NR, kv[1]] = kv[2] } }
    END {
        printf "target=%s mode=%s rounds=%d", v[1, "target"], v[1, "mode"], NR
        ns = split("requests non2xx socket_errors connect read write timeout", S, " ")
        for (i = 1; i <= ns; i++) {
            t = 0
            for (r = 1; r <= NR; r++) t += v[r, S[i]]
            printf " %s=%d", S[i], t
        }
        nm = split("rps p50_ms p90_ms p99_ms max_ms bytes_per_req proxy_cpu_pct mock_cpu_pct wrk_cpu_pct other_cpu_pct other_on_proxy_cpu_pct proxy_cpu_us_per_req upstream_conns_per_1k_req", M, " ")
        for (i = 1; i <= nm; i++) printf " %s=%.3f", M[i], median(M[i])
        printf "\n"
    }' > "$TMP/res_${1}_$2"
}

field() {  # file key
    tr ' ' '\n' < "$1" | sed -n "s/^$2=//p" | head -n 1
}

# --- go ---

STARTED=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

log "tmp $TMP; ports: mock $MOCK_PORT, baseline $BASE_PORT/$BASE_SPORT, gateway $GW_PORT"
log "$LAYOUT"

start_nginx mock "$CLIENT_CPUS"
wait_ready mock "$MOCK_PORT"

start_nginx base "$PROXY_CPUS"
wait_ready base "$BASE_PORT"
wait_ready base "$BASE_SPORT"
GW_OK=0
if [ "$ONLY_BASELINE" != 1 ]; then
    start_nginx gw "$PROXY_CPUS"
    wait_ready gw "$GW_PORT"
    GW_OK=1
fi

url_of() {  # name mode
    case "$1/$2" in
        base/nonstream) echo "http://127.0.0.1:$BASE_PORT/v1/chat/completions" ;;
        base/stream)    echo "http://127.0.0.1:$BASE_SPORT/v1/chat/completions" ;;
        gw/*)           echo "http://127.0.0.1:$GW_PORT/v1/chat/completions" ;;
    esac
}

targets=base
[ $GW_OK = 1 ] && targets="base gw"

for mode in $MODES; do
    st=0; [ "$mode" = stream ] && st=1
    for t in $targets; do
        sanity "$t/$mode" "$(url_of $t $mode)" "$TMP/body_$mode.json" "$st" \
            || { tail -n 20 "$TMP/$t/error.log" >&2 2>/dev/null;
                 die "$t/$mode does not answer correctly; not benchmarking"; }
    done
done

# the mock's answers as they are, for the report
for f in json:/v1 sse:/stream/v1; do
    curl -s -o "$TMP/body_mock_${f%%:*}" -X POST \
        "http://127.0.0.1:$MOCK_PORT${f#*:}/chat/completions"
done

# error-log lines from here on are reported
for t in $targets; do
    eval "ELOG_$t=\$((\$(wc -l < \"\$TMP/\$t/error.log\") + 1))"
done

# Rounds interleave the targets, alternating which goes first, so a drift
# in background load hits both alike; the report takes medians.  Only the
# proxy under test is busy during a run: the other one idles on the same
# core(s).
r=1
while [ $r -le "$ROUNDS" ]; do
    order=$targets
    [ $((r % 2)) = 0 ] && [ $GW_OK = 1 ] && order="gw base"
    for mode in $MODES; do
        for t in $order; do
            bench_one "$t" "$mode" "$(url_of $t $mode)" "$r"
        done
    done
    r=$((r + 1))
done
for mode in $MODES; do
    for t in $targets; do aggregate "$t" "$mode"; done
done

# a worker that crashed and was respawned would hide behind a few errors
for t in $targets; do
    if grep -q 'exited on signal' "$TMP/$t/error.log" 2>/dev/null; then
        grep 'exited on signal' "$TMP/$t/error.log" | head -n 5 >&2
        FAILED="$FAILED $t/crashed"
    fi
done

# --- report ---

FAILED=$(echo $FAILED | tr ' ' '\n' | awk 'NF && !seen[$0]++' | tr '\n' ' ')
FAILED=${FAILED% }
[ -n "$FAILED" ] && FAILED=" $FAILED"

fmt_row() {  # mode label
    b="$TMP/res_base_$1"; g="$TMP/res_gw_$1"
    set -- "$2" "$(field "$b" rps)" "$(field "$b" p50_ms)" \
        "$(field "$b" p99_ms)" "$(field "$b" proxy_cpu_us_per_req)"
    if [ -f "$g" ]; then
        set -- "$@" "$(field "$g" rps)" "$(field "$g" p50_ms)" \
            "$(field "$g" p99_ms)" "$(field "$g" proxy_cpu_us_per_req)"
    else
        set -- "$@" - - - -
    fi
    awk -v l="$1" -v br="$2" -v b50="$3" -v b99="$4" -v bc="$5" \
        -v gr="$6" -v g50="$7" -v g99="$8" -v gc="$9" '
    function f(x, fmt) { return x == "-" ? "-" : sprintf(fmt, x) }
    BEGIN {
        ratio = (gr != "-" && br > 0) ? sprintf("%.3f", gr / br) : "-"
        cr = (gc != "-" && gc > 0) ? sprintf("%.3f", bc / gc) : "-"
        printf "%-13s %8.0f %7.2f %7.2f | %8s %7s %7s | %7s | %6.1f %6s %7s\n",
            l, br, b50, b99, f(gr, "%.0f"), f(g50, "%.2f"), f(g99, "%.2f"),
            ratio, bc, f(gc, "%.1f"), cr }'
}

ratio_of() {  # mode
    [ -f "$TMP/res_gw_$1" ] || { echo -; return; }
    awk -v g="$(field "$TMP/res_gw_$1" rps)" \
        -v b="$(field "$TMP/res_base_$1" rps)" \
        'BEGIN { if (b > 0) printf "%.3f", g / b; else print "-" }'
}

# gw/base of each round.  The two ran back to back, so the machine's
# speed, which on a shared machine moves by a quarter within seconds, is
# nearly the same for both: a round's ratio cancels it where a ratio of
# medians taken over the whole run does not.  Prints "median q1 lowest
# at_target n list", the list as " r1 r2 ..."
paired_of() {  # mode
    [ -f "$TMP/res_gw_$1" ] || return 0
    r=1; list=""
    while [ $r -le "$ROUNDS" ]; do
        list="$list $(field "$TMP/round_gw_$1_$r" rps)/$(field "$TMP/round_base_$1_$r" rps)"
        r=$((r + 1))
    done
    echo "$list" | tr ' ' '\n' | awk -F/ -v t="$TARGET_RATIO" '
    NF == 2 && $2 > 0 {
        r[++n] = $1 / $2; s = s sprintf(" %.3f", $1 / $2)
        if ($1 / $2 >= t) k++
    }
    END {
        if (n == 0) exit
        for (i = 2; i <= n; i++) {
            x = r[i]
            for (j = i - 1; j >= 1 && r[j] > x; j--) r[j + 1] = r[j]
            r[j + 1] = x
        }
        m = (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
        q = r[int((n + 3) / 4)]
        printf "%.3f %.3f %.3f %d %d%s\n", m, q, r[1], k, n, s
    }'
}

REPORT="$TMP/report.txt"
{
    echo "ngx_llm bench  $STARTED  $("$NGINX_BIN" -v 2>&1 | sed 's/.*: *//')  load before: $LOAD_BEFORE"
    echo "wrk: $THREADS threads, $CONNS connections, $ROUNDS x $DURATION per target and mode (interleaved; medians shown, verdict on the paired ratios), $WARMUP warm-up"
    echo "nginx: worker_processes $WORKERS for baseline and gateway; upstream keepalive $KEEPALIVE; worker_connections $WCONNS"
    echo "module: $MODULE_INFO"
    echo "cpu: $LAYOUT${NICE:+; nice $NICE}"
    echo "mock: nginx return 200: $(wc -c < "$TMP/body_mock_json") bytes of chat.completion JSON; $(wc -c < "$TMP/body_mock_sse") bytes of SSE (10 chunks + [DONE], chunked); response headers: $MOCK_HEADERS"
    echo
    echo "              baseline (proxy_pass)   | gateway (llm_pass)       |  ratio  | proxy CPU us/req"
    echo "mode               rps  p50 ms  p99 ms |      rps  p50 ms  p99 ms | gw/base |   base     gw base/gw"
    for mode in $MODES; do
        case $mode in nonstream) l=non-streaming ;; *) l=streaming ;; esac
        fmt_row "$mode" "$l"
    done
    echo
    case " $MODES " in *" nonstream "*)
        p=$(paired_of nonstream)
        if [ -z "$p" ]; then
            echo "target: non-streaming gw/base rps >= $TARGET_RATIO (gateway not run)"
        else
            # shellcheck disable=SC2086
            set -- $p
            verdict=$(awk -v r="$1" -v t="$TARGET_RATIO" \
                'BEGIN { print (r >= t) ? "met" : "NOT met" }')
            echo "target: non-streaming gw/base rps >= $TARGET_RATIO: $1 ($verdict; the median of $5 rounds' paired ratios; ratio of the medians above: $(ratio_of nonstream))"
        fi ;;
    esac
    for mode in $MODES; do
        p=$(paired_of "$mode")
        [ -n "$p" ] || continue
        # shellcheck disable=SC2086
        set -- $p
        m=$1; q=$2; lo=$3; k=$4; n=$5; shift 5
        echo "$mode: gw/base per round:$*"
        echo "$mode: median $m, lower quartile $q, lowest $lo; $k of $n rounds at or above $TARGET_RATIO"
    done
    for mode in $MODES; do
        for t in $targets; do
            b="$TMP/res_${t}_$mode"
            onp=""
            if [ -n "$PROXY_CPUS" ]; then
                onp=" ($(field "$b" other_on_proxy_cpu_pct | cut -d. -f1) on the proxy core)"
            fi
            echo "$t/$mode: $(field "$b" requests) requests, $(field "$b" non2xx) non-2xx, $(field "$b" socket_errors) socket errors; $(field "$b" bytes_per_req | cut -d. -f1) bytes/response with headers; $(printf '%.1f' "$(field "$b" upstream_conns_per_1k_req)") upstream connects per 1000 requests; CPU (% of a core): proxy $(field "$b" proxy_cpu_pct | cut -d. -f1), mock $(field "$b" mock_cpu_pct | cut -d. -f1), wrk $(field "$b" wrk_cpu_pct | cut -d. -f1), other processes $(field "$b" other_cpu_pct | cut -d. -f1)$onp"
        done
    done
    # was the baseline limited by itself?  if not: by other processes on
    # its core, or by wrk + mock on theirs
    if [ -n "$PROXY_CPUS" ]; then
        for mode in $MODES; do
            b="$TMP/res_base_$mode"
            awk -v c="$(field "$b" proxy_cpu_pct)" -v w="$WORKERS" \
                -v o="$(field "$b" other_on_proxy_cpu_pct)" -v m="$mode" '
            BEGIN {
                if (c >= 85 * w) exit
                printf "note: the baseline (%s) kept its core(s) only %.0f%% busy: ", m, c / w
                if (o >= 10 * w)
                    printf "other processes took %.0f%% of it; the machine was busy, figures are noisy (rerun when it is quiet)\n", o / w
                else
                    printf "wrk + mock on the other core(s) were the limit, so the baseline rps is low and gw/base optimistic; the CPU us/req ratio is the fairer comparison\n"
            }'
        done
    fi
    for mode in $MODES; do
        for t in $targets; do
            awk -v o="$(field "$TMP/res_${t}_$mode" other_cpu_pct)" \
                -v t="$t" -v m="$mode" 'BEGIN { if (o >= 25)
                printf "note: other processes used %.0f%% of a core during %s/%s: expect noise\n", o, t, m }'
        done
    done
    for t in $targets; do
        eval "from=\$ELOG_$t"
        tail -n +"$from" "$TMP/$t/error.log" 2>/dev/null \
            | grep '\[\(error\|crit\|alert\|emerg\)\]' > "$TMP/errlines_$t"
        n=$(wc -l < "$TMP/errlines_$t")
        if [ "$n" -gt 0 ]; then
            echo "note: $t error.log got $n error lines during the runs, e.g.:"
            head -n 3 "$TMP/errlines_$t" | cut -c1-300 | sed 's/^/    /'
        fi
    done
    [ -n "$FAILED" ] && echo "FAILED (non-2xx, socket errors or crashes):$FAILED"
    echo
    echo "raw:"
    cat "$TMP"/res_* | sed 's/^/BENCH_SUMMARY /'
    cat "$TMP"/round_* | sed 's/^/BENCH_RESULT /'
} > "$REPORT"

mkdir -p "$RESULTS" && cp "$REPORT" "$RESULTS/latest.txt"
echo
cat "$REPORT"
echo
log "written to $RESULTS/latest.txt"

[ -z "$FAILED" ] || die "errors during the run:$FAILED"
exit 0
