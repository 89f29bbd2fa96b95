// The official `openai` SDK pointed at the GATEWAY in front of the Ollama
// mock (ollama/ and ollama_chat/ models).  Run by t/12-ollama.t (TEST 32),
// which starts both and sets:
//   GATEWAY_URL  http://127.0.0.1:PORT/v1
//   MOCK_URL     the mock behind the gateway (/__requests shows what the
//                gateway sent upstream)
// Model names are the ones that block configures:
//   ollama-mock (ollama/mock-ok), ollama-chat-split (ollama_chat/mock-ok-split),
//   ollama-tools (ollama_chat/mock-tools-split), ollama-404 (ollama/mock-err-404),
//   ollama-embed (ollama/nomic-embed-text)
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { control } from './mock-helpers.mjs';

const GATEWAY_URL = process.env.GATEWAY_URL;
const MOCK_URL = process.env.MOCK_URL;
let client;

before(() => {
  // never skip: without a gateway this file fails
  assert.ok(GATEWAY_URL, 'GATEWAY_URL is not set (run t/12-ollama.t)');
  assert.ok(MOCK_URL, 'MOCK_URL is not set (run t/12-ollama.t)');
  client = new OpenAI({ baseURL: GATEWAY_URL, apiKey: 'sk-anything-client-side', maxRetries: 0, timeout: 20000 });
});

const user = (content) => [{ role: 'user', content }];
const lastUpstream = async () => (await control(MOCK_URL, 'GET', '/__requests')).at(-1);

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

test('chat (ollama/): OpenAI answer from /api/chat', async () => {
  const r = await client.chat.completions.create({ model: 'ollama-mock', messages: user('héllo 你好'), max_tokens: 50, temperature: 0 });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'ollama-mock');
  assert.equal(r.choices[0].message.content, 'echo: héllo 你好');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  assert.ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
  const rec = await lastUpstream();
  assert.equal(rec.path, '/api/chat');
  assert.equal(rec.json.stream, false);
  assert.deepEqual(rec.json.options, { num_predict: 50, temperature: 0 });
  assert.equal(rec.headers.authorization, undefined);
});

test('stream (ollama_chat/, NDJSON split upstream): SSE reassembled, include_usage honoured', async () => {
  const input = 'ça va? 你好 🌍';
  const chunks = await collect(await client.chat.completions.create({
    model: 'ollama-chat-split', stream: true, stream_options: { include_usage: true }, messages: user(input),
  }));
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'echo: ' + input);
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const fin = chunks.filter((c) => c.choices[0]?.finish_reason);
  assert.equal(fin.length, 1);
  assert.equal(fin[0].choices[0].finish_reason, 'stop');
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage.total_tokens > 0);
  assert.ok(chunks.every((c) => c.id === chunks[0].id && c.model === 'ollama-chat-split'));
  const rec = await lastUpstream();
  assert.equal(rec.path, '/api/chat');
  assert.equal(rec.json.stream, true);
});

test('streamed tool call: id minted by the gateway, arguments a JSON string', async () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const chunks = await collect(await client.chat.completions.create({ model: 'ollama-tools', stream: true, messages: user('weather?'), tools }));
  const deltas = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
  assert.ok(deltas.length >= 1);
  assert.ok(deltas.every((d) => d.index === 0));
  const id = deltas.find((d) => d.id)?.id;
  assert.match(id, /^call_[A-Za-z0-9]+$/);
  assert.equal(typeof deltas[0].function.arguments, 'string');
  assert.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'tool_calls');

  // the SDK's stream helper builds the same final message
  const final = await client.chat.completions.stream({ model: 'ollama-tools', messages: user('weather?'), tools }).finalChatCompletion();
  const tc = final.choices[0].message.tool_calls[0];
  assert.match(tc.id, /^call_/);
  assert.notEqual(tc.id, id, 'a fresh id per response');
  assert.equal(tc.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(tc.function.arguments), { city: 'Paris', query: 'weather?' });

  // next turn: the tool result goes to Ollama named by function
  const r = await client.chat.completions.create({
    model: 'ollama-mock',
    messages: [...user('weather?'), final.choices[0].message, { role: 'tool', tool_call_id: tc.id, content: '22C' }, ...user('thanks')],
  });
  assert.equal(r.choices[0].message.content, 'echo: thanks');
  const rec = await lastUpstream();
  assert.deepEqual(rec.json.messages[1].tool_calls[0].function.arguments, { city: 'Paris', query: 'weather?' });
  assert.equal(rec.json.messages[2].tool_name, 'get_weather');
});

test('embeddings: float and base64 (the SDK default) decode to the same float32 vectors', async () => {
  const f = await client.embeddings.create({ model: 'ollama-embed', input: ['héllo', 'world'], encoding_format: 'float' });
  assert.equal(f.object, 'list');
  assert.equal(f.model, 'ollama-embed');
  assert.equal(f.data.length, 2);
  assert.deepEqual(f.data.map((d) => d.index), [0, 1]);
  assert.ok(f.data.every((d) => d.object === 'embedding' && d.embedding.length === 8));
  assert.ok(f.usage.prompt_tokens > 0);
  assert.equal(f.usage.total_tokens, f.usage.prompt_tokens);
  let rec = await lastUpstream();
  assert.equal(rec.path, '/api/embed');

  // without encoding_format the openai SDK asks for base64 and decodes it
  const b = await client.embeddings.create({ model: 'ollama-embed', input: ['héllo', 'world'] });
  rec = await lastUpstream();
  assert.equal(rec.path, '/api/embed');
  assert.equal(rec.json.encoding_format, undefined, 'Ollama has no encoding_format: the gateway encodes');
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(b.data[i].embedding, f.data[i].embedding.map(Math.fround));
  }

  const one = await client.embeddings.create({ model: 'ollama-embed', input: 'héllo', dimensions: 3, encoding_format: 'float' });
  assert.equal(one.data.length, 1);
  assert.equal(one.data[0].embedding.length, 3);
  rec = await lastUpstream();
  assert.equal(rec.json.dimensions, 3);
  assert.equal(rec.json.input, 'héllo');
});

test('Ollama 404 -> NotFoundError with model_not_found', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'ollama-404', messages: user('x') }), (e) => {
    assert.ok(e instanceof OpenAI.NotFoundError, e.constructor.name);
    assert.equal(e.code, 'model_not_found');
    assert.match(e.message, /not found/);
    return true;
  });
});
