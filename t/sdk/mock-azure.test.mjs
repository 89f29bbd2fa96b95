// The official `openai` package's AzureOpenAI client (and the plain OpenAI
// client for Azure's v1 API) pointed DIRECTLY at the Azure mock: if the SDK
// rejects or misreads anything the mock sends, the mock is wrong.  The
// mock's Microsoft Entra ID token endpoint is proven the same way with
// Microsoft's @azure/identity (ClientSecretCredential, on MSAL Node).
//
//   node --test t/sdk/mock-azure.test.mjs            (starts its own mock)
//   MOCK_URL=http://127.0.0.1:P node --test ...        (uses a running one)
//
// MSAL takes only an https authority, so the Entra tests need the mock's
// TLS listener: MOCK_TLS_URL=https://localhost:P with MOCK_CA=<the CA file
// that signed its certificate> name the one of the mock at MOCK_URL (as
// t/lib/LlmTest.pm starts it: $MOCK_TLS_URL, $TEST_CA); without them the
// Entra tests start a mock of their own with an HTTPS listener, its
// certificate made by the openssl CLI as LlmTest.pm makes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import OpenAI, { AzureOpenAI } from 'openai';
import { ClientSecretCredential, getBearerTokenProvider } from '@azure/identity';
import { useMock, lastRequest, control } from './mock-helpers.mjs';

const API_VERSION = '2024-10-21';
let mock;

before(async () => { mock = await useMock(); });
after(async () => {
  if (entra) await entra.stop();
  await mock.stop();
});

// a client for one deployment of the mock's resource (<mock>/azure)
const azure = (deployment, opts = {}) => new AzureOpenAI({
  endpoint: mock.url + '/azure', apiKey: 'az-sdk-mock-key', apiVersion: API_VERSION,
  deployment, maxRetries: 0, timeout: 20000, ...opts,
});
const v1 = () => new OpenAI({ baseURL: mock.url + '/azure/openai/v1/', apiKey: 'az-sdk-v1-key', maxRetries: 0, timeout: 20000 });

const user = (content) => [{ role: 'user', content }];

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}
const text = (chunks) => chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');

test('chat: deployment URL, api-version, api-key; Azure filter fields', async () => {
  const r = await azure('mock-ok').chat.completions.create({ model: 'ignored', messages: user('héllo 你好') });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.content, 'echo: héllo 你好');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  assert.equal(r.prompt_filter_results[0].content_filter_results.jailbreak.detected, false);
  assert.equal(r.choices[0].content_filter_results.hate.severity, 'safe');
  const rec = await lastRequest(mock.url);
  assert.equal(rec.provider, 'azure');
  assert.equal(rec.path, '/azure/openai/deployments/mock-ok/chat/completions');
  assert.equal(rec.query['api-version'], API_VERSION);
  assert.equal(rec.headers['api-key'], 'az-sdk-mock-key');
  assert.equal(rec.headers.authorization, undefined);
});

test('chat with an Entra ID token provider (Bearer)', async () => {
  const client = new AzureOpenAI({
    endpoint: mock.url + '/azure', apiVersion: API_VERSION, deployment: 'mock-ok',
    azureADTokenProvider: async () => 'entra-token-1', maxRetries: 0,
  });
  const r = await client.chat.completions.create({ model: 'x', messages: user('tok') });
  assert.equal(r.choices[0].message.content, 'echo: tok');
  const rec = await lastRequest(mock.url);
  assert.equal(rec.headers.authorization, 'Bearer entra-token-1');
  assert.equal(rec.headers['api-key'], undefined);
});

test('stream: the empty-choices first event, then role, text, finish; split at awkward bytes', async () => {
  const input = 'héllo 你好 🌍 ça va — ñ';
  const chunks = await collect(await azure('mock-ok-split').chat.completions.create({
    model: 'x', stream: true, messages: user(input),
  }));
  assert.deepEqual(chunks[0].choices, []);
  assert.equal(chunks[0].object, '');
  assert.ok(Array.isArray(chunks[0].prompt_filter_results));
  assert.equal(chunks[1].choices[0].delta.role, 'assistant');
  assert.equal(text(chunks), 'echo: ' + input);
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  assert.ok(chunks.slice(1).every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[1].id));
  assert.ok(chunks.every((c) => c.usage === undefined));
});

test('stream with include_usage: usage null on chunks, then the usage chunk', async () => {
  const chunks = await collect(await azure('mock-ok').chat.completions.create({
    model: 'x', stream: true, stream_options: { include_usage: true }, messages: user('count me'),
  }));
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage.total_tokens > 0);
  for (const c of chunks.slice(1, -1)) assert.equal(c.usage, null);
  assert.equal(text(chunks), 'echo: count me');
});

test('stream helper tolerates asynchronous filter annotations (no delta)', async () => {
  const runner = azure('mock-ok-async').chat.completions.stream({ model: 'x', messages: user('async') });
  const chunks = [];
  runner.on('chunk', (c) => chunks.push(c));
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].message.content, 'echo: async');
  assert.equal(final.choices[0].finish_reason, 'stop');
  assert.ok(chunks.some((c) => c.choices[0] && c.choices[0].delta === undefined && c.choices[0].content_filter_offsets));
});

test('content filter: finish_reason content_filter, stream and not', async () => {
  const r = await azure('mock-content-filter').chat.completions.create({ model: 'x', messages: user('bad') });
  assert.equal(r.choices[0].finish_reason, 'content_filter');
  assert.equal(r.choices[0].content_filter_results.violence.filtered, true);
  const chunks = await collect(await azure('mock-content-filter').chat.completions.create({ model: 'x', stream: true, messages: user('bad') }));
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'content_filter');
  assert.equal(text(chunks), 'echo: ');
});

test('stream helper reassembles a tool call', async () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
  const final = await azure('mock-tools-split').chat.completions.stream({ model: 'x', messages: user('météo?'), tools }).finalChatCompletion();
  const calls = final.choices[0].message.tool_calls;
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.equal(calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(calls[0].function.arguments), { city: 'Paris', query: 'météo?' });
});

test('embeddings (base64, the SDK default) on the deployment URL', async () => {
  const r = await azure('text-embedding-3-small').embeddings.create({ model: 'x', input: ['un', 'deux'], dimensions: 16 });
  assert.equal(r.data.length, 2);
  assert.equal(r.data[0].embedding.length, 16);
  assert.ok(r.data[0].embedding.every((x) => Number.isFinite(x) && Math.abs(x) < 1));
  assert.ok(r.usage.prompt_tokens > 0);
  const rec = await lastRequest(mock.url);
  assert.equal(rec.path, '/azure/openai/deployments/text-embedding-3-small/embeddings');
  assert.equal(rec.json.encoding_format, 'base64');
});

test('v1 API with the plain OpenAI client: chat, stream, embeddings', async () => {
  const client = v1();
  const r = await client.chat.completions.create({ model: 'mock-ok', messages: user('v1') });
  assert.equal(r.choices[0].message.content, 'echo: v1');
  let rec = await lastRequest(mock.url);
  assert.equal(rec.path, '/azure/openai/v1/chat/completions');
  assert.deepEqual(rec.query, {});
  assert.equal(rec.headers.authorization, 'Bearer az-sdk-v1-key');
  const chunks = await collect(await client.chat.completions.create({ model: 'mock-ok', stream: true, messages: user('v1s') }));
  assert.equal(text(chunks), 'echo: v1s');
  const e = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x', encoding_format: 'float' });
  assert.equal(e.data[0].embedding.length, 8);
  rec = await lastRequest(mock.url);
  assert.equal(rec.path, '/azure/openai/v1/embeddings');
});

test('errors come back as the SDK\'s typed errors', async () => {
  await assert.rejects(azure('mock-err-429').chat.completions.create({ model: 'x', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.RateLimitError);
    assert.equal(e.status, 429);
    assert.equal(e.code, '429');
    assert.equal(e.headers.get('retry-after'), '6');
    assert.equal(e.headers.get('retry-after-ms'), '6000');
    return true;
  });
  await assert.rejects(azure('mock-err-400-filter').chat.completions.create({ model: 'x', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.equal(e.code, 'content_filter');
    assert.equal(e.param, 'prompt');
    assert.equal(e.error.innererror.code, 'ResponsibleAIPolicyViolation');
    return true;
  });
  await assert.rejects(azure('mock-nope').chat.completions.create({ model: 'x', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.NotFoundError);
    assert.equal(e.code, 'DeploymentNotFound');
    return true;
  });
  await assert.rejects(azure('mock-ok', { apiVersion: 'not-a-version' }).chat.completions.create({ model: 'x', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    return true;
  });
  await assert.rejects(azure('mock-ok', { apiVersion: '2024-02-01' }).chat.completions.create({
    model: 'x', stream: true, stream_options: { include_usage: true }, messages: user('x'),
  }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.match(e.message, /stream_options/);
    return true;
  });
  // no credentials: Azure's 401, and the dated API without api-version: 404
  let r = await fetch(mock.url + '/azure/openai/deployments/mock-ok/chat/completions?api-version=' + API_VERSION, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: user('x') }),
  });
  assert.equal(r.status, 401);
  assert.equal((await r.json()).error.code, '401');
  r = await fetch(mock.url + '/azure/openai/deployments/mock-ok/chat/completions', {
    method: 'POST', headers: { 'content-type': 'application/json', 'api-key': 'k' }, body: JSON.stringify({ messages: user('x') }),
  });
  assert.equal(r.status, 404);
  assert.equal((await r.json()).error.message, 'Resource not found');
});

// ---- Microsoft Entra ID -----------------------------------------------------

const here = path.dirname(fileURLToPath(import.meta.url));
const TENANT = 'mock-tenant';
const TENANT_ID = '00000000-0000-0000-0000-00000000aaaa';
const CLIENT_ID = 'mock-client-id';
const CLIENT_SECRET = 'mock-client-secret';
const SCOPE = 'https://cognitiveservices.azure.com/.default';
const UNAUTHORIZED = 'Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.';
let entra = null; // {url: http, tlsUrl: https://localhost:P, ca, stop()}

// a throwaway CA and a certificate for localhost / 127.0.0.1, as LlmTest.pm
function makeCerts(dir) {
  const ossl = (...a) => execFileSync('openssl', a, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl('req', '-x509', ...ec, '-keyout', `${dir}/ca.key`, '-out', `${dir}/ca.crt`, '-days', '1',
    '-subj', '/CN=mock-azure.test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ossl('req', ...ec, '-keyout', `${dir}/server.key`, '-out', `${dir}/server.csr`, '-subj', '/CN=localhost');
  fs.writeFileSync(`${dir}/server.ext`, 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n'
    + 'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  ossl('x509', '-req', '-in', `${dir}/server.csr`, '-CA', `${dir}/ca.crt`, '-CAkey', `${dir}/ca.key`,
    '-CAcreateserial', '-out', `${dir}/server.crt`, '-days', '1', '-extfile', `${dir}/server.ext`);
}

async function useTlsMock() {
  if (process.env.MOCK_TLS_URL && process.env.MOCK_CA) {
    return { url: mock.url, tlsUrl: process.env.MOCK_TLS_URL.replace(/\/$/, ''), ca: fs.readFileSync(process.env.MOCK_CA, 'utf8'), stop: async () => {} };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mock-azure-tls-'));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    makeCerts(dir);
  } catch (e) {
    cleanup();
    throw e;
  }
  const child = spawn(process.execPath, [path.join(here, '..', 'mock', 'server.js'), '--port', '0', '--tls-port', '0',
    '--cert', `${dir}/server.crt`, '--key', `${dir}/server.key`, '--quiet', '--parent-pid', String(process.pid)],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    cleanup();
  };
  try {
    const info = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('TLS mock did not start within 10 s')), 10000);
      child.once('exit', (code) => reject(new Error(`TLS mock exited with ${code}`)));
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        const m = /^MOCK_READY (.*)$/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(JSON.parse(m[1]));
        }
      });
    });
    return { url: `http://127.0.0.1:${info.port}`, tlsUrl: `https://localhost:${info.tls_port}`, ca: fs.readFileSync(`${dir}/ca.crt`, 'utf8'), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function useEntra() {
  if (!entra) entra = await useTlsMock();
  return entra;
}

// ClientSecretCredential against the mock: https authority, its CA trusted
// for these requests only, no instance discovery (the mock is not a known
// Microsoft cloud), no retries of 5xx
function credential(e, { tenant = TENANT, clientId = CLIENT_ID, secret = CLIENT_SECRET } = {}) {
  return new ClientSecretCredential(tenant, clientId, secret, {
    authorityHost: e.tlsUrl,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: e.ca },
    retryOptions: { maxRetries: 0 },
  });
}

const entraRequests = async (e, since, route) => (await control(e.url, 'GET', '/__requests'))
  .filter((r) => r.seq > since && (!route || r.route === route));
const lastSeq = async (e) => (await control(e.url, 'GET', '/__requests')).reduce((m, r) => Math.max(m, r.seq), 0);
const jwtPart = (t, i) => JSON.parse(Buffer.from(t.split('.')[i], 'base64url').toString('utf8'));

test('Entra ID: ClientSecretCredential gets the mock\'s token (openid-configuration, then client_credentials over https)', async () => {
  const e = await useEntra();
  const since = await lastSeq(e);
  const cred = credential(e);
  const t0 = Date.now();
  const tok = await cred.getToken(SCOPE);
  const t1 = Date.now();
  assert.equal(tok.tokenType, 'Bearer');
  assert.equal(tok.token.split('.').length, 3);
  assert.deepEqual({ typ: jwtPart(tok.token, 0).typ, alg: jwtPart(tok.token, 0).alg }, { typ: 'JWT', alg: 'RS256' });
  const claims = jwtPart(tok.token, 1);
  assert.equal(claims.aud, 'https://cognitiveservices.azure.com');
  assert.equal(claims.tid, TENANT_ID);
  assert.equal(claims.iss, `https://sts.windows.net/${TENANT_ID}/`);
  assert.equal(claims.appid, CLIENT_ID);
  assert.equal(claims.exp - claims.iat, 3599);
  // expires_in 3599 read by MSAL: expiresOnTimestamp ~ now + 3599 s
  assert.ok(tok.expiresOnTimestamp >= t0 + 3598_000 && tok.expiresOnTimestamp <= t1 + 3599_000 + 1000,
    `expiresOnTimestamp ${tok.expiresOnTimestamp - t1} ms from now`);

  const reqs = await entraRequests(e, since);
  const conf = reqs.find((r) => r.route === 'entra-openid-configuration');
  assert.ok(conf, 'MSAL fetched the openid-configuration');
  assert.equal(conf.method, 'GET');
  assert.equal(conf.path, `/${TENANT}/v2.0/.well-known/openid-configuration`);
  assert.equal(conf.tls, true);
  const tr = reqs.filter((r) => r.route === 'entra-token');
  assert.equal(tr.length, 1);
  assert.equal(tr[0].tls, true);
  assert.equal(tr[0].path, `/${TENANT}/oauth2/v2.0/token`);
  assert.match(tr[0].headers['content-type'], /^application\/x-www-form-urlencoded/);
  const form = new URLSearchParams(tr[0].body);
  assert.equal(form.get('grant_type'), 'client_credentials');
  assert.equal(form.get('client_id'), CLIENT_ID);
  assert.equal(form.get('client_secret'), CLIENT_SECRET);
  assert.equal(form.get('scope'), SCOPE);
  assert.equal(tr[0].entra.access_token, tok.token);

  // MSAL's cache serves the next call: no second token request
  const again = await cred.getToken(SCOPE);
  assert.equal(again.token, tok.token);
  assert.equal((await entraRequests(e, since, 'entra-token')).length, 1);
});

test('Entra ID: Entra\'s errors come through MSAL and @azure/identity intact', async () => {
  const e = await useEntra();
  let since = await lastSeq(e);
  // @azure/identity turns MSAL's ServerError (any error body from the
  // token endpoint) into an AuthenticationRequiredError whose message is
  // MSAL's "<error>: Error(s): <codes> - Timestamp: .. - Description: ..
  // - Correlation ID: .. - Trace ID: .."
  let message = '';
  await assert.rejects(credential(e, { secret: 'not-the-secret' }).getToken(SCOPE), (err) => {
    assert.equal(err.name, 'AuthenticationRequiredError');
    assert.match(err.message, /^invalid_client: Error\(s\): 7000215 - Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ - Description: AADSTS7000215: Invalid client secret provided\./);
    assert.match(err.message, /Trace ID: [0-9a-f-]{36}/);
    message = err.message;
    return true;
  });
  // the correlation id is the client-request-id MSAL sent
  const [rec] = await entraRequests(e, since, 'entra-token');
  const cid = rec.query['client-request-id'] || rec.headers['client-request-id'];
  assert.match(cid, /^[0-9a-f-]{36}$/);
  assert.ok(message.includes(`Correlation ID: ${cid}`), message);
  assert.deepEqual(rec.entra, { error: 'invalid_client', code: 7000215 });

  await assert.rejects(credential(e, { clientId: 'no-such-client' }).getToken(SCOPE), (err) => {
    assert.match(err.message, /^unauthorized_client: Error\(s\): 700016 .*AADSTS700016: Application with identifier 'no-such-client' was not found/s);
    return true;
  });
  await assert.rejects(credential(e).getToken('https://cognitiveservices.azure.com/user_impersonation'), (err) => {
    assert.match(err.message, /^invalid_scope: Error\(s\): 1002012 .*AADSTS1002012: The provided value for scope https:\/\/cognitiveservices\.azure\.com\/user_impersonation is not valid\./s);
    return true;
  });
  await assert.rejects(credential(e, { tenant: 'mock-tenant-500' }).getToken(SCOPE), (err) => {
    assert.match(err.message, /^server_error: Error\(s\): 50000 .*AADSTS50000/s);
    return true;
  });
  // an unknown tenant already fails MSAL's openid-configuration look-up
  since = await lastSeq(e);
  await assert.rejects(credential(e, { tenant: '11111111-2222-3333-4444-555555555555' }).getToken(SCOPE), (err) => {
    assert.equal(err.name, 'CredentialUnavailableError');
    assert.match(err.message, /endpoints_resolution_error/);
    return true;
  });
  const conf = (await entraRequests(e, since, 'entra-openid-configuration')).at(-1);
  assert.deepEqual(conf.entra, { error: 'invalid_tenant', code: 90002 });
});

test('Entra ID: AzureOpenAI with getBearerTokenProvider chats through the mock; a revoked token gets Azure\'s 401', async () => {
  const e = await useEntra();
  const since = await lastSeq(e);
  const provider = getBearerTokenProvider(credential(e), SCOPE);
  const client = new AzureOpenAI({
    endpoint: e.url + '/azure', apiVersion: API_VERSION, deployment: 'mock-ok', azureADTokenProvider: provider, maxRetries: 0, timeout: 20000,
  });
  const r = await client.chat.completions.create({ model: 'x', messages: user('entra id') });
  assert.equal(r.choices[0].message.content, 'echo: entra id');
  const [issued] = await entraRequests(e, since, 'entra-token');
  const chat = (await entraRequests(e, since, 'chat')).at(-1);
  assert.equal(chat.headers.authorization, 'Bearer ' + issued.entra.access_token);
  assert.equal(chat.headers['api-key'], undefined);
  assert.equal(chat.entra.status, 'valid');

  const rv = await fetch(e.url + '/mock-entra/revoke', {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: issued.entra.access_token }),
  });
  assert.equal(rv.status, 200);
  // the provider still hands out the cached (now revoked) token.  Azure's
  // body for it, {"statusCode":401,"message":...}, has no "error" key, so
  // the SDK's error has no details: its message is "401 status code (no
  // body)", as with the real service
  await assert.rejects(client.chat.completions.create({ model: 'x', messages: user('again') }), (err) => {
    assert.ok(err instanceof OpenAI.AuthenticationError);
    assert.equal(err.status, 401);
    return true;
  });
  const rec = (await entraRequests(e, since, 'chat')).at(-1);
  assert.equal(rec.entra.status, 'revoked');
  const r2 = await fetch(`${e.url}/azure/openai/deployments/mock-ok/chat/completions?api-version=${API_VERSION}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: rec.headers.authorization }, body: JSON.stringify({ messages: user('x') }),
  });
  assert.equal(r2.status, 401);
  assert.deepEqual(await r2.json(), { statusCode: 401, message: UNAUTHORIZED });
});

test('Entra ID: the v1 API with the plain OpenAI client and the https://ai.azure.com scope', async () => {
  const e = await useEntra();
  const since = await lastSeq(e);
  const client = new OpenAI({
    baseURL: e.url + '/azure/openai/v1/', apiKey: getBearerTokenProvider(credential(e), 'https://ai.azure.com/.default'), maxRetries: 0, timeout: 20000,
  });
  const r = await client.chat.completions.create({ model: 'mock-ok', messages: user('v1 entra') });
  assert.equal(r.choices[0].message.content, 'echo: v1 entra');
  const rec = (await entraRequests(e, since, 'v1-chat')).at(-1);
  assert.deepEqual([rec.entra.status, rec.entra.aud], ['valid', 'https://ai.azure.com']);
});

test('Entra ID: token endpoint errors in Entra\'s shape; the broken tenants; unknown tokens', async () => {
  const e = await useEntra();
  const tokenReq = (tenant, form, headers = {}) => fetch(`${e.url}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form),
  });
  const good = { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scope: SCOPE };
  const cases = [
    ['mock-tenant', { ...good, client_secret: 'x' }, 401, 'invalid_client', 7000215],
    ['mock-tenant', { ...good, client_secret: '' }, 401, 'invalid_client', 7000216],
    ['mock-tenant', { ...good, client_id: 'nope' }, 400, 'unauthorized_client', 700016],
    ['no-such.onmicrosoft.com', good, 400, 'invalid_request', 90002],
    ['no-such-tenant', good, 400, 'invalid_request', 900023],
    ['mock-tenant', { ...good, grant_type: 'password' }, 400, 'unsupported_grant_type', 70003],
    ['mock-tenant', { client_id: CLIENT_ID }, 400, 'invalid_request', 900144],
    ['mock-tenant', { ...good, scope: '' }, 400, 'invalid_request', 900144],
    ['mock-tenant', { ...good, scope: 'https://cognitiveservices.azure.com/x' }, 400, 'invalid_scope', 1002012],
    ['mock-tenant', { ...good, scope: `${SCOPE} https://ai.azure.com/.default` }, 400, 'invalid_scope', 70011],
    ['mock-tenant', { ...good, scope: 'https://graph.microsoft.com/.default' }, 400, 'invalid_resource', 500011],
    ['mock-tenant-500', good, 500, 'server_error', 50000],
  ];
  const cid = '0b7ad1e2-5a4f-4c1e-9d3b-2f6a8c9e1d00';
  for (const [tenant, form, status, error, code] of cases) {
    const r = await tokenReq(tenant, form, { 'client-request-id': cid });
    const what = `${tenant} ${JSON.stringify(form)}`;
    assert.equal(r.status, status, what);
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8', what);
    const b = await r.json();
    assert.deepEqual(Object.keys(b), ['error', 'error_description', 'error_codes', 'timestamp', 'trace_id', 'correlation_id', 'error_uri'], what);
    assert.equal(b.error, error, what);
    assert.deepEqual(b.error_codes, [code], what);
    assert.equal(b.correlation_id, cid, what);
    assert.match(b.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/, what);
    assert.equal(b.error_description, `AADSTS${code}: ${b.error_description.slice(`AADSTS${code}: `.length).split('\r\n')[0]}\r\nTrace ID: ${b.trace_id}\r\nCorrelation ID: ${cid}\r\nTimestamp: ${b.timestamp}`, what);
    assert.equal(b.error_uri, `https://login.microsoftonline.com/error?code=${code}`, what);
  }
  // client_secret_basic, the tenant id, a short-lived client
  const basic = Buffer.from(`${CLIENT_ID}-ttl-2:${CLIENT_SECRET}`).toString('base64');
  let r = await tokenReq(TENANT_ID, { grant_type: 'client_credentials', scope: 'https://cognitiveservices.azure.com//.default' }, { authorization: 'Basic ' + basic });
  assert.equal(r.status, 200);
  const b = await r.json();
  assert.deepEqual(Object.keys(b), ['token_type', 'expires_in', 'ext_expires_in', 'access_token']);
  assert.deepEqual([b.token_type, b.expires_in, b.ext_expires_in], ['Bearer', 2, 2]);
  assert.equal(jwtPart(b.access_token, 1).appid, `${CLIENT_ID}-ttl-2`);
  // garbage: 200 with a body that is not JSON
  r = await tokenReq('mock-tenant-garbage', good);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  const text = await r.text();
  assert.throws(() => JSON.parse(text), SyntaxError);

  // model routes: an expired, a forged (never issued) mock token -> 401;
  // any other Bearer value is still accepted
  const chat = (bearer) => fetch(`${e.url}/azure/openai/deployments/mock-ok/chat/completions?api-version=${API_VERSION}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + bearer }, body: JSON.stringify({ messages: user('x') }),
  });
  const forged = b.access_token.split('.').slice(0, 2).join('.') + '.' + Buffer.from('forged').toString('base64url');
  r = await chat(forged);
  assert.equal(r.status, 401);
  assert.deepEqual(await r.json(), { statusCode: 401, message: UNAUTHORIZED });
  assert.equal((await chat(b.access_token)).status, 200);
  await new Promise((res) => setTimeout(res, 2100));
  r = await chat(b.access_token);
  assert.equal(r.status, 401);
  assert.deepEqual(await r.json(), { statusCode: 401, message: UNAUTHORIZED });
  assert.equal((await chat('entra-token-not-a-jwt')).status, 200);

  // revoking a token never issued
  r = await fetch(e.url + '/mock-entra/revoke', { method: 'POST', body: new URLSearchParams({ token: 'nope' }) });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error, 'invalid_token');
});
