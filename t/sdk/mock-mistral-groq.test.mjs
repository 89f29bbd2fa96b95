// The official Mistral (@mistralai/mistralai, zod-validated responses) and
// Groq (groq-sdk) npm packages, and the `openai` SDK (both providers are
// OpenAI-compatible), pointed DIRECTLY at the mocks
// (t/mock/providers/mistral.js under /mistral, groq.js under /groq): if an
// SDK rejects or misreads anything the mock sends, the mock is wrong.
//
//   node --test t/sdk/mock-mistral-groq.test.mjs     (starts its own mock)
//   MOCK_URL=http://127.0.0.1:P node --test ...       (uses a running one)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Mistral } from '@mistralai/mistralai';
import * as MistralErrors from '@mistralai/mistralai/models/errors';
import Groq from 'groq-sdk';
import OpenAI from 'openai';
import { useMock, lastRequest } from './mock-helpers.mjs';

let mock;
let mistral;
let groq;
let oaiMistral;
let oaiGroq;

before(async () => {
  mock = await useMock();
  mistral = new Mistral({ apiKey: 'mistral-sdk-key', serverURL: mock.url + '/mistral' });
  groq = new Groq({ apiKey: 'gsk_sdk_key', baseURL: mock.url + '/groq', maxRetries: 0, timeout: 20000 });
  oaiMistral = new OpenAI({ apiKey: 'mistral-sdk-key', baseURL: mock.url + '/mistral/v1', maxRetries: 0, timeout: 20000 });
  oaiGroq = new OpenAI({ apiKey: 'gsk_sdk_key', baseURL: mock.url + '/groq/openai/v1', maxRetries: 0, timeout: 20000 });
});
after(async () => { await mock.stop(); });

const user = (content) => [{ role: 'user', content }];

// ---- Mistral -----------------------------------------------------------------

test('mistral SDK: chat.complete (response passes the SDK schema)', async () => {
  const r = await mistral.chat.complete({
    model: 'mistral-small-latest', messages: user('héllo 你好'), maxTokens: 20, randomSeed: 7, safePrompt: true,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.content, 'echo: héllo 你好');
  assert.equal(r.choices[0].finishReason, 'stop');
  assert.equal(r.usage.totalTokens, r.usage.promptTokens + r.usage.completionTokens);
  const rec = await lastRequest(mock.url);
  assert.equal(rec.provider, 'mistral');
  assert.equal(rec.path, '/mistral/v1/chat/completions');
  assert.equal(rec.headers.authorization, 'Bearer mistral-sdk-key');
  assert.equal(rec.json.random_seed, 7);
  assert.equal(rec.json.max_tokens, 20);
  assert.equal(rec.json.safe_prompt, true);
});

test('mistral SDK: chat.stream reassembled across awkward splits; usage on the last chunk', async () => {
  const input = 'héllo 你好 🌍 — ñ';
  const stream = await mistral.chat.stream({ model: 'mock-ok-split', messages: user(input) });
  const chunks = [];
  for await (const ev of stream) chunks.push(ev.data);
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'echo: ' + input);
  const last = chunks.at(-1);
  assert.equal(last.choices[0].finishReason, 'stop');
  assert.ok(last.usage.totalTokens > 0);
  assert.ok(chunks.slice(0, -1).every((c) => c.usage === undefined));
});

test('mistral SDK: tool call id of 9 alphanumerics; round trip accepted', async () => {
  const tools = [{ type: 'function', function: { name: 'calc', parameters: { type: 'object', properties: { expr: { type: 'string' } } } } }];
  const r = await mistral.chat.complete({ model: 'mock-tools', messages: user('2+2?'), tools, toolChoice: 'any' });
  const tc = r.choices[0].message.toolCalls[0];
  assert.match(tc.id, /^[a-zA-Z0-9]{9}$/);
  assert.equal(r.choices[0].finishReason, 'tool_calls');
  assert.deepEqual(JSON.parse(tc.function.arguments), { city: 'Paris', query: '2+2?' });
  const r2 = await mistral.chat.complete({
    model: 'mistral-small-latest',
    messages: [...user('2+2?'), { role: 'assistant', content: '', toolCalls: [tc] }, { role: 'tool', toolCallId: tc.id, name: 'calc', content: '4' }, ...user('and?')],
  });
  assert.equal(r2.choices[0].message.content, 'echo: and?');
});

test('mistral: finish model_length and cached tokens come through the SDK', async () => {
  const r = await mistral.chat.complete({ model: 'mock-length', messages: user('x') });
  assert.equal(r.choices[0].finishReason, 'model_length');
  const c = await mistral.chat.complete({ model: 'mock-cached', messages: user('x') });
  assert.equal(c.usage.num_cached_tokens, 5);
  assert.deepEqual(c.usage.prompt_tokens_details, { cached_tokens: 5 });
});

// raw POST, for bodies the SDKs do not expose whole
async function post(path, body, key = 'k') {
  const headers = { 'content-type': 'application/json' };
  if (key) headers.authorization = 'Bearer ' + key;
  const r = await fetch(mock.url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: r.status, headers: r.headers, json: await r.json() };
}

test('mistral SDK: a reasoning model answers content as chunks (thinking + text), also streamed', async () => {
  const r = await mistral.chat.complete({ model: 'mock-think', messages: user('pi') });
  const c = r.choices[0].message.content;
  assert.ok(Array.isArray(c));
  assert.equal(c[0].type, 'thinking');
  assert.equal(c[0].thinking[0].text, 'thinking about pi');
  assert.deepEqual(c[1], { type: 'text', text: 'echo: pi' });
  const parts = [];
  for await (const ev of await mistral.chat.stream({ model: 'mock-think-split', messages: user('pi') })) {
    const d = ev.data.choices[0]?.delta?.content;
    if (Array.isArray(d)) parts.push(...d);
  }
  assert.equal(parts.filter((p) => p.type === 'thinking').map((p) => p.thinking[0].text).join(''), 'thinking about pi');
  assert.equal(parts.filter((p) => p.type === 'text').map((p) => p.text).join(''), 'echo: pi');
});

test('mistral: strict schema: unknown fields are a 422 HTTPValidationError', async () => {
  await assert.rejects(oaiMistral.chat.completions.create({ model: 'mistral-small-latest', messages: user('x'), user: 'u-1', seed: 3 }), (e) => e.status === 422);
  let r = await post('/mistral/v1/chat/completions', { model: 'mistral-small-latest', messages: user('x'), user: 'u-1', seed: 3 });
  assert.equal(r.status, 422);
  assert.deepEqual(r.json.detail.map((d) => d.loc), [['body', 'user'], ['body', 'seed']]);
  assert.equal(r.json.detail[0].type, 'extra_forbidden');
  assert.equal(r.json.detail[0].msg, 'Extra inputs are not permitted');
  r = await post('/mistral/v1/chat/completions', { model: 'm', stream: true, stream_options: { include_usage: true }, messages: user('x') });
  assert.equal(r.status, 422);
  assert.deepEqual(r.json.detail[0].loc, ['body', 'stream_options']);
  r = await post('/mistral/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'x', name: 'bob' }] });
  assert.equal(r.status, 422);
  assert.deepEqual(r.json.detail[0].loc, ['body', 'messages', 0, 'user', 'name']);
  await assert.rejects(mistral.chat.complete({ model: 'mock-err-422', messages: user('x') }), (e) => {
    assert.ok(e instanceof MistralErrors.HTTPValidationError, e.constructor.name);
    assert.equal(e.detail[0].loc.at(-1), 'temperature');
    return true;
  });
});

test('mistral: tool-call ids that are not 9 alphanumerics are a 400 in Mistral\'s words', async () => {
  const msgs = [...user('x'), { role: 'assistant', content: '', tool_calls: [{ id: 'call_abc123', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'call_abc123', content: 'r' }];
  await assert.rejects(oaiMistral.chat.completions.create({ model: 'mistral-small-latest', messages: msgs }), (e) => e.status === 400);
  const r = await post('/mistral/v1/chat/completions', { model: 'mistral-small-latest', messages: msgs });
  assert.equal(r.status, 400);
  assert.equal(r.json.message, 'Tool call id was call_abc123 but must be a-z, A-Z, 0-9, with a length of 9.');
  assert.equal(r.json.type, 'invalid_function_call');
  await assert.rejects(mistral.chat.complete({ model: 'mistral-small-latest', messages: [...user('x'), { role: 'tool', toolCallId: 'abcdefghi', content: 'r' }] }),
    (e) => e.statusCode === 400 && /Unexpected tool call id/.test(e.body));
  const empty = await post('/mistral/v1/chat/completions', { model: 'm', messages: [...user('x'), { role: 'assistant', content: '' }, ...user('y')] });
  assert.equal(empty.status, 400);
});

test('mistral: openai SDK reads chat, stream and errors', async () => {
  const r = await oaiMistral.chat.completions.create({ model: 'mistral-small-latest', messages: user('oai') });
  assert.equal(r.choices[0].message.content, 'echo: oai');
  const chunks = [];
  for await (const c of await oaiMistral.chat.completions.create({ model: 'mock-ok-split', stream: true, messages: user('ça') })) chunks.push(c);
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'echo: ça');
  await assert.rejects(oaiMistral.chat.completions.create({ model: 'mock-err-429', messages: user('x') }), (e) => e.status === 429 && e.headers.get('retry-after') === '5');
  const noKey = await post('/mistral/v1/chat/completions', { model: 'x', messages: user('x') }, null);
  assert.equal(noKey.status, 401);
  assert.equal(noKey.json.message, 'Unauthorized');
});

test('mistral SDK: embeddings with output_dimension; "dimensions" is a 422', async () => {
  const r = await mistral.embeddings.create({ model: 'mistral-embed', inputs: ['héllo', 'world'], outputDimension: 4 });
  assert.equal(r.data.length, 2);
  assert.equal(r.data[1].index, 1);
  assert.equal(r.data[0].embedding.length, 4);
  assert.ok(r.usage.promptTokens > 0);
  const rec = await lastRequest(mock.url);
  assert.equal(rec.path, '/mistral/v1/embeddings');
  assert.equal(rec.json.output_dimension, 4);
  await assert.rejects(oaiMistral.embeddings.create({ model: 'mistral-embed', input: 'x', dimensions: 4, encoding_format: 'float' }), (e) => e.status === 422);
  const dimErr = await post('/mistral/v1/embeddings', { model: 'mistral-embed', input: 'x', dimensions: 4 });
  assert.equal(dimErr.status, 422);
  assert.deepEqual(dimErr.json.detail[0].loc, ['body', 'dimensions']);
  // base64, read by the openai SDK, decodes to the float answer
  const f = await oaiMistral.embeddings.create({ model: 'mistral-embed', input: 'héllo', encoding_format: 'float' });
  assert.equal(f.data[0].embedding.length, 8);
  const raw = await fetch(mock.url + '/mistral/v1/embeddings', { method: 'POST', headers: { authorization: 'Bearer k', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mistral-embed', input: 'héllo', encoding_format: 'base64' }) });
  const b64 = (await raw.json()).data[0].embedding;
  assert.deepEqual(Array.from(new Float32Array(new Uint8Array(Buffer.from(b64, 'base64')).buffer)), f.data[0].embedding);
});

// ---- Groq --------------------------------------------------------------------

test('groq SDK: chat (usage timings, x_groq, system_fingerprint)', async () => {
  const r = await groq.chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: user('héllo'), temperature: 0, max_tokens: 16 });
  assert.equal(r.choices[0].message.content, 'echo: héllo');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.match(r.x_groq.id, /^req_/);
  assert.equal(typeof r.usage.queue_time, 'number');
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  const rec = await lastRequest(mock.url);
  assert.equal(rec.provider, 'groq');
  assert.equal(rec.path, '/groq/openai/v1/chat/completions');
  assert.equal(rec.headers.authorization, 'Bearer gsk_sdk_key');
});

test('groq SDK: stream with x_groq usage on the finish chunk, split awkwardly', async () => {
  const input = 'héllo 你好 🌍';
  const chunks = [];
  for await (const c of await groq.chat.completions.create({ model: 'mock-ok-split', stream: true, messages: user(input) })) chunks.push(c);
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'echo: ' + input);
  const fin = chunks.find((c) => c.choices[0]?.finish_reason);
  assert.equal(fin.choices[0].finish_reason, 'stop');
  assert.ok(fin.x_groq.usage.total_tokens > 0);
  assert.match(chunks[0].x_groq.id, /^req_/);
  assert.ok(!chunks.some((c) => c.choices.length === 0), 'no usage chunk unless asked');
});

test('groq SDK: mock-xgroq-only reports usage only in x_groq, even with include_usage', async () => {
  const chunks = [];
  for await (const c of await oaiGroq.chat.completions.create({ model: 'mock-xgroq-only', stream: true, stream_options: { include_usage: true }, messages: user('x') })) chunks.push(c);
  assert.ok(chunks.every((c) => c.choices.length === 1));
  assert.ok(chunks.at(-1).x_groq.usage.total_tokens > 0);
});

test('groq: include_usage adds an OpenAI-style usage chunk (openai SDK)', async () => {
  const chunks = [];
  for await (const c of await oaiGroq.chat.completions.create({ model: 'llama-3.1-8b-instant', stream: true, stream_options: { include_usage: true }, messages: user('u') })) chunks.push(c);
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage.total_tokens > 0);
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'echo: u');
});

test('groq: tool calls (stream helper reassembles them)', async () => {
  const runner = oaiGroq.chat.completions.stream({ model: 'mock-tools', messages: user('w?'), tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }] });
  const final = await runner.finalChatCompletion();
  const tc = final.choices[0].message.tool_calls[0];
  assert.equal(tc.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(tc.function.arguments), { city: 'Paris', query: 'w?' });
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
});

test('groq: rejected params and messages[].name are 400s in Groq\'s words', async () => {
  for (const [params, re] of [
    [{ logprobs: true }, /logprobs/], [{ logit_bias: { 1: 1 } }, /logit_bias/], [{ top_logprobs: 2 }, /top_logprobs/],
    [{ n: 2 }, /'n' : number must be at most 1/], [{ store_me: true }, /property 'store_me' is unsupported/],
  ]) {
    await assert.rejects(groq.chat.completions.create({ model: 'llama-3.1-8b-instant', messages: user('x'), ...params }), (e) => {
      assert.equal(e.status, 400, JSON.stringify(params));
      assert.equal(e.error.error.type, 'invalid_request_error');
      assert.match(e.error.error.message, re);
      return true;
    });
  }
  await assert.rejects(groq.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x', name: 'bob' }] }),
    (e) => e.status === 400 && /messages\.0\.name' : property 'name' is unsupported/.test(e.error.error.message));
});

test('groq: error statuses the SDK surfaces (401, 404, 429 with retry-after, 498, 503)', async () => {
  await assert.rejects(groq.chat.completions.create({ model: 'mock-err-401', messages: user('x') }), (e) => e instanceof Groq.AuthenticationError && e.error.error.code === 'invalid_api_key');
  await assert.rejects(groq.chat.completions.create({ model: 'mock-err-404', messages: user('x') }), (e) => e instanceof Groq.NotFoundError);
  await assert.rejects(groq.chat.completions.create({ model: 'mock-err-429', messages: user('x') }), (e) => {
    assert.ok(e instanceof Groq.RateLimitError);
    assert.equal(e.headers['retry-after'] ?? e.headers.get?.('retry-after'), '2');
    assert.equal(e.error.error.code, 'rate_limit_exceeded');
    return true;
  });
  await assert.rejects(groq.chat.completions.create({ model: 'mock-err-498', messages: user('x') }), (e) => e.status === 498 && e.error.error.code === 'capacity_exceeded');
  await assert.rejects(oaiGroq.chat.completions.create({ model: 'mock-err-503', messages: user('x') }), (e) => e.status === 503);
  await assert.rejects(oaiGroq.embeddings.create({ model: 'x', input: 'x' }), (e) => e.status === 404 && e.error.code === 'unknown_url');
});

test('groq: a mid-stream error event makes the openai SDK throw', async () => {
  const got = [];
  await assert.rejects((async () => {
    for await (const c of await oaiGroq.chat.completions.create({ model: 'mock-stream-error', stream: true, messages: user('abcdef') })) got.push(c.choices[0]?.delta?.content ?? '');
  })(), /middle of the stream/);
  assert.equal(got.join(''), 'echo: ');
});
