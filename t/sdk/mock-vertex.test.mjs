// Google's official SDKs pointed at the Vertex AI mock (proves the mock
// faithful): @google/genai (vertexai: true) for Gemini and embeddings,
// @anthropic-ai/vertex-sdk for Claude's rawPredict / streamRawPredict.
// Both authenticate with google-auth-library's JWT client, signing with
// the test service account's key (tests/fixtures/vertex/sa.json); the
// mock's token endpoint verifies that JWT's RS256 signature.
//
// google-auth-library ignores the key's token_uri: its JWT client posts
// to the fixed https://oauth2.googleapis.com/token, with that URL as the
// JWT's aud.  The test hands it a fetch that sends that one URL to the
// mock's /token instead (and refuses any other non-loopback URL), and the
// mock accepts Google's own aud besides its own URL, as Google does.
//
// MOCK_URL: a running mock (t/50-sdk.t / t/22-vertex.t start one);
// without it a mock is started here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { GoogleGenAI, Type } from '@google/genai';
import { AnthropicVertex } from '@anthropic-ai/vertex-sdk';
import { GoogleAuth } from 'google-auth-library';
import { useMock, control } from './mock-helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(here, '..', '..', 'tests', 'fixtures', 'vertex');
const SA = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'sa.json'), 'utf8'));
const SA_OTHER = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'sa-unknown-key.json'), 'utf8'));
const PROJECT = 'ngx-llm-mock';
const LOCATION = 'us-central1';
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

let mock;
let MOCK;

before(async () => {
  mock = await useMock();
  MOCK = mock.url;
});

after(async () => {
  if (mock) await mock.stop();
});

// google-auth-library's fetch: Google's token URL goes to the mock, and
// nothing leaves the machine
function mockFetch(url, init) {
  const u = String(url);
  if (u === 'https://oauth2.googleapis.com/token') return fetch(MOCK + '/token', init);
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(u)) throw new Error(`test: refusing a request to ${u}`);
  return fetch(u, init);
}

function googleAuth(sa = SA) {
  return new GoogleAuth({
    credentials: { client_email: sa.client_email, private_key: sa.private_key },
    scopes: [SCOPE],
    clientOptions: { transporterOptions: { fetchImplementation: mockFetch } },
  });
}

function genai(sa = SA, extra = {}) {
  return new GoogleGenAI({
    vertexai: true,
    project: PROJECT,
    location: LOCATION,
    httpOptions: { baseUrl: MOCK, apiVersion: 'v1' },
    googleAuthOptions: {
      credentials: { client_email: sa.client_email, private_key: sa.private_key },
      scopes: [SCOPE],
      clientOptions: { transporterOptions: { fetchImplementation: mockFetch } },
    },
    ...extra,
  });
}

const requests = async () => control(MOCK, 'GET', '/__requests');
const last = async (route) => (await requests()).filter((r) => !route || r.route === route).at(-1);

// ---- a hand-made JWT, for the token endpoint's refusals --------------------

const b64url = (b) => Buffer.from(b).toString('base64url');

function jwt(sa, claims, header = { alg: 'RS256', typ: 'JWT', kid: sa.private_key_id }) {
  const input = b64url(JSON.stringify(header)) + '.' + b64url(JSON.stringify(claims));
  const sig = crypto.sign('RSA-SHA256', Buffer.from(input), sa.private_key);
  return input + '.' + b64url(sig);
}

function claimsNow(over = {}) {
  const iat = Math.floor(Date.now() / 1000);
  return { iss: SA.client_email, scope: SCOPE, aud: MOCK + '/token', iat, exp: iat + 3600, ...over };
}

async function tokenRequest(assertion, grant = 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
  const r = await fetch(MOCK + '/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: grant, assertion }).toString(),
  });
  return { status: r.status, json: await r.json() };
}

const gemini = (model, method = 'generateContent') =>
  `${MOCK}/v1/projects/${PROJECT}/locations/${LOCATION}/publishers/google/models/${model}:${method}`;

// ---- Gemini through @google/genai ------------------------------------------

test('generateContent: the SDK gets a token with its own JWT and reads the answer', async () => {
  const ai = genai();
  const r = await ai.models.generateContent({
    model: 'gemini-2.5-flash',
    contents: 'héllo 你好',
    config: { systemInstruction: 'Be brief.', temperature: 0.2, maxOutputTokens: 50 },
  });
  assert.equal(r.text, 'echo: héllo 你好');
  assert.equal(r.candidates[0].finishReason, 'STOP');
  assert.ok(r.usageMetadata.promptTokenCount > 0);
  assert.equal(r.usageMetadata.totalTokenCount, r.usageMetadata.promptTokenCount + r.usageMetadata.candidatesTokenCount);
  assert.equal(r.modelVersion, 'gemini-2.5-flash');

  const tok = await last('token');
  assert.equal(tok.jwt.header.alg, 'RS256');
  assert.equal(tok.jwt.claims.iss, SA.client_email);
  const call = await last('gemini');
  assert.equal(call.path, `/v1/projects/${PROJECT}/locations/${LOCATION}/publishers/google/models/gemini-2.5-flash:generateContent`);
  assert.match(call.headers.authorization, /^Bearer ya29\.mock/);
  assert.deepEqual(call.json.generationConfig, { temperature: 0.2, maxOutputTokens: 50 });
});

test('generateContentStream (alt=sse, split mid-UTF-8): text, finishReason, usage', async () => {
  const ai = genai();
  let text = '';
  let lastChunk;
  for await (const c of await ai.models.generateContentStream({ model: 'mock-ok-split', contents: 'ça va? 你好 🌍' })) {
    text += c.text ?? '';
    lastChunk = c;
  }
  assert.equal(text, 'echo: ça va? 你好 🌍');
  assert.equal(lastChunk.candidates[0].finishReason, 'STOP');
  assert.ok(lastChunk.usageMetadata.candidatesTokenCount > 0);
  const call = await last('gemini');
  assert.equal(call.query.alt, 'sse');
});

test('function calling: calls with thoughtSignature, and the answer turn is accepted', async () => {
  const ai = genai();
  const tools = [{
    functionDeclarations: [{
      name: 'get_weather',
      description: 'Current weather',
      parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ['city'] },
    }],
  }];
  const r = await ai.models.generateContent({ model: 'mock-tools2', contents: 'weather?', config: { tools } });
  assert.equal(r.functionCalls.length, 2);
  assert.equal(r.functionCalls[0].name, 'get_weather');
  assert.deepEqual(r.functionCalls[0].args, { city: 'Paris', query: 'weather?' });
  const calls = r.candidates[0].content.parts.filter((p) => p.functionCall);
  assert.ok(calls.every((p) => typeof p.thoughtSignature === 'string' && p.thoughtSignature.length > 0));

  // the next turn: the model's parts back as they came, two responses
  const r2 = await ai.models.generateContent({
    model: 'mock-ok',
    contents: [
      { role: 'user', parts: [{ text: 'weather?' }] },
      r.candidates[0].content,
      { role: 'user', parts: calls.map((p) => ({ functionResponse: { name: p.functionCall.name, response: { temp: 18 } } })) },
    ],
    config: { tools },
  });
  assert.equal(r2.candidates[0].finishReason, 'STOP');
  const sent = await last('gemini');
  assert.equal(sent.json.contents[1].parts.filter((p) => p.thoughtSignature).length, 2);

  // one response for two calls is refused, as Gemini does
  await assert.rejects(ai.models.generateContent({
    model: 'mock-ok',
    contents: [
      { role: 'user', parts: [{ text: 'weather?' }] },
      r.candidates[0].content,
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 18 } } }] },
    ],
  }), (e) => e.status === 400 && /number of function response parts/.test(e.message));
});

test('streamed function call arrives whole in one event', async () => {
  const ai = genai();
  const calls = [];
  let finish;
  for await (const c of await ai.models.generateContentStream({
    model: 'mock-tools-split',
    contents: 'où?',
    config: { tools: [{ functionDeclarations: [{ name: 'locate', parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } } } }] }] },
  })) {
    calls.push(...(c.functionCalls ?? []));
    finish = c.candidates?.[0]?.finishReason ?? finish;
  }
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0].args, { city: 'Paris', query: 'où?' });
  assert.equal(finish, 'STOP');
});

test('thinking: thought parts with includeThoughts, thoughtsTokenCount', async () => {
  const ai = genai();
  const r = await ai.models.generateContent({
    model: 'mock-thinking',
    contents: 'think',
    config: { thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } },
  });
  const parts = r.candidates[0].content.parts;
  assert.equal(parts[0].thought, true);
  assert.equal(r.text, 'echo: think');
  assert.ok(r.usageMetadata.thoughtsTokenCount > 0);
});

test('JSON mode: responseMimeType and responseSchema', async () => {
  const ai = genai();
  const r = await ai.models.generateContent({
    model: 'mock-ok',
    contents: 'json please',
    config: { responseMimeType: 'application/json', responseSchema: { type: Type.OBJECT, properties: { echo: { type: Type.STRING } } } },
  });
  assert.deepEqual(JSON.parse(r.text), { echo: 'json please' });
});

test('safety stop and blocked prompt', async () => {
  const ai = genai();
  const s = await ai.models.generateContent({ model: 'mock-safety', contents: 'x' });
  assert.equal(s.candidates[0].finishReason, 'SAFETY');
  assert.equal(s.text, undefined);
  const b = await ai.models.generateContent({ model: 'mock-blocked', contents: 'x' });
  assert.equal(b.promptFeedback.blockReason, 'PROHIBITED_CONTENT');
  assert.equal(b.candidates, undefined);
});

test('errors in Google\'s error model reach the SDK as ApiError', async () => {
  const ai = genai();
  await assert.rejects(ai.models.generateContent({ model: 'mock-err-429', contents: 'x' }),
    (e) => e.status === 429 && /RESOURCE_EXHAUSTED|Resource exhausted/.test(e.message));
  await assert.rejects(ai.models.generateContent({ model: 'mock-no-such-scenario', contents: 'x' }),
    (e) => e.status === 404 && /was not found/.test(e.message));
  await assert.rejects(ai.models.generateContent({ model: 'mock-err-400-context', contents: 'x' }),
    (e) => e.status === 400 && /input token count/.test(e.message));
});

test('mid-stream error: the bare JSON error object after some events', async () => {
  // the SDK: an ApiError when the object arrives in a read of its own,
  // else its "Incomplete JSON segment"; either way the stream fails
  const ai = genai();
  let text = '';
  await assert.rejects((async () => {
    for await (const c of await ai.models.generateContentStream({ model: 'mock-stream-error', contents: 'boom' })) text += c.text ?? '';
  })(), (e) => (e.status === 500 && /INTERNAL/.test(e.message)) || /Incomplete JSON segment/.test(e.message));
  assert.equal(text, 'echo: ');

  // the bytes: two events, then the pretty-printed error object
  const tok = (await tokenRequest(jwt(SA, claimsNow()))).json.access_token;
  const r = await fetch(gemini('mock-stream-error', 'streamGenerateContent') + '?alt=sse', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'boom' }] }] }),
  });
  assert.equal(r.status, 200);
  const body = await r.text();
  const events = body.split('\r\n\r\n');
  assert.equal(events.length, 3);
  assert.ok(events[0].startsWith('data: {') && events[1].startsWith('data: {'));
  assert.match(events[2], /^\{\n {2}"error": \{\n/);
  assert.equal(JSON.parse(events[2]).error.status, 'INTERNAL');
});

test('embeddings through :predict', async () => {
  const ai = genai();
  const r = await ai.models.embedContent({ model: 'text-embedding-005', contents: ['one', 'two'], config: { outputDimensionality: 4 } });
  assert.equal(r.embeddings.length, 2);
  assert.equal(r.embeddings[0].values.length, 4);
  assert.ok(r.embeddings[0].statistics.tokenCount >= 1);
  const sent = await last('predict');
  assert.deepEqual(sent.json.instances.map((i) => i.content), ['one', 'two']);
  assert.equal(sent.json.parameters.outputDimensionality, 4);
});

test('an unknown field is refused as Gemini refuses it', async () => {
  // (the SDK itself drops additionalProperties: sent by hand)
  const tok = (await tokenRequest(jwt(SA, claimsNow()))).json.access_token;
  const send = (body) => fetch(gemini('mock-ok'), {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` }, body: JSON.stringify(body),
  });
  const contents = [{ role: 'user', parts: [{ text: 'x' }] }];
  let r = await send({ contents, tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false } }] }] });
  assert.equal(r.status, 400);
  let e = await r.json();
  assert.equal(e.error.status, 'INVALID_ARGUMENT');
  assert.match(e.error.message, /Unknown name "additionalProperties"/);

  r = await send({ contents, temperature: 0.5 });
  assert.match((await r.json()).error.message, /Unknown name "temperature"/);

  r = await send({ contents, tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: {} } }] }] });
  assert.match((await r.json()).error.message, /should be non-empty for OBJECT type/);

  r = await send({ contents: [{ role: 'user', parts: [{ text: '' }] }] });
  assert.match((await r.json()).error.message, /empty text parameter/);

  // snake_case names are proto JSON too
  r = await send({ contents, generation_config: { max_output_tokens: 5 } });
  assert.equal(r.status, 200);
});

// ---- Claude through @anthropic-ai/vertex-sdk ---------------------------------

function claudeClient() {
  return new AnthropicVertex({ region: 'us-east5', projectId: PROJECT, baseURL: MOCK + '/v1', googleAuth: googleAuth(), maxRetries: 0 });
}

test('Claude rawPredict: the Messages body, the model in the URL', async () => {
  const c = claudeClient();
  const m = await c.messages.create({ model: 'claude-3-7-sonnet@20250219', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
  assert.equal(m.type, 'message');
  assert.equal(m.content[0].text, 'echo: Hi');
  assert.equal(m.stop_reason, 'end_turn');
  const sent = await last('claude');
  assert.equal(sent.path, `/v1/projects/${PROJECT}/locations/us-east5/publishers/anthropic/models/claude-3-7-sonnet@20250219:rawPredict`);
  // the SDK copies its anthropic-version into the body (the gateway sends
  // vertex-2023-10-16, which the mock takes too: see t/22-vertex.t)
  assert.equal(sent.json.anthropic_version, '2026-10-21');
  assert.equal(sent.json.model, undefined);
});

test('Claude streamRawPredict: a streamed tool call', async () => {
  const c = claudeClient();
  const stream = c.messages.stream({
    model: 'claude-mock-tools-split@20250219',
    max_tokens: 256,
    messages: [{ role: 'user', content: 'weather?' }],
    tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
  });
  const m = await stream.finalMessage();
  assert.equal(m.stop_reason, 'tool_use');
  const tu = m.content.find((b) => b.type === 'tool_use');
  assert.deepEqual(tu.input, { city: 'Paris', query: 'weather?' });
  const sent = await last('claude');
  assert.match(sent.path, /:streamRawPredict$/);
  assert.equal(sent.json.stream, true);
});

test('Claude: platform errors in Google\'s shape, model errors in Anthropic\'s', async () => {
  const c = claudeClient();
  await assert.rejects(c.messages.create({ model: 'claude-mock-err-429@20250219', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e.status === 429 && /RESOURCE_EXHAUSTED/.test(JSON.stringify(e.error)));
  await assert.rejects(c.messages.create({ model: 'claude-mock-err-529@20250219', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e.status === 529 && e.error?.error?.type === 'overloaded_error');
});

// ---- the token endpoint and the bearer check --------------------------------

test('token endpoint: a JWT signed with an unknown key is refused', async () => {
  const r = await tokenRequest(jwt(SA_OTHER, claimsNow()));
  assert.equal(r.status, 400);
  assert.deepEqual(r.json, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });

  // and so the SDK with that key cannot call the model
  await assert.rejects(genai(SA_OTHER).models.generateContent({ model: 'mock-ok', contents: 'x' }),
    (e) => /invalid_grant|Invalid JWT Signature/.test(String(e.message)));
});

test('token endpoint: claims are checked (aud, lifetime, scope, alg, grant)', async () => {
  const ok = await tokenRequest(jwt(SA, claimsNow()));
  assert.equal(ok.status, 200);
  assert.equal(ok.json.expires_in, 3599);
  assert.equal(ok.json.token_type, 'Bearer');
  assert.match(ok.json.access_token, /^ya29\.mock/);

  let r = await tokenRequest(jwt(SA, claimsNow({ aud: 'https://example.invalid/token' })));
  assert.equal(r.status, 400);
  assert.match(r.json.error_description, /audience/);

  const now = Math.floor(Date.now() / 1000);
  r = await tokenRequest(jwt(SA, claimsNow({ iat: now, exp: now + 7200 })));
  assert.match(r.json.error_description, /short-lived token/);
  r = await tokenRequest(jwt(SA, claimsNow({ iat: now - 7200, exp: now - 3600 })));
  assert.match(r.json.error_description, /short-lived token/);

  r = await tokenRequest(jwt(SA, claimsNow({ scope: undefined })));
  assert.equal(r.json.error, 'invalid_scope');

  r = await tokenRequest(jwt(SA, claimsNow(), { alg: 'HS256', typ: 'JWT' }));
  assert.equal(r.json.error_description, 'Invalid JWT Signature.');

  // a claim changed after signing
  const t = jwt(SA, claimsNow()).split('.');
  t[1] = b64url(JSON.stringify(claimsNow({ iss: SA.client_email, scope: SCOPE + ' x' })));
  r = await tokenRequest(t.join('.'));
  assert.equal(r.json.error_description, 'Invalid JWT Signature.');

  r = await tokenRequest('x', 'password');
  assert.equal(r.json.error, 'unsupported_grant_type');
});

test('model routes need a token the mock issued; revoked tokens are refused', async () => {
  const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'x' }] }] });
  const post = (auth) => fetch(gemini('mock-ok'), { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body });

  let r = await post({});
  assert.equal(r.status, 401);
  let e = await r.json();
  assert.equal(e.error.status, 'UNAUTHENTICATED');
  assert.equal(e.error.code, 401);

  r = await post({ authorization: 'Bearer ya29.not-issued-here' });
  assert.equal(r.status, 401);

  const tok = (await tokenRequest(jwt(SA, claimsNow()))).json.access_token;
  r = await post({ authorization: `Bearer ${tok}` });
  assert.equal(r.status, 200);

  await fetch(MOCK + '/revoke', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${tok}` });
  r = await post({ authorization: `Bearer ${tok}` });
  assert.equal(r.status, 401);
  e = await r.json();
  assert.equal(e.error.details[0].reason, 'ACCESS_TOKEN_EXPIRED');
});

test('without alt=sse the stream is one JSON array', async () => {
  const tok = (await tokenRequest(jwt(SA, claimsNow()))).json.access_token;
  const r = await fetch(gemini('mock-ok', 'streamGenerateContent'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'arr' }] }] }),
  });
  const arr = JSON.parse(await r.text());
  assert.ok(Array.isArray(arr));
  assert.equal(arr.map((x) => x.candidates[0].content?.parts[0].text ?? '').join(''), 'echo: arr');
  assert.equal(arr.at(-1).candidates[0].finishReason, 'STOP');
});
