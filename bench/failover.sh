#!/bin/sh
# Failover under load: wrk drives the gateway at a model group of two
# deployments, one of which fails every request it gets; every client
# request must still come back 2xx.  Prints total requests, non-2xx,
# socket errors, rps and how many requests failed over, per run; exits
# non-zero on any failure.  About 10 s with the defaults.  POSIX sh.
#
# Runs (FAILOVER_RUNS, space-separated <failure>:<mode>):
#   500:nonstream      the bad deployment answers 500 (OpenAI error JSON)
#   refused:stream     the bad deployment's port refuses connections;
#                      streaming requests (SSE)
#   also: 500:stream, refused:nonstream, 529:nonstream, 529:stream
#
# Environment:
#   FAILOVER_RUNS="500:nonstream refused:stream"
#   FAILOVER_DURATION=4s     per run
#   FAILOVER_CONNECTIONS=32  FAILOVER_THREADS=2  FAILOVER_WORKERS=2
#   FAILOVER_COOLDOWNS=0     0: disable_cooldowns (every request that picks
#                            the bad deployment first fails over: the worst
#                            case); 1: LiteLLM's default cooldowns
#   FAILOVER_KEEP_TMP=1      keep the temp dir (configs, logs)
#   NGINX_BIN, LLM_MODULE, WRK

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
LLM_MODULE=${LLM_MODULE:-$ROOT/objs/ngx_http_llm_module.so}
WRK=${WRK:-wrk}
RUNS=${FAILOVER_RUNS:-500:nonstream refused:stream}
DURATION=${FAILOVER_DURATION:-4s}
CONNS=${FAILOVER_CONNECTIONS:-32}
THREADS=${FAILOVER_THREADS:-2}
WORKERS=${FAILOVER_WORKERS:-2}
COOLDOWNS=${FAILOVER_COOLDOWNS:-0}
KEEP_TMP=${FAILOVER_KEEP_TMP:-0}

PIDS=""
TMP=""

log() { printf '%s\n' "failover: $*" >&2; }
die() { log "error: $*"; exit 1; }

alive() {
    [ -r "/proc/$1/stat" ] || return 1
    _st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ]
}

children() { ps -o pid= --ppid "$1" 2>/dev/null | tr -s ' \n' '  '; }

# stops only what this script started (and the workers of its masters)
cleanup() {
    rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "$PIDS" ]; then
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
        if [ "$KEEP_TMP" = 1 ] || [ "$rc" != 0 ]; then
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

[ -x "$NGINX_BIN" ] || die "nginx not found: $NGINX_BIN"
command -v "$WRK" >/dev/null 2>&1 || die "wrk not found (apt-get install wrk)"
command -v curl >/dev/null 2>&1 || die "curl not found"
[ -f "$LLM_MODULE" ] || die "module not found: $LLM_MODULE (make module)"
[ -n "$RUNS" ] || die "FAILOVER_RUNS is empty"
for r in $RUNS; do
    case "$r" in
        500:nonstream|500:stream|529:nonstream|529:stream|refused:nonstream|refused:stream) ;;
        *) die "FAILOVER_RUNS: unknown run $r" ;;
    esac
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ngx_llm_failover.XXXXXX") || die "mktemp"
# the workers (nobody, when started as root) must reach their files
chmod 755 "$TMP"

# a private copy: a rebuild that rewrites the module in place while nginx
# has it mapped would crash the workers
cp "$LLM_MODULE" "$TMP/ngx_http_llm_module.so" || die "cp $LLM_MODULE"
MODULE_INFO="$LLM_MODULE, $(date -u -r "$LLM_MODULE" '+built %Y-%m-%d %H:%M:%S UTC')"
LLM_MODULE=$TMP/ngx_http_llm_module.so

TAKEN=""
FP=""
free_port() {
    while :; do
        r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
        FP=$((20000 + r % 40000))
        case " $TAKEN " in *" $FP "*) continue ;; esac
        if ss -Htan "( sport = :$FP or dport = :$FP )" 2>/dev/null | grep -q .; then
            continue
        fi
        TAKEN="$TAKEN $FP"
        return 0
    done
}
free_port; MOCK_PORT=$FP
free_port; GW_PORT=$FP
free_port; DEAD_PORT=$FP        # nothing ever listens here

# --- the mock upstream: an nginx with an OpenAI-shaped answer per path ---

CMPL_ID=chatcmpl-FailoverBench0000000000000001
MOCK_JSON='{"id":"'$CMPL_ID'","object":"chat.completion","created":1732838400,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"failover ok","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14},"system_fingerprint":"fp_bench"}'
MOCK_500='{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}'
MOCK_529='{"error":{"message":"The server is overloaded. Please try again later.","type":"server_error","param":null,"code":"overloaded"}}'
sse_event() {  # delta finish_reason
    printf '%s' 'data: {"id":"'$CMPL_ID'","object":"chat.completion.chunk","created":1732838400,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":'"$1"',"logprobs":null,"finish_reason":'"$2"'}]}\n\n'
}
MOCK_SSE=$(
    sse_event '{"role":"assistant","content":"","refusal":null}' null
    sse_event '{"content":"failover"}' null
    sse_event '{"content":" ok"}' null
    sse_event '{}' '"stop"'
    printf '%s' 'data: [DONE]\n\n'
)

NOFILE=$(ulimit -n 2>/dev/null)
case "$NOFILE" in ''|unlimited|*[!0-9]*) NOFILE=65536 ;; esac
WCONNS=$((NOFILE / 2))
[ $WCONNS -gt 8192 ] && WCONNS=8192

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
    client_body_temp_path $1/client_body;
    proxy_temp_path $1/proxy;
    fastcgi_temp_path $1/fastcgi;
    uwsgi_temp_path $1/uwsgi;
    scgi_temp_path $1/scgi;
    keepalive_requests 1000000;
EOF
}

mkdir -p "$TMP/mock" "$TMP/gw" || die "mkdir"

{
    echo "worker_processes 1;"
    common_main "$TMP/mock"
    echo "http {"
    common_http "$TMP/mock"
    cat <<EOF
    access_log off;
    server {
        listen 127.0.0.1:$MOCK_PORT backlog=4096;
        location = /ok/v1/chat/completions {
            default_type application/json;
            return 200 '$MOCK_JSON';
        }
        location = /ok-stream/v1/chat/completions {
            default_type text/event-stream;
            add_header Cache-Control no-cache;
            sub_filter_types text/event-stream;
            sub_filter 'failover-never-matches' '';
            return 200 '$MOCK_SSE';
        }
        location ~ ^/bad-500[^/]*/v1/chat/completions\$ {
            default_type application/json;
            return 500 '$MOCK_500';
        }
        location ~ ^/bad-529[^/]*/v1/chat/completions\$ {
            default_type application/json;
            return 529 '$MOCK_529';
        }
        location / { return 404; }
    }
}
EOF
} > "$TMP/mock/nginx.conf"

if [ "$COOLDOWNS" = 1 ]; then
    ROUTER="  num_retries: 2"
else
    ROUTER="  num_retries: 2
  disable_cooldowns: true"
fi

bad_base() {  # failure suffix
    case "$1" in
        refused) echo "http://127.0.0.1:$DEAD_PORT/bad$2/v1" ;;
        *) echo "http://127.0.0.1:$MOCK_PORT/bad-$1$2/v1" ;;
    esac
}

{
    for r in $RUNS; do
        f=${r%%:*}
        m=${r#*:}
        ok=ok
        [ "$m" = stream ] && ok=ok-stream
        # equal weights: half the requests pick the bad one first
        cat <<EOF
  - model_name: fo-$f-$m
    litellm_params: {model: openai/gpt-4o, api_base: "$(bad_base "$f" "-$m")", api_key: sk-bad}
    model_info: {id: bad-$f-$m}
  - model_name: fo-$f-$m
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:$MOCK_PORT/$ok/v1", api_key: sk-ok}
    model_info: {id: ok-$f-$m}
EOF
    done
} > "$TMP/gw/list.yaml"
{
    echo "model_list:"
    cat "$TMP/gw/list.yaml"
    echo "router_settings:"
    echo "$ROUTER"
} > "$TMP/gw/models.yaml"

{
    echo "load_module $LLM_MODULE;"
    echo "worker_processes $WORKERS;"
    common_main "$TMP/gw"
    echo "http {"
    common_http "$TMP/gw"
    cat <<EOF
    # tries per request: "addr, addr" when a request failed over
    log_format failover '\$status \$upstream_addr';
    access_log $TMP/gw/access.log failover buffer=64k flush=100ms;
    llm_config $TMP/gw/models.yaml;
    server {
        listen 127.0.0.1:$GW_PORT backlog=4096;
        location / { llm_pass; }
    }
}
EOF
} > "$TMP/gw/nginx.conf"

start() {  # dir
    "$NGINX_BIN" -p "$1/" -c "$1/nginx.conf" -e "$1/error.log" \
        > "$1/stderr.log" 2>&1 &
    PIDS="$PIDS $!"
}

wait_port() {  # port
    i=0
    while [ $i -lt 100 ]; do
        ss -Htln "( sport = :$1 )" 2>/dev/null | grep -q . && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

"$NGINX_BIN" -t -p "$TMP/gw/" -c "$TMP/gw/nginx.conf" -e "$TMP/gw/error.log" \
    > "$TMP/gw/nginx-t.log" 2>&1 || { cat "$TMP/gw/nginx-t.log" >&2; die "gateway config refused"; }
start "$TMP/mock"
start "$TMP/gw"
wait_port "$MOCK_PORT" || die "mock did not start: $(tail -5 "$TMP/mock/error.log" 2>/dev/null)"
wait_port "$GW_PORT" || die "gateway did not start: $(tail -5 "$TMP/gw/error.log" 2>/dev/null)"

body() {  # model stream -> file
    if [ "$2" = stream ]; then s='"stream":true,'; else s=''; fi
    printf '%s' '{"model":"'"$1"'",'"$s"'"messages":[{"role":"user","content":"Say failover ok."}],"max_tokens":16}' \
        > "$TMP/body-$1.json"
    echo "$TMP/body-$1.json"
}

FAIL=0
echo "failover bench: gateway $WORKERS worker(s), wrk -t$THREADS -c$CONNS -d$DURATION per run, cooldowns $([ "$COOLDOWNS" = 1 ] && echo 'on (LiteLLM defaults)' || echo 'disabled (worst case)')"
echo "module: $MODULE_INFO"
printf '%-20s %9s %7s %8s %9s %10s %9s %9s\n' run requests non2xx sockerr rps failedover p50_ms p99_ms

for r in $RUNS; do
    f=${r%%:*}
    m=${r#*:}
    model=fo-$f-$m
    b=$(body "$model" "$m")

    # one request by hand first: must be a clean answer
    out=$(curl -s -m 10 -H 'Content-Type: application/json' --data-binary "@$b" \
          -w '\n%{http_code}' "http://127.0.0.1:$GW_PORT/v1/chat/completions")
    code=$(printf '%s\n' "$out" | tail -n 1)
    resp=$(printf '%s\n' "$out" | sed '$d')
    if [ "$code" != 200 ]; then
        log "$r: sanity request got HTTP $code: $(printf '%s' "$resp" | head -c 300)"
        FAIL=1
        continue
    fi
    if [ "$m" = stream ]; then
        printf '%s' "$resp" | grep -q 'data: \[DONE\]' && printf '%s' "$resp" | grep -q '"content":"failover"' \
            || { log "$r: sanity stream incomplete: $(printf '%s' "$resp" | head -c 300)"; FAIL=1; continue; }
    else
        printf '%s' "$resp" | grep -q '"object":"chat.completion"' \
            || { log "$r: sanity answer is no chat.completion: $(printf '%s' "$resp" | head -c 300)"; FAIL=1; continue; }
    fi

    before=$(wc -l < "$TMP/gw/access.log" 2>/dev/null || echo 0)
    BENCH_BODY=$b "$WRK" -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 5s \
        -s "$HERE/chat.lua" "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
        > "$TMP/wrk-$r.log" 2>&1 &
    wpid=$!
    PIDS="$PIDS $wpid"
    wait "$wpid"
    res=$(grep '^BENCH_RESULT' "$TMP/wrk-$r.log")
    [ -n "$res" ] || { log "$r: no result from wrk:"; cat "$TMP/wrk-$r.log" >&2; FAIL=1; continue; }

    get() { printf '%s\n' "$res" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    n=$(get requests)
    non2xx=$(get non2xx)
    sock=$(get socket_errors)
    rps=$(get rps)
    p50=$(get p50_ms)
    p99=$(get p99_ms)

    # the access log is flushed every 100 ms
    sleep 0.5
    moved=$(tail -n +"$((before + 1))" "$TMP/gw/access.log" | grep -c ', ')
    # 499: requests wrk still had open when its time was up
    not200=$(tail -n +"$((before + 1))" "$TMP/gw/access.log" | grep -v '^499 ' | grep -vc '^200 ')

    printf '%-20s %9s %7s %8s %9.0f %10s %9s %9s\n' "$r" "$n" "$non2xx" "$sock" "$rps" "$moved" "$p50" "$p99"

    [ "$n" -gt 0 ] 2>/dev/null || { log "$r: no requests completed"; FAIL=1; }
    [ "$non2xx" = 0 ] || { log "$r: $non2xx non-2xx responses"; FAIL=1; }
    [ "$sock" = 0 ] || { log "$r: $sock socket errors (connect/read/write/timeout)"; cat "$TMP/wrk-$r.log" >&2; FAIL=1; }
    [ "$not200" = 0 ] || { log "$r: the gateway logged $not200 non-200 answers"; FAIL=1; }
    # proof that the bad deployment was really in the way
    [ "$moved" -gt 0 ] 2>/dev/null || { log "$r: no request failed over: the bench did not test failover"; FAIL=1; }
done

if grep -E '\[(alert|emerg|crit)\]|exited on signal|segfault' "$TMP/gw/error.log" >&2; then
    log "the gateway logged alerts or a crash"
    FAIL=1
fi

[ "$FAIL" = 0 ] && echo "failover bench: PASS (no client request failed)"
[ "$FAIL" = 0 ] || echo "failover bench: FAIL"
exit "$FAIL"
