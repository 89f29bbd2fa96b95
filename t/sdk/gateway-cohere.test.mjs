// The official `openai` SDK pointed at the GATEWAY, with models routed to
// Cohere v2 (the Cohere mock, t/mock/providers/cohere.js).  Run by
// t/11-cohere.t, which starts both and sets:
//   GATEWAY_URL   e.g. http://127.0.0.1:PORT/v1
//   MOCK_URL      the mock behind the gateway (its /__requests shows what
//                 the gateway sent upstream)
// Model names (configured by t/11-cohere.t):
//   co-sdk        cohere/mock-ok
//   co-sdk-chat   cohere_chat/mock-ok-split
//   co-sdk-tools  cohere/mock-tools-split
//   co-sdk-429    cohere/mock-err-429
//   co-sdk-embed  cohere/embed-v4.0
//
// Every request the gateway sent upstream is also checked against the
// cohere-ai SDK's own request schema with unknown keys refused: an OpenAI
// field leaking through (top_p, stop, stream_options, ...) fails here even
// if the mock were lenient.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import OpenAI from 'openai';
import { control } from './mock-helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const schemas = createRequire(import.meta.url)(path.join(here, 'node_modules', 'cohere-ai', 'serialization', 'index.js'));

const GATEWAY_URL = process.env.GATEWAY_URL;
const MOCK_URL = process.env.MOCK_URL;
const CLIENT_KEY = 'sk-anything-client-side';
const UPSTREAM_KEY = 'co-sdk-upstream-key-11';
let client;

before(() => {
  // never skip: without a gateway and its mock this file fails
  assert.ok(GATEWAY_URL, 'GATEWAY_URL is not set (run t/11-cohere.t)');
  assert.ok(MOCK_URL, 'MOCK_URL is not set (run t/11-cohere.t)');
  client = new OpenAI({ baseURL: GATEWAY_URL, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 20000 });
});

const user = (content) => [{ role: 'user', content }];

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}
const textOf = (chunks) => chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');

async function clearMock() {
  await control(MOCK_URL, 'DELETE', '/__requests');
}

// the one request the gateway sent upstream since clearMock()
async function upstream() {
  const reqs = await control(MOCK_URL, 'GET', '/__requests');
  assert.equal(reqs.length, 1, `one upstream request, got ${reqs.length}`);
  const rec = reqs[0];
  assert.equal(rec.provider, 'cohere');
  assert.equal(rec.headers.authorization, `Bearer ${UPSTREAM_KEY}`, 'the configured key, never the client\'s');
  return rec;
}

function strictRequest(rec) {
  const isEmbed = rec.path.endsWith('/v2/embed');
  const body = Object.assign({}, rec.json);
  let schema = schemas.V2EmbedRequest;
  if (!isEmbed) {
    // the SDK adds "stream" outside its schema; only true or absent is sent
    if ('stream' in body) {
      assert.equal(body.stream, true, 'stream is true when present');
      delete body.stream;
      schema = schemas.V2ChatStreamRequest;
    } else {
      schema = schemas.V2ChatRequest;
    }
  }
  const r = schema.parse(body, { unrecognizedObjectKeys: 'fail', skipValidation: false });
  assert.ok(r.ok, `upstream ${rec.path} body does not match the cohere-ai request schema: ${JSON.stringify(r.errors)}\n${rec.body}`);
}

test('non-streaming chat: content, finish_reason, usage from usage.tokens; request mapped', async () => {
  await clearMock();
  const r = await client.chat.completions.create({
    model: 'co-sdk',
    messages: [{ role: 'system', content: 'be brief' }, ...user('héllo 你好')],
    top_p: 0.5, stop: ['###'], max_completion_tokens: 50, temperature: 0.2, user: 'u-1', n: 1,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'co-sdk');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, 'echo: héllo 你好');
  assert.equal(r.choices[0].finish_reason, 'stop');
  // mock: billed input 2+2 tokens, + 480 preamble; output echo : héllo 你好 = 4, + 2
  assert.deepEqual([r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens], [484, 6, 490]);

  const rec = await upstream();
  assert.equal(rec.path, '/v2/chat');
  strictRequest(rec);
  assert.equal(rec.json.model, 'mock-ok');
  assert.equal(rec.json.p, 0.5);
  assert.deepEqual(rec.json.stop_sequences, ['###']);
  assert.equal(rec.json.max_tokens, 50);
  assert.equal(rec.json.temperature, 0.2);
  assert.deepEqual(rec.json.messages, [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'héllo 你好' }]);
});

test('streaming chat (cohere_chat/, split upstream, multi-byte, include_usage)', async () => {
  await clearMock();
  const chunks = await collect(await client.chat.completions.create({
    model: 'co-sdk-chat', stream: true, stream_options: { include_usage: true },
    messages: user('ça va? 你好 🌍'),
  }));
  assert.equal(textOf(chunks), 'echo: ça va? 你好 🌍');
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id && c.model === 'co-sdk-chat'));
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const withChoices = chunks.filter((c) => c.choices.length);
  assert.equal(withChoices.at(-1).choices[0].finish_reason, 'stop');
  assert.ok(withChoices.every((c) => c.usage === null), 'usage: null on every choice chunk');
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  // mock: billed input ça,va,?,你好,🌍 = 5 (+480); output echo,: + 5 = 7 (+2)
  assert.deepEqual([last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens], [485, 9, 494]);

  const rec = await upstream();
  strictRequest(rec);
  assert.equal(rec.json.stream, true);
  assert.equal(rec.headers.accept, 'text/event-stream');
});

test('streaming chat without include_usage: no usage anywhere', async () => {
  const chunks = await collect(await client.chat.completions.create({ model: 'co-sdk', stream: true, messages: user('plain') }));
  assert.equal(textOf(chunks), 'echo: plain');
  assert.ok(chunks.every((c) => c.choices.length > 0 && !c.usage));
});

test('streamed tool call reassembled by the openai SDK (id, name, arguments JSON)', async () => {
  await clearMock();
  const q = 'weather in "Paris"? où 🌍';
  const tools = [
    { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true } },
    { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
  ];
  const runner = client.chat.completions.stream({ model: 'co-sdk-tools', messages: user(q), tools, tool_choice: 'required', parallel_tool_calls: false });
  const raw = [];
  runner.on('chunk', (c) => raw.push(c));
  const final = await runner.finalChatCompletion();
  const msg = final.choices[0].message;
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.ok(msg.content === null || msg.content === '', `no content (the tool_plan is not the answer): ${JSON.stringify(msg.content)}`);
  assert.equal(msg.tool_calls.length, 1);
  const tc = msg.tool_calls[0];
  assert.equal(tc.type, 'function');
  assert.match(tc.id, /^get_weather_mock\d+x0$/, 'Cohere\'s tool call id is kept');
  assert.equal(tc.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(tc.function.arguments), { city: 'Paris', query: q });

  // chunk shape: one start chunk with index/id/type/name, then fragments
  const tcChunks = raw.filter((c) => c.choices[0]?.delta?.tool_calls);
  const start = tcChunks[0].choices[0].delta.tool_calls[0];
  assert.equal(start.index, 0);
  assert.equal(start.id, tc.id);
  assert.equal(start.type, 'function');
  assert.equal(start.function.name, 'get_weather');
  assert.ok(tcChunks.length > 5, 'arguments arrive in fragments');
  for (const c of tcChunks.slice(1)) {
    const d = c.choices[0].delta.tool_calls[0];
    assert.equal(d.index, 0);
    assert.equal(d.id, undefined);
    assert.equal(typeof d.function.arguments, 'string');
  }

  const rec = await upstream();
  strictRequest(rec);
  assert.equal(rec.json.tool_choice, 'REQUIRED');
  assert.deepEqual(rec.json.tools.map((t) => t.function.name), ['get_weather', 'get_time']);

  // next turn: the tool call and its result go back to Cohere
  await clearMock();
  const r2 = await client.chat.completions.create({
    model: 'co-sdk',
    messages: [...user(q), msg, { role: 'tool', tool_call_id: tc.id, content: '{"temp":21}' }, ...user('thanks')],
    tools,
  });
  assert.equal(r2.choices[0].message.content, 'echo: thanks');
  const rec2 = await upstream();
  strictRequest(rec2);
  assert.equal(rec2.json.messages[1].role, 'assistant');
  assert.deepEqual(rec2.json.messages[1].tool_calls, [{ id: tc.id, type: 'function', function: { name: 'get_weather', arguments: tc.function.arguments } }]);
  assert.deepEqual(rec2.json.messages[2], { role: 'tool', tool_call_id: tc.id, content: '{"temp":21}' });
});

test('embeddings: float and the SDK default (base64) give the same vectors; usage', async () => {
  await clearMock();
  const f = await client.embeddings.create({ model: 'co-sdk-embed', input: ['a', 'b c'], encoding_format: 'float' });
  assert.equal(f.object, 'list');
  assert.equal(f.data.length, 2);
  assert.deepEqual(f.data.map((d) => [d.object, d.index]), [['embedding', 0], ['embedding', 1]]);
  assert.equal(f.data[0].embedding.length, 8);
  assert.equal(f.usage.prompt_tokens, 3);
  assert.equal(f.usage.total_tokens, 3);
  const rec = await upstream();
  assert.equal(rec.path, '/v2/embed');
  strictRequest(rec);
  assert.deepEqual(rec.json.texts, ['a', 'b c']);
  assert.equal(rec.json.model, 'embed-v4.0');
  assert.equal(rec.json.input_type, 'search_document');

  // the SDK asks for base64 by default and decodes it
  const d = await client.embeddings.create({ model: 'co-sdk-embed', input: ['a', 'b c'] });
  assert.deepEqual(d.data.map((x) => x.embedding), f.data.map((x) => x.embedding));

  const one = await client.embeddings.create({ model: 'co-sdk-embed', input: 'single text', encoding_format: 'float', dimensions: 256 });
  assert.equal(one.data.length, 1);
  assert.equal(one.data[0].embedding.length, 256);
});

test('upstream 429 raises RateLimitError with retry-after', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'co-sdk-429', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.RateLimitError, `${e.constructor.name} is not RateLimitError`);
    assert.equal(e.status, 429);
    assert.equal(e.headers.get('retry-after'), '7');
    assert.match(e.message, /per minute request limit/);
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: 'co-sdk-429', stream: true, messages: user('x') }), OpenAI.RateLimitError);
});
