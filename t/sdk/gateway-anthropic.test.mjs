// The official `openai` SDK pointed at the GATEWAY, whose models route to
// anthropic/ on the Anthropic mock (t/mock/providers/anthropic.js).  Run by
// t/10-anthropic.t, which starts both and sets:
//   GATEWAY_URL     e.g. http://127.0.0.1:PORT/v1
//   MOCK_URL        the mock behind the gateway (its /__requests shows what
//                   the gateway sent upstream)
// The model names below are the ones t/10-anthropic.t configures:
//   claude-sdk          anthropic/mock-ok
//   claude-sdk-split    anthropic/mock-ok-split
//   claude-sdk-tools    anthropic/mock-tools-split
//   claude-sdk-tools2   anthropic/mock-tools2
//   claude-sdk-429      anthropic/mock-err-429
//   claude-sdk-529      anthropic/mock-err-529
//   claude-sdk-error    anthropic/mock-stream-error
// all with api_key sk-ant-sdk-upstream-10.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import OpenAI from 'openai';
import { control } from './mock-helpers.mjs';

const require = createRequire(import.meta.url);
const anthropicMock = require('../mock/providers/anthropic.js');

const GATEWAY_URL = process.env.GATEWAY_URL;
const MOCK_URL = process.env.MOCK_URL;
const UPSTREAM_KEY = 'sk-ant-sdk-upstream-10';
let client;

before(() => {
  // never skip: without a gateway (and the mock behind it) this file fails
  assert.ok(GATEWAY_URL, 'GATEWAY_URL is not set (run t/10-anthropic.t)');
  assert.ok(MOCK_URL, 'MOCK_URL is not set (run t/10-anthropic.t)');
  client = new OpenAI({ baseURL: GATEWAY_URL, apiKey: 'sk-client-side-anthropic-sdk', maxRetries: 0, timeout: 20000 });
});

const user = (content) => [{ role: 'user', content }];
const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather', description: 'Current weather',
    parameters: { type: 'object', properties: { city: { type: 'string' }, query: { type: 'string' } }, required: ['city'] },
  },
};

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}
const lastUpstream = async () => (await control(MOCK_URL, 'GET', '/__requests')).at(-1);

// the usage the mock reported for the request it received
function expectedPrompt(rec) {
  return anthropicMock.inputTokens(rec.json) + anthropicMock.CACHE_WRITE + anthropicMock.CACHE_READ;
}

test('non-streaming chat: Messages API upstream, OpenAI answer, usage incl. cache reads', async () => {
  const r = await client.chat.completions.create({
    model: 'claude-sdk',
    messages: [{ role: 'system', content: 'be brief' }, ...user('héllo 你好')],
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'claude-sdk');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, 'echo: héllo 你好');
  assert.equal(r.choices[0].finish_reason, 'stop');
  const rec = await lastUpstream();
  assert.equal(rec.provider, 'anthropic');
  assert.equal(rec.path, '/v1/messages');
  assert.equal(rec.headers['x-api-key'], UPSTREAM_KEY);
  assert.equal(rec.headers.authorization, undefined, 'the client Authorization is not forwarded');
  assert.equal(rec.headers['anthropic-version'], '2023-06-01');
  assert.equal(rec.json.model, 'mock-ok');
  assert.equal(rec.json.system, 'be brief');
  assert.equal(typeof rec.json.max_tokens, 'number');
  assert.equal(r.usage.prompt_tokens, expectedPrompt(rec));
  assert.equal(r.usage.prompt_tokens_details.cached_tokens, 300);
  assert.equal(r.usage.completion_tokens, 4); // echo : héllo 你好
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

test('streamed chat (split upstream, multi-byte, include_usage): text, one usage chunk with cached_tokens', async () => {
  const input = 'ça va? 你好 🌍 — ñ';
  const chunks = await collect(await client.chat.completions.create({
    model: 'claude-sdk-split', stream: true, stream_options: { include_usage: true }, messages: user(input),
  }));
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id));
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.equal(text, 'echo: ' + input);
  const finishes = chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter(Boolean);
  assert.deepEqual(finishes, ['stop']);
  const usage = chunks.filter((c) => c.usage);
  assert.equal(usage.length, 1, 'exactly one chunk carries usage');
  const last = chunks.at(-1);
  assert.equal(last, usage[0], 'the usage chunk is the last one');
  assert.deepEqual(last.choices, []);
  const rec = await lastUpstream();
  assert.equal(rec.json.stream, true);
  assert.equal(last.usage.prompt_tokens, expectedPrompt(rec), 'prompt_tokens = input + cache write + cache read');
  assert.equal(last.usage.prompt_tokens_details?.cached_tokens, 300);
  assert.equal(last.usage.completion_tokens, 9); // echo : ça va ? 你好 🌍 — ñ
  assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens);
});

test('streamed chat without include_usage: no usage anywhere', async () => {
  const chunks = await collect(await client.chat.completions.create({ model: 'claude-sdk', stream: true, messages: user('plain') }));
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'echo: plain');
  assert.ok(chunks.every((c) => c.choices.length === 1 && !c.usage));
});

test('STREAMED TOOL CALL: the stream helper reassembles id, name and arguments; index 0 although the block index is 1', async () => {
  const runner = client.chat.completions.stream({
    model: 'claude-sdk-tools', messages: user('où "est" \\ Paris?'), tools: [WEATHER],
  });
  const raw = [];
  runner.on('chunk', (c) => raw.push(c));
  const final = await runner.finalChatCompletion();
  const choice = final.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, 'Let me check.');
  assert.equal(choice.message.tool_calls.length, 1);
  const call = choice.message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.match(call.id, /^toolu_mock\d+x0$/);
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris', query: 'où "est" \\ Paris?' });
  const deltas = raw.flatMap((c) => c.choices.flatMap((x) => x.delta?.tool_calls ?? []));
  assert.ok(deltas.length > 3, `arguments arrived in fragments (${deltas.length} deltas)`);
  assert.ok(deltas.every((d) => d.index === 0), 'every tool_calls delta has index 0');
  assert.equal(deltas.filter((d) => d.id).length, 1, 'the id comes once, in the first delta');
  assert.ok(deltas.slice(1).every((d) => d.function && typeof d.function.arguments === 'string' && d.function.arguments.length > 0),
    'argument deltas are non-empty fragments');
  const rec = await lastUpstream();
  assert.deepEqual(rec.json.tools, [{ name: 'get_weather', description: 'Current weather', input_schema: WEATHER.function.parameters }]);
});

test('two streamed tool calls get indexes 0 and 1', async () => {
  const final = await client.chat.completions.stream({
    model: 'claude-sdk-tools2', messages: user('x'),
    tools: [WEATHER, { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } }],
  }).finalChatCompletion();
  const calls = final.choices[0].message.tool_calls;
  assert.deepEqual(calls.map((c) => c.function.name), ['get_weather', 'get_time']);
  assert.deepEqual(calls.map((c) => JSON.parse(c.function.arguments).city), ['Paris', 'Tokyo']);
  assert.notEqual(calls[0].id, calls[1].id);
});

test('non-stream tool call: arguments is a JSON string', async () => {
  const r = await client.chat.completions.create({ model: 'claude-sdk-tools', messages: user('weather?'), tools: [WEATHER], tool_choice: 'required' });
  const call = r.choices[0].message.tool_calls[0];
  assert.equal(typeof call.function.arguments, 'string');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris', query: 'weather?' });
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.deepEqual((await lastUpstream()).json.tool_choice, { type: 'any' });
});

test('a tool round trip (assistant tool_calls + tool result) is accepted upstream', async () => {
  const r = await client.chat.completions.create({
    model: 'claude-sdk', tools: [WEATHER],
    messages: [
      ...user('weather?'),
      { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_01A', content: '18C, sunny' },
    ],
  });
  assert.equal(r.choices[0].message.content, 'echo: 18C, sunny');
  const rec = await lastUpstream();
  assert.deepEqual(rec.json.messages.at(-1), { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A', content: '18C, sunny' }] });
});

test('upstream 429 -> RateLimitError with retry-after', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'claude-sdk-429', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.RateLimitError, `${e.constructor.name} is not RateLimitError`);
    assert.equal(e.status, 429);
    assert.equal(e.code, 'rate_limit_exceeded');
    assert.equal(e.headers.get('retry-after'), '7');
    return true;
  });
});

test('upstream 529 overloaded -> 503 InternalServerError, code overloaded', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'claude-sdk-529', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.InternalServerError, `${e.constructor.name} is not InternalServerError`);
    assert.equal(e.status, 503);
    assert.equal(e.code, 'overloaded');
    return true;
  });
});

test('mid-stream "event: error" upstream -> the SDK stream raises', async () => {
  const stream = await client.chat.completions.create({ model: 'claude-sdk-error', stream: true, messages: user('x') });
  let text = '';
  await assert.rejects((async () => {
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
  })(), (e) => {
    assert.ok(e instanceof OpenAI.APIError, `${e.constructor.name}: ${e.message}`);
    assert.match(e.message, /Overloaded|overloaded/);
    return true;
  });
  assert.equal(text, 'echo: ');
});

test('seed without drop_params -> BadRequestError naming it', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'claude-sdk', seed: 7, messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError, `${e.constructor.name}`);
    assert.equal(e.param, 'seed');
    assert.match(e.message, /seed/);
    return true;
  });
});
