-- wrk script for bench/run.sh: POSTs an OpenAI chat request and, at the
-- end, prints one machine-readable line:
--
--   BENCH_RESULT requests=N duration_s=S rps=R p50_ms=.. p90_ms=.. p99_ms=..
--                max_ms=.. non2xx=N socket_errors=N connect=N read=N
--                write=N timeout=N bytes_per_req=B
--
-- The request body is read from the file named by $BENCH_BODY (run.sh
-- writes it, and uses the same file for its curl sanity check); without
-- it a built-in non-streaming body is used, so the script also works
-- standalone:  wrk -t2 -c50 -d10s -s bench/chat.lua http://127.0.0.1:4000/v1/chat/completions
--
-- No request()/response() callbacks are defined on purpose: wrk then sends
-- a pre-built request and never hands responses to Lua, which keeps the
-- load generator cheap.  Non-2xx counting therefore uses wrk's own
-- counter (summary.errors.status: responses with status >= 400, the
-- number wrk prints as "Non-2xx or 3xx responses"); run.sh checks the
-- 2xx status and the body shape of each target with curl beforehand.

local default_body = '{"model":"gpt-4o","messages":['
  .. '{"role":"system","content":"You are a helpful assistant. Answer '
  .. 'concisely and accurately, and say so when you are unsure."},'
  .. '{"role":"user","content":"Summarize the main differences between '
  .. 'TCP and UDP in three short bullet points for a beginner."}],'
  .. '"temperature":0.7,"max_tokens":256}'

local function read_body()
  local path = os.getenv("BENCH_BODY")
  if path == nil or path == "" then
    return default_body
  end
  local f = assert(io.open(path, "rb"))
  local b = f:read("*a")
  f:close()
  return b
end

wrk.method = "POST"
wrk.body = read_body()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-client"

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  local n = summary.requests
  local rps = 0
  local bpr = 0
  if secs > 0 then rps = n / secs end
  if n > 0 then bpr = summary.bytes / n end
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_s=%.3f rps=%.2f p50_ms=%.3f"
    .. " p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d socket_errors=%d"
    .. " connect=%d read=%d write=%d timeout=%d bytes_per_req=%.1f\n",
    n, secs, rps,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout,
    e.connect, e.read, e.write, e.timeout, bpr))
end
