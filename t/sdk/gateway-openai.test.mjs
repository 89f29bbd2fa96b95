// The official `openai` SDK pointed at the GATEWAY (nginx + ngx_llm in
// front of the mock).  Run by t/50-sdk.t, which starts both and sets:
//   GATEWAY_URL     e.g. http://127.0.0.1:PORT/v1
//   GATEWAY_MODELS  JSON array: the model_names of models.yaml, in file order
//   MOCK_URL        the mock behind the gateway (its /__requests shows what
//                   the gateway sent upstream)
// The model names used below are the ones t/50-sdk.t configures.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { control } from './mock-helpers.mjs';

const GATEWAY_URL = process.env.GATEWAY_URL;
const MOCK_URL = process.env.MOCK_URL;
let client;

before(() => {
  // never skip: without a gateway this file fails
  assert.ok(GATEWAY_URL, 'GATEWAY_URL is not set (run t/50-sdk.t, or set it to http://127.0.0.1:PORT/v1)');
  client = new OpenAI({ baseURL: GATEWAY_URL, apiKey: 'sk-anything-client-side', maxRetries: 0, timeout: 20000 });
});

const user = (content) => [{ role: 'user', content }];

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

test('non-streaming chat', async () => {
  const r = await client.chat.completions.create({ model: 'gpt-mock', messages: user('héllo 你好') });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, 'echo: héllo 你好');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
  if (MOCK_URL) {
    const rec = (await control(MOCK_URL, 'GET', '/__requests')).at(-1);
    assert.equal(rec.json.model, 'mock-ok');
    assert.notEqual(rec.headers.authorization, 'Bearer sk-anything-client-side');
  }
});

test('streaming chat (split upstream, multi-byte text, include_usage)', async () => {
  const chunks = await collect(await client.chat.completions.create({
    model: 'gpt-mock-split', stream: true, stream_options: { include_usage: true },
    messages: user('ça va? 你好 🌍'),
  }));
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.equal(text, 'echo: ça va? 你好 🌍');
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage.total_tokens > 0);
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
});

test('streaming chat without include_usage: no usage chunk', async () => {
  const chunks = await collect(await client.chat.completions.create({ model: 'gpt-mock', stream: true, messages: user('plain') }));
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'echo: plain');
  assert.ok(chunks.every((c) => c.choices.length > 0 && !c.usage));
});

test('stream helper reassembles a tool call through the gateway', async () => {
  const runner = client.chat.completions.stream({
    model: 'gpt-mock-tools', messages: user('weather?'),
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
  });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].message.tool_calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(final.choices[0].message.tool_calls[0].function.arguments), { city: 'Paris', query: 'weather?' });
});

test('models.list returns the configured model_names in order', async () => {
  const ids = [];
  for await (const m of client.models.list()) {
    assert.equal(m.object, 'model');
    assert.equal(typeof m.created, 'number');
    assert.equal(typeof m.owned_by, 'string');
    ids.push(m.id);
  }
  const want = JSON.parse(process.env.GATEWAY_MODELS || '[]');
  assert.ok(want.length > 0, 'GATEWAY_MODELS is not set');
  assert.deepEqual(ids, want);
});

test('unknown model raises BadRequestError (400)', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'no-such-model-xyz', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError, `${e.constructor.name} is not BadRequestError`);
    assert.equal(e.status, 400);
    assert.match(e.message, /no-such-model-xyz/);
    return true;
  });
});

test('upstream 429 raises RateLimitError with retry-after', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'gpt-ratelimited', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.RateLimitError, `${e.constructor.name} is not RateLimitError`);
    assert.equal(e.headers.get('retry-after'), '7');
    return true;
  });
});

test('embeddings with the SDK default (base64) and float', async () => {
  const d = await client.embeddings.create({ model: 'embed-mock', input: ['a', 'b'] });
  const f = await client.embeddings.create({ model: 'embed-mock', input: ['a', 'b'], encoding_format: 'float' });
  assert.equal(d.data.length, 2);
  assert.deepEqual(d.data.map((x) => x.embedding), f.data.map((x) => x.embedding));
});
