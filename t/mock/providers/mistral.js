'use strict';
// Mistral's La Plateforme API, as in /work/shared/providers/mistral.md,
// under the path prefix /mistral so it cannot be confused with OpenAI's
// (tests set api_base http://127.0.0.1:P/mistral/v1):
//
//   POST /mistral/v1/chat/completions
//   POST /mistral/v1/embeddings
//   GET  /mistral/v1/models
//
// OpenAI-shaped, but STRICT like Mistral: request objects are
// additionalProperties:false, so any field Mistral does not know (user,
// seed, stream_options, logprobs, a "name" on a user/system/assistant
// message, "dimensions" on embeddings, ...) is a 422 with FastAPI's
// HTTPValidationError body {"detail":[{"type":"extra_forbidden","loc":[...],
// "msg":"Extra inputs are not permitted","input":...}]} (the shape the
// official @mistralai/mistralai SDK models).  The accepted fields are those
// of the current SDK's request schemas.
//
// Tool-call ids (assistant tool_calls[].id and tool messages' tool_call_id)
// must be exactly 9 characters of [a-zA-Z0-9], else 400
//   {"object":"error","message":"Tool call id was X but must be a-z, A-Z,
//    0-9, with a length of 9.","type":"invalid_function_call","param":null,
//    "code":"3280"}
// A tool result whose tool_call_id no earlier assistant call carries, and an
// assistant message with neither content nor tool_calls, are 400s too (the
// texts of those two are composed for the mock).
//
// Answers: ids without a "chatcmpl-" prefix, message {role, content,
// tool_calls: null, prefix: false}, usage with num_cached_tokens and
// prompt_tokens_details.cached_tokens.  Streams: SSE data: lines, the last
// chunk carries finish_reason AND usage together, then data: [DONE].
//
// Behaviour by model id ("-split" suffix / x-mock-split: 1 as everywhere):
//   mock-ok (any name not starting with "mock-")  "echo: <last user text>"
//   mock-cached        like mock-ok, usage reports 5 cached prompt tokens
//   mock-length        finish_reason "model_length"
//   mock-think         a reasoning model: content is an ARRAY of chunks,
//                      [{type:"thinking", thinking:[{type:"text", text:
//                      "thinking about <text>"}]}, {type:"text", text:"echo: ..."}]
//                      (streamed as deltas whose content is such an array)
//   mock-tools         one tool call, id of 9 alphanumerics, content ""
//   mock-err-400-context  400 prompt too large for the model's context
//   mock-err-401       401 {"message":"Unauthorized","request_id":...}
//   mock-err-404       404 {"object":"error",... "type":"invalid_model"}
//   mock-err-422       422 HTTPValidationError (a value error on temperature)
//   mock-err-422-wrapped  422 in the older wrapped form seen in public bug
//                      reports: {"object":"error","message":{"detail":[...]},
//                      "type":"invalid_request_error","param":null,"code":null}
//   mock-err-429       429 (retry-after: 5)
//   mock-err-500 / -503  server errors
//   mock-slow-release, mock-stream-error, mock-stream-cut, mock-stream-eof
//                      as in openai.js
//   any other mock-*   400 Invalid model (code 1500)
// A request without "Authorization: Bearer <key>" gets the 401.

const crypto = require('crypto');
const L = require('../lib');

const CHAT_FIELDS = new Set([
  'model', 'temperature', 'top_p', 'max_tokens', 'stream', 'stop', 'random_seed',
  'metadata', 'messages', 'response_format', 'tools', 'tool_choice',
  'presence_penalty', 'frequency_penalty', 'n', 'prediction', 'parallel_tool_calls',
  'reasoning_effort', 'prompt_mode', 'guardrails', 'prompt_cache_key',
  'service_tier', 'safe_prompt',
]);

const MESSAGE_FIELDS = {
  system: new Set(['role', 'content']),
  user: new Set(['role', 'content']),
  assistant: new Set(['role', 'content', 'tool_calls', 'prefix']),
  tool: new Set(['role', 'content', 'tool_call_id', 'name']),
};

const EMBED_FIELDS = new Set(['model', 'input', 'output_dimension', 'output_dtype', 'encoding_format', 'metadata']);

const SCENARIOS = new Set([
  'ok', 'cached', 'length', 'think', 'tools', 'err-422-wrapped', 'slow-release', 'stream-error', 'stream-cut',
  'stream-eof', 'err-400-context', 'err-401', 'err-404', 'err-422', 'err-429',
  'err-500', 'err-503',
]);

const MODELS = ['mistral-large-latest', 'mistral-small-latest', 'mistral-embed', 'mock-ok', 'mock-tools'];

function mistralErr(message, type, code) {
  return { object: 'error', message, type, param: null, code: code === undefined ? null : code };
}

function requestId(ctx) {
  return crypto.createHash('md5').update('mistral' + ctx.record.seq).digest('hex');
}

function headers(ctx) {
  return {
    'mistral-correlation-id': requestId(ctx),
    'x-kong-request-id': requestId(ctx).slice(0, 24),
    'ratelimitbysize-limit': '500000',
    'ratelimitbysize-remaining': '499000',
    'x-ratelimit-limit-tokens': '500000',
    'x-ratelimit-remaining-tokens': '499000',
  };
}

function send(ctx, status, obj, extra) {
  L.sendJson(ctx, status, obj, Object.assign(headers(ctx), extra || {}));
}

function validation(ctx, errors) {
  send(ctx, 422, { detail: errors });
}

function extra(loc, input) {
  return { type: 'extra_forbidden', loc: ['body', ...loc], msg: 'Extra inputs are not permitted', input: input === undefined ? null : input };
}

function missing(loc, input) {
  return { type: 'missing', loc: ['body', ...loc], msg: 'Field required', input };
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
  send(ctx, 401, { message: 'Unauthorized', request_id: requestId(ctx) });
}

// auth, JSON, model, error scenarios; false when answered
function preflight(ctx) {
  if (!bearer(ctx)) {
    unauthorized(ctx);
    return false;
  }
  const b = ctx.json;
  if (ctx.jsonError || !b || typeof b !== 'object' || Array.isArray(b)) {
    validation(ctx, [{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error: String(ctx.jsonError || 'not an object') } }]);
    return false;
  }
  if (typeof b.model !== 'string') {
    validation(ctx, [b.model === undefined ? missing(['model'], b) : { type: 'string_type', loc: ['body', 'model'], msg: 'Input should be a valid string', input: b.model }]);
    return false;
  }
  ctx.scenario = scenario(ctx, b.model);
  if (ctx.scenario === null) {
    send(ctx, 400, mistralErr(`Invalid model: ${b.model}`, 'invalid_model', '1500'));
    return false;
  }
  switch (ctx.scenario) {
    case 'err-400-context':
      send(ctx, 400, mistralErr('Prompt contains 140000 tokens and 0 draft tokens, too large for model with 131072 maximum context length', 'invalid_request_error', '3051'));
      return false;
    case 'err-401':
      unauthorized(ctx);
      return false;
    case 'err-404':
      send(ctx, 404, mistralErr(`Model not found: ${b.model}`, 'invalid_model', '1500'));
      return false;
    case 'err-422':
      validation(ctx, [{ type: 'less_than_equal', loc: ['body', 'temperature'], msg: 'Input should be less than or equal to 1.5', input: 7, ctx: { le: 1.5 } }]);
      return false;
    case 'err-422-wrapped':
      send(ctx, 422, { object: 'error', message: { detail: [extra(['messages', 0, 'user', 'name'], 'bob')] }, type: 'invalid_request_error', param: null, code: null });
      return false;
    case 'err-429':
      send(ctx, 429, mistralErr('Requests rate limit exceeded', 'rate_limited', '1300'), { 'retry-after': '5' });
      return false;
    case 'err-500':
      send(ctx, 500, mistralErr('Internal server error', 'internal_server_error', '3000'));
      return false;
    case 'err-503':
      send(ctx, 503, mistralErr('Service unavailable, please retry', 'service_unavailable', '3001'));
      return false;
    default:
      return true;
  }
}

const ID_RE = /^[a-zA-Z0-9]{9}$/;

function badToolId(ctx, id) {
  send(ctx, 400, mistralErr(`Tool call id was ${id} but must be a-z, A-Z, 0-9, with a length of 9.`, 'invalid_function_call', '3280'));
}

// the strict schema and the tool-call rules; false when answered
function checkChat(ctx) {
  const b = ctx.json;
  const errs = [];
  for (const k of Object.keys(b)) if (!CHAT_FIELDS.has(k)) errs.push(extra([k], b[k]));
  if (b.messages === undefined) errs.push(missing(['messages'], b));
  else if (!Array.isArray(b.messages)) errs.push({ type: 'list_type', loc: ['body', 'messages'], msg: 'Input should be a valid list', input: b.messages });
  else {
    b.messages.forEach((m, i) => {
      const role = m && typeof m === 'object' ? m.role : undefined;
      const allowed = MESSAGE_FIELDS[role];
      if (!allowed) {
        errs.push({ type: 'union_tag_invalid', loc: ['body', 'messages', i], msg: `Input tag '${role}' found using 'role' does not match any of the expected tags: 'assistant', 'system', 'tool', 'user'`, input: m });
        return;
      }
      for (const k of Object.keys(m)) if (!allowed.has(k)) errs.push(extra(['messages', i, role, k], m[k]));
    });
  }
  if (b.random_seed !== undefined && b.random_seed !== null && !Number.isInteger(b.random_seed)) {
    errs.push({ type: 'int_type', loc: ['body', 'random_seed'], msg: 'Input should be a valid integer', input: b.random_seed });
  }
  if (b.stream !== undefined && typeof b.stream !== 'boolean') {
    errs.push({ type: 'bool_type', loc: ['body', 'stream'], msg: 'Input should be a valid boolean', input: b.stream });
  }
  const tc = b.tool_choice;
  if (tc !== undefined && tc !== null && typeof tc === 'string' && !['auto', 'none', 'any', 'required'].includes(tc)) {
    errs.push({ type: 'enum', loc: ['body', 'tool_choice', 'enum[ToolChoiceEnum]'], msg: "Input should be 'auto', 'none', 'any' or 'required'", input: tc });
  }
  if (errs.length) {
    validation(ctx, errs);
    return false;
  }
  if (b.messages.length === 0) {
    send(ctx, 400, mistralErr('Messages list must not be empty', 'invalid_request_message', '3000'));
    return false;
  }
  // tool-call ids, in message order
  const seen = new Set();
  for (const m of b.messages) {
    if (m.role === 'assistant') {
      const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
      const hasContent = typeof m.content === 'string' ? m.content !== '' : Array.isArray(m.content) && m.content.length > 0;
      if (!calls.length && !hasContent) {
        send(ctx, 400, mistralErr('Assistant message must have either content or tool_calls, but not none.', 'invalid_request_message', '3240'));
        return false;
      }
      for (const c of calls) {
        const id = c && c.id;
        if (id !== undefined && id !== null && (typeof id !== 'string' || !ID_RE.test(id))) {
          badToolId(ctx, id);
          return false;
        }
        if (id) seen.add(id);
      }
    } else if (m.role === 'tool') {
      const id = m.tool_call_id;
      if (id !== undefined && id !== null && (typeof id !== 'string' || !ID_RE.test(id))) {
        badToolId(ctx, id);
        return false;
      }
      if (id && !seen.has(id)) {
        send(ctx, 400, mistralErr(`Unexpected tool call id ${id} in tool results`, 'invalid_request_message_order', '3230'));
        return false;
      }
    }
  }
  return true;
}

// ---- chat -----------------------------------------------------------------

function toolId(ctx, i) {
  const b62 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  let h = crypto.createHash('sha256').update(`m${ctx.record.seq}x${i}`).digest();
  let s = '';
  for (let k = 0; k < 9; k++) s += b62[h[k] % 62];
  return s;
}

function toolCalls(ctx) {
  const tools = Array.isArray(ctx.json.tools) ? ctx.json.tools : [];
  const t = tools[0];
  const name = t && t.function && typeof t.function.name === 'string' ? t.function.name : 'get_weather';
  const text = L.lastUserText(ctx.json.messages);
  return [{ id: toolId(ctx, 0), type: 'function', function: { name, arguments: JSON.stringify({ city: 'Paris', query: text }) }, index: 0 }];
}

function usage(ctx, completionText) {
  const p = L.messagesTokens(ctx.json.messages);
  const c = Math.max(1, L.countTokens(completionText));
  const cached = ctx.scenario === 'cached' ? 5 : 0;
  return {
    prompt_tokens: p,
    completion_tokens: c,
    total_tokens: p + c,
    num_cached_tokens: cached,
    prompt_tokens_details: { cached_tokens: cached },
  };
}

function finishFor(ctx, isTools) {
  if (isTools) return 'tool_calls';
  return ctx.scenario === 'length' ? 'model_length' : 'stop';
}

function completion(ctx) {
  const isTools = ctx.scenario === 'tools';
  const calls = isTools ? toolCalls(ctx) : null;
  const text = 'echo: ' + L.lastUserText(ctx.json.messages);
  let content = isTools ? '' : text;
  if (ctx.scenario === 'think') {
    content = [{ type: 'thinking', thinking: [{ type: 'text', text: 'thinking about ' + L.lastUserText(ctx.json.messages) }] }, { type: 'text', text }];
  }
  return {
    id: requestId(ctx),
    object: 'chat.completion',
    model: ctx.json.model,
    usage: usage(ctx, isTools ? calls[0].function.arguments : text),
    created: Math.floor(Date.now() / 1000),
    choices: [{
      index: 0,
      message: { role: 'assistant', tool_calls: calls, content, prefix: false },
      finish_reason: finishFor(ctx, isTools),
    }],
  };
}

function chat(ctx) {
  if (!preflight(ctx)) return;
  if (!checkChat(ctx)) return;
  const b = ctx.json;
  if (b.stream === true) return chatStream(ctx);
  const resp = completion(ctx);
  switch (ctx.scenario) {
    case 'slow-release':
      return ctx.waitRelease(() => send(ctx, 200, resp));
    case 'stream-error':
      return send(ctx, 500, mistralErr('Internal server error', 'internal_server_error', '3000'));
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
  const id = requestId(ctx);
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta, finish, u) => {
    const c = { id, object: 'chat.completion.chunk', created, model: b.model, choices: [{ index: 0, delta, finish_reason: finish || null }] };
    if (u) c.usage = u;
    return c;
  };
  const w = L.startSse(ctx, headers(ctx));
  let produced = '';
  const finish = (reason) => {
    // finish_reason and usage arrive together on the last chunk
    w.data(chunk({ content: '' }, reason, usage(ctx, produced)));
    w.data('[DONE]');
    w.end();
  };
  w.data(chunk({ role: 'assistant', content: '' }));
  if (ctx.scenario === 'tools') {
    const calls = toolCalls(ctx);
    w.data(chunk({ tool_calls: calls }));
    produced = calls[0].function.arguments;
    return finish('tool_calls');
  }
  const text = 'echo: ' + L.lastUserText(b.messages);
  const frags = L.fragments(text, 3);
  if (ctx.scenario === 'think') {
    for (const f of L.fragments('thinking about ' + L.lastUserText(b.messages), 4)) {
      w.data(chunk({ content: [{ type: 'thinking', thinking: [{ type: 'text', text: f }] }] }));
    }
  }
  const sendFrags = (list) => {
    for (const f of list) {
      w.data(chunk({ content: ctx.scenario === 'think' ? [{ type: 'text', text: f }] : f }));
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
      w.data(mistralErr('Internal server error', 'internal_server_error', '3000'));
      return w.end();
    case 'stream-cut':
      sendFrags(frags.slice(0, 2));
      return w.cut();
    case 'stream-eof':
      sendFrags(frags.slice(0, 2));
      return w.end();
    default:
      sendFrags(frags);
      return finish(finishFor(ctx, false));
  }
}

// ---- embeddings -----------------------------------------------------------

const { vector } = require('./ollama');

function embeddings(ctx) {
  if (!preflight(ctx)) return;
  const b = ctx.json;
  const errs = [];
  for (const k of Object.keys(b)) if (!EMBED_FIELDS.has(k)) errs.push(extra([k], b[k]));
  let inputs = b.input;
  if (inputs === undefined) errs.push(missing(['input'], b));
  else if (typeof inputs === 'string') inputs = [inputs];
  else if (!Array.isArray(inputs) || !inputs.every((x) => typeof x === 'string')) {
    errs.push({ type: 'string_type', loc: ['body', 'input', 'str'], msg: 'Input should be a valid string', input: b.input });
  }
  const od = b.output_dimension;
  if (od !== undefined && od !== null && (!Number.isInteger(od) || od < 1)) {
    errs.push({ type: 'int_type', loc: ['body', 'output_dimension'], msg: 'Input should be a valid integer', input: od });
  }
  const fmt = b.encoding_format;
  if (fmt !== undefined && fmt !== 'float' && fmt !== 'base64') {
    errs.push({ type: 'enum', loc: ['body', 'encoding_format'], msg: "Input should be 'float' or 'base64'", input: fmt });
  }
  if (errs.length) return validation(ctx, errs);
  const dims = od || 8;
  let tokens = 0;
  const data = inputs.map((x, index) => {
    tokens += Math.max(1, L.countTokens(x));
    const v = vector(x, dims);
    return {
      object: 'embedding',
      embedding: fmt === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v,
      index,
    };
  });
  send(ctx, 200, {
    id: requestId(ctx),
    object: 'list',
    data,
    model: b.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens, completion_tokens: 0, request_count: null },
  });
}

function models(ctx) {
  if (!bearer(ctx)) return unauthorized(ctx);
  send(ctx, 200, {
    object: 'list',
    data: MODELS.map((id) => ({ id, object: 'model', created: 1735689600, owned_by: 'mistralai', capabilities: { completion_chat: true, function_calling: true } })),
  });
}

module.exports = {
  name: 'mistral',
  routes: [
    { name: 'chat', method: 'POST', pattern: /^\/mistral\/v1\/chat\/completions\/?$/, handler: chat },
    { name: 'embeddings', method: 'POST', pattern: /^\/mistral\/v1\/embeddings\/?$/, handler: embeddings },
    { name: 'models', method: 'GET', pattern: /^\/mistral\/v1\/models\/?$/, handler: models },
  ],
};
