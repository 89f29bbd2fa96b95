// The official `ollama` npm package pointed DIRECTLY at the Ollama mock
// (t/mock/providers/ollama.js): if the SDK rejects or misreads anything the
// mock sends, the mock is wrong.
//
//   node --test t/sdk/mock-ollama.test.mjs           (starts its own mock)
//   MOCK_URL=http://127.0.0.1:P node --test ...       (uses a running one)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import { useMock, lastRequest } from './mock-helpers.mjs';

let mock;
let ollama;

before(async () => {
  mock = await useMock();
  ollama = new Ollama({ host: mock.url });
});
after(async () => { await mock.stop(); });

const user = (content) => [{ role: 'user', content }];

test('chat, non-streaming: message, done_reason, counters; the SDK sends stream:false', async () => {
  const r = await ollama.chat({
    model: 'mock-ok', messages: [{ role: 'system', content: 'be brief' }, ...user('héllo 你好')],
    options: { temperature: 0.2, num_predict: 64 },
  });
  assert.equal(r.model, 'mock-ok');
  assert.equal(r.message.role, 'assistant');
  assert.equal(r.message.content, 'echo: héllo 你好');
  assert.equal(r.done, true);
  assert.equal(r.done_reason, 'stop');
  assert.ok(r.prompt_eval_count > 0 && r.eval_count > 0);
  assert.ok(!Number.isNaN(Date.parse(r.created_at)));
  const rec = await lastRequest(mock.url);
  assert.equal(rec.path, '/api/chat');
  assert.equal(rec.provider, 'ollama');
  assert.equal(rec.json.stream, false);
  assert.deepEqual(rec.json.options, { temperature: 0.2, num_predict: 64 });
  assert.equal(rec.headers.authorization, undefined);
});

test('chat, streaming: NDJSON reassembled across awkward splits (mid-line, mid-UTF-8)', async () => {
  const input = 'héllo 你好 🌍 ça va — ñ';
  const it = await ollama.chat({ model: 'mock-ok-split', stream: true, messages: user(input) });
  const parts = [];
  for await (const p of it) parts.push(p);
  assert.ok(parts.length > 3);
  assert.equal(parts.map((p) => p.message.content).join(''), 'echo: ' + input);
  const last = parts.at(-1);
  assert.equal(last.done, true);
  assert.equal(last.done_reason, 'stop');
  assert.ok(last.eval_count > 0);
  assert.ok(parts.slice(0, -1).every((p) => p.done === false));
});

test('an absent "stream" streams NDJSON, as Ollama does', async () => {
  const r = await fetch(mock.url + '/api/chat', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-ok', messages: user('default') }),
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/x-ndjson');
  const lines = (await r.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.ok(lines.length > 1);
  assert.equal(lines.at(-1).done, true);
  assert.equal(lines.map((l) => l.message.content).join(''), 'echo: default');
});

test('num_predict cuts the reply: done_reason "length"', async () => {
  const r = await ollama.chat({ model: 'mock-ok', messages: user('one two three four five'), options: { num_predict: 3 } });
  assert.equal(r.message.content, 'echo: one');
  assert.equal(r.done_reason, 'length');
  assert.equal(r.eval_count, 3);
});

test('format "json" gives JSON content', async () => {
  const r = await ollama.chat({ model: 'mock-ok', format: 'json', messages: user('j') });
  assert.deepEqual(JSON.parse(r.message.content), { echo: 'j' });
});

test('tool call: no id, arguments an object (non-stream and stream)', async () => {
  const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const r = await ollama.chat({ model: 'mock-tools', messages: user('où?'), tools });
  assert.equal(r.message.content, '');
  assert.equal(r.message.tool_calls.length, 1);
  const tc = r.message.tool_calls[0];
  assert.equal(tc.id, undefined);
  assert.equal(tc.function.name, 'lookup');
  assert.deepEqual(tc.function.arguments, { city: 'Paris', query: 'où?' });
  assert.equal(r.done_reason, 'stop');

  const parts = [];
  for await (const p of await ollama.chat({ model: 'mock-tools2-split', stream: true, messages: user('x'), tools })) parts.push(p);
  const withCalls = parts.filter((p) => p.message.tool_calls);
  assert.equal(withCalls.length, 1, 'whole calls arrive in one line');
  assert.deepEqual(withCalls[0].message.tool_calls.map((c) => c.function.arguments.city), ['Paris', 'Tokyo']);
  assert.equal(parts.at(-1).done, true);
});

test('the request shapes Ollama takes: images base64, tool_calls with object arguments, tool_name', async () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const r = await ollama.chat({
    model: 'mock-ok',
    messages: [
      { role: 'user', content: 'what is this?', images: [new Uint8Array(png)] },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
      { role: 'tool', tool_name: 'get_weather', content: '22C' },
      { role: 'user', content: 'thanks' },
    ],
  });
  assert.equal(r.message.content, 'echo: thanks');
  const rec = await lastRequest(mock.url);
  assert.deepEqual(rec.json.messages[0].images, [png.toString('base64')]);
  assert.deepEqual(rec.json.messages[1].tool_calls[0].function.arguments, { city: 'Paris' });
  assert.equal(rec.json.messages[2].tool_name, 'get_weather');
});

test('what Ollama rejects, the mock rejects (400, Go decoder wording)', async () => {
  const post = (body) => fetch(mock.url + '/api/chat', { method: 'POST', body: JSON.stringify(body) });
  let r = await post({ model: 'mock-ok', stream: false, messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] });
  assert.equal(r.status, 400);
  assert.match((await r.json()).error, /cannot unmarshal array .* of type string/);
  r = await post({ model: 'mock-ok', stream: false, messages: [{ role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: '{"a":1}' } }] }] });
  assert.equal(r.status, 400);
  assert.match((await r.json()).error, /cannot unmarshal string .*arguments/);
  r = await post({ model: 'mock-ok', stream: false, messages: [{ role: 'user', content: 'x', images: ['data:image/png;base64,AAAA'] }] });
  assert.equal(r.status, 400);
  assert.match((await r.json()).error, /illegal base64 data/);
  r = await post({ model: 'mock-ok', stream: false, format: 'yaml', messages: user('x') });
  assert.equal(r.status, 400);
  r = await post({ stream: false, messages: user('x') });
  assert.equal(r.status, 400);
  assert.deepEqual(await r.json(), { error: 'model is required' });
});

test('thinking arrives in message.thinking', async () => {
  const r = await ollama.chat({ model: 'mock-think', think: true, messages: user('pi') });
  assert.equal(r.message.thinking, 'thinking about pi');
  assert.equal(r.message.content, 'echo: pi');
});

test('embed: string and array input, dimensions, prompt_eval_count', async () => {
  const one = await ollama.embed({ model: 'nomic-embed-text', input: 'héllo' });
  assert.equal(one.embeddings.length, 1);
  assert.equal(one.embeddings[0].length, 8);
  assert.ok(one.prompt_eval_count > 0);
  const norm = Math.hypot(...one.embeddings[0]);
  assert.ok(Math.abs(norm - 1) < 1e-5, 'L2-normalised like Ollama');
  const many = await ollama.embed({ model: 'nomic-embed-text', input: ['héllo', 'world'], dimensions: 4 });
  assert.equal(many.embeddings.length, 2);
  assert.equal(many.embeddings[1].length, 4);
  assert.equal(many.model, 'nomic-embed-text');
  const rec = await lastRequest(mock.url);
  assert.equal(rec.path, '/api/embed');
  assert.equal(rec.json.dimensions, 4);
  const again = await ollama.embed({ model: 'nomic-embed-text', input: 'héllo' });
  assert.deepEqual(again.embeddings, one.embeddings, 'deterministic');
});

test('list (GET /api/tags)', async () => {
  const r = await ollama.list();
  assert.ok(r.models.length > 0);
  assert.ok(r.models.some((m) => m.name === 'mock-ok:latest'));
  assert.equal(typeof r.models[0].details.family, 'string');
});

test('errors: ResponseError with the status and Ollama\'s message', async () => {
  await assert.rejects(ollama.chat({ model: 'mock-err-404', messages: user('x') }), (e) => {
    assert.equal(e.name, 'ResponseError');
    assert.equal(e.status_code, 404);
    assert.equal(e.error, 'model "mock-err-404" not found, try pulling it first');
    return true;
  });
  await assert.rejects(ollama.chat({ model: 'mock-err-500', messages: user('x') }), (e) => e.name === 'ResponseError' && e.status_code === 500);
  await assert.rejects(ollama.embed({ model: 'mock-nonexistent', input: 'x' }), (e) => e.status_code === 404);
  // a streamed request fails before the stream: still a ResponseError
  await assert.rejects(ollama.chat({ model: 'mock-err-429', stream: true, messages: user('x') }), (e) => e.status_code === 429);
});

test('an error line in the middle of a stream makes the SDK throw', async () => {
  const got = [];
  await assert.rejects((async () => {
    for await (const p of await ollama.chat({ model: 'mock-stream-error', stream: true, messages: user('abcdef') })) got.push(p.message.content);
  })(), /llama runner process has terminated/);
  assert.equal(got.join(''), 'echo: ');
});

test('a stream that ends without done:true is noticed by the SDK', async () => {
  await assert.rejects((async () => {
    // eslint-disable-next-line no-unused-vars
    for await (const _ of await ollama.chat({ model: 'mock-stream-eof', stream: true, messages: user('abcdef') })) { /* drain */ }
  })(), /Did not receive done/);
});
