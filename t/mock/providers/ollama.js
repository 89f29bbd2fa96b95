'use strict';
// Ollama's native API, as in /work/shared/providers/ollama.md:
//
//   POST <prefix>/api/chat         NDJSON stream (application/x-ndjson) unless
//                                  "stream": false -- an ABSENT "stream" streams,
//                                  exactly like Ollama
//   POST <prefix>/api/embed        {model, input: string | [string], dimensions,
//                                  truncate, keep_alive, options}
//   POST <prefix>/api/embeddings   the older single-prompt form {model, prompt}
//   GET  <prefix>/api/tags         the local model list
//   GET  <prefix>/api/version      {"version": "..."}
//
// Any path prefix is accepted (api_base http://127.0.0.1:P or
// http://127.0.0.1:P/some/prefix).  Ollama itself takes no key: the
// Authorization header is only recorded (tests check what the gateway
// sent), never required.
//
// Errors are Ollama's {"error": "<text>"} with the status Ollama uses.
// Request bodies are checked the way Ollama's Go decoder sees them: a
// "content" that is not a string, tool-call "arguments" that are not an
// object, "images" that are not base64 strings, a "format" that is neither
// "json" nor a schema object all fail with 400 and Go's wording.
//
// Behaviour by model name (a ":tag" is ignored, "-split" suffix or header
// "x-mock-split: 1" writes the body in 1..7-byte pieces):
//
//   mock-ok (and any name not starting with "mock-")
//                       content "echo: <last user text>"; with "format" the
//                       content is the JSON text {"echo": "<text>"}; with
//                       options.num_predict smaller than the reply, the reply
//                       is cut to that many tokens and done_reason is "length"
//   mock-think          message.thinking "thinking about <text>" then content
//   mock-tools          one tool call, NO id, arguments an OBJECT
//                       {"city":"Paris","query":<text>}; name = first tools[]
//                       function (else get_weather); streamed whole in one line
//   mock-tools2         two tool calls in one message (Paris, Tokyo), no ids
//   mock-err-400        400 {"error": "..."}
//   mock-err-404        404 model "<m>" not found, try pulling it first
//   mock-err-429        429 (retry-after: 3)
//   mock-err-500        500
//   mock-err-502        502 (cloud model unreachable)
//   mock-err-context    500 "the input length exceeds the context length"
//   mock-slow-release   stream: first line "echo: ", then waits for
//                       POST /__release; non-stream: waits, then answers
//   mock-stream-error   stream: two content lines then {"error": "..."} and
//                       the end of the body; non-stream: 500
//   mock-stream-cut     stream: two content lines then a TCP reset;
//                       non-stream: half the JSON, then a reset
//   mock-stream-eof     stream: two content lines then a clean end without
//                       the "done": true line
//   any other mock-*    404 (catches typos in tests)
//
// Embeddings: vectors of `dimensions` (default 8) float32 values,
// L2-normalised like Ollama's, derived from the text; the same text always
// gives the same vector.

const L = require('../lib');

const VERSION = '0.12.6';

const TAG_MODELS = [
  'mock-ok:latest', 'mock-tools:latest', 'mock-think:latest', 'llama3.2:latest',
  'nomic-embed-text:latest', 'all-minilm:latest',
];

const SCENARIOS = new Set([
  'ok', 'think', 'tools', 'tools2', 'slow-release', 'stream-error', 'stream-cut',
  'stream-eof', 'err-400', 'err-404', 'err-429', 'err-500', 'err-502', 'err-context',
]);

function errBody(message) {
  return { error: message };
}

function notFound(model) {
  return errBody(`model "${model}" not found, try pulling it first`);
}

// gin's c.JSON: this content type for every JSON answer
const JSON_CT = { 'content-type': 'application/json; charset=utf-8' };

function sendJson(ctx, status, obj, headers) {
  L.sendJson(ctx, status, obj, Object.assign({}, JSON_CT, headers || {}));
}

// "mock-ok-split:latest" -> "ok" (ctx.split set); "llama3.2" -> "ok"
function scenario(ctx, model) {
  let m = model.replace(/:[^:/]*$/, '');
  if (m.endsWith('-split')) {
    ctx.split = true;
    m = m.slice(0, -'-split'.length);
  }
  if (!m.startsWith('mock-')) return 'ok';
  const s = m.slice('mock-'.length);
  return SCENARIOS.has(s) ? s : null;
}

function nowIso() {
  return new Date().toISOString().replace('Z', '000Z');
}

// ---- request checks, in the words of Ollama's Go JSON decoder ------------

function goType(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v; // string, number, boolean
}

function unmarshalErr(v, field, want) {
  return `json: cannot unmarshal ${goType(v)} into Go struct field ${field} of type ${want}`;
}

// Go's encoding/base64 StdEncoding, as api.ImageData ([]byte) decodes it
function base64Error(s) {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
    let i = 0;
    while (i < s.length && /[A-Za-z0-9+/]/.test(s[i])) i++;
    if (i === s.length) i = s.length - (s.length % 4);
    return `illegal base64 data at input byte ${i}`;
  }
  return null;
}

// returns an error text or null
function checkMessages(msgs) {
  if (msgs === undefined || msgs === null) return null;
  if (!Array.isArray(msgs)) return unmarshalErr(msgs, 'ChatRequest.messages', '[]api.Message');
  for (const m of msgs) {
    if (goType(m) !== 'object') return unmarshalErr(m, 'ChatRequest.messages', 'api.Message');
    for (const k of ['role', 'content', 'thinking', 'tool_name', 'tool_call_id']) {
      if (m[k] !== undefined && m[k] !== null && typeof m[k] !== 'string') {
        return unmarshalErr(m[k], `Message.messages.${k}`, 'string');
      }
    }
    if (m.images !== undefined && m.images !== null) {
      if (!Array.isArray(m.images)) return unmarshalErr(m.images, 'Message.messages.images', '[]api.ImageData');
      for (const im of m.images) {
        if (typeof im !== 'string') return unmarshalErr(im, 'Message.messages.images', 'api.ImageData');
        const e = base64Error(im);
        if (e) return e;
      }
    }
    if (m.tool_calls !== undefined && m.tool_calls !== null) {
      if (!Array.isArray(m.tool_calls)) return unmarshalErr(m.tool_calls, 'Message.messages.tool_calls', '[]api.ToolCall');
      for (const tc of m.tool_calls) {
        if (goType(tc) !== 'object') return unmarshalErr(tc, 'Message.messages.tool_calls', 'api.ToolCall');
        const f = tc.function;
        if (f !== undefined && f !== null) {
          if (goType(f) !== 'object') return unmarshalErr(f, 'ToolCall.messages.tool_calls.function', 'api.ToolCallFunction');
          if (f.name !== undefined && typeof f.name !== 'string') return unmarshalErr(f.name, 'ToolCallFunction.messages.tool_calls.function.name', 'string');
          if (f.arguments !== undefined && f.arguments !== null && goType(f.arguments) !== 'object') {
            return unmarshalErr(f.arguments, 'ToolCallFunction.messages.tool_calls.function.arguments', 'api.ToolCallFunctionArguments');
          }
        }
      }
    }
  }
  return null;
}

function checkChat(b) {
  const e = checkMessages(b.messages);
  if (e) return e;
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') {
    return unmarshalErr(b.stream, 'ChatRequest.stream', 'bool');
  }
  if (b.options !== undefined && b.options !== null && goType(b.options) !== 'object') {
    return unmarshalErr(b.options, 'ChatRequest.options', 'map[string]interface {}');
  }
  if (b.tools !== undefined && b.tools !== null && !Array.isArray(b.tools)) {
    return unmarshalErr(b.tools, 'ChatRequest.tools', 'api.Tools');
  }
  const f = b.format;
  if (f !== undefined && f !== null && f !== '' && !(f === 'json' || goType(f) === 'object')) {
    return 'invalid format: expected "json" or a valid JSON schema';
  }
  const t = b.think;
  if (t !== undefined && t !== null && typeof t !== 'boolean' && !['high', 'medium', 'low'].includes(t)) {
    return `invalid think value: ${JSON.stringify(t)} (must be "high", "medium", "low", true, or false)`;
  }
  return null;
}

// Shared by every route that takes a JSON body: false when answered.
function preflight(ctx) {
  if (!ctx.text.length) {
    sendJson(ctx, 400, errBody('missing request body'));
    return false;
  }
  const b = ctx.json;
  if (ctx.jsonError || goType(b) !== 'object') {
    sendJson(ctx, 400, errBody(ctx.jsonError ? 'invalid character in request body: ' + ctx.jsonError : unmarshalErr(b, '', 'api.Request')));
    return false;
  }
  if (typeof b.model !== 'string' || !b.model) {
    sendJson(ctx, 400, errBody('model is required'));
    return false;
  }
  ctx.scenario = scenario(ctx, b.model);
  if (ctx.scenario === null) {
    sendJson(ctx, 404, notFound(b.model));
    return false;
  }
  switch (ctx.scenario) {
    case 'err-400':
      sendJson(ctx, 400, errBody('mock: bad request (mock-err-400)'));
      return false;
    case 'err-404':
      sendJson(ctx, 404, notFound(b.model));
      return false;
    case 'err-429':
      sendJson(ctx, 429, errBody('too many requests, please try again later'), { 'retry-after': '3' });
      return false;
    case 'err-500':
      sendJson(ctx, 500, errBody('llama runner process has terminated: exit status 2'));
      return false;
    case 'err-502':
      sendJson(ctx, 502, errBody('remote model is unreachable'));
      return false;
    case 'err-context':
      sendJson(ctx, 500, errBody('the input length exceeds the context length'));
      return false;
    default:
      return true;
  }
}

// ---- chat -----------------------------------------------------------------

function toolName(b, i) {
  const tools = Array.isArray(b.tools) ? b.tools : [];
  const t = tools[i] || tools[0];
  return t && t.function && typeof t.function.name === 'string' ? t.function.name : 'get_weather';
}

function toolCalls(ctx) {
  const b = ctx.json;
  const text = L.lastUserText(b.messages);
  const n = ctx.scenario === 'tools2' ? 2 : 1;
  const out = [];
  for (let i = 0; i < n; i++) {
    // older servers: no id, no index -- the gateway mints ids
    out.push({ function: { name: toolName(b, i), arguments: { city: i ? 'Tokyo' : 'Paris', query: text } } });
  }
  return out;
}

// the reply text and done_reason, honouring format and options.num_predict
function reply(ctx) {
  const b = ctx.json;
  const user = L.lastUserText(b.messages);
  let text = 'echo: ' + user;
  if (b.format === 'json' || goType(b.format) === 'object') text = JSON.stringify({ echo: user });
  let reason = 'stop';
  const np = b.options && b.options.num_predict;
  if (Number.isInteger(np) && np > 0) {
    const toks = [...text.matchAll(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu)];
    if (toks.length > np) {
      const last = toks[np - 1];
      text = text.slice(0, last.index + last[0].length);
      reason = 'length';
    }
  }
  return { text, reason };
}

function counters(ctx, completionText) {
  const p = L.messagesTokens(ctx.json.messages);
  const c = Math.max(1, L.countTokens(completionText));
  return {
    total_duration: 48000000 + ctx.record.seq,
    load_duration: 2100000,
    prompt_eval_count: p,
    prompt_eval_duration: 11000000,
    eval_count: c,
    eval_duration: 32000000,
  };
}

function final(ctx, message, reason, produced) {
  return Object.assign({
    model: ctx.json.model,
    created_at: nowIso(),
    message,
    done_reason: reason,
    done: true,
  }, counters(ctx, produced));
}

function chat(ctx) {
  if (!preflight(ctx)) return;
  const b = ctx.json;
  const e = checkChat(b);
  if (e) return sendJson(ctx, 400, errBody(e));
  // Ollama: an absent "stream" means true
  const stream = b.stream === undefined || b.stream === null ? true : b.stream;
  if (stream) return chatStream(ctx);

  const isTools = ctx.scenario === 'tools' || ctx.scenario === 'tools2';
  let message;
  let reason = 'stop';
  let produced;
  if (isTools) {
    const calls = toolCalls(ctx);
    message = { role: 'assistant', content: '', tool_calls: calls };
    produced = calls.map((c) => JSON.stringify(c.function.arguments)).join(' ');
  } else {
    const r = reply(ctx);
    message = { role: 'assistant', content: r.text };
    if (ctx.scenario === 'think') message.thinking = 'thinking about ' + L.lastUserText(b.messages);
    reason = r.reason;
    produced = r.text;
  }
  const resp = final(ctx, message, reason, produced);
  switch (ctx.scenario) {
    case 'slow-release':
      return ctx.waitRelease(() => sendJson(ctx, 200, resp));
    case 'stream-error':
      return sendJson(ctx, 500, errBody('llama runner process has terminated: signal: killed'));
    case 'stream-cut': {
      const body = Buffer.from(JSON.stringify(resp));
      ctx.res.writeHead(200, Object.assign({ 'content-length': body.length }, JSON_CT));
      const w = new L.BodyWriter(ctx);
      w.write(body.subarray(0, body.length >> 1));
      return w.cut();
    }
    case 'stream-eof': {
      const s = JSON.stringify(resp);
      return sendJson(ctx, 200, s.slice(0, s.length >> 1));
    }
    default:
      return sendJson(ctx, 200, resp);
  }
}

function chatStream(ctx) {
  const b = ctx.json;
  ctx.res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const w = new L.BodyWriter(ctx);
  const line = (obj, cb) => w.write(JSON.stringify(obj) + '\n', cb);
  const part = (message) => ({ model: b.model, created_at: nowIso(), message, done: false });
  let produced = '';
  const finish = (reason) => {
    line(final(ctx, { role: 'assistant', content: '' }, reason, produced));
    w.end();
  };

  if (ctx.scenario === 'tools' || ctx.scenario === 'tools2') {
    const calls = toolCalls(ctx);
    // the whole call(s) in one line, as Ollama streams them
    line(part({ role: 'assistant', content: '', tool_calls: calls }));
    produced = calls.map((c) => JSON.stringify(c.function.arguments)).join(' ');
    return finish('stop');
  }

  if (ctx.scenario === 'think') {
    for (const f of L.fragments('thinking about ' + L.lastUserText(b.messages), 4)) {
      line(part({ role: 'assistant', content: '', thinking: f }));
    }
  }

  const r = reply(ctx);
  const frags = L.fragments(r.text, 3);
  const send = (list) => {
    for (const f of list) {
      line(part({ role: 'assistant', content: f }));
      produced += f;
    }
  };

  switch (ctx.scenario) {
    case 'slow-release': {
      const head = 'echo: ';
      produced += head;
      line(part({ role: 'assistant', content: head }), () => ctx.waitRelease(() => {
        send(L.fragments(r.text.slice(head.length), 3));
        finish(r.reason);
      }));
      return;
    }
    case 'stream-error':
      send(frags.slice(0, 2));
      line(errBody('llama runner process has terminated: signal: killed'));
      return w.end();
    case 'stream-cut':
      send(frags.slice(0, 2));
      return w.cut();
    case 'stream-eof':
      send(frags.slice(0, 2));
      return w.end();
    default:
      send(frags);
      return finish(r.reason);
  }
}

// ---- embeddings -----------------------------------------------------------

function fnv1a(s) {
  let h = 0x811c9dc5;
  for (const x of Buffer.from(s, 'utf8')) {
    h ^= x;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// float32 values (Ollama's []float32), L2-normalised
function vector(input, dims) {
  const h = fnv1a(input);
  const v = [];
  for (let i = 0; i < dims; i++) {
    const x = (Math.imul(h ^ (i * 0x9e3779b1), 2654435761) >>> 0) % 2001;
    v.push((x - 1000) / 1024 || 1 / 1024);
  }
  const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return v.map((x) => Math.fround(x / n));
}

function embedDims(ctx) {
  const d = ctx.json.dimensions;
  if (d === undefined || d === null) return 8;
  if (!Number.isInteger(d)) {
    sendJson(ctx, 400, errBody(unmarshalErr(d, 'EmbedRequest.dimensions', 'int')));
    return null;
  }
  if (d < 1 || d > 4096) {
    sendJson(ctx, 400, errBody(`invalid dimensions: ${d}, must be between 1 and 4096`));
    return null;
  }
  return d;
}

function embed(ctx) {
  if (!preflight(ctx)) return;
  const b = ctx.json;
  let inputs = b.input;
  if (inputs === undefined || inputs === null) inputs = [];
  else if (typeof inputs === 'string') inputs = [inputs];
  else if (!Array.isArray(inputs) || !inputs.every((x) => typeof x === 'string')) {
    return sendJson(ctx, 400, errBody('invalid input type'));
  }
  if (b.truncate !== undefined && b.truncate !== null && typeof b.truncate !== 'boolean') {
    return sendJson(ctx, 400, errBody(unmarshalErr(b.truncate, 'EmbedRequest.truncate', 'bool')));
  }
  const dims = embedDims(ctx);
  if (dims === null) return;
  if (b.truncate === false && inputs.some((x) => L.countTokens(x) > 512)) {
    return sendJson(ctx, 400, errBody('the input length exceeds the context length'));
  }
  let tokens = 0;
  const embeddings = inputs.map((x) => {
    tokens += Math.max(1, L.countTokens(x));
    return vector(x, dims);
  });
  const resp = { model: b.model, embeddings, total_duration: 14000000, load_duration: 1000000, prompt_eval_count: tokens };
  if (ctx.scenario === 'slow-release') return ctx.waitRelease(() => sendJson(ctx, 200, resp));
  sendJson(ctx, 200, resp);
}

// the older /api/embeddings: {model, prompt} -> {embedding: [...]}
function embeddingsLegacy(ctx) {
  if (!preflight(ctx)) return;
  const b = ctx.json;
  if (b.prompt !== undefined && typeof b.prompt !== 'string') {
    return sendJson(ctx, 400, errBody(unmarshalErr(b.prompt, 'EmbeddingRequest.prompt', 'string')));
  }
  sendJson(ctx, 200, { embedding: b.prompt ? vector(b.prompt, 8) : [] });
}

// ---- models ---------------------------------------------------------------

function tags(ctx) {
  const models = TAG_MODELS.map((name, i) => ({
    name,
    model: name,
    modified_at: '2025-07-07T20:22:19.184125-07:00',
    size: 2019393189 + i,
    digest: (fnv1a(name).toString(16).padStart(8, '0')).repeat(8),
    details: {
      parent_model: '',
      format: 'gguf',
      family: 'llama',
      families: ['llama'],
      parameter_size: '3.2B',
      quantization_level: 'Q4_K_M',
    },
  }));
  sendJson(ctx, 200, { models });
}

function version(ctx) {
  sendJson(ctx, 200, { version: VERSION });
}

module.exports = {
  name: 'ollama',
  routes: [
    { name: 'chat', method: 'POST', pattern: /^(?<prefix>.*)\/api\/chat\/?$/, handler: chat },
    { name: 'embed', method: 'POST', pattern: /^(?<prefix>.*)\/api\/embed\/?$/, handler: embed },
    { name: 'embeddings', method: 'POST', pattern: /^(?<prefix>.*)\/api\/embeddings\/?$/, handler: embeddingsLegacy },
    { name: 'tags', method: 'GET', pattern: /^(?<prefix>.*)\/api\/tags\/?$/, handler: tags },
    { name: 'version', method: 'GET', pattern: /^(?<prefix>.*)\/api\/version\/?$/, handler: version },
  ],
  vector,
};
