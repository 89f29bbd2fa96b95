// The official `openai` SDK pointed at the GATEWAY in front of the Vertex
// AI mock: Gemini chat, streams, a streamed tool call and a tool round
// trip; Claude on Vertex chat and a streamed tool call; embeddings;
// errors.  Run by t/22-vertex.t, which starts the mock and nginx and sets
//   GATEWAY_URL  e.g. http://127.0.0.1:PORT/v1
//   MOCK_URL     the mock behind the gateway (/__requests shows what the
//                gateway sent, and its token requests)
// The model names are the ones t/22-vertex.t configures (all with the same
// service-account credentials):
//   vx-gemini        vertex_ai/gemini-2.5-flash
//   vx-gemini-split  vertex_ai/mock-ok-split
//   vx-tools         vertex_ai/mock-tools-split
//   vx-429           vertex_ai/mock-err-429
//   vx-claude        vertex_ai/claude-3-7-sonnet@20250219
//   vx-claude-tools  vertex_ai/claude-mock-tools-split@20250219
//   vx-embed         vertex_ai/text-embedding-005 (mode: embedding)
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { control } from './mock-helpers.mjs';

const GATEWAY_URL = process.env.GATEWAY_URL;
const MOCK_URL = process.env.MOCK_URL;
let client;

before(() => {
  // never skip: without a gateway this file fails
  assert.ok(GATEWAY_URL, 'GATEWAY_URL is not set (run t/22-vertex.t)');
  assert.ok(MOCK_URL, 'MOCK_URL is not set (run t/22-vertex.t)');
  client = new OpenAI({ baseURL: GATEWAY_URL, apiKey: 'sk-anything-client-side-vertex', maxRetries: 0, timeout: 20000 });
});

const user = (content) => [{ role: 'user', content }];
const requests = async () => control(MOCK_URL, 'GET', '/__requests');
const last = async (route) => (await requests()).filter((r) => r.route === route).at(-1);

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

const weather = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  },
}];

test('Gemini: chat', async () => {
  const r = await client.chat.completions.create({ model: 'vx-gemini', messages: [{ role: 'system', content: 'Be brief.' }, ...user('héllo 你好')] });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'vx-gemini');
  assert.equal(r.choices[0].message.content, 'echo: héllo 你好');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);

  const sent = await last('gemini');
  assert.match(sent.path, /\/publishers\/google\/models\/gemini-2\.5-flash:generateContent$/);
  assert.match(sent.headers.authorization, /^Bearer ya29\.mock/);
  assert.deepEqual(sent.json.systemInstruction, { parts: [{ text: 'Be brief.' }] });
});

test('Gemini: stream (split upstream, multi-byte text, include_usage)', async () => {
  const chunks = await collect(await client.chat.completions.create({
    model: 'vx-gemini-split', stream: true, stream_options: { include_usage: true }, messages: user('ça va? 你好 🌍'),
  }));
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'echo: ça va? 你好 🌍');
  assert.equal(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason).join(), 'stop');
  const lastChunk = chunks.at(-1);
  assert.deepEqual(lastChunk.choices, []);
  assert.ok(lastChunk.usage.completion_tokens > 0);
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
  const sent = await last('gemini');
  assert.match(sent.url, /:streamGenerateContent\?alt=sse$/);
});

test('Gemini: streamed tool call, reassembled by the SDK', async () => {
  const runner = client.chat.completions.stream({ model: 'vx-tools', messages: user('weather?'), tools: weather });
  const final = await runner.finalChatCompletion();
  const tc = final.choices[0].message.tool_calls;
  assert.equal(tc.length, 1);
  assert.equal(tc[0].type, 'function');
  assert.equal(tc[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(tc[0].function.arguments), { city: 'Paris', query: 'weather?' });
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.ok(tc[0].id.length > 0);
});

test('Gemini: a tool round trip (name by tool_call_id, thoughtSignature back)', async () => {
  const r = await client.chat.completions.create({ model: 'vx-tools', messages: user('weather?'), tools: weather });
  const msg = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  const issued = (await last('gemini')).seq;

  const r2 = await client.chat.completions.create({
    model: 'vx-gemini',
    tools: weather,
    messages: [...user('weather?'), msg, { role: 'tool', tool_call_id: msg.tool_calls[0].id, content: '{"temp":18}' }],
  });
  assert.equal(r2.choices[0].finish_reason, 'stop');

  const sent = await last('gemini');
  const model = sent.json.contents[1];
  assert.equal(model.role, 'model');
  const call = model.parts.find((p) => p.functionCall);
  assert.equal(call.functionCall.name, 'get_weather');
  assert.deepEqual(call.functionCall.args, { city: 'Paris', query: 'weather?' });
  // the mock's signature for its request #issued, call 0
  assert.equal(Buffer.from(call.thoughtSignature, 'base64').toString(), `mock-thought-signature/${issued}/0`);
  assert.deepEqual(sent.json.contents[2], { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 18 } } }] });
});

test('Gemini: RESOURCE_EXHAUSTED -> 429 RateLimitError', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'vx-429', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.RateLimitError, `got ${e.constructor.name}: ${e.message}`);
    assert.equal(e.status, 429);
    assert.equal(e.error?.code ?? e.code, 'rate_limit_exceeded');
    return true;
  });
});

test('Claude on Vertex: chat', async () => {
  const r = await client.chat.completions.create({ model: 'vx-claude', messages: user('Hi'), max_tokens: 64 });
  assert.equal(r.choices[0].message.content, 'echo: Hi');
  assert.equal(r.choices[0].finish_reason, 'stop');
  const sent = await last('claude');
  assert.match(sent.path, /\/publishers\/anthropic\/models\/claude-3-7-sonnet@20250219:rawPredict$/);
  assert.equal(sent.json.anthropic_version, 'vertex-2023-10-16');
  assert.equal(sent.json.model, undefined);
  assert.match(sent.headers.authorization, /^Bearer ya29\.mock/);
});

test('Claude on Vertex: streamed tool call', async () => {
  const chunks = await collect(await client.chat.completions.create({
    model: 'vx-claude-tools', stream: true, messages: user('weather?'), tools: weather,
  }));
  const starts = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).filter((t) => t.id);
  assert.equal(starts.length, 1);
  assert.equal(starts[0].index, 0);
  assert.equal(starts[0].function.name, 'get_weather');
  const args = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).map((t) => t.function?.arguments ?? '').join('');
  assert.deepEqual(JSON.parse(args), { city: 'Paris', query: 'weather?' });
  assert.equal(chunks.filter((c) => c.choices[0]?.finish_reason).at(-1).choices[0].finish_reason, 'tool_calls');
  const sent = await last('claude');
  assert.match(sent.path, /:streamRawPredict$/);
  assert.equal(sent.json.stream, true);
});

test('embeddings through :predict', async () => {
  const r = await client.embeddings.create({ model: 'vx-embed', input: ['one', 'two'], dimensions: 4 });
  assert.equal(r.object, 'list');
  assert.equal(r.data.length, 2);
  assert.equal(r.data[1].index, 1);
  assert.equal(r.data[0].embedding.length, 4);
  assert.ok(r.usage.prompt_tokens >= 2);
  const sent = await last('predict');
  assert.deepEqual(sent.json, { instances: [{ content: 'one' }, { content: 'two' }], parameters: { outputDimensionality: 4 } });
});

test('tokens are cached: every deployment\'s calls carry one token, fetched once', async () => {
  const all = await requests();
  const tokens = all.filter((r) => r.route === 'token');
  const calls = all.filter((r) => ['gemini', 'claude', 'predict'].includes(r.route));
  assert.ok(calls.length >= 9, `model requests: ${calls.length}`);
  const byModel = new Map();
  for (const r of calls) {
    const m = /\/models\/([^:]+):/.exec(r.path)[1];
    if (!byModel.has(m)) byModel.set(m, new Set());
    byModel.get(m).add(r.headers.authorization);
  }
  for (const [m, auth] of byModel) assert.equal(auth.size, 1, `model ${m} used ${auth.size} tokens`);
  // one token per service account would do; one per deployment is the most
  assert.ok(tokens.length >= 1 && tokens.length <= byModel.size, `token requests: ${tokens.length} for ${byModel.size} deployments`);
});
