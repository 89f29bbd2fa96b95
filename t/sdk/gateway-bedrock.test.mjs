// The official `openai` SDK pointed at the GATEWAY in front of the Bedrock
// mock (bedrock/ models).  Run by t/21-bedrock.t, which starts both and
// sets:
//   GATEWAY_URL  e.g. http://127.0.0.1:PORT/v1
//   MOCK_URL     the Bedrock mock behind the gateway; its /__requests shows
//                what the gateway sent, including the mock's verdict on the
//                SigV4 signature (rec.sigv4.ok)
// The model names used below are the ones t/21-bedrock.t configures.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { control } from './mock-helpers.mjs';

const GATEWAY_URL = process.env.GATEWAY_URL;
const MOCK_URL = process.env.MOCK_URL;
let client;

before(() => {
  // never skip: without a gateway this file fails
  assert.ok(GATEWAY_URL, 'GATEWAY_URL is not set (run t/21-bedrock.t)');
  assert.ok(MOCK_URL, 'MOCK_URL is not set (run t/21-bedrock.t)');
  client = new OpenAI({ baseURL: GATEWAY_URL, apiKey: 'sk-anything-client-side', maxRetries: 0, timeout: 20000 });
});

const user = (content) => [{ role: 'user', content }];
const lastUpstream = async () => (await control(MOCK_URL, 'GET', '/__requests')).at(-1);

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

test('chat: Converse through the gateway, signed with SigV4', async () => {
  const r = await client.chat.completions.create({
    model: 'br-sdk', max_tokens: 50, messages: [{ role: 'system', content: 'be brief' }, ...user('héllo 你好')],
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'br-sdk');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, 'echo: héllo 你好');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  const rec = await lastUpstream();
  assert.equal(rec.path, '/model/anthropic.mock-ok-split-v1%3A0/converse');
  assert.equal(rec.sigv4.ok, true);
  assert.deepEqual(rec.json.system, [{ text: 'be brief' }]);
  assert.equal(rec.json.inferenceConfig.maxTokens, 50);
});

test('stream: ConverseStream frames split at awkward bytes -> OpenAI chunks with usage', async () => {
  const input = 'héllo 你好 🌍 ça va — ñ';
  const chunks = await collect(await client.chat.completions.create({
    model: 'br-sdk', stream: true, stream_options: { include_usage: true }, messages: user(input),
  }));
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.equal(text, 'echo: ' + input);
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id));
  const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
  assert.equal(finish.length, 1);
  assert.equal(finish[0].choices[0].finish_reason, 'stop');
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage.prompt_tokens > 0 && last.usage.completion_tokens > 0);
  const rec = await lastUpstream();
  assert.equal(rec.route, 'converse-stream');
  assert.equal(rec.sigv4.ok, true);
});

test('a streamed tool call reassembles with the SDK stream helper', async () => {
  const runner = client.chat.completions.stream({
    model: 'br-sdk-tools',
    messages: user('weather in Paris?'),
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
  });
  const deltas = [];
  runner.on('chunk', (c) => deltas.push(c));
  const final = await runner.finalChatCompletion();
  const msg = final.choices[0].message;
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.equal(msg.tool_calls.length, 1);
  assert.match(msg.tool_calls[0].id, /^tooluse_mock\d+x0$/);
  assert.equal(msg.tool_calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(msg.tool_calls[0].function.arguments), { city: 'Paris', query: 'weather in Paris?' });
  // the arguments came in several fragments
  assert.ok(deltas.filter((c) => c.choices[0]?.delta?.tool_calls).length > 2);

  // the tool result goes back as a Converse toolResult turn
  const r = await client.chat.completions.create({
    model: 'br-sdk',
    messages: [...user('weather in Paris?'), msg, { role: 'tool', tool_call_id: msg.tool_calls[0].id, content: '18C' }, ...user('thanks')],
  });
  assert.equal(r.choices[0].message.content, 'echo: thanks');
  const rec = await lastUpstream();
  assert.deepEqual(rec.json.messages[2].content[0].toolResult, { toolUseId: msg.tool_calls[0].id, content: [{ text: '18C' }] });
  assert.equal(rec.json.toolConfig.tools[0].toolSpec.name, 'get_weather');
});

test('ThrottlingException -> RateLimitError (429)', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'br-sdk-throttle', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.RateLimitError, e.constructor.name);
    assert.equal(e.status, 429);
    assert.equal(e.code, 'rate_limit_exceeded');
    assert.match(e.message, /bedrock: Too many requests/);
    return true;
  });
});

test('a throttlingException frame mid-stream surfaces as an APIError from the iterator', async () => {
  const stream = await client.chat.completions.create({ model: 'br-sdk-stream-throttle', stream: true, messages: user('abcdefghi') });
  const seen = [];
  await assert.rejects((async () => {
    for await (const c of stream) seen.push(c);
  })(), (e) => {
    assert.ok(e instanceof OpenAI.APIError, e.constructor.name);
    assert.match(e.message, /Too many requests/);
    return true;
  });
  assert.ok(seen.some((c) => c.choices[0]?.delta?.content));
});

test('embeddings through Titan with the SDK default (base64) and float', async () => {
  const r = await client.embeddings.create({ model: 'br-sdk-titan', input: 'hello world', dimensions: 256 });
  assert.equal(r.data.length, 1);
  assert.equal(r.data[0].embedding.length, 256);
  assert.ok(r.data[0].embedding.every((x) => Number.isFinite(x) && Math.abs(x) <= 1));
  const f = await client.embeddings.create({ model: 'br-sdk-titan', input: 'hello world', dimensions: 256, encoding_format: 'float' });
  assert.deepEqual(f.data[0].embedding, r.data[0].embedding);
  assert.equal(f.usage.prompt_tokens, 2);
  const rec = await lastUpstream();
  assert.equal(rec.path, '/model/amazon.titan-embed-text-v2%3A0/invoke');
  assert.deepEqual(rec.json, { inputText: 'hello world', dimensions: 256 });
});
