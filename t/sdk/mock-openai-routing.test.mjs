// The official `openai` SDK pointed DIRECTLY at the mock scenarios the
// routing tests (t/30-routing.t, t/31-fallback.t, t/32-cooldown.t) use:
// if the SDK rejects or misreads them, the mock is wrong.
//
//   node --test t/sdk/mock-openai-routing.test.mjs     (starts its own mock)
//   MOCK_URL=http://127.0.0.1:P node --test ...         (uses a running one)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { useMock, lastRequest } from './mock-helpers.mjs';

let mock;
let client;

before(async () => {
  mock = await useMock();
  client = new OpenAI({ baseURL: mock.url + '/v1', apiKey: 'sk-sdk-mock-routing', maxRetries: 0, timeout: 20000 });
});
after(async () => { await mock.stop(); });

const user = (content) => [{ role: 'user', content }];

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}
const text = (chunks) => chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');

async function apiError(p) {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail('expected an APIError');
}

test('529: APIError with status 529, overloaded', async () => {
  const e = await apiError(client.chat.completions.create({ model: 'mock-err-529', messages: user('x') }));
  assert.ok(e instanceof OpenAI.APIError, String(e));
  assert.equal(e.status, 529);
  assert.equal(e.code, 'overloaded');
  assert.match(e.message, /overloaded/);
});

test('429 with retry-after: 1 is a RateLimitError the SDK would wait 1 s for', async () => {
  const e = await apiError(client.chat.completions.create({ model: 'mock-err-429-retry-1', messages: user('x') }));
  assert.ok(e instanceof OpenAI.RateLimitError, String(e));
  assert.equal(e.headers.get('retry-after'), '1');
  assert.equal(e.code, 'rate_limit_exceeded');
});

test('429 with retry-after-ms only', async () => {
  const e = await apiError(client.chat.completions.create({ model: 'mock-err-429-ms', messages: user('x') }));
  assert.ok(e instanceof OpenAI.RateLimitError, String(e));
  assert.equal(e.headers.get('retry-after-ms'), '1500');
  assert.equal(e.headers.get('retry-after'), null);
});

test('content policy violation is a BadRequestError with its code', async () => {
  const e = await apiError(client.chat.completions.create({ model: 'mock-err-400-content-policy', messages: user('x') }));
  assert.ok(e instanceof OpenAI.BadRequestError, String(e));
  assert.equal(e.code, 'content_policy_violation');
});

test('stream-error-early: the role chunk, then the SDK throws on the error event', async () => {
  for (const model of ['mock-stream-error-early', 'mock-stream-error-early-split']) {
    const stream = await client.chat.completions.create({ model, stream: true, messages: user('early') });
    const seen = [];
    const e = await apiError((async () => { for await (const c of stream) seen.push(c); })());
    assert.ok(e instanceof OpenAI.APIError, String(e));
    assert.match(e.message, /before its first token/);
    // nothing but the role chunk came before the error
    assert.equal(seen.length, 1);
    assert.equal(seen[0].choices[0].delta.role, 'assistant');
    assert.equal(text(seen), '');
  }
  const e = await apiError(client.chat.completions.create({ model: 'mock-stream-error-early', messages: user('x') }));
  assert.ok(e instanceof OpenAI.InternalServerError, String(e));
});

test('stream-cut-early: the role chunk, then a connection error', async () => {
  const stream = await client.chat.completions.create({ model: 'mock-stream-cut-early', stream: true, messages: user('cut') });
  const seen = [];
  const e = await apiError((async () => { for await (const c of stream) seen.push(c); })());
  assert.ok(e instanceof Error);
  assert.ok(seen.length <= 1);
  assert.equal(text(seen), '');
});

test('slow-first-token: a complete stream once the delay is over', async () => {
  for (const model of ['mock-slow-first-token-150', 'mock-slow-first-token-150-split']) {
    const chunks = await collect(await client.chat.completions.create({
      model, stream: true, messages: user('slow 你好'), stream_options: { include_usage: true },
    }));
    assert.equal(text(chunks), 'echo: slow 你好');
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
    assert.ok(chunks.at(-1).usage.total_tokens > 0);
  }
  const r = await client.chat.completions.create({ model: 'mock-slow-first-token-100', messages: user('slow') });
  assert.equal(r.choices[0].message.content, 'echo: slow');
  const rec = await lastRequest(mock.url);
  assert.equal(rec.json.model, 'mock-slow-first-token-100');
});
