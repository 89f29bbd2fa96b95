'use strict';
// Groq's OpenAI-compatible API, as in /work/shared/providers/groq.md, under
// the path prefix /groq so it cannot be confused with OpenAI's (tests set
// api_base http://127.0.0.1:P/groq/openai/v1):
//
//   POST /groq/openai/v1/chat/completions
//   GET  /groq/openai/v1/models
//   POST /groq/openai/v1/embeddings   404 unknown_url: Groq has no embeddings
//
// OpenAI-shaped answers plus Groq's extras: usage with queue_time,
// prompt_time, completion_time, total_time; "x_groq": {"id": "req_..."};
// system_fingerprint; service_tier "on_demand".  Streams: the first chunk
// carries x_groq {id}, the finish chunk x_groq {id, usage}; with
// stream_options.include_usage a separate chunk with "choices": [] and a
// top-level usage follows as well (some gateways saw usage twice), then
// data: [DONE].
//
// Rejected with 400, in Groq's words and body
// {"error":{"message":...,"type":"invalid_request_error"}}: logprobs,
// logit_bias, top_logprobs (any non-null value), messages[].name, n other
// than 1, and any top-level property the official groq-sdk does not know
// (plus stream_options, which Groq takes).
//
// Behaviour by model id ("-split" suffix / x-mock-split: 1 as everywhere):
//   mock-ok (any name not starting with "mock-")  "echo: <last user text>"
//   mock-tools         one tool call (id call_...), streamed whole
//   mock-xgroq-only    stream: usage ONLY in x_groq on the finish chunk, even
//                      with include_usage (Groq's long-standing behaviour)
//   mock-err-400-context  400 context_length_exceeded
//   mock-err-401       401 invalid_api_key
//   mock-err-404       404 model_not_found
//   mock-err-413       413 request too large (tokens per minute)
//   mock-err-429       429 rate_limit_exceeded, retry-after: 2 and
//                      x-ratelimit-* headers
//   mock-err-498       498 flex tier capacity exceeded
//   mock-err-500 / mock-err-503  server errors
//   mock-slow-release, mock-stream-error, mock-stream-cut, mock-stream-eof
//                      as in openai.js
//   any other mock-*   404 model_not_found
// A request without "Authorization: Bearer <key>" gets Groq's 401.

const crypto = require('crypto');
const L = require('../lib');

const FIELDS = new Set([
  'messages', 'model', 'citation_options', 'compound_custom', 'disable_tool_validation',
  'documents', 'exclude_domains', 'frequency_penalty', 'function_call', 'functions',
  'include_domains', 'include_reasoning', 'logit_bias', 'logprobs', 'max_completion_tokens',
  'max_tokens', 'metadata', 'n', 'parallel_tool_calls', 'presence_penalty',
  'reasoning_effort', 'reasoning_format', 'response_format', 'search_settings', 'seed',
  'service_tier', 'stop', 'store', 'stream', 'stream_options', 'temperature', 'tool_choice',
  'tools', 'top_logprobs', 'top_p', 'user',
]);
const REJECTED = ['logprobs', 'logit_bias', 'top_logprobs'];

const SCENARIOS = new Set([
  'ok', 'tools', 'xgroq-only', 'slow-release', 'stream-error', 'stream-cut', 'stream-eof',
  'err-400-context', 'err-401', 'err-404', 'err-413', 'err-429', 'err-498',
  'err-500', 'err-503',
]);

const MODELS = ['llama-3.3-70b-versatile', 'llama-3.1-8b-instant', 'mock-ok', 'mock-tools'];

function gerr(message, type, code, param) {
  const e = { message, type };
  if (param !== undefined) e.param = param;
  if (code !== undefined) e.code = code;
  return { error: e };
}

function reqId(ctx) {
  return 'req_01mock' + crypto.createHash('md5').update('groq' + ctx.record.seq).digest('hex').slice(0, 18);
}

function headers(ctx) {
  return {
    'x-request-id': reqId(ctx),
    'x-ratelimit-limit-requests': '14400',
    'x-ratelimit-limit-tokens': '6000',
    'x-ratelimit-remaining-requests': '14399',
    'x-ratelimit-remaining-tokens': '5900',
    'x-ratelimit-reset-requests': '6s',
    'x-ratelimit-reset-tokens': '1s',
  };
}

function send(ctx, status, obj, extra) {
  L.sendJson(ctx, status, obj, Object.assign(headers(ctx), extra || {}));
}

function bad(ctx, message, extraFields) {
  send(ctx, 400, gerr(message, 'invalid_request_error', ...(extraFields || [])));
}

function scenario(ctx, model) {
  let m = model;
  if (m.endsWith('-split')) {
    ctx.split = true;
    m = m.slice(0, -'-split'.length);
  }
  if (!m.startsWith('mock-')) return 'ok';
  const s = m.slice('mock-'.length);
  return SCENARIOS.has(s) ? s : null;
}

function bearer(ctx) {
  const h = ctx.req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S.*)$/i.exec(h) : null;
  return m ? m[1] : null;
}

function unauthorized(ctx) {
  send(ctx, 401, gerr('Invalid API Key', 'invalid_request_error', 'invalid_api_key'));
}

function notFound(ctx, model) {
  send(ctx, 404, gerr(`The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found'));
}

// the nearest allowed field name, for Groq's "did you mean" hint
function didYouMean(k) {
  let best = null;
  let bestD = 3;
  for (const f of FIELDS) {
    const d = lev(k, f);
    if (d < bestD) { best = f; bestD = d; }
  }
  return best ? `, did you mean '${best}'?` : '';
}

function lev(a, b) {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length][b.length];
}

// false when answered
function preflight(ctx) {
  if (!bearer(ctx)) {
    unauthorized(ctx);
    return false;
  }
  const b = ctx.json;
  if (ctx.jsonError || !b || typeof b !== 'object' || Array.isArray(b)) {
    bad(ctx, "We could not parse the JSON body of your request. Please check that the body is valid JSON.");
    return false;
  }
  if (typeof b.model !== 'string' || !b.model) {
    bad(ctx, "'model' : property 'model' is missing");
    return false;
  }
  ctx.scenario = scenario(ctx, b.model);
  if (ctx.scenario === null) {
    notFound(ctx, b.model);
    return false;
  }
  switch (ctx.scenario) {
    case 'err-400-context':
      bad(ctx, 'Please reduce the length of the messages or completion.', ['context_length_exceeded', 'messages']);
      return false;
    case 'err-401':
      unauthorized(ctx);
      return false;
    case 'err-404':
      notFound(ctx, b.model);
      return false;
    case 'err-413':
      send(ctx, 413, gerr(`Request too large for model \`${b.model}\` in organization \`org_01mock\` service tier \`on_demand\` on tokens per minute (TPM): Limit 6000, Requested 12328, please reduce your message size and try again.`, 'tokens', 'rate_limit_exceeded'));
      return false;
    case 'err-429':
      send(ctx, 429, gerr(`Rate limit reached for model \`${b.model}\` in organization \`org_01mock\` service tier \`on_demand\` on requests per minute (RPM): Limit 30, Used 30, Requested 1. Please try again in 2s.`, 'requests', 'rate_limit_exceeded'),
        { 'retry-after': '2', 'x-ratelimit-remaining-requests': '0' });
      return false;
    case 'err-498':
      send(ctx, 498, gerr('Flex tier capacity exceeded. This model is currently at capacity for the flex tier, please try again later.', 'capacity_exceeded', 'capacity_exceeded'));
      return false;
    case 'err-500':
      send(ctx, 500, gerr('Internal Server Error', 'internal_server_error'));
      return false;
    case 'err-503':
      send(ctx, 503, gerr('Service Unavailable', 'internal_server_error'), { 'retry-after': '1' });
      return false;
    default:
      return true;
  }
}

// Groq's own validation; false when answered
function checkChat(ctx) {
  const b = ctx.json;
  for (const k of Object.keys(b)) {
    if (!FIELDS.has(k)) {
      bad(ctx, `property '${k}' is unsupported${didYouMean(k)}`);
      return false;
    }
  }
  for (const k of REJECTED) {
    if (b[k] !== undefined && b[k] !== null) {
      bad(ctx, `'${k}' : ${k} is not supported`, [undefined, k]);
      return false;
    }
  }
  if (b.n !== undefined && b.n !== null && b.n !== 1) {
    bad(ctx, "'n' : number must be at most 1", [undefined, 'n']);
    return false;
  }
  if (!Array.isArray(b.messages) || b.messages.length === 0) {
    bad(ctx, "'messages' : minimum number of items is 1");
    return false;
  }
  for (let i = 0; i < b.messages.length; i++) {
    const m = b.messages[i];
    if (!m || typeof m !== 'object') {
      bad(ctx, `'messages.${i}' : value must be an object`);
      return false;
    }
    if (m.name !== undefined) {
      bad(ctx, `'messages.${i}' : for 'role:${m.role}' the following must be satisfied[('messages.${i}.name' : property 'name' is unsupported)]`);
      return false;
    }
  }
  if (b.stream_options !== undefined && b.stream_options !== null && b.stream !== true) {
    bad(ctx, "'stream_options' : stream_options is only allowed when stream is true", [undefined, 'stream_options']);
    return false;
  }
  return true;
}

// ---- chat -----------------------------------------------------------------

function toolCalls(ctx) {
  const tools = Array.isArray(ctx.json.tools) ? ctx.json.tools : [];
  const t = tools[0];
  const name = t && t.function && typeof t.function.name === 'string' ? t.function.name : 'get_weather';
  const text = L.lastUserText(ctx.json.messages);
  return [{ id: `call_${crypto.createHash('md5').update('g' + ctx.record.seq).digest('hex').slice(0, 24)}`, type: 'function', function: { name, arguments: JSON.stringify({ city: 'Paris', query: text }) } }];
}

function usage(ctx, completionText) {
  const p = L.messagesTokens(ctx.json.messages);
  const c = Math.max(1, L.countTokens(completionText));
  return {
    queue_time: 0.021, prompt_tokens: p, prompt_time: 0.004, completion_tokens: c,
    completion_time: 0.01, total_tokens: p + c, total_time: 0.014,
  };
}

function completion(ctx) {
  const isTools = ctx.scenario === 'tools';
  const calls = isTools ? toolCalls(ctx) : null;
  const content = isTools ? null : 'echo: ' + L.lastUserText(ctx.json.messages);
  const message = { role: 'assistant', content };
  if (calls) message.tool_calls = calls;
  return {
    id: 'chatcmpl-' + crypto.createHash('md5').update('gc' + ctx.record.seq).digest('hex').slice(0, 24),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: ctx.json.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: isTools ? 'tool_calls' : 'stop' }],
    usage: usage(ctx, content || calls[0].function.arguments),
    usage_breakdown: null,
    system_fingerprint: 'fp_mockgroq',
    x_groq: { id: reqId(ctx) },
    service_tier: 'on_demand',
  };
}

function chat(ctx) {
  if (!preflight(ctx)) return;
  if (!checkChat(ctx)) return;
  if (ctx.json.stream === true) return chatStream(ctx);
  const resp = completion(ctx);
  switch (ctx.scenario) {
    case 'slow-release':
      return ctx.waitRelease(() => send(ctx, 200, resp));
    case 'stream-error':
      return send(ctx, 500, gerr('Internal Server Error', 'internal_server_error'));
    case 'stream-cut': {
      const body = Buffer.from(JSON.stringify(resp));
      ctx.res.writeHead(200, Object.assign({ 'content-type': 'application/json', 'content-length': body.length }, headers(ctx)));
      const w = new L.BodyWriter(ctx);
      w.write(body.subarray(0, body.length >> 1));
      return w.cut();
    }
    case 'stream-eof': {
      const s = JSON.stringify(resp);
      return send(ctx, 200, s.slice(0, s.length >> 1));
    }
    default:
      return send(ctx, 200, resp);
  }
}

function chatStream(ctx) {
  const b = ctx.json;
  const so = b.stream_options && typeof b.stream_options === 'object' ? b.stream_options : {};
  const includeUsage = so.include_usage === true;
  const id = 'chatcmpl-' + crypto.createHash('md5').update('gs' + ctx.record.seq).digest('hex').slice(0, 24);
  const created = Math.floor(Date.now() / 1000);
  const base = () => ({ id, object: 'chat.completion.chunk', created, model: b.model, system_fingerprint: 'fp_mockgroq' });
  const chunk = (delta, finish, xg) => {
    const c = Object.assign(base(), { choices: [{ index: 0, delta, logprobs: null, finish_reason: finish || null }] });
    if (xg) c.x_groq = xg;
    return c;
  };
  const w = L.startSse(ctx, headers(ctx));
  let produced = '';
  const finish = (reason) => {
    const u = usage(ctx, produced);
    w.data(chunk({}, reason, { id: reqId(ctx), usage: u }));
    if (includeUsage && ctx.scenario !== 'xgroq-only') w.data(Object.assign(base(), { choices: [], usage: u, x_groq: { id: reqId(ctx), usage: u } }));
    w.data('[DONE]');
    w.end();
  };
  w.data(chunk({ role: 'assistant', content: '' }, null, { id: reqId(ctx) }));
  if (ctx.scenario === 'tools') {
    const calls = toolCalls(ctx).map((c, index) => Object.assign({ index }, c));
    w.data(chunk({ tool_calls: calls }));
    produced = calls[0].function.arguments;
    return finish('tool_calls');
  }
  const text = 'echo: ' + L.lastUserText(b.messages);
  const frags = L.fragments(text, 3);
  const sendFrags = (list) => {
    for (const f of list) {
      w.data(chunk({ content: f }));
      produced += f;
    }
  };
  switch (ctx.scenario) {
    case 'slow-release': {
      const head = 'echo: ';
      produced += head;
      w.data(chunk({ content: head }), () => ctx.waitRelease(() => {
        sendFrags(L.fragments(text.slice(head.length), 3));
        finish('stop');
      }));
      return;
    }
    case 'stream-error':
      sendFrags(frags.slice(0, 2));
      w.data(gerr('The model failed in the middle of the stream (mock)', 'internal_server_error', 'mock_stream_error'));
      return w.end();
    case 'stream-cut':
      sendFrags(frags.slice(0, 2));
      return w.cut();
    case 'stream-eof':
      sendFrags(frags.slice(0, 2));
      return w.end();
    default:
      sendFrags(frags);
      return finish('stop');
  }
}

function models(ctx) {
  if (!bearer(ctx)) return unauthorized(ctx);
  send(ctx, 200, {
    object: 'list',
    data: MODELS.map((id) => ({ id, object: 'model', created: 1693721698, owned_by: 'Meta', active: true, context_window: 131072, public_apps: null })),
  });
}

function noEmbeddings(ctx) {
  if (!bearer(ctx)) return unauthorized(ctx);
  send(ctx, 404, gerr(`Unknown request URL: POST ${ctx.url.pathname.replace(/^\/groq/, '')}. Please check the URL for typos, or see the docs at https://console.groq.com/docs/`, 'invalid_request_error', 'unknown_url'));
}

module.exports = {
  name: 'groq',
  routes: [
    { name: 'chat', method: 'POST', pattern: /^\/groq\/openai\/v1\/chat\/completions\/?$/, handler: chat },
    { name: 'models', method: 'GET', pattern: /^\/groq\/openai\/v1\/models\/?$/, handler: models },
    { name: 'embeddings', method: 'POST', pattern: /^\/groq\/openai\/v1\/embeddings\/?$/, handler: noEmbeddings },
  ],
};
