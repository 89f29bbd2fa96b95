'use strict';
// Anthropic's Messages API (POST <prefix>/v1/messages), as in
// /work/shared/providers/anthropic.md.  Any path prefix is accepted, so
// api_base http://127.0.0.1:P and http://127.0.0.1:P/some/prefix both land
// here (and an api_base that already ends in /v1/messages).
//
// Every request is checked the way the API checks it, and a wrong one gets
// Anthropic's own error body
//   {"type":"error","error":{"type":"...","message":"..."},"request_id":"req_..."}
// - no key: neither x-api-key nor "Authorization: Bearer <key>" (what the
//   SDK 1.x sends; with both, x-api-key is the one used)
//                                -> 401 authentication_error
// - anthropic-version missing or
//   not 2023-06-01 / 2026-10-21  -> 400 invalid_request_error
//   (2026-10-21, sent by @anthropic-ai/sdk >= 1.0, also rejects
//   temperature, top_p and top_k, document blocks in assistant turns and
//   non-empty citations on user text blocks; 2023-06-01 takes them)
// - body: model, max_tokens (integer >= 1) and messages are required;
//   unknown top-level fields ("seed", "n", "logit_bias", "tool_choice" as a
//   string, "max_completion_tokens", ...) are "Extra inputs are not
//   permitted"; roles are user/assistant only and must alternate (the
//   strictness of the API versions that did not yet merge consecutive
//   turns: a gateway must merge them itself); content blocks are checked
//   by type and by role (tool_use only from the assistant, tool_result only
//   from the user, first in its turn, answering a tool_use id of the
//   assistant turn just before; every tool_use that is not in the last
//   turn must be answered in the next one); text blocks are non-empty;
//   a final assistant turn (prefill) may not end with whitespace;
//   images are base64 (jpeg/png/gif/webp) or url sources; system is a
//   string or text blocks; temperature/top_p in 0..1; stop_sequences is an
//   array of strings, none empty or whitespace-only ("\n" is refused);
//   metadata carries user_id only; tools are
//   {name, description?, input_schema:{type:"object"}, cache_control?}
//   with unique names; tool_choice is {type: auto|any|tool|none} (tool
//   needs a name among the tools; any/tool need tools; no forced tool
//   with thinking); thinking budget_tokens >= 1024 and < max_tokens.
//   -> 400 invalid_request_error naming the field, as the API does.
//
// Behaviour is then chosen by "model".  Names not starting with "mock-"
// behave as mock-ok.  A "-split" suffix (mock-ok-split, mock-tools-split,
// ...) or the request header "x-mock-split: 1" writes the body in 1..7-byte
// pieces, cutting inside multi-byte UTF-8 characters and between the
// "\n\n" of events.
//
//   mock-ok               text "echo: <text of the last user turn>",
//                         stop_reason end_turn; honours stop_sequences
//                         (cut there, stop_reason stop_sequence) and
//                         max_tokens (cut, stop_reason max_tokens)
//   mock-long             like mock-ok, ~90 KB of multi-byte text
//   mock-tools            with tools (and tool_choice not none): a text
//                         block "Let me check." (left out when tool_choice
//                         forces a tool) then a tool_use block: name = the
//                         forced tool, else the first tool; input
//                         {"city":"Paris","query":<text>}; stop_reason
//                         tool_use.  Without tools: like mock-ok
//   mock-tools2           two tool_use blocks (Paris, Tokyo; names of the
//                         first and second tool)
//   mock-thinking         with thinking enabled: a thinking block (text +
//                         signature) before the text; else like mock-ok
//   mock-stop-<reason>    like mock-ok with stop_reason <reason> (refusal,
//                         pause_turn, max_tokens, stop_sequence,
//                         model_context_window_exceeded, some_new_reason)
//   mock-err-400          400 invalid_request_error
//   mock-err-400-context  400 invalid_request_error "prompt is too long: ..."
//   mock-err-401          401 authentication_error
//   mock-err-402          402 billing_error
//   mock-err-403          403 permission_error
//   mock-err-404          404 not_found_error
//   mock-err-413          413 request_too_large
//   mock-err-429          429 rate_limit_error, header retry-after: 7
//   mock-err-500          500 api_error
//   mock-err-504          504 timeout_error
//   mock-err-529          529 overloaded_error
//   mock-garbage          200 application/json whose body is not JSON
//   mock-hang             never answers (socket closed after --hang-ms)
//   mock-close            closes the socket without any answer
//   mock-slow-release     stream: message_start, the text block start and
//                         a first text_delta "echo: ", then waits for
//                         POST /__release, then the rest; non-stream:
//                         waits for the release, then answers
//   mock-stream-error     stream: 200, a few events, then
//                         "event: error" overloaded_error and the end of
//                         the body (no message_stop); non-stream: 529
//   mock-stream-cut       stream: a few events, then the TCP connection is
//                         reset (no message_stop, no chunked terminator);
//                         non-stream: half of the JSON body, then reset
//   mock-stream-eof       stream: a few events, then a clean end of the
//                         body without message_stop; non-stream: a
//                         complete but truncated JSON body
//   any other mock-*      404 not_found_error "model: <id>"
//
// Usage: input_tokens counts the words of system + messages;
// cache_creation_input_tokens 20 and cache_read_input_tokens 300 always;
// output_tokens counts the words of the output (at least 1).  Streams:
// message_start carries the input counts (output_tokens 1); message_delta
// carries only the cumulative output_tokens, so a translator has to
// combine both.  Named SSE events ("event: x\ndata: {...}\n\n") exactly as
// the API sends them, ping events sprinkled in (after message_start, after
// each content_block_start and between some deltas); tool input arrives
// as input_json_delta fragments (the first one empty, as the API sends
// it) cut at awkward points (inside keys, after a backslash).

const L = require('../lib');

const VERSIONS = ['2023-06-01', '2026-10-21'];
const NEW = '2026-10-21';
const CACHE_WRITE = 20;
const CACHE_READ = 300;

const ERRORS = {
  'err-400': [400, 'invalid_request_error', (m) => `max_tokens: 999999 > 64000, which is the maximum allowed number of output tokens for ${m}`],
  'err-400-context': [400, 'invalid_request_error', () => 'prompt is too long: 208113 tokens > 200000 maximum'],
  'err-401': [401, 'authentication_error', () => 'invalid x-api-key'],
  'err-402': [402, 'billing_error', () => 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.'],
  'err-403': [403, 'permission_error', () => 'Your API key does not have permission to use the specified resource.'],
  'err-404': [404, 'not_found_error', (m) => `model: ${m}`],
  'err-413': [413, 'request_too_large', () => 'Request exceeds the maximum allowed number of bytes.'],
  'err-429': [429, 'rate_limit_error', () => 'This request would exceed the rate limit for your organization (mock-org) of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.',
    { 'retry-after': '7', 'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': '2025-01-01T00:00:07Z' }],
  'err-500': [500, 'api_error', () => 'Internal server error'],
  'err-504': [504, 'timeout_error', () => 'Request timed out'],
  'err-529': [529, 'overloaded_error', () => 'Overloaded'],
};

const STOP_REASONS = new Set(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal',
  'model_context_window_exceeded', 'some_new_reason']);

const SCENARIOS = new Set([
  'ok', 'long', 'tools', 'tools2', 'thinking', 'garbage', 'hang', 'close', 'slow-release',
  'stream-error', 'stream-cut', 'stream-eof', ...Object.keys(ERRORS),
]);

// "mock-ok-split" -> "ok" with ctx.split; "claude-x" -> "ok"; typo -> null
function scenario(ctx, model) {
  let m = model;
  if (m.endsWith('-split')) {
    ctx.split = true;
    m = m.slice(0, -'-split'.length);
  }
  if (!m.startsWith('mock-')) return 'ok';
  const s = m.slice('mock-'.length);
  if (s.startsWith('stop-') && STOP_REASONS.has(s.slice(5))) return s;
  return SCENARIOS.has(s) ? s : null;
}

function requestId(ctx) {
  return 'req_mock' + ctx.record.seq;
}

function commonHeaders(ctx) {
  return {
    'request-id': requestId(ctx),
    'anthropic-organization-id': '00000000-0000-4000-8000-00000000m0ck',
    'anthropic-ratelimit-requests-limit': '4000',
    'anthropic-ratelimit-requests-remaining': '3999',
    'anthropic-ratelimit-requests-reset': '2025-01-01T00:00:00Z',
    'anthropic-ratelimit-tokens-limit': '400000',
    'anthropic-ratelimit-tokens-remaining': '399000',
    'anthropic-ratelimit-tokens-reset': '2025-01-01T00:00:00Z',
  };
}

function errorBody(ctx, type, message) {
  return { type: 'error', error: { type, message }, request_id: requestId(ctx) };
}

function sendError(ctx, status, type, message, headers) {
  const h = Object.assign(commonHeaders(ctx), headers || {});
  if (status >= 500 || status === 429 || status === 408 || status === 409) h['x-should-retry'] = 'true';
  L.sendJson(ctx, status, errorBody(ctx, type, message), h);
}

const invalid = (ctx, message) => sendError(ctx, 400, 'invalid_request_error', message);

// ---- request validation -------------------------------------------------

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isInt = (v) => typeof v === 'number' && Number.isInteger(v);
const typeName = (v) => (v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v);

class Invalid extends Error {}
function fail(msg) { throw new Invalid(msg); }

function extra(obj, allowed, where) {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail(`${where}${where ? '.' : ''}${k}: Extra inputs are not permitted`);
  }
}

function needString(v, where) {
  if (v === undefined) fail(`${where}: Field required`);
  if (typeof v !== 'string') fail(`${where}: Input should be a valid string`);
}

function checkCacheControl(cc, where) {
  if (cc === undefined || cc === null) return;
  if (!isObj(cc)) fail(`${where}.cache_control: Input should be a valid dictionary`);
  extra(cc, ['type', 'ttl'], `${where}.cache_control`);
  if (cc.type !== 'ephemeral') fail(`${where}.cache_control.type: Input should be 'ephemeral'`);
  if (cc.ttl !== undefined && cc.ttl !== '5m' && cc.ttl !== '1h') fail(`${where}.cache_control.ttl: Input should be '5m' or '1h'`);
}

function checkText(b, where, opt) {
  extra(b, ['type', 'text', 'cache_control', 'citations'], `${where}.text`);
  needString(b.text, `${where}.text.text`);
  if (b.text.length === 0) fail('messages: text content blocks must be non-empty');
  checkCacheControl(b.cache_control, `${where}.text`);
  if (opt && opt.version === NEW && opt.role === 'user' && Array.isArray(b.citations) && b.citations.length) {
    fail(`${where}.text.citations: citations are not accepted on text blocks in \`user\` messages with anthropic-version ${NEW}`);
  }
}

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

function checkImage(b, where) {
  extra(b, ['type', 'source', 'cache_control'], `${where}.image`);
  const s = b.source;
  if (s === undefined) fail(`${where}.image.source: Field required`);
  if (!isObj(s)) fail(`${where}.image.source: Input should be a valid dictionary or object to extract fields from`);
  if (s.type === 'base64') {
    extra(s, ['type', 'media_type', 'data'], `${where}.image.source.base64`);
    if (!IMAGE_TYPES.includes(s.media_type)) {
      fail(`${where}.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`);
    }
    needString(s.data, `${where}.image.source.base64.data`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s.data) || s.data.length % 4 !== 0) {
      fail(`${where}.image.source.base64: The image data is not valid base64.`);
    }
  } else if (s.type === 'url') {
    extra(s, ['type', 'url'], `${where}.image.source.url`);
    needString(s.url, `${where}.image.source.url.url`);
    if (!/^https?:\/\//.test(s.url)) fail(`${where}.image.source.url.url: URL must use the http or https scheme`);
  } else if (s.type === 'file') {
    extra(s, ['type', 'file_id'], `${where}.image.source.file`);
    needString(s.file_id, `${where}.image.source.file.file_id`);
  } else {
    fail(`${where}.image.source: Input tag '${s.type}' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'`);
  }
  checkCacheControl(b.cache_control, `${where}.image`);
}

function checkDocument(b, where) {
  extra(b, ['type', 'source', 'cache_control', 'citations', 'context', 'title'], `${where}.document`);
  const s = b.source;
  if (!isObj(s)) fail(`${where}.document.source: Field required`);
  if (s.type === 'base64') {
    extra(s, ['type', 'media_type', 'data'], `${where}.document.source.base64`);
    if (s.media_type !== 'application/pdf') fail(`${where}.document.source.base64.media_type: Input should be 'application/pdf'`);
    needString(s.data, `${where}.document.source.base64.data`);
  } else if (s.type === 'text') {
    extra(s, ['type', 'media_type', 'data'], `${where}.document.source.text`);
    if (s.media_type !== 'text/plain') fail(`${where}.document.source.text.media_type: Input should be 'text/plain'`);
    needString(s.data, `${where}.document.source.text.data`);
  } else if (s.type === 'url') {
    extra(s, ['type', 'url'], `${where}.document.source.url`);
    needString(s.url, `${where}.document.source.url.url`);
  } else if (s.type === 'file') {
    needString(s.file_id, `${where}.document.source.file.file_id`);
  } else {
    fail(`${where}.document.source: Input tag '${s.type}' found using 'type' does not match any of the expected tags: 'base64', 'text', 'content', 'url', 'file'`);
  }
  checkCacheControl(b.cache_control, `${where}.document`);
}

const ID_RE = /^[a-zA-Z0-9_-]+$/;
const NAME_RE = /^[a-zA-Z0-9_-]{1,128}$/;

function checkToolUse(b, where) {
  extra(b, ['type', 'id', 'name', 'input', 'cache_control'], `${where}.tool_use`);
  needString(b.id, `${where}.tool_use.id`);
  if (!ID_RE.test(b.id)) fail(`${where}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'`);
  needString(b.name, `${where}.tool_use.name`);
  if (!NAME_RE.test(b.name)) fail(`${where}.tool_use.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`);
  if (b.input === undefined) fail(`${where}.tool_use.input: Field required`);
  if (!isObj(b.input)) fail(`${where}.tool_use.input: Input should be a valid dictionary`);
  checkCacheControl(b.cache_control, `${where}.tool_use`);
}

function checkToolResult(b, where, opt) {
  extra(b, ['type', 'tool_use_id', 'content', 'is_error', 'cache_control'], `${where}.tool_result`);
  needString(b.tool_use_id, `${where}.tool_result.tool_use_id`);
  if (!ID_RE.test(b.tool_use_id)) fail(`${where}.tool_result.tool_use_id: String should match pattern '^[a-zA-Z0-9_-]+$'`);
  if (b.is_error !== undefined && typeof b.is_error !== 'boolean') fail(`${where}.tool_result.is_error: Input should be a valid boolean`);
  const c = b.content;
  if (c !== undefined && typeof c !== 'string') {
    if (!Array.isArray(c)) fail(`${where}.tool_result.content: Input should be a valid string or a valid list`);
    c.forEach((x, i) => {
      const w = `${where}.tool_result.content.${i}`;
      if (!isObj(x)) fail(`${w}: Input should be a valid dictionary or object to extract fields from`);
      if (x.type === 'text') checkText(x, w, opt);
      else if (x.type === 'image') checkImage(x, w);
      else if (x.type === 'document') checkDocument(x, w);
      else fail(`${w}: Input tag '${x.type}' found using 'type' does not match any of the expected tags: 'text', 'image', 'search_result', 'document'`);
    });
  }
  checkCacheControl(b.cache_control, `${where}.tool_result`);
}

const USER_BLOCKS = ['text', 'image', 'document', 'tool_result', 'search_result'];
const ASSISTANT_BLOCKS = ['text', 'tool_use', 'thinking', 'redacted_thinking', 'server_tool_use', 'web_search_tool_result'];

function checkBlock(b, role, where, version) {
  if (!isObj(b)) fail(`${where}: Input should be a valid dictionary or object to extract fields from`);
  const allowed = role === 'user' ? USER_BLOCKS : version === NEW ? ASSISTANT_BLOCKS : [...ASSISTANT_BLOCKS, 'document'];
  const opt = { version, role };
  if (typeof b.type !== 'string') fail(`${where}: Unable to extract tag using discriminator 'type'`);
  if (![...USER_BLOCKS, ...ASSISTANT_BLOCKS].includes(b.type)) {
    fail(`${where}: Input tag '${b.type}' found using 'type' does not match any of the expected tags: ${[...new Set([...USER_BLOCKS, ...ASSISTANT_BLOCKS])].map((x) => `'${x}'`).join(', ')}`);
  }
  if (!allowed.includes(b.type)) {
    fail(`${where}.type: \`${b.type}\` blocks can only be in \`${role === 'user' ? 'assistant' : 'user'}\` messages`);
  }
  switch (b.type) {
    case 'text': return checkText(b, where, opt);
    case 'image': return checkImage(b, where);
    case 'document': return checkDocument(b, where);
    case 'tool_use': return checkToolUse(b, where);
    case 'tool_result': return checkToolResult(b, where, opt);
    case 'thinking':
      extra(b, ['type', 'thinking', 'signature'], `${where}.thinking`);
      needString(b.thinking, `${where}.thinking.thinking`);
      needString(b.signature, `${where}.thinking.signature`);
      return undefined;
    case 'redacted_thinking':
      extra(b, ['type', 'data'], `${where}.redacted_thinking`);
      needString(b.data, `${where}.redacted_thinking.data`);
      return undefined;
    default:
      return undefined;
  }
}

function blocksOf(m) {
  return typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
}

function checkMessages(msgs, version) {
  if (msgs === undefined) fail('messages: Field required');
  if (!Array.isArray(msgs)) fail('messages: Input should be a valid list');
  if (msgs.length === 0) fail('messages: at least one message is required');
  msgs.forEach((m, i) => {
    const where = `messages.${i}`;
    if (!isObj(m)) fail(`${where}: Input should be a valid dictionary or object to extract fields from`);
    if (m.role === 'system') {
      fail('messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.');
    }
    if (m.role === undefined) fail(`${where}.role: Field required`);
    if (m.role !== 'user' && m.role !== 'assistant') fail(`${where}.role: Input should be 'user' or 'assistant'`);
    extra(m, ['role', 'content'], where);
    if (m.content === undefined) fail(`${where}.content: Field required`);
    const last = i === msgs.length - 1;
    if (typeof m.content === 'string') {
      if (m.content.length === 0 && !(last && m.role === 'assistant')) {
        fail(`${where}: all messages must have non-empty content except for the optional final assistant message`);
      }
    } else if (Array.isArray(m.content)) {
      if (m.content.length === 0 && !(last && m.role === 'assistant')) {
        fail(`${where}: all messages must have non-empty content except for the optional final assistant message`);
      }
      m.content.forEach((b, j) => checkBlock(b, m.role, `${where}.content.${j}`, version));
    } else {
      fail(`${where}.content: Input should be a valid string or a valid list`);
    }
    if (last && m.role === 'assistant') {
      const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
      const tail = blocks.length ? blocks[blocks.length - 1] : null;
      if (tail && tail.type === 'text' && tail.text !== '' && /\s$/.test(tail.text)) {
        fail('messages: final assistant content cannot end with trailing whitespace');
      }
    }
    if (i > 0 && msgs[i - 1].role === m.role) {
      fail(`messages: roles must alternate between "user" and "assistant", but found multiple "${m.role}" roles in a row`);
    }
  });
  // tool_use / tool_result pairing
  msgs.forEach((m, i) => {
    const blocks = blocksOf(m);
    if (m.role === 'user') {
      let seenOther = false;
      const prev = i > 0 ? blocksOf(msgs[i - 1]) : [];
      const ids = new Set(prev.filter((b) => b.type === 'tool_use').map((b) => b.id));
      blocks.forEach((b, j) => {
        if (b.type !== 'tool_result') {
          seenOther = true;
          return;
        }
        if (!ids.has(b.tool_use_id)) {
          fail(`messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${b.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`);
        }
        if (seenOther) {
          fail(`messages.${i}: \`tool_result\` blocks must come before any other content in a \`user\` message (found one at content.${j} after other blocks)`);
        }
      });
      const answered = blocks.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id);
      const dup = answered.find((id, k) => answered.indexOf(id) !== k);
      if (dup) fail(`messages.${i}: each \`tool_use\` id must be answered by exactly one \`tool_result\` block; found ${dup} twice`);
    } else if (i < msgs.length - 1) {
      const ids = blocks.filter((b) => b.type === 'tool_use').map((b) => b.id);
      if (ids.length) {
        const next = blocksOf(msgs[i + 1]);
        const answered = new Set(next.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id));
        const missing = ids.filter((id) => !answered.has(id));
        if (missing.length) {
          fail(`messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`);
        }
      }
    }
  });
}

function checkSystem(s) {
  if (s === undefined) return;
  if (typeof s === 'string') return;
  if (!Array.isArray(s)) fail('system: Input should be a valid string or a valid list');
  s.forEach((b, i) => {
    if (!isObj(b)) fail(`system.${i}: Input should be a valid dictionary or object to extract fields from`);
    if (b.type !== 'text') fail(`system.${i}.type: Input should be 'text'`);
    extra(b, ['type', 'text', 'cache_control', 'citations'], `system.${i}`);
    needString(b.text, `system.${i}.text`);
    if (b.text.length === 0) fail('system: text content blocks must be non-empty');
    checkCacheControl(b.cache_control, `system.${i}`);
  });
}

function checkTools(tools) {
  if (tools === undefined) return [];
  if (!Array.isArray(tools)) fail('tools: Input should be a valid list');
  const names = [];
  tools.forEach((t, i) => {
    const where = `tools.${i}`;
    if (!isObj(t)) fail(`${where}: Input should be a valid dictionary or object to extract fields from`);
    if (t.type !== undefined && t.type !== 'custom' && t.type !== null) {
      // server and client tools with a version tag (bash_20250124, web_search_20250305, ...)
      if (typeof t.type !== 'string' || !/_\d{8}$/.test(t.type)) {
        fail(`${where}: Input tag '${t.type}' found using 'type' does not match any of the expected tags: 'custom', 'bash_20250124', 'text_editor_20250124', 'web_search_20250305', ...`);
      }
      needString(t.name, `${where}.${t.type}.name`);
      names.push(t.name);
      return;
    }
    const w = `${where}.custom`;
    extra(t, ['type', 'name', 'description', 'input_schema', 'cache_control', 'strict', 'input_examples'], w);
    needString(t.name, `${w}.name`);
    if (!NAME_RE.test(t.name)) fail(`${w}.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`);
    if (t.description !== undefined) needString(t.description, `${w}.description`);
    if (t.input_schema === undefined) fail(`${w}.input_schema: Field required`);
    if (!isObj(t.input_schema)) fail(`${w}.input_schema: Input should be a valid dictionary or object to extract fields from`);
    if (t.input_schema.type !== 'object') fail(`${w}.input_schema.type: Input should be 'object'`);
    checkCacheControl(t.cache_control, w);
    names.push(t.name);
  });
  const dup = names.find((n, k) => names.indexOf(n) !== k);
  if (dup) fail(`tools: Tool names must be unique. Found duplicate: ${dup}`);
  return names;
}

function checkToolChoice(tc, names, thinkingOn) {
  if (tc === undefined) return;
  if (!isObj(tc)) fail('tool_choice: Input should be a valid dictionary or object to extract fields from');
  if (!['auto', 'any', 'tool', 'none'].includes(tc.type)) {
    fail(`tool_choice: Input tag '${tc.type}' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'`);
  }
  extra(tc, tc.type === 'tool' ? ['type', 'name', 'disable_parallel_tool_use']
    : tc.type === 'none' ? ['type'] : ['type', 'disable_parallel_tool_use'], `tool_choice.${tc.type}`);
  if (tc.disable_parallel_tool_use !== undefined && typeof tc.disable_parallel_tool_use !== 'boolean') {
    fail(`tool_choice.${tc.type}.disable_parallel_tool_use: Input should be a valid boolean`);
  }
  if (tc.type === 'tool') {
    needString(tc.name, 'tool_choice.tool.name');
  }
  if ((tc.type === 'any' || tc.type === 'tool') && names.length === 0) {
    fail(`tool_choice: tool_choice.type '${tc.type}' may only be specified while providing tools`);
  }
  if (tc.type === 'tool' && !names.includes(tc.name)) {
    fail(`tool_choice: Tool '${tc.name}' not found in 'tools'`);
  }
  if (thinkingOn && (tc.type === 'any' || tc.type === 'tool')) {
    fail('Thinking may not be enabled when tool_choice forces tool use.');
  }
}

const TOP_LEVEL = ['model', 'messages', 'max_tokens', 'system', 'metadata', 'stop_sequences', 'stream',
  'tools', 'tool_choice', 'thinking', 'service_tier', 'container',
  'mcp_servers', 'output_config', 'context_management', 'cache_control', 'inference_geo', 'speed'];
const SAMPLING = ['temperature', 'top_p', 'top_k']; // removed in 2026-10-21

// throws Invalid with the API's message; version: the anthropic-version
function validate(b, version) {
  if (!isObj(b)) fail('Input should be a valid dictionary or object to extract fields from');
  extra(b, version === NEW ? TOP_LEVEL : [...TOP_LEVEL, ...SAMPLING], '');
  needString(b.model, 'model');
  if (b.max_tokens === undefined) fail('max_tokens: Field required');
  if (!isInt(b.max_tokens)) fail('max_tokens: Input should be a valid integer');
  if (b.max_tokens < 1) fail('max_tokens: Input should be greater than or equal to 1');
  checkMessages(b.messages, version);
  checkSystem(b.system);
  for (const k of ['temperature', 'top_p']) {
    if (b[k] === undefined) continue;
    if (typeof b[k] !== 'number') fail(`${k}: Input should be a valid number`);
    if (b[k] < 0) fail(`${k}: Input should be greater than or equal to 0`);
    if (b[k] > 1) fail(`${k}: Input should be less than or equal to 1`);
  }
  if (b.top_k !== undefined && (!isInt(b.top_k) || b.top_k < 0)) fail('top_k: Input should be a valid integer greater than or equal to 0');
  if (b.stream !== undefined && typeof b.stream !== 'boolean') fail('stream: Input should be a valid boolean');
  if (b.stop_sequences !== undefined) {
    if (!Array.isArray(b.stop_sequences)) fail('stop_sequences: Input should be a valid list');
    b.stop_sequences.forEach((s, i) => {
      needString(s, `stop_sequences.${i}`);
      if (s === '') fail('stop_sequences: each stop sequence must be non-empty');
      if (!/\S/.test(s)) fail('stop_sequences: each stop sequence must contain non-whitespace');
    });
  }
  if (b.metadata !== undefined) {
    if (!isObj(b.metadata)) fail('metadata: Input should be a valid dictionary or object to extract fields from');
    extra(b.metadata, ['user_id'], 'metadata');
    if (b.metadata.user_id !== undefined && b.metadata.user_id !== null) needString(b.metadata.user_id, 'metadata.user_id');
  }
  let thinkingOn = false;
  if (b.thinking !== undefined) {
    const t = b.thinking;
    if (!isObj(t) || !['enabled', 'disabled', 'adaptive'].includes(t.type)) {
      fail("thinking: Input tag found using 'type' does not match any of the expected tags: 'enabled', 'disabled', 'adaptive'");
    }
    if (t.type === 'enabled') {
      extra(t, ['type', 'budget_tokens'], 'thinking.enabled');
      if (!isInt(t.budget_tokens)) fail('thinking.enabled.budget_tokens: Field required');
      if (t.budget_tokens < 1024) fail('thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
      if (t.budget_tokens >= b.max_tokens) fail('`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size');
      thinkingOn = true;
      if (b.temperature !== undefined && b.temperature !== 1) {
        fail('`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility');
      }
    }
  }
  const names = checkTools(b.tools);
  checkToolChoice(b.tool_choice, names, thinkingOn);
}

// ---- answers --------------------------------------------------------------

function blockText(c) {
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return '';
  return c.map((x) => (x && x.type === 'text' && typeof x.text === 'string' ? x.text : '')).join('');
}

// the text of the last user turn: its text blocks, else its tool results
function lastUserText(messages) {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    const t = blockText(m.content);
    if (t) return t;
    return m.content.filter((b) => b.type === 'tool_result').map((b) => blockText(b.content)).join(' ');
  }
  return '';
}

function inputTokens(b) {
  let n = 3;
  if (typeof b.system === 'string') n += L.countTokens(b.system);
  else if (Array.isArray(b.system)) n += L.countTokens(blockText(b.system));
  for (const m of b.messages) {
    n += 4;
    const blocks = blocksOf(m);
    for (const x of blocks) {
      if (x.type === 'text') n += L.countTokens(x.text);
      else if (x.type === 'tool_result') n += 2 + L.countTokens(blockText(x.content));
      else if (x.type === 'tool_use') n += 2 + L.countTokens(JSON.stringify(x.input));
      else n += 10;
    }
  }
  if (Array.isArray(b.tools)) n += 20 * b.tools.length;
  return n;
}

// cuts text after its first n tokens (words and punctuation runs)
function cutTokens(text, n) {
  const re = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;
  let m;
  let k = 0;
  while ((m = re.exec(text)) !== null) {
    k++;
    if (k === n) return text.slice(0, m.index + m[0].length);
  }
  return text;
}

// The content blocks and stop reason of the reply (without ids of tool
// uses, which depend on the request sequence number).
function plan(ctx) {
  const b = ctx.json;
  const s = ctx.scenario;
  const user = lastUserText(b.messages);
  const tools = Array.isArray(b.tools) ? b.tools : [];
  const tc = isObj(b.tool_choice) ? b.tool_choice : { type: 'auto' };
  const blocks = [];
  let stop = 'end_turn';
  let stopSeq = null;

  if ((s === 'tools' || s === 'tools2') && tools.length && tc.type !== 'none') {
    const forced = tc.type === 'any' || tc.type === 'tool';
    if (!forced) blocks.push({ type: 'text', text: 'Let me check.' });
    const n = s === 'tools2' && !tc.disable_parallel_tool_use ? 2 : 1;
    for (let i = 0; i < n; i++) {
      const name = tc.type === 'tool' ? tc.name : (tools[i] || tools[0]).name;
      blocks.push({ type: 'tool_use', name, input: { city: i ? 'Tokyo' : 'Paris', query: user } });
    }
    return { blocks, stop: 'tool_use', stopSeq: null };
  }

  let text = 'echo: ' + user;
  if (s === 'long') text += ' ' + 'lorem ipsum dolor é 你好 🌍 sit amet. '.repeat(2500);
  if (s === 'thinking' && isObj(b.thinking) && b.thinking.type === 'enabled') {
    blocks.push({ type: 'thinking', thinking: `The user said "${user}". I will echo it.`, signature: 'EqMBCkYIBhgCIkBtb2NrLXNpZ25hdHVyZQ==' });
  }
  if (Array.isArray(b.stop_sequences)) {
    let at = -1;
    for (const q of b.stop_sequences) {
      const k = q ? text.indexOf(q) : -1;
      if (k >= 0 && (at < 0 || k < at)) {
        at = k;
        stopSeq = q;
      }
    }
    if (at >= 0) {
      text = text.slice(0, at);
      stop = 'stop_sequence';
    } else {
      stopSeq = null;
    }
  }
  if (L.countTokens(text) > b.max_tokens) {
    text = cutTokens(text, b.max_tokens);
    stop = 'max_tokens';
    stopSeq = null;
  }
  if (s.startsWith('stop-')) {
    stop = s.slice(5);
    stopSeq = stop === 'stop_sequence' ? (Array.isArray(b.stop_sequences) && b.stop_sequences[0]) || 'END' : null;
  }
  if (text) blocks.push({ type: 'text', text });
  return { blocks, stop, stopSeq };
}

function outputTokens(blocks) {
  let n = 0;
  for (const x of blocks) {
    if (x.type === 'text') n += L.countTokens(x.text);
    else if (x.type === 'thinking') n += L.countTokens(x.thinking);
    else if (x.type === 'tool_use') n += 5 + L.countTokens(JSON.stringify(x.input));
  }
  return Math.max(1, n);
}

function toolId(ctx, k) {
  return `toolu_mock${ctx.record.seq}x${k}`;
}

function withIds(ctx, blocks) {
  let k = 0;
  return blocks.map((x) => (x.type === 'tool_use' ? { type: 'tool_use', id: toolId(ctx, k++), name: x.name, input: x.input } : x));
}

function message(ctx) {
  const p = plan(ctx);
  const content = withIds(ctx, p.blocks);
  return {
    id: 'msg_mock' + ctx.record.seq,
    type: 'message',
    role: 'assistant',
    model: ctx.json.model,
    content,
    stop_reason: p.stop,
    stop_sequence: p.stopSeq,
    usage: {
      input_tokens: inputTokens(ctx.json),
      cache_creation_input_tokens: CACHE_WRITE,
      cache_read_input_tokens: CACHE_READ,
      cache_creation: { ephemeral_5m_input_tokens: CACHE_WRITE, ephemeral_1h_input_tokens: 0 },
      output_tokens: outputTokens(content),
      service_tier: 'standard',
    },
  };
}

// ---- the route ------------------------------------------------------------

function messages(ctx) {
  const h = ctx.req.headers;
  let key = h['x-api-key'];
  if (key === undefined && typeof h.authorization === 'string') {
    const m = /^Bearer\s+(\S+)$/i.exec(h.authorization);
    if (m) key = m[1];
  }
  if (typeof key !== 'string' || key === '') {
    return sendError(ctx, 401, 'authentication_error', key === '' ? 'invalid x-api-key' : 'x-api-key header is required');
  }
  ctx.apiKey = key;
  const v = h['anthropic-version'];
  if (v === undefined) return invalid(ctx, 'anthropic-version: header is required');
  if (!VERSIONS.includes(v)) return invalid(ctx, `anthropic-version: invalid version '${v}'; supported versions are ${VERSIONS.join(', ')}`);
  const ct = h['content-type'] || '';
  if (!/^application\/json\b/i.test(ct)) return invalid(ctx, `Unsupported content type '${ct}'; use application/json`);
  if (ctx.jsonError) return invalid(ctx, `There was an issue with your request body: ${ctx.jsonError}`);
  try {
    validate(ctx.json, v);
  } catch (e) {
    if (e instanceof Invalid) return invalid(ctx, e.message);
    throw e;
  }
  const b = ctx.json;
  ctx.scenario = scenario(ctx, b.model);
  if (ctx.scenario === null) return sendError(ctx, 404, 'not_found_error', `model: ${b.model}`);
  const e = ERRORS[ctx.scenario];
  if (e) return sendError(ctx, e[0], e[1], e[2](b.model), e[3]);

  switch (ctx.scenario) {
    case 'hang': {
      const t = setTimeout(() => ctx.req.socket.destroy(), ctx.state.hangMs);
      ctx.res.on('close', () => clearTimeout(t));
      return undefined;
    }
    case 'close':
      return ctx.req.socket.destroy();
    case 'garbage':
      return L.sendJson(ctx, 200, '<html><body>this is not JSON {"content": [</body></html>\n', commonHeaders(ctx));
    default:
      break;
  }
  if (b.stream === true) return stream(ctx);

  switch (ctx.scenario) {
    case 'slow-release':
      return ctx.waitRelease(() => L.sendJson(ctx, 200, message(ctx), commonHeaders(ctx)));
    case 'stream-error':
      return sendError(ctx, 529, 'overloaded_error', 'Overloaded');
    case 'stream-cut': {
      const body = Buffer.from(JSON.stringify(message(ctx)));
      ctx.res.writeHead(200, Object.assign({ 'content-type': 'application/json', 'content-length': body.length }, commonHeaders(ctx)));
      const w = new L.BodyWriter(ctx);
      w.write(body.subarray(0, body.length >> 1));
      return w.cut();
    }
    case 'stream-eof': {
      const s = JSON.stringify(message(ctx));
      return L.sendJson(ctx, 200, s.slice(0, s.length >> 1), commonHeaders(ctx));
    }
    default:
      return L.sendJson(ctx, 200, message(ctx), commonHeaders(ctx));
  }
}

// Cuts a tool's input JSON into fragments of 1..7 code points, with extra
// cuts right after every backslash and inside the first key, so that no
// fragment is valid JSON on its own.
function jsonFragments(json, rnd) {
  const cps = Array.from(json);
  const cuts = new Set([2]);
  cps.forEach((c, i) => { if (c === '\\') cuts.add(i + 1); });
  let pos = 0;
  while (pos < cps.length) {
    pos += 1 + Math.floor(rnd() * 7);
    cuts.add(pos);
  }
  const out = [];
  let prev = 0;
  for (const c of [...cuts].sort((x, y) => x - y)) {
    if (c > prev && c < cps.length) {
      out.push(cps.slice(prev, c).join(''));
      prev = c;
    }
  }
  out.push(cps.slice(prev).join(''));
  return out;
}

function stream(ctx) {
  const msg = message(ctx);
  const rnd = L.prng(ctx.seed + 1);
  const w = L.startSse(ctx, commonHeaders(ctx));
  const ev = (type, obj, cb) => w.event(type, Object.assign({ type }, obj), cb);
  const ping = () => ev('ping', {});
  const maybePing = () => { if (rnd() < 0.25) ping(); };

  const start = JSON.parse(JSON.stringify(msg));
  start.content = [];
  start.stop_reason = null;
  start.stop_sequence = null;
  start.usage.output_tokens = 1;
  ev('message_start', { message: start });
  ping();

  const s = ctx.scenario;
  const broken = s === 'stream-error' || s === 'stream-cut' || s === 'stream-eof';
  const frag = s === 'long' ? 64 : 3;

  // the events of block i, as [type, payload] pairs
  const blockEvents = (x, index) => {
    const out = [];
    if (x.type === 'text') {
      out.push(['content_block_start', { index, content_block: { type: 'text', text: '' } }]);
      for (const f of L.fragments(x.text, frag)) {
        out.push(['content_block_delta', { index, delta: { type: 'text_delta', text: f } }]);
      }
    } else if (x.type === 'thinking') {
      out.push(['content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }]);
      for (const f of L.fragments(x.thinking, 5)) {
        out.push(['content_block_delta', { index, delta: { type: 'thinking_delta', thinking: f } }]);
      }
      out.push(['content_block_delta', { index, delta: { type: 'signature_delta', signature: x.signature } }]);
    } else if (x.type === 'tool_use') {
      out.push(['content_block_start', { index, content_block: { type: 'tool_use', id: x.id, name: x.name, input: {} } }]);
      out.push(['content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } }]);
      for (const f of jsonFragments(JSON.stringify(x.input), rnd)) {
        out.push(['content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: f } }]);
      }
    }
    out.push(['content_block_stop', { index }]);
    return out;
  };

  const all = [];
  msg.content.forEach((x, i) => all.push(...blockEvents(x, i)));

  const send = (list) => {
    for (const [type, obj] of list) {
      ev(type, obj);
      if (type === 'content_block_start') ping();
      else if (type === 'content_block_delta') maybePing();
    }
  };
  const finish = () => {
    ev('message_delta', { delta: { stop_reason: msg.stop_reason, stop_sequence: msg.stop_sequence }, usage: { output_tokens: msg.usage.output_tokens } });
    ev('message_stop', {});
    w.end();
  };

  if (s === 'slow-release') {
    // message_start, the text block start and a text_delta "echo: " go
    // out first; the rest after POST /__release
    const first = all.findIndex((x) => x[0] === 'content_block_delta');
    const { index, delta } = all[first][1];
    const text = msg.content[index].text;
    const rest = L.fragments(text.slice('echo: '.length), frag)
      .map((f) => ['content_block_delta', { index, delta: { type: 'text_delta', text: f } }]);
    rest.push(...all.slice(first).filter((x) => !(x[0] === 'content_block_delta' && x[1].index === index)));
    send(all.slice(0, first));
    ev('content_block_delta', { index, delta: { type: delta.type, text: 'echo: ' } }, () => ctx.waitRelease(() => {
      send(rest);
      finish();
    }));
    return;
  }

  if (broken) {
    // the start of the first text block and two of its deltas
    const upto = all.findIndex((x, i) => i > 0 && x[0] === 'content_block_delta' && all[i - 1][0] === 'content_block_delta');
    send(all.slice(0, upto < 0 ? Math.min(all.length, 3) : upto + 1));
    if (s === 'stream-error') {
      ev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
      return w.end();
    }
    if (s === 'stream-cut') return w.cut();
    return w.end();
  }

  send(all);
  finish();
}

module.exports = {
  name: 'anthropic',
  routes: [
    { name: 'messages', method: 'POST', pattern: /^(?<prefix>.*)\/v1\/messages\/?$/, handler: messages },
  ],
  // for tests that compute the exact usage the mock reports
  ERRORS, scenario, validate, inputTokens, CACHE_WRITE, CACHE_READ,
};
