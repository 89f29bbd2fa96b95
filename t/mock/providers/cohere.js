'use strict';
// Cohere's v2 wire format (Chat and Embed), as in
// /work/shared/providers/cohere.md and Cohere's OpenAPI spec (the request
// and response schemas of the official cohere-ai SDK agree with it):
//
//   POST <prefix>/v2/chat     ChatResponseV2, or SSE with named events
//                             (stream: true)
//   POST <prefix>/v2/embed    EmbedByTypeResponse
//
// Any path prefix is accepted (api_base http://127.0.0.1:P and
// http://127.0.0.1:P/cohere both work).  "Authorization: Bearer <key>" is
// required; without it Cohere's 401 {"id","message":"no api key supplied"}.
//
// The request is validated like Cohere does, so that a bad translation by
// the gateway fails loudly instead of passing by accident:
//   * a field Cohere does not know, at the top level or inside messages,
//     tools, tool calls, content parts, ... -> 422 "unknown field: parameter
//     'top_p' is not a valid field. For proper usage, please refer to
//     https://docs.cohere.com/reference/chat" (Cohere's answer, e.g. for an
//     OpenAI "strict" inside a tool definition).  So OpenAI-only names
//     (top_p, stop, max_completion_tokens, n, user, logit_bias,
//     stream_options, parallel_tool_calls, ...) are refused.
//   * a known field with a wrong type or value -> 400 "invalid request: ..."
//     (roles other than system/user/assistant/tool, a tool message without
//     tool_call_id or answering an unknown call, tool_choice other than
//     REQUIRED/NONE or without tools, temperature outside 0..1, p outside
//     0.01..0.99, k outside 0..500, more than 5 stop_sequences, a tool
//     without "parameters", tool call arguments that are not a string, ...).
//
// Behaviour is chosen by the model id the gateway sends.  Ids not starting
// with "mock-" (command-a-03-2025, embed-v4.0, ...) behave as mock-ok.  A
// "-split" suffix (mock-ok-split, mock-tools-split, ...) or the header
// "x-mock-split: 1" writes the body in 1..7-byte pieces, cutting inside
// multi-byte UTF-8 characters, right after "data:" and between the two
// "\n" that end an event.
//
//   mock-ok               content [{type:"text", text:"echo: <last user text>"}],
//                         finish_reason COMPLETE.  max_tokens smaller than
//                         the answer cuts it (MAX_TOKENS); a stop_sequences
//                         entry found in the answer cuts it before the
//                         sequence (STOP_SEQUENCE)
//   mock-tools            tool_plan + one tool call (name = first tools[]
//                         function, else get_weather; arguments
//                         {"city":"Paris","query":<last user text>}),
//                         finish_reason TOOL_CALL.  Stream: tool-plan-delta
//                         events, then tool-call-start / tool-call-delta
//                         (argument fragments of 1..4 characters, cut
//                         anywhere, escapes included) / tool-call-end
//   mock-tools2           two tool calls (index 0 and 1; second city Tokyo,
//                         name = second tools[] function if any)
//   mock-think            a thinking content item before the text
//   mock-cached           like mock-ok, usage.cached_tokens: CACHED_TOKENS
//   mock-finish-error     200 (or a complete stream) whose finish_reason is
//                         ERROR, without any error text
//   mock-finish-timeout   the same with finish_reason TIMEOUT
//   mock-err-400          400 "invalid request: ..."
//   mock-err-400-context  400 "too many tokens: ..."
//   mock-err-401          401 "invalid api token"
//   mock-err-402          402 billing limit
//   mock-err-404          404 "model '<id>' not found, ..."
//   mock-err-422          422 unknown field
//   mock-err-429          429 "You are past the per minute request limit,
//                         please wait and try again later." + retry-after: 7
//                         (Cohere does not document Retry-After; the mock
//                         sends one so that passing it through is tested)
//   mock-err-500          500
//   mock-err-503          503
//   mock-slow-release     stream: message-start, content-start and the first
//                         content-delta ("echo: "), then waits for POST
//                         /__release, then the rest; non-stream: waits for
//                         the release, then answers
//   mock-stream-error     stream: 200, two content-deltas, then message-end
//                         with finish_reason ERROR and delta.error (Cohere's
//                         way of failing mid-stream); non-stream: 500
//   mock-stream-cut       stream: two content-deltas, then the TCP
//                         connection is reset (no message-end, no chunked
//                         terminator); non-stream: half of the JSON, reset
//   any other mock-*      404 model not found (catches typos in tests)
//
// Error bodies are Cohere's {"id": "<uuid>", "message": "..."}; the
// messages are the examples of Cohere's errors page.
//
// Usage is Cohere's: {billed_units:{input_tokens, output_tokens},
// tokens:{input_tokens, output_tokens}}, where tokens.input_tokens adds
// Cohere's system preamble (PREAMBLE_TOKENS) to the billed input and
// tokens.output_tokens adds 2 control tokens.  In a stream's message-end the
// counts are written as floats (498.0), as Cohere does.
//
// Embeddings: embedding_types "float" (default) and "base64" (little-endian
// float32, base64) are answered; output_dimension 256/512/1024/1536 sets the
// length, otherwise 8 (small on purpose).  Values are k/1024, exact in
// float32, so float and base64 decode to the same numbers.
// meta.billed_units.input_tokens = token count of the texts.

const L = require('../lib');

const PREAMBLE_TOKENS = 480;
const CACHED_TOKENS = 400;

const CHAT_DOC = 'https://docs.cohere.com/reference/chat';
const EMBED_DOC = 'https://docs.cohere.com/reference/embed';

// ---- errors -------------------------------------------------------------

function uuid(seq, salt) {
  const h = (n) => ((Math.imul(seq + 1, 2654435761) ^ Math.imul(n + salt, 40503)) >>> 0).toString(16).padStart(8, '0');
  const a = h(1);
  const b = h(2);
  const c = h(3);
  const d = h(4);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-a${c.slice(1, 4)}-${c.slice(4)}${d}`;
}

function body(ctx, message) {
  return { id: uuid(ctx.record.seq, 7), message };
}

function headers(ctx, extra) {
  return Object.assign({
    'x-debug-trace-id': uuid(ctx.record.seq, 11).replace(/-/g, ''),
  }, extra || {});
}

function fail(ctx, status, message, extra) {
  L.sendJson(ctx, status, body(ctx, message), headers(ctx, extra));
  return false;
}

const ERRORS = {
  'err-400': [400, () => 'invalid request: prompt must be at least 1 token long.'],
  'err-400-context': [400, () => 'too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292. Try using a shorter prompt, or enabling prompt truncating. See https://docs.cohere.com/reference/chat for more details.'],
  'err-401': [401, () => 'invalid api token'],
  'err-402': [402, () => 'Please add or update your payment method at https://dashboard.cohere.com/billing?tab=payment to continue'],
  'err-404': [404, (m) => `model '${m}' not found, make sure the correct model ID was used and that you have access to the model.`],
  'err-422': [422, () => `unknown field: parameter 'mock' is not a valid field. For proper usage, please refer to ${CHAT_DOC}`],
  'err-429': [429, () => 'You are past the per minute request limit, please wait and try again later.', { 'retry-after': '7' }],
  'err-500': [500, () => 'internal server error, this has been reported to our developers'],
  'err-503': [503, () => 'service unavailable, please try again later'],
};

const SCENARIOS = new Set([
  'ok', 'tools', 'tools2', 'think', 'cached', 'finish-error', 'finish-timeout',
  'slow-release', 'stream-error', 'stream-cut', ...Object.keys(ERRORS),
]);

// "mock-ok-split" -> "ok" with ctx.split; "command-a-03-2025" -> "ok"; typo -> null
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
  if (typeof h !== 'string') return null;
  const m = /^Bearer\s+(\S.*)$/i.exec(h);
  return m ? m[1] : null;
}

// ---- request validation -------------------------------------------------
//
// The checkers throw a Bad(status, message) for the first problem found.

class Bad {
  constructor(status, message) {
    this.status = status;
    this.message = message;
  }
}

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const isInt = (v) => Number.isInteger(v);

function unknownField(name, doc) {
  return new Bad(422, `unknown field: parameter '${name}' is not a valid field. For proper usage, please refer to ${doc}`);
}

function invalid(msg) {
  return new Bad(400, 'invalid request: ' + msg);
}

function onlyKeys(obj, allowed, doc) {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw unknownField(k, doc);
  }
}

function checkText(p, where) {
  onlyKeys(p, ['type', 'text'], CHAT_DOC);
  if (typeof p.text !== 'string') throw invalid(`${where}: text content must have a string "text"`);
}

// content: a string, or an array of parts whose types are in `types`
function checkContent(c, types, where, required) {
  if (c === undefined) {
    if (required) throw invalid(`${where}: content is required`);
    return;
  }
  if (typeof c === 'string') return;
  if (!Array.isArray(c)) throw invalid(`${where}: content must be a string or a list of content blocks`);
  c.forEach((p, i) => {
    const w = `${where}.content[${i}]`;
    if (!isObj(p)) throw invalid(`${w}: content block must be an object`);
    if (!types.includes(p.type)) throw invalid(`${w}: invalid content type '${p.type}', expected one of ${types.join(', ')}`);
    switch (p.type) {
      case 'text':
        return checkText(p, w);
      case 'thinking':
        onlyKeys(p, ['type', 'thinking'], CHAT_DOC);
        if (typeof p.thinking !== 'string') throw invalid(`${w}: thinking content must have a string "thinking"`);
        return;
      case 'image_url': {
        onlyKeys(p, ['type', 'image_url'], CHAT_DOC);
        const iu = p.image_url;
        if (!isObj(iu)) throw invalid(`${w}: image_url must be an object`);
        onlyKeys(iu, ['url', 'detail'], CHAT_DOC);
        if (typeof iu.url !== 'string' || !iu.url) throw invalid(`${w}: image_url.url is required`);
        if (iu.detail !== undefined && !['auto', 'low', 'high'].includes(iu.detail)) throw invalid(`${w}: image_url.detail must be one of auto, low, high`);
        return;
      }
      case 'document': {
        onlyKeys(p, ['type', 'document'], CHAT_DOC);
        if (!isObj(p.document) || !isObj(p.document.data)) throw invalid(`${w}: document.data must be an object`);
        onlyKeys(p.document, ['data', 'id'], CHAT_DOC);
        return;
      }
      default:
    }
  });
}

function checkToolCall(tc, where, ids) {
  if (!isObj(tc)) throw invalid(`${where}: tool call must be an object`);
  onlyKeys(tc, ['id', 'type', 'function'], CHAT_DOC);
  if (typeof tc.id !== 'string' || !tc.id) throw invalid(`${where}: tool call id is required`);
  if (tc.type !== 'function') throw invalid('tool call must be of type function');
  if (!isObj(tc.function)) throw invalid(`${where}: tool call function is required`);
  onlyKeys(tc.function, ['name', 'arguments'], CHAT_DOC);
  if (typeof tc.function.name !== 'string' || !tc.function.name) throw invalid(`${where}: tool call function.name is required`);
  if (tc.function.arguments !== undefined && typeof tc.function.arguments !== 'string') {
    throw invalid(`${where}: tool call function.arguments must be a string`);
  }
  if (typeof tc.function.arguments === 'string' && tc.function.arguments !== '') {
    try { JSON.parse(tc.function.arguments); } catch (_) {
      throw invalid(`${where}: tool call function.arguments must be valid JSON`);
    }
  }
  ids.add(tc.id);
}

function checkMessages(msgs) {
  if (msgs === undefined) throw invalid('messages is required');
  if (!Array.isArray(msgs) || msgs.length === 0) throw invalid('messages must be a non-empty list');
  const ids = new Set();
  msgs.forEach((m, i) => {
    const w = `messages[${i}]`;
    if (!isObj(m)) throw invalid(`${w}: message must be an object`);
    switch (m.role) {
      case 'system':
        onlyKeys(m, ['role', 'content'], CHAT_DOC);
        return checkContent(m.content, ['text'], w, true);
      case 'user':
        onlyKeys(m, ['role', 'content'], CHAT_DOC);
        return checkContent(m.content, ['text', 'image_url'], w, true);
      case 'assistant': {
        onlyKeys(m, ['role', 'content', 'tool_calls', 'tool_plan', 'citations'], CHAT_DOC);
        checkContent(m.content, ['text', 'thinking'], w, false);
        if (m.tool_plan !== undefined && typeof m.tool_plan !== 'string') throw invalid(`${w}: tool_plan must be a string`);
        if (m.tool_calls !== undefined) {
          if (!Array.isArray(m.tool_calls)) throw invalid(`${w}: tool_calls must be a list`);
          m.tool_calls.forEach((tc, k) => checkToolCall(tc, `${w}.tool_calls[${k}]`, ids));
        }
        if (m.citations !== undefined && !Array.isArray(m.citations)) throw invalid(`${w}: citations must be a list`);
        if (m.content === undefined && !(Array.isArray(m.tool_calls) && m.tool_calls.length)) {
          throw invalid(`${w}: assistant message must have either content or tool_calls`);
        }
        return;
      }
      case 'tool':
        onlyKeys(m, ['role', 'tool_call_id', 'content'], CHAT_DOC);
        if (typeof m.tool_call_id !== 'string' || !m.tool_call_id) throw invalid(`${w}: tool message must have a tool_call_id`);
        if (!ids.has(m.tool_call_id)) throw invalid(`${w}: tool_call_id '${m.tool_call_id}' does not match any tool call of a previous assistant message`);
        return checkContent(m.content, ['text', 'document'], w, true);
      default:
        throw invalid(`${w}: invalid role '${m.role}', must be one of system, user, assistant, tool`);
    }
  });
}

function checkTools(tools) {
  if (!Array.isArray(tools)) throw invalid('tools must be a list');
  const names = new Set();
  tools.forEach((t, i) => {
    const w = `tools[${i}]`;
    if (!isObj(t)) throw invalid(`${w}: tool must be an object`);
    onlyKeys(t, ['type', 'function'], CHAT_DOC);
    if (t.type !== 'function') throw invalid(`${w}: tool type must be "function"`);
    if (!isObj(t.function)) throw invalid(`${w}: tool function is required`);
    onlyKeys(t.function, ['name', 'description', 'parameters'], CHAT_DOC);
    const f = t.function;
    if (typeof f.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(f.name)) throw invalid(`${w}: tool name must match ^[a-zA-Z0-9_-]{1,64}$`);
    if (names.has(f.name)) throw invalid(`duplicate tool name '${f.name}'`);
    names.add(f.name);
    if (f.description !== undefined && typeof f.description !== 'string') throw invalid(`${w}: tool description must be a string`);
    if (!isObj(f.parameters)) throw invalid(`${w}: tool parameters are required and must be a JSON schema object`);
  });
}

function range(b, name, lo, hi, integer) {
  const v = b[name];
  if (v === undefined) return;
  if (!isNum(v) || (integer && !isInt(v))) throw invalid(`${name} must be ${integer ? 'an integer' : 'a number'}`);
  if (v < lo || v > hi) throw invalid(`${name} must be between ${lo} and ${hi}, got ${v}`);
}

const CHAT_FIELDS = [
  'model', 'messages', 'stream', 'tools', 'strict_tools', 'documents', 'citation_options',
  'response_format', 'safety_mode', 'max_tokens', 'stop_sequences', 'temperature', 'seed',
  'frequency_penalty', 'presence_penalty', 'k', 'p', 'logprobs', 'tool_choice', 'thinking', 'priority',
];

function checkChat(b) {
  onlyKeys(b, CHAT_FIELDS, CHAT_DOC);
  checkMessages(b.messages);
  if (b.stream !== undefined && typeof b.stream !== 'boolean') throw invalid('stream must be a boolean');
  if (b.tools !== undefined) checkTools(b.tools);
  if (b.strict_tools !== undefined && typeof b.strict_tools !== 'boolean') throw invalid('strict_tools must be a boolean');
  if (b.tool_choice !== undefined) {
    if (b.tool_choice !== 'REQUIRED' && b.tool_choice !== 'NONE') throw invalid(`tool_choice must be one of REQUIRED, NONE, got ${JSON.stringify(b.tool_choice)}`);
    if (!Array.isArray(b.tools) || b.tools.length === 0) throw invalid('tool_choice can only be specified together with tools');
  }
  if (b.documents !== undefined && !Array.isArray(b.documents)) throw invalid('documents must be a list');
  if (b.citation_options !== undefined) {
    if (!isObj(b.citation_options)) throw invalid('citation_options must be an object');
    onlyKeys(b.citation_options, ['mode'], CHAT_DOC);
  }
  if (b.response_format !== undefined) {
    const rf = b.response_format;
    if (!isObj(rf)) throw invalid('response_format must be an object');
    if (rf.type === 'text') onlyKeys(rf, ['type'], CHAT_DOC);
    else if (rf.type === 'json_object') {
      onlyKeys(rf, ['type', 'json_schema'], CHAT_DOC);
      if (rf.json_schema !== undefined && !isObj(rf.json_schema)) throw invalid('response_format.json_schema must be an object');
    } else throw invalid(`response_format.type must be one of text, json_object, got ${JSON.stringify(rf.type)}`);
  }
  if (b.safety_mode !== undefined && !['CONTEXTUAL', 'STRICT', 'OFF'].includes(b.safety_mode)) throw invalid('safety_mode must be one of CONTEXTUAL, STRICT, OFF');
  if (b.max_tokens !== undefined && (!isInt(b.max_tokens) || b.max_tokens < 1)) throw invalid('max_tokens must be a positive integer');
  if (b.stop_sequences !== undefined) {
    if (!Array.isArray(b.stop_sequences) || !b.stop_sequences.every((s) => typeof s === 'string')) throw invalid('stop_sequences must be a list of strings');
    if (b.stop_sequences.length > 5) throw invalid('stop_sequences can contain at most 5 sequences');
  }
  range(b, 'temperature', 0, 1);
  range(b, 'p', 0.01, 0.99);
  range(b, 'k', 0, 500, true);
  range(b, 'frequency_penalty', 0, 1);
  range(b, 'presence_penalty', 0, 1);
  if (b.seed !== undefined && !isInt(b.seed)) throw invalid('seed must be an integer');
  if (b.logprobs !== undefined && typeof b.logprobs !== 'boolean') throw invalid('logprobs must be a boolean');
  if (b.priority !== undefined && (!isInt(b.priority) || b.priority < 0 || b.priority > 999)) throw invalid('priority must be an integer between 0 and 999');
  if (b.thinking !== undefined) {
    const t = b.thinking;
    if (!isObj(t)) throw invalid('thinking must be an object');
    onlyKeys(t, ['type', 'token_budget'], CHAT_DOC);
    if (t.type !== 'enabled' && t.type !== 'disabled') throw invalid('thinking.type must be one of enabled, disabled');
    if (t.token_budget !== undefined && (!isInt(t.token_budget) || t.token_budget < 1)) throw invalid('thinking.token_budget must be a positive integer');
  }
}

// Auth, JSON, model, scenario errors.  Returns false when answered.
function preflight(ctx) {
  const key = bearer(ctx);
  if (!key) return fail(ctx, 401, 'no api key supplied');
  ctx.apiKey = key;
  const b = ctx.json;
  if (ctx.jsonError || !isObj(b)) return fail(ctx, 400, 'invalid request: the request body must be a valid JSON object');
  if (typeof b.model !== 'string' || !b.model) return fail(ctx, 400, 'invalid request: model must be specified');
  ctx.scenario = scenario(ctx, b.model);
  if (ctx.scenario === null) return fail(ctx, 404, ERRORS['err-404'][1](b.model));
  const e = ERRORS[ctx.scenario];
  if (e) return fail(ctx, e[0], e[1](b.model), e[2]);
  return true;
}

// ---- chat ---------------------------------------------------------------

function textOf(c) {
  return L.contentText(c);
}

// input the customer is billed for: every message's text (+ tool calls)
function billedInput(b) {
  let n = 0;
  for (const m of b.messages) {
    n += L.countTokens(textOf(m.content));
    for (const tc of m.tool_calls || []) n += L.countTokens(tc.function.name + ' ' + (tc.function.arguments || ''));
  }
  for (const t of b.tools || []) n += L.countTokens(JSON.stringify(t.function));
  return Math.max(1, n);
}

function usageFor(ctx, outText) {
  const bin = billedInput(ctx.json);
  const bout = Math.max(1, L.countTokens(outText));
  const u = {
    billed_units: { input_tokens: bin, output_tokens: bout },
    tokens: { input_tokens: bin + PREAMBLE_TOKENS, output_tokens: bout + 2 },
  };
  if (ctx.scenario === 'cached') u.cached_tokens = CACHED_TOKENS;
  return u;
}

// Cohere writes the counts of a stream's usage as floats: 498.0
function floatCounts(json) {
  return json.replace(/("(?:input_tokens|output_tokens|cached_tokens)":)(\d+)(?=[,}])/g, '$1$2.0');
}

// The answer to a text request: text, and why it ended.
function answer(ctx) {
  const b = ctx.json;
  let text = 'echo: ' + L.lastUserText(b.messages);
  let reason = 'COMPLETE';
  for (const s of b.stop_sequences || []) {
    const i = s ? text.indexOf(s) : -1;
    if (i >= 0) {
      text = text.slice(0, i);
      reason = 'STOP_SEQUENCE';
    }
  }
  if (isInt(b.max_tokens)) {
    const re = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;
    let m;
    let n = 0;
    while ((m = re.exec(text)) !== null) {
      if (++n > b.max_tokens) {
        text = text.slice(0, m.index).replace(/\s+$/, '');
        reason = 'MAX_TOKENS';
        break;
      }
    }
  }
  if (ctx.scenario === 'finish-error') reason = 'ERROR';
  if (ctx.scenario === 'finish-timeout') reason = 'TIMEOUT';
  return { text, reason };
}

function toolCalls(ctx) {
  const b = ctx.json;
  const tools = Array.isArray(b.tools) ? b.tools : [];
  const name = (i) => {
    const t = tools[i] || tools[0];
    return t && t.function && typeof t.function.name === 'string' ? t.function.name : 'get_weather';
  };
  const query = L.lastUserText(b.messages);
  const n = ctx.scenario === 'tools2' ? 2 : 1;
  const out = [];
  for (let i = 0; i < n; i++) {
    const nm = name(i);
    out.push({
      id: `${nm}_mock${ctx.record.seq}x${i}`,
      type: 'function',
      function: { name: nm, arguments: JSON.stringify({ city: i ? 'Tokyo' : 'Paris', query }) },
    });
  }
  return out;
}

const TOOL_PLAN = 'I will look this up with the tools.';
const THINKING = 'The user wants an echo. 思考';

function chatResponse(ctx) {
  const id = uuid(ctx.record.seq, 1);
  if (ctx.scenario === 'tools' || ctx.scenario === 'tools2') {
    const calls = toolCalls(ctx);
    return {
      id,
      message: { role: 'assistant', tool_plan: TOOL_PLAN, tool_calls: calls },
      finish_reason: 'TOOL_CALL',
      usage: usageFor(ctx, TOOL_PLAN + ' ' + calls.map((c) => c.function.arguments).join(' ')),
    };
  }
  const { text, reason } = answer(ctx);
  const content = [{ type: 'text', text }];
  if (ctx.scenario === 'think') content.unshift({ type: 'thinking', thinking: THINKING });
  return {
    id,
    message: { role: 'assistant', content },
    finish_reason: reason,
    usage: usageFor(ctx, text),
  };
}

function chat(ctx) {
  if (!preflight(ctx)) return;
  const b = ctx.json;
  try {
    checkChat(b);
  } catch (e) {
    if (e instanceof Bad) return fail(ctx, e.status, e.message);
    throw e;
  }
  if (b.stream === true) return chatStream(ctx);

  const resp = chatResponse(ctx);
  switch (ctx.scenario) {
    case 'slow-release':
      return ctx.waitRelease(() => L.sendJson(ctx, 200, resp, headers(ctx)));
    case 'stream-error':
      return fail(ctx, 500, ERRORS['err-500'][1]());
    case 'stream-cut': {
      const buf = Buffer.from(JSON.stringify(resp));
      ctx.res.writeHead(200, Object.assign({ 'content-type': 'application/json', 'content-length': buf.length }, headers(ctx)));
      const w = new L.BodyWriter(ctx);
      w.write(buf.subarray(0, buf.length >> 1));
      return w.cut();
    }
    default:
      return L.sendJson(ctx, 200, resp, headers(ctx));
  }
}

// Fragments of 1..4 code points, sizes from the request's PRNG: tool
// arguments get cut inside keys, values and escape sequences.
function ragged(text, rnd) {
  const cps = Array.from(text);
  const out = [];
  for (let i = 0; i < cps.length;) {
    const n = 1 + Math.floor(rnd() * 4);
    out.push(cps.slice(i, i + n).join(''));
    i += n;
  }
  return out;
}

function chatStream(ctx) {
  const id = uuid(ctx.record.seq, 1);
  const rnd = L.prng(ctx.seed + 1);
  const w = L.startSse(ctx, headers(ctx));
  const ev = (type, obj, cb) => {
    const data = Object.assign({}, obj.id !== undefined ? { id: obj.id } : {}, { type }, obj);
    w.write('event: ' + type + '\ndata: ' + floatCounts(JSON.stringify(data)) + '\n\n', cb);
  };

  ev('message-start', { id, delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } } });

  const end = (reason, out, error) => {
    const delta = { finish_reason: reason };
    if (error) delta.error = error;
    delta.usage = usageFor(ctx, out);
    ev('message-end', { delta });
    w.end();
  };

  if (ctx.scenario === 'tools' || ctx.scenario === 'tools2') {
    for (const f of ragged(TOOL_PLAN, rnd)) ev('tool-plan-delta', { delta: { message: { tool_plan: f } } });
    const calls = toolCalls(ctx);
    calls.forEach((call, index) => {
      ev('tool-call-start', { index, delta: { message: { tool_calls: { id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } } } } });
      for (const f of ragged(call.function.arguments, rnd)) {
        ev('tool-call-delta', { index, delta: { message: { tool_calls: { function: { arguments: f } } } } });
      }
      ev('tool-call-end', { index });
    });
    return end('TOOL_CALL', TOOL_PLAN + ' ' + calls.map((c) => c.function.arguments).join(' '));
  }

  let index = 0;
  if (ctx.scenario === 'think') {
    ev('content-start', { index, delta: { message: { content: { type: 'thinking', thinking: '' } } } });
    for (const f of L.fragments(THINKING, 4)) ev('content-delta', { index, delta: { message: { content: { thinking: f } } } });
    ev('content-end', { index });
    index++;
  }

  const { text, reason } = answer(ctx);
  const delta = (f, cb) => ev('content-delta', { index, delta: { message: { content: { text: f } } } }, cb);
  ev('content-start', { index, delta: { message: { content: { type: 'text', text: '' } } } });
  const frags = L.fragments(text, 3);
  const finish = () => {
    ev('content-end', { index });
    end(reason, text);
  };

  switch (ctx.scenario) {
    case 'slow-release': {
      // "echo: " goes out first; the rest only after POST /__release
      const head = 'echo: ';
      const rest = L.fragments(text.slice(head.length), 3);
      delta(head, () => ctx.waitRelease(() => {
        rest.forEach((f) => delta(f));
        finish();
      }));
      return;
    }
    case 'stream-error':
      frags.slice(0, 2).forEach((f) => delta(f));
      return end('ERROR', frags.slice(0, 2).join(''), 'internal server error: the model failed while generating (mock)');
    case 'stream-cut':
      frags.slice(0, 2).forEach((f) => delta(f));
      return w.cut();
    default:
      frags.forEach((f) => delta(f));
      return finish();
  }
}

// ---- embed --------------------------------------------------------------

function fnv1a(s) {
  let h = 0x811c9dc5;
  for (const x of Buffer.from(s, 'utf8')) {
    h ^= x;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function vector(input, dims) {
  const h = fnv1a(input);
  const v = [];
  for (let i = 0; i < dims; i++) {
    const x = (Math.imul(h ^ (i * 0x9e3779b1), 2654435761) >>> 0) % 2001;
    v.push((x - 1000) / 1024);
  }
  return v;
}

const EMBED_FIELDS = ['model', 'input_type', 'texts', 'images', 'inputs', 'embedding_types', 'output_dimension', 'max_tokens', 'truncate', 'priority'];
const EMBED_TYPES = ['float', 'int8', 'uint8', 'binary', 'ubinary', 'base64'];

function checkEmbed(b) {
  onlyKeys(b, EMBED_FIELDS, EMBED_DOC);
  if (b.input_type === undefined) throw invalid('valid input_type must be provided with the provided model');
  if (!['search_document', 'search_query', 'classification', 'clustering', 'image'].includes(b.input_type)) {
    throw invalid(`input_type must be one of search_document, search_query, classification, clustering, image, got ${JSON.stringify(b.input_type)}`);
  }
  if (b.images !== undefined || b.inputs !== undefined) throw invalid('the mock only embeds texts');
  if (!Array.isArray(b.texts) || b.texts.length === 0) throw invalid('texts must be a non-empty list of strings');
  if (b.texts.length > 96) throw invalid(`texts can contain at most 96 items, got ${b.texts.length}`);
  if (!b.texts.every((t) => typeof t === 'string')) throw invalid('texts must be a list of strings');
  if (b.embedding_types !== undefined) {
    if (!Array.isArray(b.embedding_types) || b.embedding_types.length === 0
      || !b.embedding_types.every((t) => EMBED_TYPES.includes(t))) {
      throw invalid(`embedding_types must be a non-empty list of ${EMBED_TYPES.join(', ')}`);
    }
    if (!b.embedding_types.every((t) => t === 'float' || t === 'base64')) throw invalid('the mock only answers float and base64 embeddings');
  }
  if (b.output_dimension !== undefined && ![256, 512, 1024, 1536].includes(b.output_dimension)) {
    throw invalid('output_dimension must be one of 256, 512, 1024, 1536');
  }
  if (b.truncate !== undefined && !['NONE', 'START', 'END'].includes(b.truncate)) throw invalid('truncate must be one of NONE, START, END');
  if (b.max_tokens !== undefined && (!isInt(b.max_tokens) || b.max_tokens < 1)) throw invalid('max_tokens must be a positive integer');
}

function embed(ctx) {
  if (!preflight(ctx)) return;
  const b = ctx.json;
  try {
    checkEmbed(b);
  } catch (e) {
    if (e instanceof Bad) return fail(ctx, e.status, e.message);
    throw e;
  }
  if (ctx.scenario === 'slow-release' || ctx.scenario === 'stream-error' || ctx.scenario === 'stream-cut') {
    return fail(ctx, 500, ERRORS['err-500'][1]());
  }
  const types = b.embedding_types || ['float'];
  const dims = b.output_dimension || 8;
  const vecs = b.texts.map((t) => vector(t, dims));
  const embeddings = {};
  for (const t of types) {
    embeddings[t] = t === 'base64'
      ? vecs.map((v) => Buffer.from(new Float32Array(v).buffer).toString('base64'))
      : vecs;
  }
  const tokens = b.texts.reduce((n, t) => n + Math.max(1, L.countTokens(t)), 0);
  L.sendJson(ctx, 200, {
    id: uuid(ctx.record.seq, 3),
    embeddings,
    texts: b.texts,
    meta: { api_version: { version: '2' }, billed_units: { input_tokens: tokens } },
    response_type: 'embeddings_by_type',
  }, headers(ctx));
}

module.exports = {
  name: 'cohere',
  routes: [
    { name: 'chat', method: 'POST', pattern: /^(?<prefix>.*)\/v2\/chat\/?$/, handler: chat },
    { name: 'embed', method: 'POST', pattern: /^(?<prefix>.*)\/v2\/embed\/?$/, handler: embed },
  ],
  ERRORS, PREAMBLE_TOKENS, CACHED_TOKENS, vector,
};
