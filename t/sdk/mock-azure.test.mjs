// The official `openai` package's AzureOpenAI client (and the plain OpenAI
// client for Azure's v1 API) pointed DIRECTLY at the Azure mock: if the SDK
// rejects or misreads anything the mock sends, the mock is wrong.
//
//   node --test t/sdk/mock-azure.test.mjs            (starts its own mock)
//   MOCK_URL=http://127.0.0.1:P node --test ...        (uses a running one)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { AzureOpenAI } from 'openai';
import { useMock, lastRequest } from './mock-helpers.mjs';

const API_VERSION = '2024-10-21';
let mock;

before(async () => { mock = await useMock(); });
after(async () => { await mock.stop(); });

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
