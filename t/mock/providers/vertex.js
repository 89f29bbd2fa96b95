'use strict';
// Google Vertex AI, as in /work/shared/providers/vertex.md: Gemini
// generateContent / streamGenerateContent, Claude rawPredict /
// streamRawPredict, embeddings :predict, and Google's OAuth2 token
// endpoint for service accounts.  Any path prefix is accepted before
// /v1 (or /v1beta1, what Google's SDK sends):
//
//   POST .../v1/projects/<p>/locations/<l>/publishers/google/models/<m>:generateContent
//   POST .../publishers/google/models/<m>:streamGenerateContent?alt=sse
//   POST .../publishers/google/models/<m>:predict
//   POST .../publishers/anthropic/models/<m>:rawPredict | :streamRawPredict
//   POST /token      the OAuth2 token endpoint (JWT bearer grant)
//   POST /revoke     revokes token=<t> (token=* revokes every token issued)
//
// ---- auth ----------------------------------------------------------------
// POST /token takes application/x-www-form-urlencoded
//   grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>
// and VERIFIES the JWT as Google does: header alg RS256 (kid, when given,
// must name a key of the account), the RS256 signature against the PUBLIC
// half of the test service account's key (tests/fixtures/vertex/sa.json;
// sa-unknown-key.json is the same account with a key the mock does not
// know), iss = the account's client_email, a scope, aud = the URL the
// request reached (http://<Host>/token) or Google's own
// https://oauth2.googleapis.com/token, exp - iat <= 3600 and both within
// five minutes of now.  It answers
//   {"access_token":"ya29.mock...","expires_in":3599,"token_type":"Bearer"}
// or Google's 400 {"error":"invalid_grant","error_description":"..."}.
// grant_type=refresh_token (an "authorized_user" credential) works with
// client_id mock-client.apps.googleusercontent.com, client_secret
// mock-secret, refresh_token mock-refresh-token.
//
// Model routes need "Authorization: Bearer <a token this mock issued>"
// (not expired, not revoked, with the cloud-platform scope); otherwise
// Google's 401 UNAUTHENTICATED (403 for a token without the scope).  For
// Gemini and :predict, "x-goog-api-key: mock-vertex-api-key" (Vertex
// express mode) is accepted too.  Every token request is in /__requests
// with route "token", so tests count them there.
//
// ---- Gemini ---------------------------------------------------------------
// The body is checked as the API checks it: unknown fields anywhere
// (top level, generationConfig, parts, schemas: "additionalProperties",
// "$schema", ...) are 400 INVALID_ARGUMENT 'Invalid JSON payload received.
// Unknown name "x"...'; contents must be non-empty, roles user/model,
// parts non-empty with exactly one data field, no empty text; a model turn
// with functionCall parts must follow a user turn and be answered by a
// user turn with as many functionResponse parts; function names and
// parameter schemas (an OBJECT needs properties) are checked; sampling
// values are range-checked.  Errors use Google's error model
//   {"error":{"code":400,"message":"...","status":"INVALID_ARGUMENT"}}
// (pretty-printed, as Google sends it).
//
// Behaviour is chosen by the model id in the URL (after an optional
// "gemini-" prefix for Gemini; Claude ids are "claude-<scenario>@<date>",
// e.g. claude-mock-tools@20250219).  Ids not naming a mock- scenario
// behave as mock-ok.  A "-split" suffix or "x-mock-split: 1" writes the
// body in 1..7-byte pieces (mid-line, mid-UTF-8).
//
//   mock-ok            text "echo: <text of the last user turn>" (JSON
//                      {"echo": ...} with responseMimeType
//                      application/json), finishReason STOP; honours
//                      stopSequences and maxOutputTokens (MAX_TOKENS) and
//                      candidateCount
//   mock-long          ~90 KB of multi-byte text
//   mock-tools         with functionDeclarations (mode not NONE): text
//                      "Let me check." (not with mode ANY) and one
//                      functionCall {city: "Paris", query: <text>} to the
//                      first allowed / declared function, with a
//                      thoughtSignature; finishReason STOP
//   mock-tools2        two functionCalls (Paris, Tokyo)
//   mock-thinking      a thought part (with includeThoughts) before the
//                      text; thoughtsTokenCount in the usage
//   mock-cached        usage with cachedContentTokenCount 4
//   mock-safety        no content, finishReason SAFETY, a blocked rating
//   mock-blocked       no candidates, promptFeedback.blockReason
//                      PROHIBITED_CONTENT
//   mock-max-tokens    finishReason MAX_TOKENS
//   mock-err-400 / -400-context / -401 / -403 / -404 / -429 / -500 /
//   mock-err-503 / -504   Google errors (INVALID_ARGUMENT, "The input
//                      token count ... exceeds", UNAUTHENTICATED,
//                      PERMISSION_DENIED, NOT_FOUND, RESOURCE_EXHAUSTED,
//                      INTERNAL, UNAVAILABLE, DEADLINE_EXCEEDED)
//   mock-garbage, mock-hang, mock-close, mock-slow-release (stream: the
//                      first text "echo: " then wait for POST /__release)
//   mock-stream-error  stream: two text events, then Google's mid-stream
//                      error: a bare, pretty-printed JSON error object
//                      without "data:" (INTERNAL), and the end of the body
//   mock-stream-cut    stream: two events, then the connection is reset
//   mock-stream-eof    stream: two events, then a clean end without any
//                      finishReason
//   any other mock-*   404 NOT_FOUND "Publisher Model ... was not found"
//
// Streams (alt=sse) are "data: <GenerateContentResponse>\r\n\r\n" events
// with no end marker: the last event carries finishReason and the full
// usageMetadata, then the body ends.  Without alt=sse the answer is one
// JSON array written incrementally, as Google does.
//
// ---- Claude ---------------------------------------------------------------
// The body must carry "anthropic_version": "vertex-2023-10-16" and no
// "model" (the model is in the URL); "stream": true goes with
// :streamRawPredict only.  (@anthropic-ai/vertex-sdk >= 1.0 sends its
// anthropic-version, 2026-10-21, as anthropic_version: accepted too, with
// that version's rules.)  The Anthropic Messages body is then checked and
// answered by ./anthropic.js (same scenarios, Anthropic's SSE), except
// for platform errors that Vertex itself answers in Google's shape:
// mock-err-401, -403, -404 and -429 (RESOURCE_EXHAUSTED).
//
// ---- embeddings -----------------------------------------------------------
// :predict {"instances":[{"content":...,"task_type"?,"title"?}],
// "parameters":{"outputDimensionality"?,"autoTruncate"?}} ->
// {"predictions":[{"embeddings":{"values":[768 numbers],"statistics":
// {"token_count":n,"truncated":false}}}],"metadata":{...}}.
// gemini-embedding-* takes one instance per request (400 otherwise), as
// the real models do.

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const L = require('../lib');

let anthropic = null;
try {
  anthropic = require('./anthropic');
} catch (_) {
  anthropic = null;
}

const FIXTURES = path.join(__dirname, '..', '..', '..', 'tests', 'fixtures', 'vertex');
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const GOOGLE_AUD = 'https://oauth2.googleapis.com/token';
const API_KEY = 'mock-vertex-api-key';
const USER_CRED = {
  client_id: 'mock-client.apps.googleusercontent.com',
  client_secret: 'mock-secret',
  refresh_token: 'mock-refresh-token',
};
const SKEW = 300;
const CLAUDE_VERSIONS = { 'vertex-2023-10-16': '2023-06-01', '2026-10-21': '2026-10-21' };

// ---- the service accounts the token endpoint knows ------------------------

const ACCOUNTS = new Map(); // client_email -> [{kid, key}]
(function loadAccounts() {
  try {
    const sa = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'sa.json'), 'utf8'));
    const key = crypto.createPublicKey(crypto.createPrivateKey(sa.private_key));
    ACCOUNTS.set(sa.client_email, [{ kid: sa.private_key_id, key }]);
  } catch (e) {
    process.stderr.write(`vertex mock: cannot load ${FIXTURES}/sa.json: ${e.message}\n`);
  }
})();

const TOKENS = new Map(); // token -> {expires (ms), scopes, revoked}

// ---- helpers --------------------------------------------------------------

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function googleHeaders(ctx) {
  return {
    'content-type': 'application/json; charset=UTF-8',
    vary: 'Origin, X-Origin, Referer',
    'x-mock-request-seq': String(ctx.record.seq),
  };
}

function sendGoogle(ctx, code, status, message, details) {
  const e = { error: { code, message, status } };
  if (details) e.error.details = details;
  const body = JSON.stringify(e, null, 2) + '\n';
  L.sendJson(ctx, code, body, googleHeaders(ctx));
}

class Invalid extends Error {}
const fail = (msg) => { throw new Invalid(msg); };

function b64urlDecode(s) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s)) return null;
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

// ---- the token endpoint ---------------------------------------------------

function sendOAuthError(ctx, status, error, description) {
  const body = { error };
  if (description !== undefined) body.error_description = description;
  L.sendJson(ctx, status, body, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate' });
}

function issue(ctx, scopes) {
  const token = `ya29.mock${ctx.record.seq}.${crypto.randomBytes(12).toString('base64url')}`;
  TOKENS.set(token, { expires: Date.now() + 3599 * 1000, scopes, revoked: false });
  L.sendJson(ctx, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' },
    { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate' });
}

function jwtGrant(ctx, assertion) {
  const badSig = () => sendOAuthError(ctx, 400, 'invalid_grant', 'Invalid JWT Signature.');
  const parts = typeof assertion === 'string' ? assertion.split('.') : [];
  if (parts.length !== 3) return sendOAuthError(ctx, 400, 'invalid_grant', 'Invalid JWT: JWT must have three segments.');
  let header;
  let claims;
  try {
    header = JSON.parse(b64urlDecode(parts[0]).toString('utf8'));
    claims = JSON.parse(b64urlDecode(parts[1]).toString('utf8'));
  } catch (_) {
    return sendOAuthError(ctx, 400, 'invalid_grant', 'Invalid JWT: could not decode the header or claims (base64url JSON expected).');
  }
  if (!isObj(header) || !isObj(claims)) return sendOAuthError(ctx, 400, 'invalid_grant', 'Invalid JWT: header and claims must be JSON objects.');
  if (header.alg !== 'RS256') return badSig();
  const keys = ACCOUNTS.get(claims.iss);
  if (!keys) return sendOAuthError(ctx, 400, 'invalid_grant', 'Invalid grant: account not found');
  const sig = b64urlDecode(parts[2]);
  if (!sig || !sig.length) return badSig();
  const input = Buffer.from(parts[0] + '.' + parts[1]);
  const candidates = header.kid !== undefined ? keys.filter((k) => k.kid === header.kid) : keys;
  const ok = candidates.some((k) => crypto.verify('RSA-SHA256', input, k.key, sig));
  if (!ok) return badSig();

  const here = `${ctx.record.tls ? 'https' : 'http'}://${ctx.req.headers.host}/token`;
  if (claims.aud !== GOOGLE_AUD && claims.aud !== here) {
    return sendOAuthError(ctx, 400, 'invalid_grant', `Invalid JWT: Failed audience check. The right audience is ${here}`);
  }
  const now = Math.floor(Date.now() / 1000);
  const { iat, exp } = claims;
  if (!Number.isInteger(iat) || !Number.isInteger(exp) || exp <= iat || exp - iat > 3600
      || iat > now + SKEW || exp < now - SKEW) {
    return sendOAuthError(ctx, 400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
  }
  if (typeof claims.scope !== 'string' || !claims.scope.trim()) {
    return sendOAuthError(ctx, 400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
  }
  ctx.record.jwt = { header, claims };
  return issue(ctx, claims.scope.trim().split(/\s+/));
}

function tokenEndpoint(ctx) {
  const ct = ctx.req.headers['content-type'] || '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(ct)) {
    return sendOAuthError(ctx, 400, 'invalid_request', 'Bad Request');
  }
  const p = new URLSearchParams(ctx.text);
  const grant = p.get('grant_type');
  if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') return jwtGrant(ctx, p.get('assertion'));
  if (grant === 'refresh_token') {
    if (p.get('client_id') !== USER_CRED.client_id || p.get('client_secret') !== USER_CRED.client_secret) {
      return sendOAuthError(ctx, 401, 'invalid_client', 'The OAuth client was not found.');
    }
    if (p.get('refresh_token') !== USER_CRED.refresh_token) return sendOAuthError(ctx, 400, 'invalid_grant', 'Bad Request');
    return issue(ctx, [SCOPE]);
  }
  if (grant === null) return sendOAuthError(ctx, 400, 'invalid_request', 'Missing required parameter: grant_type');
  return sendOAuthError(ctx, 400, 'unsupported_grant_type', `Invalid grant_type: ${grant}`);
}

function revokeEndpoint(ctx) {
  const t = new URLSearchParams(ctx.text).get('token');
  if (t === '*') {
    for (const v of TOKENS.values()) v.revoked = true;
    return L.sendJson(ctx, 200, {});
  }
  const v = TOKENS.get(t);
  if (!v) return sendOAuthError(ctx, 400, 'invalid_token', 'Token is not revocable.');
  v.revoked = true;
  return L.sendJson(ctx, 200, {});
}

// true when the request may go on; otherwise the 401/403 went out
function authorize(ctx, allowKey) {
  const h = ctx.req.headers;
  const method = `google.cloud.aiplatform.v1.PredictionService.${ctx.params.method[0].toUpperCase()}${ctx.params.method.slice(1)}`;
  const info = (reason) => [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com',
    metadata: { service: 'aiplatform.googleapis.com', method } }];
  if (allowKey && h['x-goog-api-key'] !== undefined) {
    if (h['x-goog-api-key'] === API_KEY) {
      ctx.auth = 'api-key';
      return true;
    }
    sendGoogle(ctx, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', info('API_KEY_INVALID'));
    return false;
  }
  const m = /^Bearer\s+(\S+)$/.exec(h.authorization || '');
  if (!m) {
    sendGoogle(ctx, 401, 'UNAUTHENTICATED', 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.', info('CREDENTIALS_MISSING'));
    return false;
  }
  const t = TOKENS.get(m[1]);
  if (!t || t.revoked || t.expires < Date.now()) {
    sendGoogle(ctx, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.', info(t ? 'ACCESS_TOKEN_EXPIRED' : 'ACCESS_TOKEN_TYPE_UNSUPPORTED'));
    return false;
  }
  if (!t.scopes.includes(SCOPE)) {
    sendGoogle(ctx, 403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.', info('ACCESS_TOKEN_SCOPE_INSUFFICIENT'));
    return false;
  }
  ctx.auth = 'bearer';
  return true;
}

// ---- scenarios ------------------------------------------------------------

const ERRORS = {
  'err-400': [400, 'INVALID_ARGUMENT', () => 'Request contains an invalid argument.'],
  'err-400-context': [400, 'INVALID_ARGUMENT', () => 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).'],
  'err-401': [401, 'UNAUTHENTICATED', () => 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.'],
  'err-403': [403, 'PERMISSION_DENIED', (ctx) => `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/${ctx.params.project}/locations/${ctx.params.location}/publishers/${ctx.params.publisher}/models/${ctx.params.model}' (or it may not exist).`],
  'err-404': [404, 'NOT_FOUND', (ctx) => notFoundMessage(ctx)],
  'err-429': [429, 'RESOURCE_EXHAUSTED', () => 'Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.'],
  'err-500': [500, 'INTERNAL', () => 'Internal error encountered.'],
  'err-503': [503, 'UNAVAILABLE', () => 'The service is currently unavailable.'],
  'err-504': [504, 'DEADLINE_EXCEEDED', () => 'Deadline expired before operation could complete.'],
};

const SCENARIOS = new Set([
  'ok', 'long', 'tools', 'tools2', 'thinking', 'cached', 'safety', 'blocked', 'max-tokens',
  'garbage', 'hang', 'close', 'slow-release', 'stream-error', 'stream-cut', 'stream-eof',
  ...Object.keys(ERRORS),
]);

function notFoundMessage(ctx) {
  const p = ctx.params;
  return `Publisher Model \`projects/${p.project}/locations/${p.location}/publishers/${p.publisher}/models/${p.model}\` was not found or your project does not have access to it. Please ensure you are using a valid model version. For more information, see: https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions`;
}

// the scenario of a model id: "gemini-mock-ok-split", "mock-tools",
// "claude-mock-tools@20250219"; null for an unknown mock-*
function scenario(ctx, model) {
  let m = model.replace(/@.*$/, '').replace(/^(gemini|claude)-(?=mock-)/, '');
  if (m.endsWith('-split')) {
    ctx.split = true;
    m = m.slice(0, -'-split'.length);
  }
  if (!m.startsWith('mock-')) return 'ok';
  const s = m.slice('mock-'.length);
  return SCENARIOS.has(s) ? s : null;
}

function transport(ctx, garbage) {
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
      if (!garbage) return false;
      L.sendJson(ctx, 200, '<html><body>this is not JSON {"candidates": [</body></html>\n', googleHeaders(ctx));
      return true;
    default:
      return false;
  }
}

// ---- Gemini request validation -------------------------------------------

const snake = (s) => s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

// proto JSON: both lowerCamel and snake_case names are accepted
function fields(obj, allowed, where) {
  const out = {};
  for (const k of Object.keys(obj)) {
    const c = camel(k);
    if (!allowed.includes(c)) {
      fail(`Invalid JSON payload received. Unknown name "${k}"${where ? ` at '${where}'` : ''}: Cannot find field.`);
    }
    out[c] = obj[k];
  }
  return out;
}

const TOP = ['contents', 'systemInstruction', 'generationConfig', 'tools', 'toolConfig', 'safetySettings',
  'labels', 'cachedContent', 'modelArmorConfig'];
const GEN = ['temperature', 'topP', 'topK', 'candidateCount', 'maxOutputTokens', 'stopSequences', 'presencePenalty',
  'frequencyPenalty', 'seed', 'responseMimeType', 'responseSchema', 'responseJsonSchema', 'responseLogprobs',
  'logprobs', 'thinkingConfig', 'responseModalities', 'mediaResolution', 'speechConfig', 'routingConfig',
  'audioTimestamp', 'enableAffectiveDialog'];
const PART = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode',
  'codeExecutionResult', 'thought', 'thoughtSignature', 'videoMetadata'];
const DATA = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult'];
const SCHEMA = ['type', 'format', 'title', 'description', 'nullable', 'default', 'items', 'minItems', 'maxItems',
  'enum', 'properties', 'propertyOrdering', 'required', 'minProperties', 'maxProperties', 'minLength', 'maxLength',
  'pattern', 'example', 'anyOf', 'minimum', 'maximum', 'ref', 'defs'];
const TYPES = ['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL', 'TYPE_UNSPECIFIED'];
const FN_NAME = /^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$/;
const B64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function checkSchema(s, where, isParams) {
  if (!isObj(s)) fail(`Invalid value at '${where}' (type.googleapis.com/google.cloud.aiplatform.v1.Schema), ${JSON.stringify(s)}`);
  const f = fields(s, SCHEMA, where);
  if (f.type !== undefined && (typeof f.type !== 'string' || !TYPES.includes(f.type.toUpperCase()))) {
    fail(`Invalid value at '${where}.type' (type.googleapis.com/google.cloud.aiplatform.v1.Type), ${JSON.stringify(f.type)}`);
  }
  if (f.properties !== undefined) {
    if (!isObj(f.properties)) fail(`Invalid value at '${where}.properties', ${JSON.stringify(f.properties)}`);
    for (const [k, v] of Object.entries(f.properties)) checkSchema(v, `${where}.properties[${k}].value`, false);
  }
  if (isParams && typeof f.type === 'string' && f.type.toUpperCase() === 'OBJECT'
      && (!isObj(f.properties) || Object.keys(f.properties).length === 0)) {
    fail(`* GenerateContentRequest.${where}.properties: should be non-empty for OBJECT type`);
  }
  if (f.items !== undefined) checkSchema(f.items, `${where}.items`, false);
  if (f.anyOf !== undefined) {
    if (!Array.isArray(f.anyOf)) fail(`Invalid value at '${where}.any_of'`);
    f.anyOf.forEach((x, i) => checkSchema(x, `${where}.any_of[${i}]`, false));
  }
  if (f.enum !== undefined && (!Array.isArray(f.enum) || !f.enum.every((x) => typeof x === 'string'))) {
    fail(`Invalid value at '${where}.enum' (TYPE_STRING), ${JSON.stringify(f.enum)}`);
  }
  if (f.required !== undefined && (!Array.isArray(f.required) || !f.required.every((x) => typeof x === 'string'))) {
    fail(`Invalid value at '${where}.required' (TYPE_STRING)`);
  }
}

function checkPart(p, where) {
  if (!isObj(p)) fail(`Invalid value at '${where}' (type.googleapis.com/google.cloud.aiplatform.v1.Part), ${JSON.stringify(p)}`);
  const f = fields(p, PART, where);
  const data = DATA.filter((k) => f[k] !== undefined);
  if (data.length !== 1) fail(`Invalid value at '${where}' (oneof field 'data' ${data.length ? 'is already set. Cannot set \'' + snake(data[1]) + '\'' : 'must be set'}).`);
  if (f.text !== undefined) {
    if (typeof f.text !== 'string') fail(`Invalid value at '${where}.text' (TYPE_STRING), ${JSON.stringify(f.text)}`);
    if (f.text === '') fail('Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/gemini');
  }
  if (f.inlineData !== undefined) {
    const d = fields(isObj(f.inlineData) ? f.inlineData : fail(`Invalid value at '${where}.inline_data'`), ['mimeType', 'data', 'displayName'], `${where}.inline_data`);
    if (typeof d.mimeType !== 'string' || !d.mimeType) fail(`${where}.inline_data.mime_type is required.`);
    if (typeof d.data !== 'string' || !B64.test(d.data)) fail(`Invalid value at '${where}.inline_data.data' (TYPE_BYTES), Base64 decoding failed`);
  }
  if (f.fileData !== undefined) {
    const d = fields(isObj(f.fileData) ? f.fileData : fail(`Invalid value at '${where}.file_data'`), ['mimeType', 'fileUri', 'displayName'], `${where}.file_data`);
    if (typeof d.mimeType !== 'string' || !d.mimeType) fail('Unable to submit request because it has a mimeType parameter with an empty value. Add a value to the parameter and try again.');
    if (typeof d.fileUri !== 'string' || !d.fileUri) fail('Unable to submit request because it has a fileUri parameter with an empty value. Add a value to the parameter and try again.');
  }
  if (f.functionCall !== undefined) {
    const c = fields(isObj(f.functionCall) ? f.functionCall : fail(`Invalid value at '${where}.function_call'`), ['id', 'name', 'args', 'partialArgs', 'willContinue'], `${where}.function_call`);
    if (typeof c.name !== 'string' || !c.name) fail(`${where}.function_call.name: Name cannot be empty.`);
    if (c.args !== undefined && !isObj(c.args)) fail(`Invalid value at '${where}.function_call.args' (type.googleapis.com/google.protobuf.Struct), ${JSON.stringify(c.args)}`);
  }
  if (f.functionResponse !== undefined) {
    const r = fields(isObj(f.functionResponse) ? f.functionResponse : fail(`Invalid value at '${where}.function_response'`), ['id', 'name', 'response', 'parts', 'willContinue', 'scheduling'], `${where}.function_response`);
    if (typeof r.name !== 'string' || !r.name) fail(`${where}.function_response.name: Name cannot be empty.`);
    if (!isObj(r.response)) fail(`Invalid value at '${where}.function_response.response' (type.googleapis.com/google.protobuf.Struct), ${JSON.stringify(r.response)}`);
  }
  if (f.thoughtSignature !== undefined && (typeof f.thoughtSignature !== 'string' || !B64.test(f.thoughtSignature))) {
    fail(`Invalid value at '${where}.thought_signature' (TYPE_BYTES), Base64 decoding failed for "${f.thoughtSignature}"`);
  }
  return f;
}

function checkContents(contents) {
  if (!Array.isArray(contents) || contents.length === 0) {
    fail('Unable to submit request because it must include at least one parts field, which describes the prompt input. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini');
  }
  const turns = contents.map((c, i) => {
    const where = `contents[${i}]`;
    if (!isObj(c)) fail(`Invalid value at '${where}' (type.googleapis.com/google.cloud.aiplatform.v1.Content), ${JSON.stringify(c)}`);
    const f = fields(c, ['role', 'parts'], where);
    if (f.role !== 'user' && f.role !== 'model') fail('Please use a valid role: user, model.');
    if (!Array.isArray(f.parts) || f.parts.length === 0) {
      fail(`Unable to submit request because it must include at least one parts field, which describes the prompt input. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini`);
    }
    return { role: f.role, parts: f.parts.map((p, j) => checkPart(p, `${where}.parts[${j}]`)) };
  });
  turns.forEach((t, i) => {
    const calls = t.parts.filter((p) => p.functionCall).length;
    if (t.role !== 'model' || calls === 0) return;
    if (i === 0 || turns[i - 1].role !== 'user') {
      fail('Please ensure that function call turn comes immediately after a user turn or after a function response turn.');
    }
    const next = turns[i + 1];
    if (next) {
      const answers = next.parts.filter((p) => p.functionResponse).length;
      if (next.role !== 'user' || answers !== calls) {
        fail('Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.');
      }
    }
  });
  return turns;
}

function checkGeneration(g) {
  if (!isObj(g)) fail(`Invalid value at 'generation_config', ${JSON.stringify(g)}`);
  const f = fields(g, GEN, 'generation_config');
  const num = (k, lo, hi) => {
    if (f[k] === undefined) return;
    if (typeof f[k] !== 'number' || f[k] < lo || f[k] > hi) {
      fail(`Unable to submit request because it has a ${k} value of ${f[k]} but the supported range is from ${lo} (inclusive) to ${hi === Infinity ? 'infinity' : hi} (${hi === Infinity ? 'exclusive' : 'inclusive'}). Update the value and try again.`);
    }
  };
  num('temperature', 0, 2);
  num('topP', 0, 1);
  num('topK', 1, 1e9);
  num('candidateCount', 1, 8);
  num('maxOutputTokens', 1, 65536);
  num('presencePenalty', -2, 2);
  num('frequencyPenalty', -2, 2);
  num('logprobs', 0, 20);
  for (const k of ['topK', 'candidateCount', 'maxOutputTokens', 'seed', 'logprobs']) {
    if (f[k] !== undefined && !Number.isInteger(f[k])) fail(`Invalid value at 'generation_config.${snake(k)}' (TYPE_INT32), ${f[k]}`);
  }
  if (f.stopSequences !== undefined) {
    if (!Array.isArray(f.stopSequences) || !f.stopSequences.every((x) => typeof x === 'string')) fail("Invalid value at 'generation_config.stop_sequences' (TYPE_STRING)");
    if (f.stopSequences.length > 5) fail('Unable to submit request because it has more than 5 stop sequences.');
  }
  if (f.responseMimeType !== undefined && !['text/plain', 'application/json', 'text/x.enum'].includes(f.responseMimeType)) {
    fail(`Unable to submit request because it has a response_mime_type of ${f.responseMimeType}, which is not supported.`);
  }
  if (f.responseSchema !== undefined) {
    if (f.responseMimeType !== 'application/json' && f.responseMimeType !== 'text/x.enum') fail('Unable to submit request because setting response_schema requires response_mime_type to be application/json or text/x.enum.');
    checkSchema(f.responseSchema, 'generation_config.response_schema', false);
  }
  if (f.logprobs !== undefined && f.responseLogprobs !== true) fail('Unable to submit request because logprobs can only be set when response_logprobs is true.');
  if (f.thinkingConfig !== undefined) {
    const t = fields(isObj(f.thinkingConfig) ? f.thinkingConfig : fail("Invalid value at 'generation_config.thinking_config'"), ['thinkingBudget', 'includeThoughts', 'thinkingLevel'], 'generation_config.thinking_config');
    if (t.thinkingBudget !== undefined && (!Number.isInteger(t.thinkingBudget) || t.thinkingBudget < -1 || t.thinkingBudget > 32768)) {
      fail(`Unable to submit request because thinking_budget is out of range; supported values are integers from 0 to 32768 (got ${t.thinkingBudget}).`);
    }
    if (t.thinkingLevel !== undefined && !['LOW', 'MEDIUM', 'HIGH', 'MINIMAL', 'THINKING_LEVEL_UNSPECIFIED'].includes(String(t.thinkingLevel).toUpperCase())) {
      fail(`Invalid value at 'generation_config.thinking_config.thinking_level', "${t.thinkingLevel}"`);
    }
    if (t.includeThoughts !== undefined && typeof t.includeThoughts !== 'boolean') fail("Invalid value at 'generation_config.thinking_config.include_thoughts' (TYPE_BOOL)");
  }
  return f;
}

function checkTools(tools, toolConfig) {
  const names = [];
  if (tools !== undefined) {
    if (!Array.isArray(tools)) fail(`Invalid value at 'tools', ${JSON.stringify(tools)}`);
    tools.forEach((t, i) => {
      if (!isObj(t)) fail(`Invalid value at 'tools[${i}]'`);
      const f = fields(t, ['functionDeclarations', 'googleSearch', 'googleSearchRetrieval', 'codeExecution', 'urlContext',
        'retrieval', 'enterpriseWebSearch', 'googleMaps'], `tools[${i}]`);
      if (f.functionDeclarations === undefined) return;
      if (!Array.isArray(f.functionDeclarations)) fail(`Invalid value at 'tools[${i}].function_declarations'`);
      f.functionDeclarations.forEach((d, j) => {
        const where = `tools[${i}].function_declarations[${j}]`;
        if (!isObj(d)) fail(`Invalid value at '${where}'`);
        const fd = fields(d, ['name', 'description', 'parameters', 'parametersJsonSchema', 'response', 'responseJsonSchema'], where);
        if (typeof fd.name !== 'string' || !FN_NAME.test(fd.name)) {
          fail(`* GenerateContentRequest.${where}.name: Invalid function name. Must start with a letter or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and dashes, with a maximum length of 128.`);
        }
        if (fd.parameters !== undefined) checkSchema(fd.parameters, `${where}.parameters`, true);
        names.push(fd.name);
      });
    });
  }
  let mode = 'AUTO';
  let allowed = null;
  if (toolConfig !== undefined) {
    const tc = fields(isObj(toolConfig) ? toolConfig : fail("Invalid value at 'tool_config'"), ['functionCallingConfig', 'retrievalConfig'], 'tool_config');
    if (tc.functionCallingConfig !== undefined) {
      const fc = fields(isObj(tc.functionCallingConfig) ? tc.functionCallingConfig : fail("Invalid value at 'tool_config.function_calling_config'"),
        ['mode', 'allowedFunctionNames', 'streamFunctionCallArguments'], 'tool_config.function_calling_config');
      if (fc.mode !== undefined) {
        if (!['MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED'].includes(fc.mode)) fail(`Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.cloud.aiplatform.v1.FunctionCallingConfig.Mode), "${fc.mode}"`);
        mode = fc.mode;
      }
      if (fc.allowedFunctionNames !== undefined) {
        if (mode !== 'ANY') fail('Unable to submit request because allowed_function_names can only be set when mode is ANY.');
        if (!Array.isArray(fc.allowedFunctionNames) || !fc.allowedFunctionNames.every((n) => names.includes(n))) {
          fail('Unable to submit request because allowed_function_names names a function that is not declared.');
        }
        allowed = fc.allowedFunctionNames;
      }
    }
  }
  return { names, mode, allowed };
}

function validateGemini(body) {
  if (!isObj(body)) fail(`Invalid JSON payload received. Expected an object.`);
  const f = fields(body, TOP, '');
  const turns = checkContents(f.contents);
  if (f.systemInstruction !== undefined) {
    const si = fields(isObj(f.systemInstruction) ? f.systemInstruction : fail("Invalid value at 'system_instruction'"), ['role', 'parts'], 'system_instruction');
    if (!Array.isArray(si.parts) || si.parts.length === 0) fail('Unable to submit request because system_instruction must include at least one parts field.');
    si.parts.forEach((p, i) => {
      const part = checkPart(p, `system_instruction.parts[${i}]`);
      if (part.text === undefined) fail('Unable to submit request because system_instruction only supports text parts.');
    });
  }
  const gen = f.generationConfig !== undefined ? checkGeneration(f.generationConfig) : {};
  const tools = checkTools(f.tools, f.toolConfig);
  if (f.safetySettings !== undefined) {
    if (!Array.isArray(f.safetySettings)) fail("Invalid value at 'safety_settings'");
    f.safetySettings.forEach((s, i) => {
      const x = fields(isObj(s) ? s : fail(`Invalid value at 'safety_settings[${i}]'`), ['category', 'threshold', 'method'], `safety_settings[${i}]`);
      if (typeof x.category !== 'string' || !x.category.startsWith('HARM_CATEGORY_')) fail(`Invalid value at 'safety_settings[${i}].category', ${JSON.stringify(x.category)}`);
    });
  }
  if (f.labels !== undefined) {
    if (!isObj(f.labels)) fail("Invalid value at 'labels'");
    for (const [k, v] of Object.entries(f.labels)) {
      if (!/^[a-z][a-z0-9_-]{0,62}$/.test(k) || typeof v !== 'string' || !/^[a-z0-9_-]{0,63}$/.test(v)) {
        fail(`Label key and value can only contain lowercase letters, numeric characters, underscores and dashes; label "${k}" is invalid.`);
      }
    }
  }
  return { turns, gen, tools, system: f.systemInstruction };
}

// ---- Gemini answers -------------------------------------------------------

function partsText(parts) {
  return parts.map((p) => (typeof p.text === 'string' && !p.thought ? p.text : '')).join('');
}

function lastUserText(turns) {
  for (let i = turns.length - 1; i >= 0; i--) {
    if (turns[i].role !== 'user') continue;
    const t = partsText(turns[i].parts);
    if (t) return t;
  }
  return '';
}

function promptTokens(v) {
  let n = 0;
  for (const t of v.turns) {
    for (const p of t.parts) {
      if (typeof p.text === 'string') n += L.countTokens(p.text);
      else if (p.functionCall || p.functionResponse) n += 5 + L.countTokens(JSON.stringify(p.functionCall || p.functionResponse));
      else n += 258; // an image or a file, as Gemini counts it
    }
  }
  if (v.system && Array.isArray(v.system.parts)) n += L.countTokens(partsText(v.system.parts));
  n += 20 * v.tools.names.length;
  return Math.max(1, n);
}

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

function signature(ctx, k) {
  return Buffer.from(`mock-thought-signature/${ctx.record.seq}/${k}`).toString('base64');
}

// what one candidate says: {parts, finishReason, safetyRatings?}
function plan(ctx, v) {
  const s = ctx.scenario;
  const gen = v.gen;
  const user = lastUserText(v.turns);
  const { names, mode, allowed } = v.tools;
  const thinking = isObj(gen.thinkingConfig) && (gen.thinkingConfig.includeThoughts === true || gen.thinkingConfig.include_thoughts === true);

  if ((s === 'tools' || s === 'tools2') && names.length && mode !== 'NONE') {
    const parts = [];
    if (mode !== 'ANY') parts.push({ text: 'Let me check.' });
    const pick = allowed || names;
    const n = s === 'tools2' ? 2 : 1;
    for (let i = 0; i < n; i++) {
      parts.push({ functionCall: { name: pick[i] || pick[0], args: { city: i ? 'Tokyo' : 'Paris', query: user } }, thoughtSignature: signature(ctx, i) });
    }
    return { parts, finishReason: 'STOP', thoughts: 0 };
  }
  if (s === 'safety') {
    return { parts: [], finishReason: 'SAFETY', thoughts: 0, safetyRatings: [
      { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE', probabilityScore: 0.05, severity: 'HARM_SEVERITY_NEGLIGIBLE', severityScore: 0.04 },
      { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', probabilityScore: 0.97, severity: 'HARM_SEVERITY_HIGH', severityScore: 0.91, blocked: true },
    ] };
  }

  let text = gen.responseMimeType === 'application/json' ? JSON.stringify({ echo: user }) : 'echo: ' + user;
  if (s === 'long') text += ' ' + 'lorem ipsum dolor é 你好 🌍 sit amet. '.repeat(2500);
  let finishReason = s === 'max-tokens' ? 'MAX_TOKENS' : 'STOP';
  if (Array.isArray(gen.stopSequences)) {
    let at = -1;
    for (const q of gen.stopSequences) {
      const k = q ? text.indexOf(q) : -1;
      if (k >= 0 && (at < 0 || k < at)) at = k;
    }
    if (at >= 0) text = text.slice(0, at);
  }
  if (Number.isInteger(gen.maxOutputTokens) && L.countTokens(text) > gen.maxOutputTokens) {
    text = cutTokens(text, gen.maxOutputTokens);
    finishReason = 'MAX_TOKENS';
  }
  const parts = [];
  let thoughts = 0;
  if (s === 'thinking') {
    const t = `The user said "${user}". I will echo it.`;
    thoughts = L.countTokens(t) + 7;
    if (thinking) parts.push({ text: t, thought: true });
  }
  if (text) parts.push({ text });
  return { parts, finishReason, thoughts };
}

function usageOf(ctx, v, cands) {
  const p = promptTokens(v);
  let c = 0;
  let thoughts = 0;
  for (const x of cands) {
    for (const part of x.parts) {
      if (part.thought) continue;
      if (typeof part.text === 'string') c += L.countTokens(part.text);
      else if (part.functionCall) c += 5 + L.countTokens(JSON.stringify(part.functionCall.args));
    }
    thoughts += x.thoughts;
  }
  const u = {
    promptTokenCount: p,
    candidatesTokenCount: c,
    totalTokenCount: p + c + thoughts,
    trafficType: 'ON_DEMAND',
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: p }],
    candidatesTokensDetails: [{ modality: 'TEXT', tokenCount: c }],
  };
  if (thoughts) u.thoughtsTokenCount = thoughts;
  if (ctx.scenario === 'cached') {
    u.cachedContentTokenCount = Math.min(4, p);
    u.cacheTokensDetails = [{ modality: 'TEXT', tokenCount: u.cachedContentTokenCount }];
  }
  return u;
}

function meta(ctx) {
  return {
    modelVersion: ctx.params.model.replace(/-split$/, ''),
    createTime: new Date(ctx.record.time).toISOString().replace(/\.\d+Z$/, '.000000Z'),
    responseId: 'mockresp' + ctx.record.seq,
  };
}

function candidateJson(x, index, withIndex) {
  const c = {};
  if (x.parts.length) c.content = { role: 'model', parts: x.parts };
  c.finishReason = x.finishReason;
  if (x.safetyRatings) c.safetyRatings = x.safetyRatings;
  if (x.finishReason === 'STOP' && x.parts.length) c.avgLogprobs = -0.0625;
  if (withIndex) c.index = index;
  return c;
}

function generateResponse(ctx, v) {
  if (ctx.scenario === 'blocked') {
    return Object.assign({
      promptFeedback: { blockReason: 'PROHIBITED_CONTENT', blockReasonMessage: 'The prompt was blocked due to prohibited content.' },
      usageMetadata: { promptTokenCount: promptTokens(v), totalTokenCount: promptTokens(v), trafficType: 'ON_DEMAND' },
    }, meta(ctx));
  }
  const n = Number.isInteger(v.gen.candidateCount) ? v.gen.candidateCount : 1;
  const cands = [];
  for (let i = 0; i < n; i++) cands.push(plan(ctx, v));
  return Object.assign({
    candidates: cands.map((x, i) => candidateJson(x, i, n > 1)),
    usageMetadata: usageOf(ctx, v, cands),
  }, meta(ctx));
}

// path parameters arrive percent-encoded ("%40" for the "@" of a date)
function decodeParams(ctx) {
  for (const k of Object.keys(ctx.params)) {
    try { ctx.params[k] = decodeURIComponent(ctx.params[k]); } catch (_) { /* keep raw */ }
  }
}

function gemini(ctx) {
  decodeParams(ctx);
  const route = ctx.params.method;
  if (!authorize(ctx, true)) return;
  const ct = ctx.req.headers['content-type'] || '';
  if (!/^application\/json\b/i.test(ct)) return sendGoogle(ctx, 400, 'INVALID_ARGUMENT', `Invalid Content-Type "${ct}"; expected application/json.`);
  if (ctx.jsonError) return sendGoogle(ctx, 400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${ctx.jsonError}`);
  let v;
  try {
    v = validateGemini(ctx.json);
  } catch (e) {
    if (e instanceof Invalid) return sendGoogle(ctx, 400, 'INVALID_ARGUMENT', e.message);
    throw e;
  }
  ctx.scenario = scenario(ctx, ctx.params.model);
  if (ctx.scenario === null) return sendGoogle(ctx, 404, 'NOT_FOUND', notFoundMessage(ctx));
  const e = ERRORS[ctx.scenario];
  if (e) return sendGoogle(ctx, e[0], e[1], e[2](ctx));
  if (transport(ctx, true)) return;
  if (route === 'streamGenerateContent') return geminiStream(ctx, v);

  const resp = generateResponse(ctx, v);
  switch (ctx.scenario) {
    case 'slow-release':
      return ctx.waitRelease(() => L.sendJson(ctx, 200, resp, googleHeaders(ctx)));
    case 'stream-error':
      return sendGoogle(ctx, 500, 'INTERNAL', 'Internal error encountered.');
    case 'stream-cut': {
      const body = Buffer.from(JSON.stringify(resp));
      ctx.res.writeHead(200, Object.assign(googleHeaders(ctx), { 'content-length': body.length }));
      const w = new L.BodyWriter(ctx);
      w.write(body.subarray(0, body.length >> 1));
      return w.cut();
    }
    case 'stream-eof': {
      const s = JSON.stringify(resp);
      return L.sendJson(ctx, 200, s.slice(0, s.length >> 1), googleHeaders(ctx));
    }
    default:
      return L.sendJson(ctx, 200, resp, googleHeaders(ctx));
  }
}

// The stream's events, each a whole GenerateContentResponse.  Text comes
// in 3-code-point fragments; function calls whole; the last event has an
// empty text part, the finishReason and the complete usage.
function streamEvents(ctx, v) {
  const m = meta(ctx);
  const ev = (candidates, usage) => Object.assign({ candidates }, usage ? { usageMetadata: usage } : {}, m);
  if (ctx.scenario === 'blocked') return [generateResponse(ctx, v)];
  const n = Number.isInteger(v.gen.candidateCount) ? v.gen.candidateCount : 1;
  const cands = [];
  for (let i = 0; i < n; i++) cands.push(plan(ctx, v));
  const usage = usageOf(ctx, v, cands);
  const frag = ctx.scenario === 'long' ? 64 : 3;
  const out = [];
  cands.forEach((x, i) => {
    const withIndex = n > 1;
    const c = (parts) => Object.assign({ content: { role: 'model', parts } }, withIndex ? { index: i } : {});
    for (const p of x.parts) {
      if (typeof p.text === 'string') {
        for (const f of L.fragments(p.text, frag)) out.push(ev([c([Object.assign({}, p, { text: f })])], { trafficType: 'ON_DEMAND' }));
      } else {
        out.push(ev([c([p])], { trafficType: 'ON_DEMAND' }));
      }
    }
    const last = Object.assign(x.parts.length ? { content: { role: 'model', parts: [{ text: '' }] } } : {},
      { finishReason: x.finishReason }, x.safetyRatings ? { safetyRatings: x.safetyRatings } : {}, withIndex ? { index: i } : {});
    out.push(ev([last], i === n - 1 ? usage : { trafficType: 'ON_DEMAND' }));
  });
  return out;
}

function geminiStream(ctx, v) {
  const sse = ctx.query.alt === 'sse';
  const events = streamEvents(ctx, v);
  const s = ctx.scenario;
  let w;
  let first = true;
  if (sse) {
    w = L.startSse(ctx, googleHeaders(ctx));
  } else {
    ctx.res.writeHead(200, googleHeaders(ctx));
    w = new L.BodyWriter(ctx);
  }
  const send = (obj, cb) => {
    if (sse) return w.write('data: ' + JSON.stringify(obj) + '\r\n\r\n', cb);
    const chunk = (first ? '[' : ',\r\n') + JSON.stringify(obj, null, 2);
    first = false;
    return w.write(chunk, cb);
  };
  const end = () => {
    if (!sse) w.write(first ? '[]' : ']');
    w.end();
  };

  if (s === 'slow-release') {
    // "echo: " first, the rest after POST /__release
    const m = meta(ctx);
    const head = { candidates: [{ content: { role: 'model', parts: [{ text: 'echo: ' }] } }], usageMetadata: { trafficType: 'ON_DEMAND' } };
    const text = 'echo: ' + lastUserText(v.turns);
    const rest = L.fragments(text.slice('echo: '.length), 3)
      .map((f) => Object.assign({ candidates: [{ content: { role: 'model', parts: [{ text: f }] } }], usageMetadata: { trafficType: 'ON_DEMAND' } }, m));
    send(Object.assign(head, m), () => ctx.waitRelease(() => {
      rest.forEach((x) => send(x));
      send(events[events.length - 1]);
      end();
    }));
    return;
  }
  if (s === 'stream-error' || s === 'stream-cut' || s === 'stream-eof') {
    events.slice(0, 2).forEach((x) => send(x));
    if (s === 'stream-cut') return w.cut();
    if (s === 'stream-error') {
      // Google's mid-stream error: a bare JSON object, not an SSE event,
      // written on its own a moment later (@google/genai only recognizes
      // it when it arrives in a read of its own)
      setTimeout(() => {
        w.write(JSON.stringify({ error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' } }, null, 2) + '\n');
        w.end();
      }, 25);
      return undefined;
    }
    return w.end();
  }
  events.forEach((x) => send(x));
  end();
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

// values k/1024: exact in float32, so base64 answers decode to the same
function vector(input, dims) {
  const h = fnv1a(input);
  const v = [];
  for (let i = 0; i < dims; i++) {
    const x = (Math.imul(h ^ (i * 0x9e3779b1), 2654435761) >>> 0) % 2001;
    v.push((x - 1000) / 1024);
  }
  return v;
}

function predict(ctx) {
  decodeParams(ctx);
  if (!authorize(ctx, true)) return;
  const b = ctx.json;
  ctx.scenario = scenario(ctx, ctx.params.model);
  if (ctx.scenario === null) return sendGoogle(ctx, 404, 'NOT_FOUND', notFoundMessage(ctx));
  const e = ERRORS[ctx.scenario];
  if (e) return sendGoogle(ctx, e[0], e[1], e[2](ctx));
  if (transport(ctx, true)) return;
  if (!isObj(b)) return sendGoogle(ctx, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
  try {
    fields(b, ['instances', 'parameters'], '');
  } catch (x) {
    return sendGoogle(ctx, 400, 'INVALID_ARGUMENT', x.message);
  }
  const inst = b.instances;
  if (!Array.isArray(inst) || inst.length === 0) return sendGoogle(ctx, 400, 'INVALID_ARGUMENT', 'List of found errors:\t1.Field: instances; Message: Required field is not set.\t');
  const model = ctx.params.model;
  if (model.startsWith('gemini-embedding') && inst.length > 1) {
    return sendGoogle(ctx, 400, 'INVALID_ARGUMENT', `Unable to submit request because ${model} only supports one instance per request. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api`);
  }
  if (inst.length > 250) return sendGoogle(ctx, 400, 'INVALID_ARGUMENT', `Unable to submit request because the number of instances, ${inst.length}, exceeds the limit of 250.`);
  const params = isObj(b.parameters) ? b.parameters : {};
  let dims = 768;
  if (params.outputDimensionality !== undefined) {
    if (!Number.isInteger(params.outputDimensionality) || params.outputDimensionality < 1 || params.outputDimensionality > 3072) {
      return sendGoogle(ctx, 400, 'INVALID_ARGUMENT', `Unable to submit request because outputDimensionality ${params.outputDimensionality} is not in the supported range [1, 3072].`);
    }
    dims = params.outputDimensionality;
  }
  let chars = 0;
  const predictions = [];
  for (let i = 0; i < inst.length; i++) {
    const x = inst[i];
    if (!isObj(x) || typeof x.content !== 'string') {
      return sendGoogle(ctx, 400, 'INVALID_ARGUMENT', `Unable to submit request because instances[${i}] has no "content" string.`);
    }
    const unknown = Object.keys(x).filter((k) => !['content', 'task_type', 'title', 'taskType'].includes(k));
    if (unknown.length) return sendGoogle(ctx, 400, 'INVALID_ARGUMENT', `Unable to submit request because instances[${i}] has an unknown field "${unknown[0]}".`);
    chars += x.content.replace(/\s/g, '').length;
    predictions.push({ embeddings: { statistics: { truncated: false, token_count: Math.max(1, L.countTokens(x.content)) }, values: vector(x.content, dims) } });
  }
  L.sendJson(ctx, 200, { predictions, metadata: { billableCharacterCount: chars } }, googleHeaders(ctx));
}

// ---- Claude ---------------------------------------------------------------

function claude(ctx) {
  decodeParams(ctx);
  if (!authorize(ctx, false)) return;
  const b = ctx.json;
  const stream = ctx.params.method === 'streamRawPredict';
  if (!anthropic) return sendGoogle(ctx, 500, 'INTERNAL', 'mock: ./anthropic.js is not available');
  const model = ctx.params.model.replace(/@.*$/, '').replace(/^claude-(?=mock-)/, '');
  // Vertex itself answers for the platform (auth, quota, routing) ...
  const platform = scenario(Object.assign({}, ctx), model);
  if (['err-401', 'err-403', 'err-404', 'err-429'].includes(platform)) {
    const e = ERRORS[platform];
    return sendGoogle(ctx, e[0], e[1], e[2](ctx));
  }
  // ... and for model ids that name no Anthropic scenario
  if (anthropic.scenario(Object.assign({}, ctx), model) === null) return sendGoogle(ctx, 404, 'NOT_FOUND', notFoundMessage(ctx));
  const bad = (msg) => L.sendJson(ctx, 400, { type: 'error', error: { type: 'invalid_request_error', message: msg } }, googleHeaders(ctx));
  if (ctx.jsonError || !isObj(b)) return bad(`There was an issue with your request body: ${ctx.jsonError || 'not an object'}`);
  // vertex-2023-10-16 has the 2023-06-01 semantics; @anthropic-ai/vertex-sdk
  // >= 1.0 copies its anthropic-version header (2026-10-21) into the body
  const version = CLAUDE_VERSIONS[b.anthropic_version];
  if (!version) {
    return bad(b.anthropic_version === undefined ? 'anthropic_version: Field required'
      : `anthropic_version: invalid version '${b.anthropic_version}'; supported versions are ${Object.keys(CLAUDE_VERSIONS).join(', ')}`);
  }
  if (b.model !== undefined) return bad('model: Extra inputs are not permitted');
  if (stream !== (b.stream === true)) {
    return bad(stream ? 'streamRawPredict requires "stream": true' : '"stream": true requires streamRawPredict');
  }

  // the Messages API behind it: the direct API's body and headers
  const json = Object.assign({}, b);
  delete json.anthropic_version;
  json.model = model;
  const headers = Object.assign({}, ctx.req.headers, { 'x-api-key': 'vertex-platform', 'anthropic-version': version });
  delete headers.authorization;
  const req = Object.create(ctx.req, { headers: { value: headers } });
  anthropic.routes[0].handler(Object.assign({}, ctx, { json, req }));
}

module.exports = {
  name: 'vertex',
  routes: [
    { name: 'token', method: 'POST', pattern: /^\/token$/, handler: tokenEndpoint },
    { name: 'revoke', method: 'POST', pattern: /^\/revoke$/, handler: revokeEndpoint },
    {
      name: 'gemini',
      method: 'POST',
      pattern: /^(?<prefix>.*)\/(?<version>v1|v1beta1)\/projects\/(?<project>[^/]+)\/locations\/(?<location>[^/]+)\/publishers\/(?<publisher>google)\/models\/(?<model>[^/:]+):(?<method>generateContent|streamGenerateContent)$/,
      handler: gemini,
    },
    {
      name: 'predict',
      method: 'POST',
      pattern: /^(?<prefix>.*)\/(?<version>v1|v1beta1)\/projects\/(?<project>[^/]+)\/locations\/(?<location>[^/]+)\/publishers\/(?<publisher>google)\/models\/(?<model>[^/:]+):(?<method>predict)$/,
      handler: predict,
    },
    {
      name: 'claude',
      method: 'POST',
      pattern: /^(?<prefix>.*)\/(?<version>v1|v1beta1)\/projects\/(?<project>[^/]+)\/locations\/(?<location>[^/]+)\/publishers\/(?<publisher>anthropic)\/models\/(?<model>[^/:]+):(?<method>rawPredict|streamRawPredict)$/,
      handler: claude,
    },
  ],
  ERRORS, scenario, validateGemini, TOKENS, API_KEY, USER_CRED,
};
