'use strict';
// AWS Bedrock Runtime's wire format, as in /work/shared/providers/bedrock.md:
// Converse (POST /model/<modelId>/converse), ConverseStream
// (POST /model/<modelId>/converse-stream, binary
// application/vnd.amazon.eventstream frames with real CRCs) and InvokeModel
// for the Titan and Cohere embedding models (POST /model/<modelId>/invoke).
// Any path prefix before /model/ is accepted (api_base with a path).
//
// EVERY request is authenticated like AWS does it:
//   - "Authorization: AWS4-HMAC-SHA256 Credential=..." is verified by
//     recomputing the SigV4 signature (service "bedrock", the path encoded
//     twice, the signed headers as received, SHA-256 of the body) with the
//     secret of a known access key (CREDENTIALS below).  A wrong signature
//     gets AWS's 403 InvalidSignatureException, an unknown key or a missing
//     or wrong session token 403 UnrecognizedClientException, a stale
//     X-Amz-Date 403 InvalidSignatureException "Signature expired".
//   - "Authorization: Bearer <key>" is a Bedrock API key; keys with the
//     prefixes of AWS's short-term ("bedrock-api-key-") and long-term
//     ("ABSK") keys are accepted, others get 403.
// The verdict is recorded on the request log entry as `sigv4`
// ({ok, access_key, region, service, signed_headers, canonical_request,
// bearer}) so tests can assert the signature was checked.
//
// Behaviour is chosen from the model id in the path (URL-decoded): the part
// after the last "mock-", without a trailing "-v<N>" / ":<N>", so
// "anthropic.mock-ok-v1:0", "us.mock-tools-split-v1:0" and
// "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.mock-ok-v1:0"
// all work.  Ids without "mock-" (real-looking ids) behave as mock-ok.
// A "-split" suffix (or the header "x-mock-split: 1") writes the body in
// 1..7-byte pieces, so event-stream frames are cut at every kind of byte
// boundary (inside the prelude, the headers, the payload, the CRC).
//
//   ok             Converse answer "echo: <last user text>"; stream: text deltas
//   tools          one toolUse (name = first toolSpec, else get_weather;
//                  input {"city":"Paris","query":<text>}); stopReason tool_use
//   tools2         two toolUse blocks
//   cache          usage with cacheReadInputTokens 100, cacheWriteInputTokens 20
//   stopseq        stopReason stop_sequence;  maxtok: stopReason max_tokens
//   guardrail      stopReason guardrail_intervened
//   err-throttle   429 ThrottlingException
//   err-validation 400 ValidationException
//   err-context    400 ValidationException "Input is too long for requested model."
//   err-access     403 AccessDeniedException
//   err-notfound   404 ResourceNotFoundException
//   err-timeout    408 ModelTimeoutException
//   err-model      424 ModelErrorException
//   err-notready   429 ModelNotReadyException
//   err-500        500 InternalServerException
//   err-503        503 ServiceUnavailableException
//   garbage        200 application/json that is not JSON
//   hang / close   never answer / close the socket
//   slow-release   stream: messageStart + "echo: " delta, then waits for
//                  POST /__release; non-stream waits, then answers
//   stream-throttle  stream: some text, then a throttlingException frame
//   stream-error     stream: some text, then a modelStreamErrorException frame
//   stream-internal  stream: an internalServerException frame first
//   stream-cut       stream: some frames, then half a frame and a TCP reset
//   stream-eof       stream: some frames, then a clean end without messageStop
//   any other mock-* 404 ResourceNotFoundException
//
// Requests are validated as Converse does (roles, alternation, blank text,
// toolConfig required with toolUse/toolResult, inferenceConfig ranges,
// unknown top-level members such as "model" or "stream"): violations get
// 400 ValidationException with AWS's wording.

const crypto = require('crypto');
const zlib = require('zlib');
const L = require('../lib');

// access key id -> { secret, token (required session token) }
const CREDENTIALS = {
  AKIDMOCKBEDROCK: { secret: 'mock/Secret+Key/EXAMPLEKEY0123456789' },
  ASIAMOCKSESSION: { secret: 'mock-session-secret/EXAMPLE', token: 'mock//session+token=EXAMPLE' },
};
const MAX_SKEW_MS = 15 * 60 * 1000;

const ERR_NS = 'http://internal.amazon.com/coral/com.amazon.bedrock/';
const FRONT_NS = 'http://internal.amazon.com/coral/com.amazon.coral.service/';

const ERRORS = {
  'err-throttle': [429, 'ThrottlingException', 'Too many requests, please wait before trying again.'],
  'err-validation': [400, 'ValidationException', 'The model returned the following errors: temperature: range: 0..1'],
  'err-context': [400, 'ValidationException', 'Input is too long for requested model.'],
  'err-access': [403, 'AccessDeniedException', "You don't have access to the model with the specified model ID."],
  'err-notfound': [404, 'ResourceNotFoundException', 'Could not resolve the foundation model from the provided model identifier.'],
  'err-timeout': [408, 'ModelTimeoutException', 'Model has timed out in processing the request. Try your request again.'],
  'err-model': [424, 'ModelErrorException', 'Received error from model: internal failure'],
  'err-notready': [429, 'ModelNotReadyException', 'Model is not ready for inference. Wait and try your request again.'],
  'err-500': [500, 'InternalServerException', 'The server encountered an internal error while processing the request.'],
  'err-503': [503, 'ServiceUnavailableException', 'Bedrock is unable to process your request.'],
};

const SCENARIOS = new Set([
  'ok', 'tools', 'tools2', 'cache', 'stopseq', 'maxtok', 'guardrail', 'garbage', 'hang', 'close',
  'slow-release', 'stream-throttle', 'stream-error', 'stream-internal', 'stream-cut', 'stream-eof',
  ...Object.keys(ERRORS),
]);

// ---- AWS error answers -----------------------------------------------------

function requestId() {
  return crypto.randomUUID();
}

function sendAwsError(ctx, status, type, message, ns) {
  L.sendJson(ctx, status, { message }, {
    'x-amzn-errortype': `${type}:${ns || ERR_NS}`,
    'x-amzn-requestid': requestId(),
  });
}

function validation(ctx, message) {
  sendAwsError(ctx, 400, 'ValidationException', message);
  return false;
}

// ---- SigV4 verification ----------------------------------------------------

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const hmac = (k, s) => crypto.createHmac('sha256', k).update(s).digest();

// every byte but A-Z a-z 0-9 - _ . ~ as %XX (upper-case), '/' kept if asked
function uriEncode(s, keepSlash) {
  const b = Buffer.from(s, 'utf8');
  let out = '';
  for (const c of b) {
    const ch = String.fromCharCode(c);
    if (/[A-Za-z0-9\-_.~]/.test(ch) || (keepSlash && ch === '/')) out += ch;
    else out += '%' + c.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function canonicalQuery(q) {
  if (!q) return '';
  const pairs = q.split('&').filter(Boolean).map((p) => {
    const i = p.indexOf('=');
    const dec = (s) => { try { return decodeURIComponent(s); } catch (_) { return s; } };
    const k = i < 0 ? p : p.slice(0, i);
    const v = i < 0 ? '' : p.slice(i + 1);
    return [uriEncode(dec(k), false), uriEncode(dec(v), false)];
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

// the value of every received header of that name, trimmed, joined by ','
function headerValues(ctx, name) {
  const raw = ctx.req.rawHeaders;
  const vals = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === name) vals.push(raw[i + 1].trim().replace(/\s+/g, ' '));
  }
  return vals.length ? vals.join(',') : null;
}

function parseAuthorization(h) {
  const m = /^AWS4-HMAC-SHA256\s+(.*)$/.exec(h);
  if (!m) return null;
  const parts = {};
  for (const kv of m[1].split(',')) {
    const i = kv.indexOf('=');
    if (i > 0) parts[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
  }
  if (!parts.Credential || !parts.SignedHeaders || !parts.Signature) return null;
  const cred = parts.Credential.split('/');
  if (cred.length !== 5 || cred[4] !== 'aws4_request') return null;
  return {
    accessKey: cred[0], date: cred[1], region: cred[2], service: cred[3],
    signedHeaders: parts.SignedHeaders.split(';'), signature: parts.Signature,
  };
}

function amzDateMs(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

// Returns true when the request may go on; otherwise the 403 was sent.
function authenticate(ctx) {
  const verdict = { ok: false };
  ctx.record.sigv4 = verdict;
  const h = ctx.req.headers.authorization;
  const front = (type, msg) => {
    verdict.error = type;
    sendAwsError(ctx, 403, type, msg, FRONT_NS);
    return false;
  };
  if (typeof h !== 'string' || !h) {
    return front('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const bearer = /^Bearer\s+(\S+)$/.exec(h);
  if (bearer) {
    verdict.bearer = bearer[1];
    if (!bearer[1].startsWith('bedrock-api-key-') && !bearer[1].startsWith('ABSK')) {
      return front('UnrecognizedClientException', 'Invalid API Key format: Must start with pre-defined prefix');
    }
    verdict.ok = true;
    return true;
  }
  const a = parseAuthorization(h);
  if (!a) {
    return front('IncompleteSignatureException', `Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=${h}`);
  }
  Object.assign(verdict, { access_key: a.accessKey, region: a.region, service: a.service, signed_headers: a.signedHeaders.join(';') });
  const cred = CREDENTIALS[a.accessKey];
  if (!cred) return front('UnrecognizedClientException', 'The security token included in the request is invalid.');
  const token = ctx.req.headers['x-amz-security-token'];
  if ((cred.token || token !== undefined) && token !== cred.token) {
    return front('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (a.service !== 'bedrock') {
    return front('InvalidSignatureException', `Credential should be scoped to correct service: 'bedrock'. `);
  }
  const amzDate = ctx.req.headers['x-amz-date'];
  const t = amzDateMs(amzDate);
  if (Number.isNaN(t) || amzDate.slice(0, 8) !== a.date) {
    return front('IncompleteSignatureException', 'Date must be in ISO-8601 \'basic format\'. Got \'' + amzDate + '\'.');
  }
  if (Math.abs(Date.now() - t) > MAX_SKEW_MS) {
    return front('InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than ${new Date(Date.now() - MAX_SKEW_MS).toISOString().replace(/[-:]|\.\d{3}/g, '')} (${new Date().toISOString().replace(/[-:]|\.\d{3}/g, '')} - 15 min.)`);
  }
  const must = ['host', 'x-amz-date'].concat(cred.token ? ['x-amz-security-token'] : []);
  for (const n of must) {
    if (!a.signedHeaders.includes(n)) {
      return front('InvalidSignatureException', `Signature must include the header '${n}'.`);
    }
  }
  const sorted = [...a.signedHeaders].sort();
  if (sorted.join(';') !== a.signedHeaders.join(';')) {
    return front('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
  }
  const rawUrl = ctx.req.url;
  const qi = rawUrl.indexOf('?');
  const path = qi < 0 ? rawUrl : rawUrl.slice(0, qi);
  const query = qi < 0 ? '' : rawUrl.slice(qi + 1);
  let payloadHash = sha256(ctx.body);
  const declared = ctx.req.headers['x-amz-content-sha256'];
  if (declared !== undefined && declared !== 'UNSIGNED-PAYLOAD' && declared !== payloadHash) {
    return front('InvalidSignatureException', 'The provided \'x-amz-content-sha256\' header does not match what was computed.');
  }
  if (declared === 'UNSIGNED-PAYLOAD') payloadHash = declared;
  const headerLines = a.signedHeaders.map((n) => `${n}:${headerValues(ctx, n) ?? ''}\n`).join('');
  const canonical = [
    ctx.req.method,
    uriEncode(path || '/', true),
    canonicalQuery(query),
    headerLines,
    a.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  verdict.canonical_request = canonical;
  const scope = `${a.date}/${a.region}/${a.service}/aws4_request`;
  const sts = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let k = hmac('AWS4' + cred.secret, a.date);
  k = hmac(k, a.region);
  k = hmac(k, a.service);
  k = hmac(k, 'aws4_request');
  const expected = crypto.createHmac('sha256', k).update(sts).digest('hex');
  if (expected !== a.signature) {
    verdict.expected_signature = expected;
    return front('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
  }
  verdict.ok = true;
  return true;
}

// ---- event-stream frames -----------------------------------------------------

function strHeader(name, value) {
  const n = Buffer.from(name, 'utf8');
  const v = Buffer.from(value, 'utf8');
  const b = Buffer.alloc(1 + n.length + 1 + 2 + v.length);
  b[0] = n.length;
  n.copy(b, 1);
  b[1 + n.length] = 7;
  b.writeUInt16BE(v.length, 2 + n.length);
  v.copy(b, 4 + n.length);
  return b;
}

function frame(headers, payload) {
  const h = Buffer.concat(headers.map(([n, v]) => strHeader(n, v)));
  const p = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  const total = 16 + h.length + p.length;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(h.length, 4);
  out.writeUInt32BE(zlib.crc32(out.subarray(0, 8)), 8);
  h.copy(out, 12);
  p.copy(out, 12 + h.length);
  out.writeUInt32BE(zlib.crc32(out.subarray(0, total - 4)), total - 4);
  return out;
}

function eventFrame(type, obj) {
  return frame([[':event-type', type], [':content-type', 'application/json'], [':message-type', 'event']],
    JSON.stringify(obj));
}

function exceptionFrame(type, obj) {
  return frame([[':exception-type', type], [':content-type', 'application/json'], [':message-type', 'exception']],
    JSON.stringify(obj));
}

// ---- request checks ----------------------------------------------------------

const TOP_LEVEL = new Set(['messages', 'system', 'inferenceConfig', 'toolConfig', 'guardrailConfig',
  'additionalModelRequestFields', 'additionalModelResponseFieldPaths', 'promptVariables',
  'requestMetadata', 'performanceConfig', 'serviceTier', 'outputConfig']);
const BLOCKS = new Set(['text', 'image', 'document', 'video', 'toolUse', 'toolResult', 'guardContent',
  'cachePoint', 'reasoningContent', 'citationsContent', 'searchResult']);

function checkBlock(ctx, b, where, role) {
  if (!b || typeof b !== 'object' || Array.isArray(b)) return validation(ctx, `${where} must be an object`);
  const keys = Object.keys(b);
  if (keys.length !== 1 || !BLOCKS.has(keys[0])) {
    return validation(ctx, `The ContentBlock at ${where} must contain exactly one member (got ${keys.join(',') || 'none'}).`);
  }
  const k = keys[0];
  if (k === 'text') {
    if (typeof b.text !== 'string') return validation(ctx, `${where}.text must be a string`);
    if (!b.text.trim()) return validation(ctx, `The text field in the ContentBlock object at ${where} is blank. Add text to the text field, and try again.`);
  }
  if (k === 'image') {
    const im = b.image;
    if (!im || !['png', 'jpeg', 'gif', 'webp'].includes(im.format)) return validation(ctx, `${where}.image.format must be one of png, jpeg, gif, webp`);
    if (!im.source || typeof im.source.bytes !== 'string' || !/^[A-Za-z0-9+/=]*$/.test(im.source.bytes)) return validation(ctx, `${where}.image.source.bytes must be base64`);
  }
  if (k === 'document') {
    const d = b.document;
    if (!d || !['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'txt', 'md'].includes(d.format)) return validation(ctx, `${where}.document.format is invalid`);
    if (typeof d.name !== 'string' || !/^[A-Za-z0-9()[\]-]+( [A-Za-z0-9()[\]-]+)*$/.test(d.name)) return validation(ctx, `${where}.document.name is invalid`);
    if (!d.source || typeof d.source.bytes !== 'string') return validation(ctx, `${where}.document.source.bytes must be base64`);
  }
  if (k === 'toolUse') {
    if (role !== 'assistant') return validation(ctx, `${where}: toolUse blocks belong to assistant messages`);
    const t = b.toolUse;
    if (!t || typeof t.toolUseId !== 'string' || !t.toolUseId || typeof t.name !== 'string' || !t.name) return validation(ctx, `${where}.toolUse needs toolUseId and name`);
    if (!t.input || typeof t.input !== 'object' || Array.isArray(t.input)) return validation(ctx, `${where}.toolUse.input must be a JSON object`);
  }
  if (k === 'toolResult') {
    if (role !== 'user') return validation(ctx, `${where}: toolResult blocks belong to user messages`);
    const t = b.toolResult;
    if (!t || typeof t.toolUseId !== 'string' || !Array.isArray(t.content)) return validation(ctx, `${where}.toolResult needs toolUseId and content`);
    if (t.status !== undefined && !['success', 'error'].includes(t.status)) return validation(ctx, `${where}.toolResult.status must be success or error`);
  }
  if (k === 'cachePoint' && !(b.cachePoint && b.cachePoint.type === 'default')) return validation(ctx, `${where}.cachePoint.type must be default`);
  return true;
}

function checkConverse(ctx) {
  const b = ctx.json;
  if (ctx.jsonError || !b || typeof b !== 'object' || Array.isArray(b)) {
    return validation(ctx, 'Malformed input request, please reformat your input and try again.');
  }
  for (const k of Object.keys(b)) {
    if (!TOP_LEVEL.has(k)) return validation(ctx, `Malformed input request: extraneous key [${k}] is not permitted, please reformat your input and try again.`);
  }
  const msgs = b.messages;
  if (!Array.isArray(msgs) || msgs.length === 0) return validation(ctx, 'A conversation must start with a user message. Try again with a conversation that starts with a user message.');
  let usesTools = false;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i];
    if (!m || (m.role !== 'user' && m.role !== 'assistant')) return validation(ctx, `1 validation error detected: Value at 'messages.${i + 1}.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]`);
    if (i === 0 && m.role !== 'user') return validation(ctx, 'A conversation must start with a user message. Try again with a conversation that starts with a user message.');
    if (i > 0 && msgs[i - 1].role === m.role) return validation(ctx, 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.');
    if (!Array.isArray(m.content) || m.content.length === 0) return validation(ctx, `The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`);
    for (let j = 0; j < m.content.length; j++) {
      if (!checkBlock(ctx, m.content[j], `messages.${i}.content.${j}`, m.role)) return false;
      if (m.content[j].toolUse || m.content[j].toolResult) usesTools = true;
    }
  }
  if (b.system !== undefined) {
    if (!Array.isArray(b.system)) return validation(ctx, 'system must be a list');
    for (let j = 0; j < b.system.length; j++) {
      const s = b.system[j];
      if (!s || (typeof s.text !== 'string' && !s.cachePoint && !s.guardContent)) return validation(ctx, `system.${j} must be a SystemContentBlock`);
      if (typeof s.text === 'string' && !s.text.trim()) return validation(ctx, `The text field in the SystemContentBlock object at system.${j} is blank.`);
    }
  }
  const ic = b.inferenceConfig;
  if (ic !== undefined) {
    if (!ic || typeof ic !== 'object') return validation(ctx, 'inferenceConfig must be an object');
    for (const k of Object.keys(ic)) {
      if (!['maxTokens', 'temperature', 'topP', 'stopSequences'].includes(k)) return validation(ctx, `Malformed input request: extraneous key [inferenceConfig.${k}] is not permitted`);
    }
    if (ic.maxTokens !== undefined && !(Number.isInteger(ic.maxTokens) && ic.maxTokens >= 1)) return validation(ctx, "1 validation error detected: Value at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1");
    if (ic.temperature !== undefined && !(typeof ic.temperature === 'number' && ic.temperature >= 0 && ic.temperature <= 1)) return validation(ctx, "1 validation error detected: Value at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less than or equal to 1");
    if (ic.topP !== undefined && !(typeof ic.topP === 'number' && ic.topP >= 0 && ic.topP <= 1)) return validation(ctx, "1 validation error detected: Value at 'inferenceConfig.topP' failed to satisfy constraint: Member must have value less than or equal to 1");
    if (ic.stopSequences !== undefined && !(Array.isArray(ic.stopSequences) && ic.stopSequences.every((s) => typeof s === 'string' && s.length))) return validation(ctx, 'inferenceConfig.stopSequences must be a list of non-empty strings');
  }
  const tc = b.toolConfig;
  if (usesTools && !tc) return validation(ctx, 'The toolConfig field must be defined when using toolUse and toolResult content blocks.');
  if (tc !== undefined) {
    if (!tc || !Array.isArray(tc.tools) || tc.tools.length === 0) return validation(ctx, "1 validation error detected: Value at 'toolConfig.tools' failed to satisfy constraint: Member must have length greater than or equal to 1");
    for (const t of tc.tools) {
      const s = t && t.toolSpec;
      if (!s || typeof s.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(s.name) || !s.inputSchema || typeof s.inputSchema.json !== 'object') {
        return validation(ctx, 'toolConfig.tools must hold toolSpec objects with a valid name and inputSchema.json');
      }
    }
    if (tc.toolChoice !== undefined) {
      const keys = Object.keys(tc.toolChoice || {});
      if (keys.length !== 1 || !['auto', 'any', 'tool'].includes(keys[0])) return validation(ctx, 'toolConfig.toolChoice must have exactly one of auto, any, tool');
      if (keys[0] === 'tool' && !tc.tools.some((t) => t.toolSpec.name === tc.toolChoice.tool.name)) return validation(ctx, 'toolConfig.toolChoice.tool.name must name one of the tools');
    }
  }
  if (b.outputConfig !== undefined) {
    const js = b.outputConfig && b.outputConfig.textFormat && b.outputConfig.textFormat.structure
      && b.outputConfig.textFormat.structure.jsonSchema;
    if (!js || typeof js.schema !== 'string') return validation(ctx, 'outputConfig.textFormat.structure.jsonSchema.schema must be a string');
    try { JSON.parse(js.schema); } catch (_) { return validation(ctx, 'outputConfig.textFormat.structure.jsonSchema.schema is not valid JSON'); }
  }
  return true;
}

// ---- scenarios -----------------------------------------------------------------

function modelIdOf(ctx) {
  try { return decodeURIComponent(ctx.params.id); } catch (_) { return ctx.params.id; }
}

// "us.anthropic.mock-tools-split-v1:0" -> "tools" (split set); null: unknown
function scenario(ctx, id) {
  const i = id.lastIndexOf('mock-');
  if (i < 0) return 'ok';
  let s = id.slice(i + 5).replace(/:\d+$/, '').replace(/-v\d+$/, '');
  if (s.endsWith('-split')) {
    ctx.split = true;
    s = s.slice(0, -6);
  }
  return SCENARIOS.has(s) ? s : null;
}

function textOf(content) {
  if (!Array.isArray(content)) return '';
  return content.map((c) => (c && typeof c.text === 'string' ? c.text : '')).join('');
}

function lastUserText(msgs) {
  for (let i = msgs.length - 1; i >= 0; i--) {
    if (msgs[i].role === 'user') {
      const t = textOf(msgs[i].content);
      if (t) return t;
    }
  }
  return '';
}

function inputTokens(b) {
  let n = 3;
  for (const m of b.messages) n += 4 + L.countTokens(textOf(m.content));
  for (const s of b.system || []) n += L.countTokens(s.text || '');
  return n;
}

function toolNames(b) {
  const tools = b.toolConfig && Array.isArray(b.toolConfig.tools) ? b.toolConfig.tools : [];
  return tools.map((t) => t.toolSpec.name);
}

function toolUses(ctx, n) {
  const names = toolNames(ctx.json);
  const text = lastUserText(ctx.json.messages);
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push({
      toolUseId: `tooluse_mock${ctx.record.seq}x${i}`,
      name: names[i] || names[0] || 'get_weather',
      input: { city: i ? 'Tokyo' : 'Paris', query: text },
    });
  }
  return out;
}

function stopReason(s, tools) {
  if (tools) return 'tool_use';
  return { stopseq: 'stop_sequence', maxtok: 'max_tokens', guardrail: 'guardrail_intervened' }[s] || 'end_turn';
}

function usage(ctx, produced) {
  const u = { inputTokens: inputTokens(ctx.json), outputTokens: Math.max(1, L.countTokens(produced)) };
  if (ctx.scenario === 'cache') {
    u.cacheReadInputTokens = 100;
    u.cacheWriteInputTokens = 20;
  }
  u.totalTokens = u.inputTokens + u.outputTokens + (u.cacheReadInputTokens || 0) + (u.cacheWriteInputTokens || 0);
  return u;
}

function pad(rnd) {
  const n = 1 + Math.floor(rnd() * 20);
  let s = '';
  for (let i = 0; i < n; i++) s += 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[Math.floor(rnd() * 62)];
  return s;
}

// Shared by the three routes; false when an answer was sent.
function preflight(ctx) {
  if (!authenticate(ctx)) return false;
  const id = modelIdOf(ctx);
  ctx.modelId = id;
  ctx.record.model_id = id;
  ctx.scenario = scenario(ctx, id);
  if (ctx.scenario === null) {
    sendAwsError(ctx, 404, 'ResourceNotFoundException', 'Could not resolve the foundation model from the provided model identifier.');
    return false;
  }
  return true;
}

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
      L.sendJson(ctx, 200, '<html><body>this is not JSON {"output": [</body></html>\n', { 'x-amzn-requestid': requestId() });
      return true;
    default: {
      const e = ERRORS[ctx.scenario];
      if (e) {
        sendAwsError(ctx, e[0], e[1], e[2]);
        return true;
      }
      return false;
    }
  }
}

// ---- Converse -------------------------------------------------------------------

function converse(ctx) {
  if (!preflight(ctx) || !checkConverse(ctx)) return;
  if (transport(ctx)) return;
  const n = ctx.scenario === 'tools2' ? 2 : ctx.scenario === 'tools' ? 1 : 0;
  const content = [];
  let produced = '';
  if (n) {
    for (const t of toolUses(ctx, n)) {
      content.push({ toolUse: t });
      produced += JSON.stringify(t.input) + ' ';
    }
  } else {
    produced = 'echo: ' + lastUserText(ctx.json.messages);
    content.push({ text: produced });
  }
  const resp = {
    output: { message: { role: 'assistant', content } },
    stopReason: stopReason(ctx.scenario, n > 0),
    usage: usage(ctx, produced),
    metrics: { latencyMs: 42 },
  };
  const send = () => L.sendJson(ctx, 200, resp, { 'x-amzn-requestid': requestId() });
  if (ctx.scenario === 'slow-release') return ctx.waitRelease(send);
  send();
}

// ---- ConverseStream ---------------------------------------------------------------

function converseStream(ctx) {
  if (!preflight(ctx) || !checkConverse(ctx)) return;
  if (transport(ctx)) return;
  const rnd = L.prng(ctx.seed + 3);
  ctx.res.writeHead(200, {
    'content-type': 'application/vnd.amazon.eventstream',
    'x-amzn-requestid': requestId(),
  });
  const w = new L.BodyWriter(ctx);
  const send = (type, obj, cb) => w.write(eventFrame(type, Object.assign(obj, { p: pad(rnd) })), cb);
  const n = ctx.scenario === 'tools2' ? 2 : ctx.scenario === 'tools' ? 1 : 0;
  let produced = '';

  const finish = () => {
    send('messageStop', { stopReason: stopReason(ctx.scenario, n > 0) });
    w.write(eventFrame('metadata', { usage: usage(ctx, produced), metrics: { latencyMs: 42 } }));
    w.end();
  };

  if (ctx.scenario === 'stream-internal') {
    w.write(exceptionFrame('internalServerException', { message: 'The server encountered an internal error.' }));
    return w.end();
  }

  send('messageStart', { role: 'assistant' });

  if (n) {
    toolUses(ctx, n).forEach((t, i) => {
      send('contentBlockStart', { contentBlockIndex: i, start: { toolUse: { toolUseId: t.toolUseId, name: t.name } } });
      const args = JSON.stringify(t.input);
      for (const frag of L.fragments(args, 7)) {
        send('contentBlockDelta', { contentBlockIndex: i, delta: { toolUse: { input: frag } } });
      }
      send('contentBlockStop', { contentBlockIndex: i });
      produced += args + ' ';
    });
    return finish();
  }

  const text = 'echo: ' + lastUserText(ctx.json.messages);
  const frags = L.fragments(text, 3);
  const deltas = (list) => {
    for (const f of list) {
      send('contentBlockDelta', { contentBlockIndex: 0, delta: { text: f } });
      produced += f;
    }
  };

  switch (ctx.scenario) {
    case 'slow-release': {
      const head = 'echo: ';
      produced += head;
      send('contentBlockDelta', { contentBlockIndex: 0, delta: { text: head } }, () => ctx.waitRelease(() => {
        deltas(L.fragments(text.slice(head.length), 3));
        send('contentBlockStop', { contentBlockIndex: 0 });
        finish();
      }));
      return;
    }
    case 'stream-throttle':
      deltas(frags.slice(0, 2));
      w.write(exceptionFrame('throttlingException', { message: 'Too many requests, please wait before trying again.' }));
      return w.end();
    case 'stream-error':
      deltas(frags.slice(0, 2));
      w.write(exceptionFrame('modelStreamErrorException', {
        message: 'Received error from model while streaming', originalStatusCode: 500, originalMessage: 'model crashed',
      }));
      return w.end();
    case 'stream-cut': {
      deltas(frags.slice(0, 2));
      const f = eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'lost' } });
      w.write(f.subarray(0, f.length >> 1));
      return w.cut();
    }
    case 'stream-eof':
      deltas(frags.slice(0, 2));
      return w.end();
    default:
      deltas(frags);
      send('contentBlockStop', { contentBlockIndex: 0 });
      return finish();
  }
}

// ---- InvokeModel: embedding models ----------------------------------------------------

function fnv1a(s) {
  let h = 0x811c9dc5;
  for (const x of Buffer.from(s, 'utf8')) {
    h ^= x;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// k/1024 with |k| <= 1000: exact in float32 (base64 answers decode the same)
function vector(input, dims) {
  const h = fnv1a(input);
  const v = [];
  for (let i = 0; i < dims; i++) {
    const x = (Math.imul(h ^ (i * 0x9e3779b1), 2654435761) >>> 0) % 2001;
    v.push((x - 1000) / 1024);
  }
  return v;
}

function extraneous(ctx, b, allowed) {
  for (const k of Object.keys(b)) {
    if (!allowed.includes(k)) {
      validation(ctx, `Malformed input request: extraneous key [${k}] is not permitted, please reformat your input and try again.`);
      return true;
    }
  }
  return false;
}

function invoke(ctx) {
  if (!preflight(ctx)) return;
  const b = ctx.json;
  if (ctx.jsonError || !b || typeof b !== 'object' || Array.isArray(b)) return validation(ctx, 'Malformed input request, please reformat your input and try again.');
  if (transport(ctx)) return;
  const id = ctx.modelId;
  const headers = { 'x-amzn-requestid': requestId() };
  if (/titan-embed/.test(id)) {
    const v1 = /titan-embed-text-v1|titan-embed-g1/.test(id);
    if (extraneous(ctx, b, v1 ? ['inputText'] : ['inputText', 'dimensions', 'normalize', 'embeddingTypes'])) return;
    if (typeof b.inputText !== 'string' || !b.inputText.length) return validation(ctx, 'Malformed input request: #: required key [inputText] not found, please reformat your input and try again.');
    if (b.dimensions !== undefined && ![256, 512, 1024].includes(b.dimensions)) return validation(ctx, 'Malformed input request: #/dimensions: 100 is not a valid enum value, please reformat your input and try again.'.replace('100', String(b.dimensions)));
    if (b.normalize !== undefined && typeof b.normalize !== 'boolean') return validation(ctx, 'Malformed input request: #/normalize: expected type: Boolean');
    const dims = v1 ? 1536 : (b.dimensions || 1024);
    const n = Math.max(1, L.countTokens(b.inputText));
    headers['x-amzn-bedrock-input-token-count'] = String(n);
    return L.sendJson(ctx, 200, { embedding: vector(b.inputText, dims), inputTextTokenCount: n }, headers);
  }
  if (/cohere\.embed/.test(id)) {
    if (extraneous(ctx, b, ['texts', 'input_type', 'truncate', 'embedding_types', 'images'])) return;
    if (!Array.isArray(b.texts) || b.texts.length < 1 || b.texts.length > 96 || !b.texts.every((t) => typeof t === 'string')) {
      return validation(ctx, 'Malformed input request: #/texts: expected minimum item count: 1, found: 0, please reformat your input and try again.');
    }
    if (!['search_document', 'search_query', 'classification', 'clustering'].includes(b.input_type)) {
      return validation(ctx, 'Malformed input request: #/input_type: ' + String(b.input_type) + ' is not a valid enum value, please reformat your input and try again.');
    }
    if (b.truncate !== undefined && !['NONE', 'START', 'END'].includes(b.truncate)) return validation(ctx, 'Malformed input request: #/truncate is not a valid enum value');
    const n = b.texts.reduce((a, t) => a + Math.max(1, L.countTokens(t)), 0);
    headers['x-amzn-bedrock-input-token-count'] = String(n);
    return L.sendJson(ctx, 200, {
      embeddings: b.texts.map((t) => vector(t, 1024)),
      id: crypto.randomUUID(),
      response_type: 'embeddings_floats',
      texts: b.texts,
    }, headers);
  }
  return validation(ctx, 'The mock serves only Titan and Cohere embedding models on InvokeModel.');
}

module.exports = {
  name: 'bedrock',
  routes: [
    { name: 'converse', method: 'POST', pattern: /^(?<prefix>.*)\/model\/(?<id>[^/]+)\/converse$/, handler: converse },
    { name: 'converse-stream', method: 'POST', pattern: /^(?<prefix>.*)\/model\/(?<id>[^/]+)\/converse-stream$/, handler: converseStream },
    { name: 'invoke', method: 'POST', pattern: /^(?<prefix>.*)\/model\/(?<id>[^/]+)\/invoke$/, handler: invoke },
  ],
  CREDENTIALS, frame, eventFrame, exceptionFrame, uriEncode, vector,
};
