// The plain `openai` SDK pointed at the GATEWAY, whose azure/ models sit in
// front of the Azure mock.  Run by t/20-azure.t, which starts both and sets:
//   GATEWAY_URL  e.g. http://127.0.0.1:PORT/v1
//   MOCK_URL     the mock behind the gateway (its /__requests shows what the
//                gateway sent upstream)
// The model names are the ones t/20-azure.t configures: az-<scenario> on
// the dated API (api_version 2024-10-21), az1-<scenario> on the v1 API.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { control } from './mock-helpers.mjs';

const GATEWAY_URL = process.env.GATEWAY_URL;
const MOCK_URL = process.env.MOCK_URL;
let client;

before(() => {
  // never skip: without a gateway this file fails
  assert.ok(GATEWAY_URL, 'GATEWAY_URL is not set (run t/20-azure.t, or set it to http://127.0.0.1:PORT/v1)');
  assert.ok(MOCK_URL, 'MOCK_URL is not set');
  client = new OpenAI({ baseURL: GATEWAY_URL, apiKey: 'sk-anything-client-side', maxRetries: 0, timeout: 20000 });
});

const user = (content) => [{ role: 'user', content }];
const lastUpstream = async () => (await control(MOCK_URL, 'GET', '/__requests')).at(-1);

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}
const text = (chunks) => chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');

test('chat on the dated API', async () => {
  const r = await client.chat.completions.create({ model: 'az-ok', messages: user('héllo 你好') });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'az-ok');
  assert.equal(r.choices[0].message.content, 'echo: héllo 你好');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
  const rec = await lastUpstream();
  assert.equal(rec.path, '/azure/openai/deployments/mock-ok/chat/completions');
  assert.equal(rec.query['api-version'], '2024-10-21');
  assert.equal(rec.headers['api-key'], 'az-yaml-key-20');
  assert.equal(rec.headers.authorization, undefined);
});

test('chat on the v1 API', async () => {
  const r = await client.chat.completions.create({ model: 'az1-ok', messages: user('v1') });
  assert.equal(r.choices[0].message.content, 'echo: v1');
  const rec = await lastUpstream();
  assert.equal(rec.path, '/azure/openai/v1/chat/completions');
  assert.equal(rec.json.model, 'mock-ok');
});

test('stream: OpenAI chunks only, role first, split upstream, include_usage', async () => {
  const chunks = await collect(await client.chat.completions.create({
    model: 'az-ok-async-split', stream: true, stream_options: { include_usage: true },
    messages: user('ça va? 你好 🌍'),
  }));
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.equal(text(chunks), 'echo: ça va? 你好 🌍');
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage.total_tokens > 0);
  for (const c of chunks.slice(0, -1)) {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.id, chunks[0].id);
    assert.equal(c.model, 'az-ok-async-split');
    assert.equal(c.choices.length, 1);
    assert.equal(typeof c.choices[0].delta, 'object');
    assert.equal(c.prompt_filter_results, undefined);
    assert.equal(c.choices[0].content_filter_results, undefined);
    assert.equal(c.usage, null);
  }
});

test('stream without include_usage: no empty-choices chunk at all', async () => {
  const chunks = await collect(await client.chat.completions.create({ model: 'az-ok', stream: true, messages: user('plain') }));
  assert.equal(text(chunks), 'echo: plain');
  assert.ok(chunks.every((c) => c.choices.length === 1 && !c.usage));
});

test('stream helper: content_filter finish', async () => {
  const final = await client.chat.completions.stream({ model: 'az1-content-filter', messages: user('bad') }).finalChatCompletion();
  assert.equal(final.choices[0].finish_reason, 'content_filter');
  assert.equal(final.choices[0].message.content, 'echo: ');
});

test('a streamed tool call reassembles (stream helper)', async () => {
  const runner = client.chat.completions.stream({
    model: 'az-tools-split', messages: user('weather?'),
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
  });
  const final = await runner.finalChatCompletion();
  const calls = final.choices[0].message.tool_calls;
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.equal(calls.length, 1);
  assert.match(calls[0].id, /^call_az/);
  assert.equal(calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(calls[0].function.arguments), { city: 'Paris', query: 'weather?' });
});

test('embeddings (base64, the SDK default), dated and v1', async () => {
  for (const [model, path] of [['az-emb', '/azure/openai/deployments/text-embedding-3-small/embeddings'],
    ['az1-emb', '/azure/openai/v1/embeddings']]) {
    const r = await client.embeddings.create({ model, input: ['un', 'deux'], dimensions: 16 });
    assert.equal(r.model, model);
    assert.equal(r.data.length, 2);
    assert.equal(r.data[1].embedding.length, 16);
    assert.ok(r.data[0].embedding.every((x) => Number.isFinite(x) && Math.abs(x) < 1));
    assert.ok(r.usage.prompt_tokens > 0);
    const rec = await lastUpstream();
    assert.equal(rec.path, path);
    assert.equal(rec.json.encoding_format, 'base64');
  }
});

test('Azure errors reach the SDK as typed OpenAI errors', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'az-err-429', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.RateLimitError);
    assert.equal(e.code, 'rate_limit_exceeded');
    assert.equal(e.headers.get('retry-after'), '6');
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: 'az-err-400-filter', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.equal(e.code, 'content_filter');
    assert.equal(e.param, 'prompt');
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: 'az-err-404', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.NotFoundError);
    assert.equal(e.code, 'model_not_found');
    return true;
  });
});
