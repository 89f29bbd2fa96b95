'use strict';
// Azure OpenAI, as in /work/shared/providers/azure.md.  The mock's Azure
// "resource" lives under the path prefix /azure, so that /openai/v1/... stays
// OpenAI's (tests set api_base http://127.0.0.1:P/azure):
//
//   POST [/azure]/openai/deployments/<dep>/chat/completions?api-version=V
//   POST [/azure]/openai/deployments/<dep>/embeddings?api-version=V
//   POST /azure/openai/v1/chat/completions      "model" is the deployment
//   POST /azure/openai/v1/embeddings            (api-version absent, or
//                                                preview / latest / v1)
//
// Auth: "api-key: <key>" or "Authorization: Bearer <key or Entra token>";
// without either, Azure's 401 {"error":{"code":"401","message":...}}.  A
// Bearer value that is an access token in the format of this mock's Entra
// ID endpoint (below: a JWT whose payload has iss
// https://sts.windows.net/00000000-0000-0000-0000-00000000aaaa/) must be one
// the endpoint issued, unexpired and not revoked; otherwise the 401 that
// Azure answers for a bad Entra token:
//   {"statusCode":401,"message":"Unauthorized. Access token is missing,
//    invalid, audience is incorrect (https://cognitiveservices.azure.com),
//    or have expired."}
// Any other Bearer value (and any api-key) is accepted as before.  The
// recorded request of such a call has "entra": {status: valid | unknown |
// expired | revoked, appid, aud, uti}.  The
// dated API without api-version answers 404 "Resource not found"; a value
// that is not a version, 400 "API version not supported"; stream_options
// with a dated version before 2024-08-01 (which did not know it), Azure's
// 400 "Unrecognized request argument supplied: stream_options".
//
// Answers are OpenAI's plus Azure's content filtering annotations:
// prompt_filter_results (top level) and content_filter_results (per
// choice), keys in Azure's alphabetical order, "model" the model behind
// the deployment.  Streams start with Azure's event that has
// "choices": [], empty id/model/object and only prompt_filter_results;
// the role chunk follows, each content chunk carries its
// content_filter_results, then the finish chunk, the usage chunk (with
// stream_options.include_usage, "usage": null on the others) and
// data: [DONE].
//
// Behaviour by deployment (the path's <dep>, or "model" with v1), with the
// openai.js names; a "-split" suffix or "x-mock-split: 1" splits the body
// at awkward bytes, an "-async" suffix (before -split) streams like
// Azure's asynchronous filter: content chunks with empty results, then
// annotation-only chunks (no delta, content_filter_offsets, empty
// id/model/object) after the text:
//   mock-ok (and any name not starting with mock-)  "echo: <last user text>"
//   mock-long, mock-tools, mock-tools2, mock-garbage, mock-hang, mock-close,
//   mock-slow-release, mock-stream-error, mock-stream-cut, mock-stream-eof
//   mock-content-filter   the output is filtered: finish_reason
//                         "content_filter" (stream: "echo: " then an
//                         annotation chunk flagging violence and a finish
//                         chunk without delta; non-stream: a message with
//                         no content)
//   mock-err-400          400 invalid_value (param temperature)
//   mock-err-400-context  400 context_length_exceeded
//   mock-err-400-filter   400 content_filter: the prompt was filtered
//                         (param prompt, innererror ResponsibleAIPolicyViolation)
//   mock-err-401          401 code "401"
//   mock-err-403          403 code "403" (public access disabled)
//   mock-err-404          404 DeploymentNotFound
//   mock-err-429          429 code "429", retry-after: 6, retry-after-ms: 6000
//   mock-err-500          500 server_error
//   mock-err-503          503 code "503", retry-after: 2
//   any other mock-*      404 DeploymentNotFound
//
// ---- Microsoft Entra ID (OAuth2 client credentials, v2.0 endpoint) ---------
//
//   POST /<tenant>/oauth2/v2.0/token        route "entra-token"
//   GET  /<tenant>/v2.0/.well-known/openid-configuration
//                                           route "entra-openid-configuration"
//   POST /mock-entra/revoke                 route "entra-revoke": form
//        token=<access token> revokes it, token=* every token issued
//        (200 {}; 400 {"error":"invalid_token"} for a token never issued).
//        Not under /__: server.js keeps /__* for its own endpoints.
//
// The token endpoint takes application/x-www-form-urlencoded
//   grant_type=client_credentials&client_id=..&client_secret=..&scope=..
// (client_id and client_secret may come as HTTP Basic instead, as
// client_secret_basic).  It knows
//   tenants     mock-tenant, or its id 00000000-0000-0000-0000-00000000aaaa
//   client_id   mock-client-id (tokens live 3599 s), or
//               mock-client-id-ttl-<N> (tokens live N s, 1..3599: for
//               refresh and expiry tests); client_secret mock-client-secret
//   scope       exactly one of https://cognitiveservices.azure.com/.default
//               and https://ai.azure.com/.default (the resource may end in
//               "/", e.g. https://cognitiveservices.azure.com//.default)
// and answers 200
//   {"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,
//    "access_token":"<JWT>"}
// The token is shaped as Entra's v1.0 access tokens for these resources
// are: header {"typ":"JWT","alg":"RS256","x5t":..,"kid":..}, payload {aud
// (the scope's resource without a trailing "/"), iss
// https://sts.windows.net/<tenant id>/, iat, nbf, exp, aio, appid (the
// client_id), appidacr "1", idp, idtyp "app", oid, rh, sub, tid (the
// tenant id), uti (unique per token: Entra's token id claim, not "jti"),
// ver "1.0"}, a random signature.  The recorded token request has
// "entra": {tenant, client_id, scope, access_token, expires_in} on success.
//
// Errors are Entra's: {"error","error_description":"AADSTS<n>: <text>\r\n
// Trace ID: <uuid>\r\nCorrelation ID: <uuid>\r\nTimestamp: <yyyy-mm-dd
// hh:mm:ssZ>","error_codes":[n],"timestamp","trace_id","correlation_id"
// (the client-request-id the request sent, as header or query parameter,
// else a fresh uuid),"error_uri":
// "https://login.microsoftonline.com/error?code=<n>"}, Content-Type
// application/json; charset=utf-8, checked in this order:
//   unknown tenant (a GUID or a dotted name)  400 invalid_request AADSTS90002
//   tenant neither GUID nor DNS-like          400 invalid_request AADSTS900023
//   grant_type missing (or not a form body)   400 invalid_request AADSTS900144
//   grant_type not client_credentials         400 unsupported_grant_type AADSTS70003
//   client_id missing                         400 invalid_request AADSTS900144
//   scope missing                             400 invalid_request AADSTS900144
//   client_id unknown                         400 unauthorized_client AADSTS700016
//   client_secret missing                     401 invalid_client AADSTS7000216
//   client_secret wrong                       401 invalid_client AADSTS7000215
//   a scope without /.default                 400 invalid_scope AADSTS1002012
//   more than one scope                       400 invalid_scope AADSTS70011
//   another resource's /.default              400 invalid_resource AADSTS500011
// and these tenants misbehave on the token endpoint (their
// openid-configuration is normal):
//   mock-tenant-garbage   200, Content-Type JSON, a body that is not JSON
//   mock-tenant-500       500 server_error AADSTS50000
//   mock-tenant-hang      no answer; the connection is closed after --hang-ms
// The recorded request of an error has "entra": {error, code} (code the
// AADSTS number).
//
// The openid-configuration is Entra's (issuer
// https://login.microsoftonline.com/<tenant id>/v2.0, token_endpoint etc.)
// with every endpoint on this mock: scheme as the request came (MSAL wants
// https: use the TLS listener), host:port from the Host header.  An unknown
// tenant gets 400 invalid_tenant AADSTS90002.  With it, @azure/identity's
// ClientSecretCredential works against the mock given authorityHost
// https://localhost:<tls port> (or https://127.0.0.1:<tls port>) and
// disableInstanceDiscovery: true (see t/sdk/mock-azure.test.mjs); MSAL
// then posts to /<the tenant it was given>/oauth2/v2.0/token.

const crypto = require('crypto');
const L = require('../lib');

const DATED_RE = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
const V1_VERSIONS = new Set(['preview', 'latest', 'v1']);
const STREAM_OPTIONS_SINCE = '2024-08-01';

const CHAT_MODEL = 'gpt-4o-2024-08-06';
const EMBED_MODEL = 'text-embedding-3-small';

function azErr(code, message) {
  return { error: { code, message } };
}

function oaErr(message, type, param, code) {
  return { error: { message, type, param: param === undefined ? null : param, code: code === undefined ? null : code } };
}

const SAFE = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};
const PROMPT_SAFE = Object.assign({ jailbreak: { filtered: false, detected: false } }, SAFE);
const VIOLENT = Object.assign({}, SAFE, { violence: { filtered: true, severity: 'high' } });

const ERRORS = {
  'err-400': [400, () => oaErr("Invalid value for 'temperature': must be between 0 and 2.", 'invalid_request_error', 'temperature', 'invalid_value')],
  'err-400-context': [400, () => oaErr("This model's maximum context length is 128000 tokens. However, your messages resulted in 130517 tokens. Please reduce the length of the messages.", 'invalid_request_error', 'messages', 'context_length_exceeded')],
  'err-400-filter': [400, () => ({
    error: {
      message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
      type: null,
      param: 'prompt',
      code: 'content_filter',
      status: 400,
      innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: Object.assign({}, PROMPT_SAFE, { violence: { filtered: true, severity: 'medium' } }) },
    },
  })],
  'err-401': [401, () => azErr('401', 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.')],
  'err-403': [403, () => azErr('403', 'Public access is disabled. Please configure private endpoint.')],
  'err-404': [404, () => deploymentNotFound()],
  'err-429': [429, (v) => azErr('429', `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${v || 'v1'} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`),
    { 'retry-after': '6', 'retry-after-ms': '6000', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-remaining-tokens': '0' }],
  'err-500': [500, () => oaErr('The server had an error while processing your request. Sorry about that!', 'server_error', null, null)],
  'err-503': [503, () => azErr('503', 'The service is temporarily unable to process your request. Please try again later.'), { 'retry-after': '2' }],
};

const SCENARIOS = new Set([
  'ok', 'long', 'tools', 'tools2', 'garbage', 'hang', 'close', 'slow-release',
  'stream-error', 'stream-cut', 'stream-eof', 'content-filter', ...Object.keys(ERRORS),
]);

function deploymentNotFound() {
  return azErr('DeploymentNotFound', 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.');
}

// "mock-ok-async-split" -> "ok", with ctx.split and ctx.async set
function scenario(ctx, dep) {
  let m = dep;
  if (m.endsWith('-split')) {
    ctx.split = true;
    m = m.slice(0, -'-split'.length);
  }
  if (m.endsWith('-async')) {
    ctx.async = true;
    m = m.slice(0, -'-async'.length);
  }
  if (!m.startsWith('mock-')) return 'ok';
  const s = m.slice('mock-'.length);
  return SCENARIOS.has(s) ? s : null;
}

function headers(ctx) {
  return {
    'apim-request-id': 'apim-mock-' + ctx.record.seq,
    'x-request-id': 'req-azure-mock-' + ctx.record.seq,
    'x-ms-region': 'West Europe',
    'x-ratelimit-remaining-requests': '99',
    'x-ratelimit-remaining-tokens': '99000',
  };
}

function credential(ctx) {
  const k = ctx.req.headers['api-key'];
  if (typeof k === 'string' && k.trim()) return { kind: 'api-key', value: k.trim() };
  const h = ctx.req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S.*)$/i.exec(h) : null;
  return m ? { kind: 'bearer', value: m[1] } : null;
}

// ---- Microsoft Entra ID ----------------------------------------------------

const ENTRA_TENANT_ID = '00000000-0000-0000-0000-00000000aaaa';
const ENTRA_TENANTS = new Map([['mock-tenant', ENTRA_TENANT_ID], [ENTRA_TENANT_ID, ENTRA_TENANT_ID]]);
const ENTRA_BROKEN = new Set(['mock-tenant-garbage', 'mock-tenant-500', 'mock-tenant-hang']);
const ENTRA_CLIENT_ID = 'mock-client-id';
const ENTRA_CLIENT_SECRET = 'mock-client-secret';
const ENTRA_TTL = 3599;
const ENTRA_RESOURCES = new Set(['https://cognitiveservices.azure.com', 'https://ai.azure.com']);
const ENTRA_ISS = (tid) => `https://sts.windows.net/${tid}/`;
const ENTRA_TOKENS = new Map(); // access token -> {expires (ms), revoked, appid, aud, uti}
const ENTRA_401 = 'Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.';
const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// the token lifetime of a known client_id, or null
function entraClientTtl(id) {
  if (id === ENTRA_CLIENT_ID) return ENTRA_TTL;
  const m = /^mock-client-id-ttl-([1-9]\d{0,3})$/.exec(id || '');
  return m && Number(m[1]) <= ENTRA_TTL ? Number(m[1]) : null;
}

function entraTimestamp(d) {
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

// MSAL sends client-request-id in the query, others as a header; Entra
// echoes it and uses it as the correlation id
function entraRequestId(ctx) {
  const v = ctx.req.headers['client-request-id'] || ctx.query['client-request-id'];
  return typeof v === 'string' && GUID_RE.test(v) ? v.toLowerCase() : null;
}

function entraHeaders(ctx, traceId) {
  const h = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store, no-cache',
    pragma: 'no-cache',
    expires: '-1',
    'x-content-type-options': 'nosniff',
    'x-ms-request-id': traceId || crypto.randomUUID(),
    'x-ms-ests-server': '2.1.mock - WEULR1 ProdSlices',
  };
  const cid = entraRequestId(ctx);
  if (cid) h['client-request-id'] = cid;
  return h;
}

function entraError(ctx, status, error, code, text) {
  const traceId = crypto.randomUUID();
  const correlationId = entraRequestId(ctx) || crypto.randomUUID();
  const ts = entraTimestamp(new Date());
  ctx.record.entra = { error, code };
  L.sendJson(ctx, status, {
    error,
    error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${ts}`,
    error_codes: [code],
    timestamp: ts,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  }, entraHeaders(ctx, traceId));
}

// the tenant path segment -> {id} for a known tenant, {broken} for the
// misbehaving ones; otherwise the error went out and null comes back
function entraTenant(ctx, error) {
  let t = ctx.params.tenant;
  try { t = decodeURIComponent(t); } catch (_) { /* as is */ }
  if (ENTRA_TENANTS.has(t.toLowerCase())) return { id: ENTRA_TENANTS.get(t.toLowerCase()) };
  if (ENTRA_BROKEN.has(t)) return { id: t, broken: t };
  if (GUID_RE.test(t) || /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(t)) {
    entraError(ctx, 400, error, 90002, `Tenant '${t}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`);
  } else {
    entraError(ctx, 400, 'invalid_request', 900023, `Specified tenant identifier '${t}' is neither a valid DNS name, nor a valid external domain.`);
  }
  return null;
}

function b64url(obj) {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

function entraIssue(ctx, tenantId, clientId, ttl, resource) {
  const now = Math.floor(Date.now() / 1000);
  const uti = crypto.randomBytes(16).toString('base64url').slice(0, 22);
  const kid = crypto.createHash('sha1').update('ngx-llm-mock-entra-signing-key').digest('base64url');
  const oid = crypto.randomUUID();
  const header = { typ: 'JWT', alg: 'RS256', x5t: kid, kid };
  const payload = {
    aud: resource,
    iss: ENTRA_ISS(tenantId),
    iat: now,
    nbf: now,
    exp: now + ttl,
    aio: crypto.randomBytes(40).toString('base64'),
    appid: clientId,
    appidacr: '1',
    idp: ENTRA_ISS(tenantId),
    idtyp: 'app',
    oid,
    rh: '1.' + crypto.randomBytes(30).toString('base64url') + '.',
    sub: oid,
    tid: tenantId,
    uti,
    ver: '1.0',
  };
  const token = `${b64url(header)}.${b64url(payload)}.${crypto.randomBytes(256).toString('base64url')}`;
  ENTRA_TOKENS.set(token, { expires: Date.now() + ttl * 1000, revoked: false, appid: clientId, aud: resource, uti });
  ctx.record.entra = { tenant: tenantId, client_id: clientId, scope: resource + '/.default', access_token: token, expires_in: ttl };
  L.sendJson(ctx, 200, { token_type: 'Bearer', expires_in: ttl, ext_expires_in: ttl, access_token: token }, entraHeaders(ctx));
}

function entraTokenEndpoint(ctx) {
  const tenant = entraTenant(ctx, 'invalid_request');
  if (!tenant) return;
  switch (tenant.broken) {
    case 'mock-tenant-garbage':
      return L.sendJson(ctx, 200, '<html><head><title>Sign in to your account</title></head><body>{"token_type":"Bearer","access_token": </body></html>\n', entraHeaders(ctx));
    case 'mock-tenant-500':
      return entraError(ctx, 500, 'server_error', 50000, 'There was an error issuing a token or an issue with our sign-in service.');
    case 'mock-tenant-hang': {
      const t = setTimeout(() => ctx.req.socket.destroy(), ctx.state.hangMs);
      ctx.res.on('close', () => clearTimeout(t));
      return;
    }
    default:
      break;
  }
  const form = /^application\/x-www-form-urlencoded\b/i.test(ctx.req.headers['content-type'] || '');
  const p = new URLSearchParams(form ? ctx.text : '');
  let clientId = p.get('client_id');
  let secret = p.get('client_secret');
  const basic = /^Basic\s+(\S+)$/i.exec(ctx.req.headers.authorization || '');
  if (basic) {
    const dec = Buffer.from(basic[1], 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i >= 0) {
      const un = (x) => { try { return decodeURIComponent(x.replace(/\+/g, ' ')); } catch (_) { return x; } };
      if (clientId === null) clientId = un(dec.slice(0, i));
      if (secret === null) secret = un(dec.slice(i + 1));
    }
  }
  const missing = (name) => entraError(ctx, 400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
  const grant = p.get('grant_type');
  if (!grant) return missing('grant_type');
  if (grant !== 'client_credentials') {
    return entraError(ctx, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
  }
  if (!clientId) return missing('client_id');
  const scope = p.get('scope');
  if (scope === null || !scope.trim()) return missing('scope');
  const ttl = entraClientTtl(clientId);
  if (ttl === null) {
    return entraError(ctx, 400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${ctx.params.tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
  }
  if (!secret && p.get('client_assertion') === null) {
    return entraError(ctx, 401, 'invalid_client', 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.");
  }
  if (secret !== ENTRA_CLIENT_SECRET) {
    return entraError(ctx, 401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
  }
  const scopes = scope.trim().split(/\s+/);
  const bad = scopes.find((x) => !x.endsWith('/.default'));
  if (bad !== undefined) {
    return entraError(ctx, 400, 'invalid_scope', 1002012, `The provided value for scope ${bad} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
  }
  if (scopes.length > 1) {
    return entraError(ctx, 400, 'invalid_scope', 70011, `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scopes.join(' ')} is not valid.`);
  }
  const resource = scopes[0].slice(0, -'/.default'.length).replace(/\/+$/, '');
  if (!ENTRA_RESOURCES.has(resource)) {
    return entraError(ctx, 400, 'invalid_resource', 500011, `The resource principal named ${resource} was not found in the tenant named ${ctx.params.tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`);
  }
  return entraIssue(ctx, tenant.id, clientId, ttl, resource);
}

function entraOpenIdConfiguration(ctx) {
  const tenant = entraTenant(ctx, 'invalid_tenant');
  if (!tenant) return;
  const base = `${ctx.record.tls ? 'https' : 'http'}://${ctx.req.headers.host}`;
  const t = tenant.id;
  L.sendJson(ctx, 200, {
    token_endpoint: `${base}/${t}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/${t}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/${t}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${base}/oidc/userinfo`,
    authorization_endpoint: `${base}/${t}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/${t}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/${t}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host',
      'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    kerberos_endpoint: `${base}/${t}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  }, entraHeaders(ctx));
}

function entraRevoke(ctx) {
  const t = new URLSearchParams(ctx.text).get('token');
  if (t === '*') {
    for (const v of ENTRA_TOKENS.values()) v.revoked = true;
    return L.sendJson(ctx, 200, {});
  }
  const v = ENTRA_TOKENS.get(t);
  if (!v) return L.sendJson(ctx, 400, { error: 'invalid_token', error_description: 'Token is not revocable.' });
  v.revoked = true;
  return L.sendJson(ctx, 200, {});
}

// a Bearer value in this mock's Entra token format: its payload, else null
function entraClaims(value) {
  const parts = value.split('.');
  if (parts.length !== 3 || !parts.every((x) => /^[A-Za-z0-9_-]+$/.test(x))) return null;
  try {
    const c = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return c && typeof c === 'object' && c.iss === ENTRA_ISS(ENTRA_TENANT_ID) ? c : null;
  } catch (_) {
    return null;
  }
}

// true when the credential may go on
function entraCheck(ctx) {
  const c = ctx.credential;
  if (c.kind !== 'bearer') return true;
  const claims = entraClaims(c.value);
  if (!claims) return true;
  const t = ENTRA_TOKENS.get(c.value);
  let status = 'valid';
  if (!t) status = 'unknown';
  else if (t.revoked) status = 'revoked';
  else if (t.expires <= Date.now()) status = 'expired';
  ctx.record.entra = { status, appid: claims.appid, aud: claims.aud, uti: claims.uti };
  return status === 'valid';
}

// Checks shared by every route; returns false when an answer was sent.
function preflight(ctx, v1) {
  const send = (status, body, extra) => {
    L.sendJson(ctx, status, body, Object.assign(headers(ctx), extra || {}));
    return false;
  };
  ctx.credential = credential(ctx);
  if (!ctx.credential) {
    return send(401, azErr('401', 'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.'));
  }
  if (!entraCheck(ctx)) return send(401, { statusCode: 401, message: ENTRA_401 });
  const v = ctx.query['api-version'];
  if (v1) {
    if (v !== undefined && !V1_VERSIONS.has(v)) return send(400, azErr('BadRequest', 'API version not supported'));
  } else {
    if (v === undefined || v === '') return send(404, azErr('404', 'Resource not found'));
    if (!DATED_RE.test(v)) return send(400, azErr('BadRequest', 'API version not supported'));
  }
  ctx.apiVersion = v1 ? null : v;

  const b = ctx.json;
  if (ctx.jsonError || !b || typeof b !== 'object' || Array.isArray(b)) {
    return send(400, oaErr("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", 'invalid_request_error', null, null));
  }
  let dep;
  if (v1) {
    if (typeof b.model !== 'string' || !b.model) {
      return send(400, oaErr("Missing required parameter: 'model'.", 'invalid_request_error', 'model', 'missing_required_parameter'));
    }
    dep = b.model;
  } else {
    try { dep = decodeURIComponent(ctx.params.dep); } catch (_) { dep = ctx.params.dep; }
  }
  ctx.deployment = dep;
  ctx.scenario = scenario(ctx, dep);
  if (ctx.scenario === null) return send(404, deploymentNotFound());

  if (!v1 && b.stream_options !== undefined && ctx.apiVersion < STREAM_OPTIONS_SINCE) {
    return send(400, oaErr('Unrecognized request argument supplied: stream_options', 'invalid_request_error', null, null));
  }
  const e = ERRORS[ctx.scenario];
  if (e) return send(e[0], e[1](ctx.apiVersion), e[2]);
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
      L.sendJson(ctx, 200, '<html><body>this is not JSON {"choices": [</body></html>\n', headers(ctx));
      return true;
    default:
      return false;
  }
}

// ---- chat completions ---------------------------------------------------

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
      function: { arguments: JSON.stringify({ city: i ? 'Tokyo' : 'Paris', query: text }), name: name(i) },
      id: `call_az${ctx.record.seq}x${i}`,
      type: 'function',
    });
  }
  return out;
}

function usageFor(ctx, completionText) {
  const p = L.messagesTokens(ctx.json.messages);
  const c = Math.max(1, L.countTokens(completionText));
  return {
    completion_tokens: c,
    completion_tokens_details: { accepted_prediction_tokens: 0, audio_tokens: 0, reasoning_tokens: 0, rejected_prediction_tokens: 0 },
    prompt_tokens: p,
    prompt_tokens_details: { audio_tokens: 0, cached_tokens: 0 },
    total_tokens: p + c,
  };
}

function completion(ctx) {
  const isTools = ctx.scenario === 'tools' || ctx.scenario === 'tools2';
  const filtered = ctx.scenario === 'content-filter';
  const calls = isTools ? toolCalls(ctx) : null;
  let message;
  let finish = 'stop';
  let usageText;
  if (filtered) {
    // Azure leaves out what the filter withheld
    message = { role: 'assistant' };
    finish = 'content_filter';
    usageText = 'x';
  } else if (isTools) {
    message = { annotations: [], content: null, refusal: null, role: 'assistant', tool_calls: calls };
    finish = 'tool_calls';
    usageText = calls.map((c) => c.function.arguments).join(' ');
  } else {
    usageText = replyText(ctx);
    message = { annotations: [], content: usageText, refusal: null, role: 'assistant' };
  }
  return {
    choices: [{
      content_filter_results: filtered ? VIOLENT : (isTools ? {} : SAFE),
      finish_reason: finish,
      index: 0,
      logprobs: null,
      message,
    }],
    created: Math.floor(Date.now() / 1000),
    id: 'chatcmpl-az' + ctx.record.seq,
    model: CHAT_MODEL,
    object: 'chat.completion',
    prompt_filter_results: [{ prompt_index: 0, content_filter_results: PROMPT_SAFE }],
    system_fingerprint: 'fp_az_mock',
    usage: usageFor(ctx, usageText),
  };
}

function chat(ctx, v1) {
  if (!preflight(ctx, v1)) return;
  const b = ctx.json;
  if (!Array.isArray(b.messages) || b.messages.length === 0) {
    return L.sendJson(ctx, 400, oaErr("Missing required parameter: 'messages'.", 'invalid_request_error', 'messages', 'missing_required_parameter'), headers(ctx));
  }
  if (transport(ctx)) return;
  if (b.stream === true) return chatStream(ctx);

  const resp = completion(ctx);
  switch (ctx.scenario) {
    case 'slow-release':
      return ctx.waitRelease(() => L.sendJson(ctx, 200, resp, headers(ctx)));
    case 'stream-error':
      return L.sendJson(ctx, 500, ERRORS['err-500'][1](), headers(ctx));
    case 'stream-cut': {
      const body = Buffer.from(JSON.stringify(resp));
      ctx.res.writeHead(200, Object.assign({ 'content-type': 'application/json', 'content-length': body.length }, headers(ctx)));
      const w = new L.BodyWriter(ctx);
      w.write(body.subarray(0, body.length >> 1));
      return w.cut();
    }
    case 'stream-eof': {
      const s = JSON.stringify(resp);
      return L.sendJson(ctx, 200, s.slice(0, s.length >> 1), headers(ctx));
    }
    default:
      return L.sendJson(ctx, 200, resp, headers(ctx));
  }
}

function chatStream(ctx) {
  const b = ctx.json;
  const so = b.stream_options && typeof b.stream_options === 'object' ? b.stream_options : {};
  const includeUsage = so.include_usage === true;
  const id = 'chatcmpl-az' + ctx.record.seq;
  const created = Math.floor(Date.now() / 1000);
  const isTools = ctx.scenario === 'tools' || ctx.scenario === 'tools2';
  const async = ctx.async || ctx.scenario === 'content-filter';
  const w = L.startSse(ctx, headers(ctx));
  let produced = '';
  let offset = 0;

  const chunk = (choice) => {
    const c = {
      choices: [Object.assign({ content_filter_results: {} }, choice, { index: 0, logprobs: null })],
      created, id, model: CHAT_MODEL, object: 'chat.completion.chunk', system_fingerprint: 'fp_az_mock',
    };
    if (includeUsage) c.usage = null;
    return c;
  };
  // asynchronous filtering: results for a range of text, nothing else
  const annotation = (results) => {
    const start = offset;
    offset = Buffer.byteLength(produced);
    return {
      choices: [{ content_filter_offsets: { check_offset: start, start_offset: start, end_offset: offset }, content_filter_results: results, finish_reason: null, index: 0 }],
      created: 0, id: '', model: '', object: '',
    };
  };

  // Azure's first event: no choices, only the prompt's filter results
  w.data({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: PROMPT_SAFE }] });

  const finish = (reason, noDelta) => {
    if (async && reason !== 'content_filter') w.data(annotation(SAFE));
    const last = chunk({ delta: {}, finish_reason: reason });
    if (noDelta) {
      delete last.choices[0].delta;
      delete last.choices[0].logprobs;
      last.choices[0].content_filter_results = VIOLENT;
      Object.assign(last, { created: 0, id: '', model: '', object: '' });
      delete last.system_fingerprint;
    }
    w.data(last);
    if (includeUsage) {
      w.data({ choices: [], created, id, model: CHAT_MODEL, object: 'chat.completion.chunk', system_fingerprint: 'fp_az_mock', usage: usageFor(ctx, produced || 'x') });
    }
    w.data('[DONE]');
    w.end();
  };

  if (isTools) {
    const calls = toolCalls(ctx);
    calls.forEach((call, k) => {
      const tc = [{ function: { arguments: '', name: call.function.name }, id: call.id, index: k, type: 'function' }];
      w.data(chunk({ delta: k === 0 ? { content: null, refusal: null, role: 'assistant', tool_calls: tc } : { tool_calls: tc }, finish_reason: null }));
      for (const frag of L.fragments(call.function.arguments, 5)) {
        w.data(chunk({ delta: { tool_calls: [{ function: { arguments: frag }, index: k }] }, finish_reason: null }));
      }
      produced += call.function.arguments + ' ';
    });
    return finish('tool_calls');
  }

  const text = replyText(ctx);
  const frags = L.fragments(text, ctx.scenario === 'long' ? 64 : 3);
  const sendFrags = (list) => {
    for (const f of list) {
      w.data(chunk({ content_filter_results: async ? {} : SAFE, delta: { content: f }, finish_reason: null }));
      produced += f;
    }
  };
  w.data(chunk({ delta: { content: '', refusal: null, role: 'assistant' }, finish_reason: null }));

  switch (ctx.scenario) {
    case 'content-filter':
      sendFrags(L.fragments('echo: ', 3));
      w.data(annotation(VIOLENT));
      return finish('content_filter', true);
    case 'slow-release': {
      const head = 'echo: ';
      produced += head;
      const rest = L.fragments(text.slice(head.length), 3);
      w.data(chunk({ content_filter_results: async ? {} : SAFE, delta: { content: head }, finish_reason: null }), () => ctx.waitRelease(() => {
        sendFrags(rest);
        finish('stop');
      }));
      return;
    }
    case 'stream-error':
      sendFrags(frags.slice(0, 2));
      w.data(oaErr('mock: the model failed in the middle of the stream', 'server_error', null, 'mock_stream_error'));
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

// ---- embeddings ---------------------------------------------------------

function fnv1a(s) {
  let h = 0x811c9dc5;
  for (const x of Buffer.from(s, 'utf8')) {
    h ^= x;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// k/1024 values: exact in float32, so base64 and float answers agree
function vector(input, dims) {
  const h = fnv1a(input);
  const v = [];
  for (let i = 0; i < dims; i++) {
    const x = (Math.imul(h ^ (i * 0x9e3779b1), 2654435761) >>> 0) % 2001;
    v.push((x - 1000) / 1024);
  }
  return v;
}

function embeddings(ctx, v1) {
  if (!preflight(ctx, v1)) return;
  if (transport(ctx)) return;
  const b = ctx.json;
  let inputs = b.input;
  const bad = (msg, param) => L.sendJson(ctx, 400, oaErr(msg, 'invalid_request_error', param || null, null), headers(ctx));
  if (typeof inputs === 'string') inputs = [inputs];
  else if (Array.isArray(inputs) && inputs.length && inputs.every((x) => typeof x === 'number')) inputs = [inputs];
  if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > 2048
      || !inputs.every((x) => typeof x === 'string' || (Array.isArray(x) && x.every((y) => Number.isInteger(y))))) {
    return bad("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", 'input');
  }
  let dims = 8;
  if (b.dimensions !== undefined) {
    if (!Number.isInteger(b.dimensions) || b.dimensions < 1 || b.dimensions > 1536) return bad('Invalid value for dimensions.', 'dimensions');
    dims = b.dimensions;
  }
  const b64 = b.encoding_format === 'base64';
  if (b.encoding_format !== undefined && b.encoding_format !== 'float' && !b64) {
    return bad("Invalid value for 'encoding_format': expected 'float' or 'base64'.", 'encoding_format');
  }
  let tokens = 0;
  const data = inputs.map((x, index) => {
    const s = typeof x === 'string' ? x : x.join(',');
    tokens += typeof x === 'string' ? Math.max(1, L.countTokens(x)) : x.length;
    const v = vector(s, dims);
    return { object: 'embedding', index, embedding: b64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v };
  });
  L.sendJson(ctx, 200, { object: 'list', data, model: EMBED_MODEL, usage: { prompt_tokens: tokens, total_tokens: tokens } }, headers(ctx));
}

module.exports = {
  name: 'azure',
  routes: [
    { name: 'chat', method: 'POST', pattern: /^(?:\/azure)?\/openai\/deployments\/(?<dep>[^/]+)\/chat\/completions\/?$/, handler: (ctx) => chat(ctx, false) },
    { name: 'embeddings', method: 'POST', pattern: /^(?:\/azure)?\/openai\/deployments\/(?<dep>[^/]+)\/embeddings\/?$/, handler: (ctx) => embeddings(ctx, false) },
    { name: 'v1-chat', method: 'POST', pattern: /^\/azure\/openai\/v1\/chat\/completions\/?$/, handler: (ctx) => chat(ctx, true) },
    { name: 'v1-embeddings', method: 'POST', pattern: /^\/azure\/openai\/v1\/embeddings\/?$/, handler: (ctx) => embeddings(ctx, true) },
    { name: 'entra-token', method: 'POST', pattern: /^\/(?<tenant>[^/_][^/]*)\/oauth2\/v2\.0\/token\/?$/, handler: entraTokenEndpoint },
    { name: 'entra-openid-configuration', method: 'GET', pattern: /^\/(?<tenant>[^/_][^/]*)\/v2\.0\/\.well-known\/openid-configuration\/?$/, handler: entraOpenIdConfiguration },
    { name: 'entra-revoke', method: 'POST', pattern: /^\/mock-entra\/revoke\/?$/, handler: entraRevoke },
  ],
  ERRORS, scenario, ENTRA_TOKENS, ENTRA_TENANT_ID, ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET,
};
