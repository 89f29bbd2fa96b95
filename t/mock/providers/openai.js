'use strict';
// OpenAI's wire format (Chat Completions, Embeddings, Models), as in
// /work/shared/providers/openai.md.  Any path prefix is accepted, so
// api_base http://127.0.0.1:P/v1 and http://127.0.0.1:P/openai/v1 both
// land here.
//
// Behaviour is chosen by the upstream `model` field (the provider model id
// the gateway sends).  Names not starting with "mock-" behave as mock-ok.
// A "-split" suffix (mock-ok-split, mock-tools-split, ...) or the request
// header "x-mock-split: 1" writes the body in 1..7-byte pieces, cutting
// inside multi-byte UTF-8 characters and between the "\n\n" of events.
//
//   mock-ok               chat.completion, content "echo: <last user text>"
//   mock-long             like mock-ok, content ~90 KB (multi-byte text)
//   mock-tools            one tool call (name = first tools[] function, else
//                         get_weather; arguments {"city":"Paris","query":<text>})
//   mock-tools2           two tool calls (indexes 0 and 1)
//   mock-err-400          400 invalid_request_error (invalid_value, param temperature)
//   mock-err-400-context  400 context_length_exceeded (param messages)
//   mock-err-401          401 invalid_api_key
//   mock-err-403          403 unsupported_country_region_territory
//   mock-err-404          404 model_not_found
//   mock-err-429          429 rate_limit_exceeded, header retry-after: 7
//   mock-err-429-quota    429 insufficient_quota
//   mock-err-500          500 server_error
//   mock-err-503          503 server_error (overloaded), header retry-after: 2
//   mock-garbage          200 application/json whose body is not JSON
//   mock-hang             reads the request, never answers (socket closed
//                         after --hang-ms, default 60 s)
//   mock-close            closes the socket without any answer
//   mock-slow-release     stream: role chunk + first content chunk ("echo: "),
//                         then waits for POST /__release, then the rest;
//                         non-stream: waits for the release, then answers
//   mock-stream-error     stream: 200, role + "echo: " chunks, then
//                         data: {"error":{...}} and the end of the body
//                         (no [DONE]); non-stream: 500
//   mock-stream-cut       stream: role + content chunks, then the TCP
//                         connection is reset (no chunked terminator, no
//                         [DONE]); non-stream: half of the JSON body, then reset
//   mock-stream-eof       stream: role + content chunks, then a clean end of
//                         the chunked body without finish_reason or [DONE];
//                         non-stream: a complete but truncated JSON body
//   mock-err-400-content-policy  400 content_policy_violation (the safety
//                         system refused the request)
//   mock-err-429-retry-1  429 rate_limit_exceeded, header retry-after: 1
//   mock-err-429-ms       429 rate_limit_exceeded, header retry-after-ms: 1500
//                         (and no retry-after)
//   mock-err-529          529 overloaded (as OpenAI-compatible servers in
//                         front of Anthropic-style backends answer)
//   mock-stream-error-early  stream: 200, the role chunk (content ""), then
//                         data: {"error":{...}} before any content, end of
//                         body; non-stream: 500
//   mock-stream-cut-early stream: 200, the role chunk, then the TCP
//                         connection is reset; non-stream: reset, no answer
//   mock-slow-first-token-<ms>  stream: 200 and the role chunk at once, the
//                         first content only after <ms> milliseconds, then
//                         as mock-ok; non-stream: answers after <ms> ms
//   mock-raw-<case>       a response written byte for byte on the socket
//                         (Connection: close, then the socket is ended), to
//                         test the gateway's header parser; the body is
//                         mock-ok's (its SSE, chunked, for a stream):
//     raw-fold            a header line folded onto the one before (SP)
//     raw-fold-tab        the same with an HTAB
//     raw-nul             a NUL inside a header value
//     raw-cr              a lone CR inside a header value
//     raw-cl-differ       two Content-Length headers that differ
//     raw-cl-same         two equal Content-Length headers (valid)
//     raw-cl-invalid      Content-Length: 12abc
//     raw-upper           every header name in upper case, an x-request-id
//                         of "req_raw_upper" (valid; a stream is chunked
//                         with TRANSFER-ENCODING: CHUNKED)
//     raw-429             429 rate_limit_exceeded with "RETRY-AFTER:  7 "
//     raw-trickle         the headers in 1..7-byte writes 2 ms apart, cut
//                         inside every line and between every CR and LF
//                         (valid)
//   any other mock-*      404 model_not_found (catches typos in tests)
//
// Streams honour stream_options.include_usage (then "usage": null on every
// chunk and a final chunk with "choices": [] and the usage) and
// stream_options.include_obfuscation (default: an "obfuscation" padding
// field on every chunk, as OpenAI does).
//
// A request without "Authorization: Bearer <something>" gets OpenAI's 401.

const L = require('../lib');

const MODELS = [
  'mock-ok', 'mock-long', 'mock-tools', 'mock-tools2', 'mock-slow-release',
  'mock-stream-error', 'mock-stream-cut', 'mock-stream-eof', 'gpt-4o-mini',
  'text-embedding-3-small',
];

function err(message, type, param, code) {
  return { error: { message, type, param: param === undefined ? null : param, code: code === undefined ? null : code } };
}

const ERRORS = {
  'err-400': [400, (m) => err("Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 7 instead.", 'invalid_request_error', 'temperature', 'decimal_above_max_value')],
  'err-400-context': [400, () => err("This model's maximum context length is 128000 tokens. However, your messages resulted in 130517 tokens. Please reduce the length of the messages.", 'invalid_request_error', 'messages', 'context_length_exceeded')],
  'err-401': [401, (m, key) => err(`Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`, 'invalid_request_error', null, 'invalid_api_key')],
  'err-403': [403, () => err('Country, region, or territory not supported', 'request_forbidden', null, 'unsupported_country_region_territory')],
  'err-404': [404, (m) => err(`The model \`${m}\` does not exist or you do not have access to it.`, 'invalid_request_error', null, 'model_not_found')],
  'err-429': [429, (m) => err(`Rate limit reached for ${m} in organization org-mock on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 7s.`, 'requests', null, 'rate_limit_exceeded'), { 'retry-after': '7', 'x-ratelimit-limit-requests': '3', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '7s' }],
  'err-429-quota': [429, () => err('You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', null, 'insufficient_quota')],
  'err-500': [500, () => err('The server had an error while processing your request. Sorry about that!', 'server_error', null, null)],
  'err-503': [503, () => err('The engine is currently overloaded, please try again later.', 'server_error', null, null), { 'retry-after': '2' }],
  'err-400-content-policy': [400, () => err('Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.', 'invalid_request_error', null, 'content_policy_violation')],
  'err-429-retry-1': [429, (m) => err(`Rate limit reached for ${m} in organization org-mock on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s.`, 'requests', null, 'rate_limit_exceeded'), { 'retry-after': '1', 'x-ratelimit-limit-requests': '3', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1s' }],
  'err-429-ms': [429, (m) => err(`Rate limit reached for ${m} in organization org-mock on tokens per min (TPM): Limit 1000, Used 1000, Requested 20. Please try again in 1.5s.`, 'tokens', null, 'rate_limit_exceeded'), { 'retry-after-ms': '1500', 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '1.5s' }],
  'err-529': [529, () => err('The server is overloaded. Please try again later.', 'server_error', null, 'overloaded')],
};

const SCENARIOS = new Set([
  'ok', 'long', 'tools', 'tools2', 'garbage', 'hang', 'close', 'slow-release',
  'stream-error', 'stream-cut', 'stream-eof', ...Object.keys(ERRORS),
  'stream-error-early', 'stream-cut-early',
  'raw-fold', 'raw-fold-tab', 'raw-nul', 'raw-cr', 'raw-cl-differ',
  'raw-cl-same', 'raw-cl-invalid', 'raw-upper', 'raw-429', 'raw-trickle',
]);

function maskKey(key) {
  if (!key) return '';
  if (key.length <= 8) return '*'.repeat(key.length);
  return key.slice(0, 3) + '*'.repeat(key.length - 7) + key.slice(-4);
}

// "mock-ok-split" -> "ok" with ctx.split; "gpt-4o" -> "ok"; typo -> null
function scenario(ctx, model) {
  let m = model;
  if (m.endsWith('-split')) {
    ctx.split = true;
    m = m.slice(0, -'-split'.length);
  }
  if (!m.startsWith('mock-')) return 'ok';
  const s = m.slice('mock-'.length);
  const slow = /^slow-first-token-(\d+)$/.exec(s);
  if (slow) {
    ctx.slowMs = Number(slow[1]);
    return 'slow-first-token';
  }
  return SCENARIOS.has(s) ? s : null;
}

function bearer(ctx) {
  const h = ctx.req.headers.authorization;
  if (typeof h !== 'string') return null;
  const m = /^Bearer\s+(\S.*)$/i.exec(h);
  return m ? m[1] : null;
}

function commonHeaders(ctx) {
  return {
    'x-request-id': 'req_mock' + ctx.record.seq,
    'openai-version': '2020-10-01',
    'openai-processing-ms': '1',
    'openai-organization': 'org-mock',
    'x-ratelimit-limit-requests': '10000',
    'x-ratelimit-remaining-requests': '9999',
    'x-ratelimit-limit-tokens': '2000000',
    'x-ratelimit-remaining-tokens': '1999000',
    'x-ratelimit-reset-requests': '6ms',
    'x-ratelimit-reset-tokens': '0s',
  };
}

// Checks shared by every route; returns false when an answer was sent.
function preflight(ctx, needBody) {
  const key = bearer(ctx);
  if (!key) {
    L.sendJson(ctx, 401, err("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (i.e. providing YOUR_KEY as the username and a blank password) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.", 'invalid_request_error', null, null), commonHeaders(ctx));
    return false;
  }
  ctx.apiKey = key;
  if (!needBody) return true;
  const b = ctx.json;
  if (ctx.jsonError || !b || typeof b !== 'object' || Array.isArray(b)) {
    L.sendJson(ctx, 400, err("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)", 'invalid_request_error', null, null), commonHeaders(ctx));
    return false;
  }
  if (typeof b.model !== 'string' || !b.model) {
    L.sendJson(ctx, 400, err('you must provide a model parameter', 'invalid_request_error', null, null), commonHeaders(ctx));
    return false;
  }
  ctx.scenario = scenario(ctx, b.model);
  if (ctx.scenario === null) {
    L.sendJson(ctx, 404, ERRORS['err-404'][1](b.model), commonHeaders(ctx));
    return false;
  }
  const e = ERRORS[ctx.scenario];
  if (e) {
    L.sendJson(ctx, e[0], e[1](b.model, key), Object.assign(commonHeaders(ctx), e[2] || {}));
    return false;
  }
  return true;
}

// Scenarios that misbehave at the transport level, for any route.
function transport(ctx) {
  switch (ctx.scenario) {
    case 'hang': {
      const t = setTimeout(() => ctx.req.socket.destroy(), ctx.state.hangMs);
      ctx.res.on('close', () => clearTimeout(t));
      return true;
    }
    case 'close':
      ctx.req.socket.destroy();
      return true;
    case 'garbage':
      L.sendJson(ctx, 200, '<html><body>this is not JSON {"choices": [</body></html>\n', commonHeaders(ctx));
      return true;
    default:
      return false;
  }
}

// ---- raw responses ------------------------------------------------------

// The body a raw-* scenario sends: mock-ok's JSON, or its SSE events
// chunk-encoded for a stream; returns [body, headers of the body].
function rawBody(ctx) {
  if (ctx.json.stream !== true) {
    return [Buffer.from(JSON.stringify(completion(ctx)), 'utf8'), null];
  }
  const id = 'chatcmpl-mock' + ctx.record.seq;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta, finish) => ({
    id, object: 'chat.completion.chunk', created, model: ctx.json.model,
    service_tier: 'default', system_fingerprint: 'fp_mock',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish || null }],
  });
  const events = [
    chunk({ role: 'assistant', content: '', refusal: null }),
    ...L.fragments(replyText(ctx), 3).map((f) => chunk({ content: f })),
    chunk({}, 'stop'),
    '[DONE]',
  ];
  const parts = events.map((e) => {
    const d = Buffer.from('data: ' + (typeof e === 'string' ? e : JSON.stringify(e)) + '\n\n', 'utf8');
    return Buffer.concat([Buffer.from(d.length.toString(16) + '\r\n'), d, Buffer.from('\r\n')]);
  });
  parts.push(Buffer.from('0\r\n\r\n'));
  return [Buffer.concat(parts), 'chunked'];
}

// Cut points of the raw-trickle head: inside every line, between every
// CR and LF, and every 1..7 bytes.
function trickle(head, rnd) {
  const cuts = new Set();
  let start = 0;
  for (let i = 0; i < head.length; i++) {
    if (head[i] === 0x0d) cuts.add(i + 1);
    if (head[i] === 0x0a) {
      if (i - start > 2) cuts.add(start + 1 + Math.floor(rnd() * (i - start - 1)));
      start = i + 1;
    }
  }
  for (let pos = 1 + Math.floor(rnd() * 7); pos < head.length; pos += 1 + Math.floor(rnd() * 7)) {
    cuts.add(pos);
  }
  const out = [];
  let prev = 0;
  for (const c of [...cuts].sort((x, y) => x - y)) {
    if (c > prev && c < head.length) {
      out.push(head.subarray(prev, c));
      prev = c;
    }
  }
  out.push(head.subarray(prev));
  return out;
}

// Writes a raw-* response straight on the socket; true when it did.
function raw(ctx) {
  if (!ctx.scenario.startsWith('raw-')) return false;
  const sock = ctx.req.socket;
  const [body, te] = rawBody(ctx);
  const ct = te ? 'text/event-stream; charset=utf-8' : 'application/json';
  const len = te ? null : String(body.length);
  const frame = te ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${len}\r\n`;
  let status = '200 OK';
  let lines;
  let out = body;

  switch (ctx.scenario) {
    case 'raw-fold':
      lines = ['X-Mock-Note: a\r\n', ' folded: b\r\n', frame];
      break;
    case 'raw-fold-tab':
      lines = ['X-Mock-Note: a\r\n', '\tfolded\r\n', frame];
      break;
    case 'raw-nul':
      lines = ['X-Mock-Note: a\0b\r\n', frame];
      break;
    case 'raw-cr':
      lines = ['X-Mock-Note: a\rContent-Length: 1\r\n', frame];
      break;
    case 'raw-cl-differ':
      lines = [`Content-Length: ${body.length}\r\n`, 'X-Mock-Note: a\r\n', `Content-Length: ${body.length + 1}\r\n`];
      break;
    case 'raw-cl-same':
      lines = [`Content-Length: ${body.length}\r\n`, 'X-Mock-Note: a\r\n', `content-length:  ${body.length} \r\n`];
      break;
    case 'raw-cl-invalid':
      lines = [`Content-Length: ${body.length}abc\r\n`];
      break;
    case 'raw-upper':
      lines = ['X-REQUEST-ID: req_raw_upper\r\n', te ? 'TRANSFER-ENCODING: CHUNKED\r\n' : `CONTENT-LENGTH: ${len}\r\n`];
      break;
    case 'raw-429': {
      status = '429 Too Many Requests';
      out = Buffer.from(JSON.stringify(ERRORS['err-429'][1](ctx.json.model)), 'utf8');
      lines = ['RETRY-AFTER:  7 \r\n', `content-LENGTH: ${out.length}\r\n`];
      break;
    }
    case 'raw-trickle':
      lines = ['X-Request-Id: req_mock' + ctx.record.seq + '\r\n',
        'OpenAI-Processing-Ms: 1\n', 'X-Mock-Note:\t a: b: c \t\r\n',
        'X-A-Header-Name-Longer-Than-Sixteen-Bytes: v\r\n', frame];
      break;
    default:
      return false;
  }

  const upper = ctx.scenario === 'raw-upper';
  const head = Buffer.from(`HTTP/1.1 ${status}\r\n`
    + (upper ? 'CONTENT-TYPE: ' : 'Content-Type: ') + (status[0] === '2' ? ct : 'application/json') + '\r\n'
    + (upper ? 'CONNECTION: close\r\n' : 'Connection: close\r\n')
    + lines.join('') + '\r\n', 'latin1');

  sock.setNoDelay(true);
  if (ctx.scenario !== 'raw-trickle') {
    sock.end(Buffer.concat([head, out]));
    return true;
  }
  const pieces = trickle(head, L.prng(ctx.seed));
  pieces.push(out);
  let i = 0;
  const step = () => {
    if (sock.destroyed) return;
    if (i === pieces.length - 1) {
      sock.end(pieces[i]);
      return;
    }
    sock.write(pieces[i++]);
    setTimeout(step, 2);
  };
  step();
  return true;
}

// ---- chat completions ---------------------------------------------------

// runs fn after ms, unless the client went away first
function later(ctx, ms, fn) {
  const t = setTimeout(() => {
    if (!ctx.res.destroyed) fn();
  }, ms);
  ctx.res.on('close', () => clearTimeout(t));
}

function replyText(ctx) {
  const text = 'echo: ' + L.lastUserText(ctx.json.messages);
  if (ctx.scenario === 'long') {
    return text + ' ' + 'lorem ipsum dolor é 你好 🌍 sit amet. '.repeat(2500);
  }
  return text;
}

function toolCalls(ctx) {
  const tools = Array.isArray(ctx.json.tools) ? ctx.json.tools : [];
  const name = (i) => {
    const t = tools[i] || tools[0];
    return t && t.function && typeof t.function.name === 'string' ? t.function.name : 'get_weather';
  };
  const text = L.lastUserText(ctx.json.messages);
  const n = ctx.scenario === 'tools2' ? 2 : 1;
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push({
      id: `call_mock${ctx.record.seq}x${i}`,
      type: 'function',
      function: { name: name(i), arguments: JSON.stringify({ city: i ? 'Tokyo' : 'Paris', query: text }) },
    });
  }
  return out;
}

function usageFor(ctx, completionText) {
  const p = L.messagesTokens(ctx.json.messages);
  const c = Math.max(1, L.countTokens(completionText));
  return {
    prompt_tokens: p,
    completion_tokens: c,
    total_tokens: p + c,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function completion(ctx) {
  const isTools = ctx.scenario === 'tools' || ctx.scenario === 'tools2';
  const calls = isTools ? toolCalls(ctx) : null;
  const content = isTools ? null : replyText(ctx);
  const message = { role: 'assistant', content, refusal: null, annotations: [] };
  if (calls) message.tool_calls = calls;
  return {
    id: 'chatcmpl-mock' + ctx.record.seq,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: ctx.json.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: isTools ? 'tool_calls' : 'stop' }],
    usage: usageFor(ctx, content || calls.map((c) => c.function.arguments).join(' ')),
    service_tier: 'default',
    system_fingerprint: 'fp_mock',
  };
}

function chat(ctx) {
  if (!preflight(ctx, true)) return;
  const b = ctx.json;
  if (!Array.isArray(b.messages) || b.messages.length === 0) {
    return L.sendJson(ctx, 400, err("Missing required parameter: 'messages'.", 'invalid_request_error', 'messages', 'missing_required_parameter'), commonHeaders(ctx));
  }
  if (transport(ctx)) return;
  if (raw(ctx)) return;
  if (b.stream === true) return chatStream(ctx);

  const resp = completion(ctx);
  switch (ctx.scenario) {
    case 'slow-first-token':
      return later(ctx, ctx.slowMs, () => L.sendJson(ctx, 200, resp, commonHeaders(ctx)));
    case 'stream-error-early':
      return L.sendJson(ctx, 500, ERRORS['err-500'][1](), commonHeaders(ctx));
    case 'stream-cut-early':
      return ctx.req.socket.destroy();
    case 'slow-release':
      return ctx.waitRelease(() => L.sendJson(ctx, 200, resp, commonHeaders(ctx)));
    case 'stream-error':
      return L.sendJson(ctx, 500, ERRORS['err-500'][1](), commonHeaders(ctx));
    case 'stream-cut': {
      const body = Buffer.from(JSON.stringify(resp));
      ctx.res.writeHead(200, Object.assign({ 'content-type': 'application/json', 'content-length': body.length }, commonHeaders(ctx)));
      const w = new L.BodyWriter(ctx);
      w.write(body.subarray(0, body.length >> 1));
      return w.cut();
    }
    case 'stream-eof': {
      const s = JSON.stringify(resp);
      return L.sendJson(ctx, 200, s.slice(0, s.length >> 1), commonHeaders(ctx));
    }
    default:
      return L.sendJson(ctx, 200, resp, commonHeaders(ctx));
  }
}

function chatStream(ctx) {
  const b = ctx.json;
  const so = b.stream_options && typeof b.stream_options === 'object' ? b.stream_options : {};
  const includeUsage = so.include_usage === true;
  const obfuscate = so.include_obfuscation !== false;
  const id = 'chatcmpl-mock' + ctx.record.seq;
  const created = Math.floor(Date.now() / 1000);
  const rnd = L.prng(ctx.seed + 1);
  const pad = () => {
    const n = 1 + Math.floor(rnd() * 12);
    let s = '';
    for (let i = 0; i < n; i++) s += 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[Math.floor(rnd() * 62)];
    return s;
  };
  const chunk = (delta, finish) => {
    const c = {
      id, object: 'chat.completion.chunk', created, model: b.model,
      service_tier: 'default', system_fingerprint: 'fp_mock',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish || null }],
    };
    if (includeUsage) c.usage = null;
    if (obfuscate) c.obfuscation = pad();
    return c;
  };
  const w = L.startSse(ctx, commonHeaders(ctx));
  const isTools = ctx.scenario === 'tools' || ctx.scenario === 'tools2';
  let produced = '';

  const finish = (reason) => {
    w.data(chunk({}, reason));
    if (includeUsage) {
      const u = { id, object: 'chat.completion.chunk', created, model: b.model, service_tier: 'default', system_fingerprint: 'fp_mock', choices: [], usage: usageFor(ctx, produced) };
      if (obfuscate) u.obfuscation = pad();
      w.data(u);
    }
    w.data('[DONE]');
    w.end();
  };

  if (isTools) {
    const calls = toolCalls(ctx);
    calls.forEach((call, k) => {
      const tc = [{ index: k, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }];
      w.data(chunk(k === 0 ? { role: 'assistant', content: null, tool_calls: tc, refusal: null } : { tool_calls: tc }));
      for (const frag of L.fragments(call.function.arguments, 5)) {
        w.data(chunk({ tool_calls: [{ index: k, function: { arguments: frag } }] }));
      }
      produced += call.function.arguments + ' ';
    });
    return finish('tool_calls');
  }

  const text = replyText(ctx);
  const frags = L.fragments(text, ctx.scenario === 'long' ? 64 : 3);
  const sendFrags = (list) => {
    for (const f of list) {
      w.data(chunk({ content: f }));
      produced += f;
    }
  };
  w.data(chunk({ role: 'assistant', content: '', refusal: null }));

  switch (ctx.scenario) {
    case 'slow-release': {
      // "echo: " goes out first; the rest only after POST /__release
      const head = 'echo: ';
      produced += head;
      const rest = L.fragments(text.slice(head.length), 3);
      // park once the first content chunk has been handed to the socket
      w.data(chunk({ content: head }), () => ctx.waitRelease(() => {
        sendFrags(rest);
        finish('stop');
      }));
      return;
    }
    case 'stream-error':
      sendFrags(frags.slice(0, 2));
      w.data({ error: { message: 'mock: the model failed in the middle of the stream', type: 'server_error', param: null, code: 'mock_stream_error' } });
      return w.end();
    case 'stream-cut':
      sendFrags(frags.slice(0, 2));
      return w.cut();
    case 'stream-eof':
      sendFrags(frags.slice(0, 2));
      return w.end();
    case 'stream-error-early':
      // nothing but the role chunk before the error
      w.data({ error: { message: 'mock: the model failed before its first token', type: 'server_error', param: null, code: 'mock_stream_error' } });
      return w.end();
    case 'stream-cut-early':
      return w.cut();
    case 'slow-first-token':
      // the role chunk went out at once; the content waits
      return later(ctx, ctx.slowMs, () => {
        sendFrags(frags);
        finish('stop');
      });
    default:
      sendFrags(frags);
      return finish('stop');
  }
}

// ---- embeddings ---------------------------------------------------------

function fnv1a(s) {
  let h = 0x811c9dc5;
  const b = Buffer.from(s, 'utf8');
  for (const x of b) {
    h ^= x;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// Values are k/1024 with |k| <= 1000: exact in float32, so base64 and
// float answers decode to the very same numbers.
function vector(input, dims) {
  const h = fnv1a(input);
  const v = [];
  for (let i = 0; i < dims; i++) {
    const x = (Math.imul(h ^ (i * 0x9e3779b1), 2654435761) >>> 0) % 2001;
    v.push((x - 1000) / 1024);
  }
  return v;
}

function embeddings(ctx) {
  if (!preflight(ctx, true)) return;
  if (transport(ctx)) return;
  const b = ctx.json;
  let inputs = b.input;
  const bad = () => L.sendJson(ctx, 400, err("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", 'invalid_request_error', null, null), commonHeaders(ctx));
  if (typeof inputs === 'string') inputs = [inputs];
  else if (Array.isArray(inputs) && inputs.length && inputs.every((x) => typeof x === 'number')) inputs = [inputs];
  if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > 2048) return bad();
  if (!inputs.every((x) => typeof x === 'string' || (Array.isArray(x) && x.every((y) => Number.isInteger(y))))) return bad();
  let dims = 8;
  if (b.dimensions !== undefined) {
    if (!Number.isInteger(b.dimensions) || b.dimensions < 1 || b.dimensions > 4096) {
      return L.sendJson(ctx, 400, err('Invalid value for dimensions.', 'invalid_request_error', 'dimensions', 'invalid_value'), commonHeaders(ctx));
    }
    dims = b.dimensions;
  }
  const b64 = b.encoding_format === 'base64';
  if (b.encoding_format !== undefined && b.encoding_format !== 'float' && !b64) {
    return L.sendJson(ctx, 400, err("Invalid value for 'encoding_format': expected 'float' or 'base64'.", 'invalid_request_error', 'encoding_format', 'invalid_value'), commonHeaders(ctx));
  }
  let tokens = 0;
  const data = inputs.map((x, index) => {
    const s = typeof x === 'string' ? x : x.join(',');
    tokens += typeof x === 'string' ? Math.max(1, L.countTokens(x)) : x.length;
    const v = vector(s, dims);
    return {
      object: 'embedding',
      index,
      embedding: b64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v,
    };
  });
  L.sendJson(ctx, 200, { object: 'list', data, model: b.model, usage: { prompt_tokens: tokens, total_tokens: tokens } }, commonHeaders(ctx));
}

// ---- models -------------------------------------------------------------

function modelObj(id) {
  return { id, object: 'model', created: 1686935002, owned_by: id.startsWith('mock-') ? 'mock' : 'system' };
}

function listModels(ctx) {
  if (!preflight(ctx, false)) return;
  L.sendJson(ctx, 200, { object: 'list', data: MODELS.map(modelObj) }, commonHeaders(ctx));
}

function getModel(ctx) {
  if (!preflight(ctx, false)) return;
  let id = ctx.params.id;
  try { id = decodeURIComponent(id); } catch (_) { /* keep raw */ }
  if (!MODELS.includes(id)) return L.sendJson(ctx, 404, ERRORS['err-404'][1](id), commonHeaders(ctx));
  L.sendJson(ctx, 200, modelObj(id), commonHeaders(ctx));
}

module.exports = {
  name: 'openai',
  routes: [
    { name: 'chat', method: 'POST', pattern: /^(?<prefix>.*)\/chat\/completions\/?$/, handler: chat },
    { name: 'embeddings', method: 'POST', pattern: /^(?<prefix>.*)\/embeddings\/?$/, handler: embeddings },
    { name: 'models', method: 'GET', pattern: /^(?<prefix>.*)\/models\/?$/, handler: listModels },
    { name: 'model', method: 'GET', pattern: /^(?<prefix>.*)\/models\/(?<id>[^/]+)$/, handler: getModel },
  ],
  // exported for other OpenAI-dialect providers (Azure, Mistral, Groq, ...)
  chat, embeddings, listModels, ERRORS, scenario, err,
};
