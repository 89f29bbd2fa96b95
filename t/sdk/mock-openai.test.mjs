// The official `openai` SDK pointed DIRECTLY at the mock: if the SDK
// rejects or misreads anything the mock sends, the mock is wrong.
//
//   node --test t/sdk/mock-openai.test.mjs            (starts its own mock)
//   MOCK_URL=http://127.0.0.1:P node --test ...        (uses a running one)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { useMock, control, lastRequest } from './mock-helpers.mjs';

let mock;
let client;

before(async () => {
  mock = await useMock();
  client = new OpenAI({ baseURL: mock.url + '/v1', apiKey: 'sk-sdk-mock-test', maxRetries: 0, timeout: 20000 });
});
after(async () => { await mock.stop(); });

const user = (content) => [{ role: 'user', content }];

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}
const text = (chunks) => chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');

test('non-stream chat completion', async () => {
  const r = await client.chat.completions.create({
    model: 'mock-ok',
    messages: [{ role: 'system', content: 'be brief' }, ...user('héllo 你好')],
    temperature: 0.2,
  });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, 'echo: héllo 你好');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  assert.ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
  const rec = await lastRequest(mock.url);
  assert.equal(rec.path, '/v1/chat/completions');
  assert.equal(rec.headers.authorization, 'Bearer sk-sdk-mock-test');
  assert.equal(rec.json.model, 'mock-ok');
  assert.equal(rec.json.temperature, 0.2);
});

test('non-stream, split into tiny TCP writes (Content-Length body)', async () => {
  const r = await client.chat.completions.create({ model: 'mock-ok-split', messages: user('pièce 你好 🌍') });
  assert.equal(r.choices[0].message.content, 'echo: pièce 你好 🌍');
});

test('withResponse exposes the OpenAI-like headers', async () => {
  const { data, response } = await client.chat.completions.create({ model: 'mock-ok', messages: user('h') }).withResponse();
  assert.equal(data.choices[0].message.content, 'echo: h');
  assert.match(response.headers.get('x-request-id'), /^req_mock\d+$/);
  assert.equal(response.headers.get('content-type'), 'application/json');
});

test('stream chat: text reassembled, no usage unless asked', async () => {
  const chunks = await collect(await client.chat.completions.create({
    model: 'mock-ok', stream: true, messages: user('stream me'),
  }));
  assert.equal(text(chunks), 'echo: stream me');
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id));
  assert.ok(chunks.every((c) => !('usage' in c) || c.usage === null || c.usage === undefined));
  const rec = await lastRequest(mock.url);
  assert.equal(rec.json.stream, true);
});

test('stream split mid-line and mid-UTF-8 character (model suffix -split)', async () => {
  const input = 'héllo 你好 🌍 ça va — ñ';
  const chunks = await collect(await client.chat.completions.create({
    model: 'mock-ok-split', stream: true, messages: user(input),
  }));
  assert.equal(text(chunks), 'echo: ' + input);
});

test('stream split via the x-mock-split header', async () => {
  const chunks = await collect(await client.chat.completions.create(
    { model: 'mock-ok', stream: true, messages: user('你好你好你好') },
    { headers: { 'x-mock-split': '1' } },
  ));
  assert.equal(text(chunks), 'echo: 你好你好你好');
  const rec = await lastRequest(mock.url);
  assert.equal(rec.headers['x-mock-split'], '1');
});

test('stream with include_usage: usage null on chunks, final usage chunk with choices []', async () => {
  const chunks = await collect(await client.chat.completions.create({
    model: 'mock-ok-split', stream: true, stream_options: { include_usage: true }, messages: user('count me'),
  }));
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage && last.usage.total_tokens === last.usage.prompt_tokens + last.usage.completion_tokens);
  for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null);
  assert.equal(text(chunks), 'echo: count me');
});

test('stream helper: finalChatCompletion reassembles a tool call', async () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const runner = client.chat.completions.stream({ model: 'mock-tools-split', messages: user('météo?'), tools });
  const final = await runner.finalChatCompletion();
  const calls = final.choices[0].message.tool_calls;
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].type, 'function');
  assert.match(calls[0].id, /^call_/);
  assert.equal(calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(calls[0].function.arguments), { city: 'Paris', query: 'météo?' });
});

test('manual reassembly of two streamed tool calls by index', async () => {
  const tools = [
    { type: 'function', function: { name: 'a', parameters: { type: 'object' } } },
    { type: 'function', function: { name: 'b', parameters: { type: 'object' } } },
  ];
  const chunks = await collect(await client.chat.completions.create({ model: 'mock-tools2', stream: true, messages: user('x'), tools }));
  const calls = [];
  for (const c of chunks) {
    for (const d of c.choices[0]?.delta?.tool_calls ?? []) {
      const acc = (calls[d.index] ??= { id: null, name: null, args: '' });
      if (d.id) acc.id = d.id;
      if (d.function?.name) acc.name = d.function.name;
      if (d.function?.arguments) acc.args += d.function.arguments;
    }
  }
  assert.deepEqual(calls.map((c) => c.name), ['a', 'b']);
  assert.deepEqual(calls.map((c) => JSON.parse(c.args).city), ['Paris', 'Tokyo']);
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'tool_calls');
});

test('non-stream tool call', async () => {
  const r = await client.chat.completions.create({
    model: 'mock-tools', messages: user('x'),
    tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
  });
  assert.equal(r.choices[0].message.content, null);
  assert.equal(r.choices[0].message.tool_calls[0].function.name, 'lookup');
});

test('slow-release: first content arrives, the rest only after POST /__release', async () => {
  const stream = await client.chat.completions.create({ model: 'mock-slow-release', stream: true, messages: user('later') });
  const it = stream[Symbol.asyncIterator]();
  let seen = '';
  while (!seen.includes('echo: ')) {
    const { value, done } = await it.next();
    assert.ok(!done, 'stream ended before the gate');
    seen += value.choices[0]?.delta?.content ?? '';
  }
  const w = await control(mock.url, 'GET', '/__waiting');
  assert.equal(w.waiting, 1);
  const rel = await control(mock.url, 'POST', '/__release');
  assert.equal(rel.released, 1);
  for (;;) {
    const { value, done } = await it.next();
    if (done) break;
    seen += value.choices[0]?.delta?.content ?? '';
  }
  assert.equal(seen, 'echo: later');
});

test('mid-stream error event makes the SDK throw', async () => {
  const stream = await client.chat.completions.create({ model: 'mock-stream-error', stream: true, messages: user('x') });
  await assert.rejects(collect(stream), (e) => e instanceof OpenAI.APIError && /middle of the stream/.test(e.message));
});

test('cut stream makes the SDK throw instead of hanging', async () => {
  const stream = await client.chat.completions.create({ model: 'mock-stream-cut', stream: true, messages: user('x') });
  await assert.rejects(collect(stream));
});

test('garbage body is rejected', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'mock-garbage', messages: user('x') }));
});

const errorCases = [
  ['mock-err-400-context', OpenAI.BadRequestError, 400, 'context_length_exceeded'],
  ['mock-err-401', OpenAI.AuthenticationError, 401, 'invalid_api_key'],
  ['mock-err-403', OpenAI.PermissionDeniedError, 403, 'unsupported_country_region_territory'],
  ['mock-err-404', OpenAI.NotFoundError, 404, 'model_not_found'],
  ['mock-no-such-scenario', OpenAI.NotFoundError, 404, 'model_not_found'],
  ['mock-err-429', OpenAI.RateLimitError, 429, 'rate_limit_exceeded'],
  ['mock-err-429-quota', OpenAI.RateLimitError, 429, 'insufficient_quota'],
  ['mock-err-500', OpenAI.InternalServerError, 500, null],
  ['mock-err-503', OpenAI.InternalServerError, 503, null],
];
for (const [model, cls, status, code] of errorCases) {
  test(`${model} -> ${cls.name} (${status})`, async () => {
    for (const stream of [false, true]) {
      await assert.rejects(client.chat.completions.create({ model, stream, messages: user('x') }), (e) => {
        assert.ok(e instanceof cls, `${e.constructor.name} is not ${cls.name}`);
        assert.equal(e.status, status);
        assert.equal(e.code ?? null, code);
        assert.equal(typeof e.error?.message, 'string');
        if (model === 'mock-err-429') assert.equal(e.headers.get('retry-after'), '7');
        return true;
      });
    }
  });
}

test('the API key is never echoed whole in the 401 message', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'mock-err-401', messages: user('x') }), (e) => {
    assert.ok(!e.message.includes('sk-sdk-mock-test'));
    return true;
  });
});

test('a request without an API key gets OpenAI\'s 401', async () => {
  const r = await fetch(mock.url + '/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'mock-ok', messages: user('x') }) });
  assert.equal(r.status, 401);
  const j = await r.json();
  assert.deepEqual(Object.keys(j.error).sort(), ['code', 'message', 'param', 'type']);
});

test('embeddings: float, explicit base64, and the SDK default (base64 decoded)', async () => {
  const input = ['alpha', 'béta'];
  const f = await client.embeddings.create({ model: 'text-embedding-3-small', input, encoding_format: 'float', dimensions: 6 });
  assert.equal(f.object, 'list');
  assert.equal(f.data.length, 2);
  assert.equal(f.data[1].index, 1);
  assert.equal(f.data[0].embedding.length, 6);
  assert.ok(f.usage.prompt_tokens > 0);

  const b = await client.embeddings.create({ model: 'text-embedding-3-small', input, encoding_format: 'base64', dimensions: 6 });
  assert.equal(typeof b.data[0].embedding, 'string');
  const raw = Buffer.from(b.data[0].embedding, 'base64');
  const decoded = Array.from(new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4));
  assert.deepEqual(decoded, f.data[0].embedding);

  const d = await client.embeddings.create({ model: 'text-embedding-3-small', input, dimensions: 6 });
  assert.deepEqual(d.data.map((x) => x.embedding), f.data.map((x) => x.embedding));
  const rec = await lastRequest(mock.url);
  assert.equal(rec.json.encoding_format, 'base64');
});

test('embeddings errors are typed too', async () => {
  await assert.rejects(client.embeddings.create({ model: 'mock-err-401', input: 'x' }), OpenAI.AuthenticationError);
});

test('models.list and models.retrieve', async () => {
  const ids = [];
  for await (const m of client.models.list()) {
    assert.equal(m.object, 'model');
    assert.equal(typeof m.created, 'number');
    assert.equal(typeof m.owned_by, 'string');
    ids.push(m.id);
  }
  assert.ok(ids.includes('mock-ok'));
  const one = await client.models.retrieve('mock-ok');
  assert.equal(one.id, 'mock-ok');
  await assert.rejects(client.models.retrieve('nope'), OpenAI.NotFoundError);
});

test('the mock survives malformed input', async () => {
  const bad = await fetch(mock.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: 'Bearer k' }, body: '{"model":"mock-ok","messages":' + '['.repeat(100000),
  });
  assert.equal(bad.status, 400);
  const ok = await client.chat.completions.create({ model: 'mock-ok', messages: user('still alive') });
  assert.equal(ok.choices[0].message.content, 'echo: still alive');
});
