// The official `cohere-ai` SDK (CohereClientV2) pointed DIRECTLY at the
// Cohere mock (t/mock/providers/cohere.js): if the SDK rejects or misreads
// anything the mock sends, the mock is wrong.
//
//   node --test t/sdk/mock-cohere.test.mjs            (starts its own mock)
//   MOCK_URL=http://127.0.0.1:P node --test ...        (uses a running one)
//
// The SDK itself parses responses with skipValidation, so every answer is
// also checked with the SDK's own schemas (cohere-ai/serialization) with
// validation on and unknown keys refused: a field of the wrong type, an
// unknown finish_reason or event type, a misspelt key fails here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { CohereClientV2, Cohere, CohereError } from 'cohere-ai';
import { useMock, control, lastRequest } from './mock-helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// the package's "exports" hide serialization/; an absolute path does not
const schemas = createRequire(import.meta.url)(path.join(here, 'node_modules', 'cohere-ai', 'serialization', 'index.js'));

const KEY = 'co-sdk-mock-test-key';
let mock;
let client;

before(async () => {
  mock = await useMock();
  client = new CohereClientV2({ token: KEY, environment: mock.url, maxRetries: 0, timeoutInSeconds: 20 });
});
after(async () => { await mock.stop(); });

// strict validation with the SDK's schema; returns the camelCase value
function strict(schema, raw, what, unknownKeys = 'fail') {
  const r = schema.parse(raw, { unrecognizedObjectKeys: unknownKeys, skipValidation: false });
  assert.ok(r.ok, `${what} does not match the SDK schema: ${JSON.stringify(r.errors)}\n${JSON.stringify(raw)}`);
  return r.value;
}

async function post(p, body, headers = {}) {
  const r = await fetch(mock.url + p, {
    method: 'POST',
    headers: Object.assign({ 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, headers),
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

// raw SSE -> [{event, data}], checking Cohere's framing: every event has an
// "event:" line naming the same type as its one "data:" line
function sse(text) {
  const out = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    const lines = block.split('\n');
    assert.equal(lines.length, 2, `event is "event:" + "data:" lines: ${block}`);
    assert.match(lines[0], /^event: [a-z-]+$/);
    assert.match(lines[1], /^data: \{/);
    const event = lines[0].slice('event: '.length);
    const data = JSON.parse(lines[1].slice('data: '.length));
    assert.equal(data.type, event, 'data.type repeats the event name');
    out.push({ event, data });
  }
  assert.ok(text.endsWith('\n\n'), 'the stream ends with a blank line');
  return out;
}

function strictEvents(events) {
  for (const { data } of events) {
    // message-start carries content/tool_plan/tool_calls/citations beside
    // role, as in Cohere's examples; the SDK schema only names role
    strict(schemas.V2ChatStreamResponse, data, `${data.type} event`, data.type === 'message-start' ? 'passthrough' : 'fail');
  }
}

const user = (content) => [{ role: 'user', content }];

async function collect(stream) {
  const out = [];
  for await (const ev of stream) out.push(ev);
  return out;
}
const streamText = (evs) => evs.filter((e) => e.type === 'content-delta').map((e) => e.delta.message.content.text ?? '').join('');

const TOOLS = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
];

// ---- chat ---------------------------------------------------------------

test('chat: text answer, finish COMPLETE, Cohere usage (tokens > billed_units)', async () => {
  const r = await client.chat({
    model: 'command-a-03-2025',
    messages: [{ role: 'system', content: 'be brief' }, ...user('héllo 你好')],
    temperature: 0.2, p: 0.9, k: 40, maxTokens: 100, stopSequences: ['###'], seed: 7,
  });
  assert.equal(r.finishReason, 'COMPLETE');
  assert.equal(r.message.role, 'assistant');
  assert.equal(r.message.content.length, 1);
  assert.equal(r.message.content[0].type, 'text');
  assert.equal(r.message.content[0].text, 'echo: héllo 你好');
  assert.match(r.id, /^[0-9a-f-]{36}$/);
  assert.ok(r.usage.tokens.inputTokens > r.usage.billedUnits.inputTokens, 'tokens include the preamble');
  assert.ok(r.usage.billedUnits.outputTokens > 0 && r.usage.tokens.outputTokens > 0);

  const rec = await lastRequest(mock.url);
  assert.equal(rec.path, '/v2/chat');
  assert.equal(rec.provider, 'cohere');
  assert.equal(rec.headers.authorization, `Bearer ${KEY}`);
  assert.equal(rec.json.stream, false);
  assert.equal(rec.json.p, 0.9);
  assert.deepEqual(rec.json.stop_sequences, ['###']);
  assert.equal(rec.json.max_tokens, 100);
});

test('chat: the raw answer matches the SDK schema strictly', async () => {
  for (const model of ['mock-ok', 'mock-tools', 'mock-tools2', 'mock-think', 'mock-cached', 'mock-finish-error', 'mock-finish-timeout']) {
    const r = await post('/v2/chat', { model, messages: user('x'), tools: TOOLS });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    strict(schemas.V2ChatResponse, JSON.parse(r.text), `${model} response`);
  }
});

test('chat: split into tiny TCP writes (Content-Length body, mid-UTF-8)', async () => {
  const r = await client.chat({ model: 'mock-ok-split', messages: user('pièce 你好 🌍') });
  assert.equal(r.message.content[0].text, 'echo: pièce 你好 🌍');
});

test('chat: max_tokens cuts the answer (MAX_TOKENS), stop_sequences too (STOP_SEQUENCE)', async () => {
  const a = await client.chat({ model: 'mock-ok', messages: user('one two three four'), maxTokens: 3 });
  assert.equal(a.finishReason, 'MAX_TOKENS');
  assert.equal(a.message.content[0].text, 'echo: one');
  const b = await client.chat({ model: 'mock-ok', messages: user('alpha ### beta'), stopSequences: ['###'] });
  assert.equal(b.finishReason, 'STOP_SEQUENCE');
  assert.equal(b.message.content[0].text, 'echo: alpha ');
});

test('chat: tool call with tool_plan, finish TOOL_CALL', async () => {
  const r = await client.chat({ model: 'mock-tools', messages: user('weather in "Paris"?'), tools: TOOLS, toolChoice: 'REQUIRED' });
  assert.equal(r.finishReason, 'TOOL_CALL');
  assert.equal(typeof r.message.toolPlan, 'string');
  assert.equal(r.message.content, undefined);
  assert.equal(r.message.toolCalls.length, 1);
  const tc = r.message.toolCalls[0];
  assert.equal(tc.type, 'function');
  assert.equal(tc.function.name, 'get_weather');
  assert.match(tc.id, /^get_weather_/);
  assert.deepEqual(JSON.parse(tc.function.arguments), { city: 'Paris', query: 'weather in "Paris"?' });
  const rec = await lastRequest(mock.url);
  assert.equal(rec.json.tool_choice, 'REQUIRED');
});

test('chat: a conversation with assistant tool_calls and tool results is accepted', async () => {
  const r = await client.chat({
    model: 'mock-ok',
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'sys' }] },
      { role: 'user', content: [{ type: 'text', text: 'weather?' }, { type: 'image_url', imageUrl: { url: 'data:image/png;base64,AAAA', detail: 'low' } }] },
      { role: 'assistant', toolPlan: 'look it up', toolCalls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', toolCallId: 'call_1', content: [{ type: 'text', text: '{"temp":21}' }, { type: 'document', document: { data: { title: 't' } } }] },
      { role: 'assistant', content: 'It is 21.' },
      { role: 'user', content: 'thanks' },
    ],
    tools: TOOLS,
  });
  assert.equal(r.message.content[0].text, 'echo: thanks');
  const rec = await lastRequest(mock.url);
  assert.equal(rec.json.messages[3].tool_call_id, 'call_1');
  assert.equal(rec.json.messages[2].tool_calls[0].function.arguments, '{"city":"Paris"}');
});

test('chat: cached_tokens in usage; finish_reason ERROR and TIMEOUT', async () => {
  const c = await client.chat({ model: 'mock-cached', messages: user('c') });
  assert.equal(c.usage.cachedTokens, 400);
  const e = await client.chat({ model: 'mock-finish-error', messages: user('c') });
  assert.equal(e.finishReason, 'ERROR');
  const t = await client.chat({ model: 'mock-finish-timeout', messages: user('c') });
  assert.equal(t.finishReason, 'TIMEOUT');
  const evs = await collect(await client.chatStream({ model: 'mock-finish-timeout', messages: user('c') }));
  assert.equal(evs.at(-1).delta.finishReason, 'TIMEOUT');
  assert.equal(evs.at(-1).delta.error, undefined);
});

test('chat: thinking content item before the text', async () => {
  const r = await client.chat({ model: 'mock-think', messages: user('hm') });
  assert.deepEqual(r.message.content.map((c) => c.type), ['thinking', 'text']);
  assert.equal(r.message.content[1].text, 'echo: hm');
});

// ---- request validation (what catches a bad translation) ----------------

test('OpenAI-only fields are refused with 422 UnprocessableEntityError, as Cohere does', async () => {
  for (const extra of [{ top_p: 0.5 }, { stop: ['x'] }, { max_completion_tokens: 5 }, { n: 1 }, { user: 'u' },
    { logit_bias: {} }, { stream_options: { include_usage: true } }, { parallel_tool_calls: false }]) {
    await assert.rejects(client.chat(Object.assign({ model: 'mock-ok', messages: user('x') }, extra)), (e) => {
      assert.ok(e instanceof Cohere.UnprocessableEntityError, `${JSON.stringify(extra)}: ${e.constructor.name}`);
      assert.equal(e.statusCode, 422);
      assert.equal(e.body.message, `unknown field: parameter '${Object.keys(extra)[0]}' is not a valid field. For proper usage, please refer to https://docs.cohere.com/reference/chat`);
      return true;
    });
  }
  // nested: OpenAI's "strict" inside a tool, "name" on a message
  const strictTool = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' }, strict: true } }];
  await assert.rejects(client.chat({ model: 'mock-ok', messages: user('x'), tools: strictTool }), Cohere.UnprocessableEntityError);
  await assert.rejects(client.chat({ model: 'mock-ok', messages: [{ role: 'user', content: 'x', name: 'bob' }] }), Cohere.UnprocessableEntityError);
});

test('invalid values are refused with 400 "invalid request: ..."', async () => {
  const bad = [
    { messages: [{ role: 'developer', content: 'x' }] },
    { messages: [{ role: 'function', content: 'x' }] },
    { messages: [...user('x'), { role: 'tool', content: 'r' }] },
    { messages: [...user('x'), { role: 'tool', tool_call_id: 'nope', content: 'r' }] },
    { messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: { a: 1 } } }] }] },
    { messages: [{ role: 'user' }] },
    { messages: user('x'), tool_choice: 'auto' },
    { messages: user('x'), tool_choice: 'REQUIRED' },
    { messages: user('x'), temperature: 1.5 },
    { messages: user('x'), p: 1 },
    { messages: user('x'), k: 501 },
    { messages: user('x'), stop_sequences: ['a', 'b', 'c', 'd', 'e', 'f'] },
    { messages: user('x'), stream: 'yes' },
    { messages: user('x'), tools: [{ type: 'function', function: { name: 'f' } }] },
    { messages: [] },
    {},
  ];
  for (const b of bad) {
    const r = await post('/v2/chat', Object.assign({ model: 'mock-ok' }, b));
    assert.equal(r.status, 400, `${JSON.stringify(b)}: ${r.text}`);
    assert.match(JSON.parse(r.text).message, /^invalid request: /);
  }
  // and through the SDK: its typed error
  await assert.rejects(client.chat({ model: 'mock-ok', messages: user('x'), temperature: 1.5 }), (e) => {
    assert.ok(e instanceof Cohere.BadRequestError, e.constructor.name);
    assert.match(e.body.message, /^invalid request: temperature/);
    return true;
  });
});

test('missing Authorization -> 401 {id, message:"no api key supplied"}', async () => {
  const r = await post('/v2/chat', { model: 'mock-ok', messages: user('x') }, { authorization: '' });
  assert.equal(r.status, 401);
  const b = JSON.parse(r.text);
  assert.equal(b.message, 'no api key supplied');
  assert.equal(typeof b.id, 'string');
});

// ---- errors -> the SDK's typed errors -----------------------------------

test('error scenarios raise the SDK typed errors with Cohere bodies', async () => {
  const cases = [
    ['mock-err-400', Cohere.BadRequestError, 400, /^invalid request: /],
    ['mock-err-400-context', Cohere.BadRequestError, 400, /^too many tokens: /],
    ['mock-err-401', Cohere.UnauthorizedError, 401, /^invalid api token$/],
    ['mock-err-402', CohereError, 402, /billing/],
    ['mock-err-404', Cohere.NotFoundError, 404, /^model 'mock-err-404' not found/],
    ['mock-no-such-scenario', Cohere.NotFoundError, 404, /^model 'mock-no-such-scenario' not found/],
    ['mock-err-422', Cohere.UnprocessableEntityError, 422, /^unknown field: /],
    ['mock-err-429', Cohere.TooManyRequestsError, 429, /per minute request limit/],
    ['mock-err-500', Cohere.InternalServerError, 500, /internal server error/],
    ['mock-err-503', Cohere.ServiceUnavailableError, 503, /unavailable/],
  ];
  for (const [model, cls, status, re] of cases) {
    await assert.rejects(client.chat({ model, messages: user('x') }), (e) => {
      assert.ok(e instanceof cls, `${model}: ${e.constructor.name} is not ${cls.name}`);
      assert.ok(e instanceof CohereError);
      assert.equal(e.statusCode, status, model);
      assert.match(e.body.message, re, model);
      assert.equal(typeof e.body.id, 'string');
      return true;
    });
  }
  // the same on a stream request, before any event
  await assert.rejects(client.chatStream({ model: 'mock-err-429', messages: user('x') }), (e) => {
    assert.ok(e instanceof Cohere.TooManyRequestsError);
    assert.equal(e.rawResponse.headers.get('retry-after'), '7');
    return true;
  });
});

// ---- streaming ----------------------------------------------------------

test('chatStream: event order, text reassembled, message-end with finish and usage', async () => {
  const evs = await collect(await client.chatStream({ model: 'mock-ok', messages: user('stream me') }));
  const types = evs.map((e) => e.type);
  assert.equal(types[0], 'message-start');
  assert.equal(types[1], 'content-start');
  assert.deepEqual(types.slice(-2), ['content-end', 'message-end']);
  assert.ok(types.slice(2, -2).every((t) => t === 'content-delta'));
  assert.equal(evs[0].delta.message.role, 'assistant');
  assert.match(evs[0].id, /^[0-9a-f-]{36}$/);
  assert.equal(evs[1].delta.message.content.type, 'text');
  assert.equal(streamText(evs), 'echo: stream me');
  const end = evs.at(-1);
  assert.equal(end.delta.finishReason, 'COMPLETE');
  assert.ok(end.delta.usage.tokens.inputTokens > end.delta.usage.billedUnits.inputTokens);
  assert.equal(end.delta.error, undefined);
  const rec = await lastRequest(mock.url);
  assert.equal(rec.json.stream, true);
});

test('chatStream raw: event:/data: framing, float usage counts, strict SDK schemas', async () => {
  for (const model of ['mock-ok', 'mock-tools2', 'mock-think', 'mock-cached', 'mock-stream-error', 'mock-finish-timeout']) {
    const r = await post('/v2/chat', { model, stream: true, messages: user('raw é'), tools: TOOLS }, { accept: 'text/event-stream' });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/event-stream/);
    const evs = sse(r.text);
    strictEvents(evs);
    assert.equal(evs[0].event, 'message-start');
    assert.equal(evs.at(-1).event, 'message-end');
    assert.match(r.text, /"input_tokens":\d+\.0\b/, 'counts written as floats');
  }
});

test('chatStream split mid-line and mid-UTF-8 character (-split)', async () => {
  const input = 'héllo 你好 🌍 ça va — ñ';
  const evs = await collect(await client.chatStream({ model: 'mock-ok-split', messages: user(input) }));
  assert.equal(streamText(evs), 'echo: ' + input);
  assert.equal(evs.at(-1).delta.finishReason, 'COMPLETE');
});

test('chatStream: tool-plan-delta, then tool-call-start/delta/end reassemble (split)', async () => {
  const q = 'où? "quoted" \\ 🌍';
  const evs = await collect(await client.chatStream({ model: 'mock-tools2-split', messages: user(q), tools: TOOLS }));
  const types = evs.map((e) => e.type);
  assert.equal(types[0], 'message-start');
  assert.equal(types[1], 'tool-plan-delta');
  assert.ok(types.indexOf('tool-call-start') > types.lastIndexOf('tool-plan-delta'));
  assert.ok(!types.includes('content-delta'));
  const plan = evs.filter((e) => e.type === 'tool-plan-delta').map((e) => e.delta.message.toolPlan).join('');
  assert.ok(plan.length > 0);
  const calls = [];
  for (const e of evs) {
    if (e.type === 'tool-call-start') {
      const tc = e.delta.message.toolCalls;
      calls[e.index] = { id: tc.id, type: tc.type, name: tc.function.name, args: tc.function.arguments, ended: false };
    } else if (e.type === 'tool-call-delta') {
      calls[e.index].args += e.delta.message.toolCalls.function.arguments;
    } else if (e.type === 'tool-call-end') {
      calls[e.index].ended = true;
    }
  }
  assert.equal(calls.length, 2);
  assert.equal(evs.filter((e) => e.type === 'tool-call-delta').length > 6, true, 'arguments come in many fragments');
  assert.deepEqual(calls.map((c) => [c.type, c.name, c.ended]), [['function', 'get_weather', true], ['function', 'get_time', true]]);
  assert.deepEqual(JSON.parse(calls[0].args), { city: 'Paris', query: q });
  assert.deepEqual(JSON.parse(calls[1].args), { city: 'Tokyo', query: q });
  assert.notEqual(calls[0].id, calls[1].id);
  assert.equal(evs.at(-1).delta.finishReason, 'TOOL_CALL');
});

test('chatStream: max_tokens -> MAX_TOKENS in message-end', async () => {
  const evs = await collect(await client.chatStream({ model: 'mock-ok', messages: user('a b c d e'), maxTokens: 2 }));
  assert.equal(streamText(evs), 'echo:');
  assert.equal(evs.at(-1).delta.finishReason, 'MAX_TOKENS');
});

test('chatStream: mid-stream failure is message-end with finish ERROR and delta.error', async () => {
  const evs = await collect(await client.chatStream({ model: 'mock-stream-error', messages: user('xyz abc') }));
  assert.ok(streamText(evs).length > 0);
  const end = evs.at(-1);
  assert.equal(end.type, 'message-end');
  assert.equal(end.delta.finishReason, 'ERROR');
  assert.match(end.delta.error, /\S/);
});

test('chatStream: connection cut mid-stream makes the iteration fail', async () => {
  const stream = await client.chatStream({ model: 'mock-stream-cut', messages: user('xyz abc') });
  const seen = [];
  await assert.rejects((async () => { for await (const e of stream) seen.push(e.type); })());
  assert.ok(seen.includes('content-delta'));
  assert.ok(!seen.includes('message-end'));
});

test('chatStream: slow-release parks after the first content-delta', async () => {
  const stream = await client.chatStream({ model: 'mock-slow-release', messages: user('wait for it') });
  const it = stream[Symbol.asyncIterator]();
  const first = [];
  for (;;) {
    const { value } = await it.next();
    first.push(value);
    if (value.type === 'content-delta') break;
  }
  assert.equal(first.at(-1).delta.message.content.text, 'echo: ');
  assert.equal((await control(mock.url, 'GET', '/__waiting')).waiting, 1);
  await control(mock.url, 'POST', '/__release');
  const rest = [];
  for (;;) {
    const { value, done } = await it.next();
    if (done) break;
    rest.push(value);
  }
  assert.equal(streamText([...first, ...rest]), 'echo: wait for it');
  assert.equal(rest.at(-1).delta.finishReason, 'COMPLETE');
});

// ---- embed --------------------------------------------------------------

test('embed: float and base64 of the same vectors, meta.billed_units', async () => {
  const r = await client.embed({ model: 'embed-v4.0', inputType: 'search_document', texts: ['héllo', 'b c'], embeddingTypes: ['float', 'base64'] });
  assert.equal(r.embeddings.float.length, 2);
  assert.equal(r.embeddings.float[0].length, 8);
  assert.equal(r.embeddings.base64.length, 2);
  for (let i = 0; i < 2; i++) {
    const buf = Buffer.from(r.embeddings.base64[i], 'base64');
    const f32 = Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4));
    assert.deepEqual(f32, r.embeddings.float[i]);
  }
  assert.deepEqual(r.texts, ['héllo', 'b c']);
  assert.equal(r.meta.billedUnits.inputTokens, 3);
  assert.equal(r.responseType, 'embeddings_by_type');
  const rec = await lastRequest(mock.url);
  assert.equal(rec.path, '/v2/embed');
  assert.equal(rec.json.input_type, 'search_document');

  const raw = await post('/v2/embed', { model: 'embed-v4.0', input_type: 'search_query', texts: ['a'], output_dimension: 256 });
  assert.equal(raw.status, 200);
  const v = strict(schemas.EmbedByTypeResponse, JSON.parse(raw.text), 'embed response');
  assert.equal(v.embeddings.float[0].length, 256);
  assert.deepEqual(Object.keys(v.embeddings), ['float'], 'float is the default type');
});

test('embed: Cohere rejects OpenAI names and missing input_type', async () => {
  const noType = await post('/v2/embed', { model: 'embed-v4.0', texts: ['a'] });
  assert.equal(noType.status, 400);
  assert.match(JSON.parse(noType.text).message, /^invalid request: valid input_type must be provided/);
  const r = await post('/v2/embed', { model: 'embed-v4.0', input_type: 'search_document', input: ['a'] });
  assert.equal(r.status, 422);
  assert.match(JSON.parse(r.text).message, /^unknown field: parameter 'input' is not a valid field/);
  await assert.rejects(client.embed({ model: 'embed-v4.0', inputType: 'search_document', texts: ['a'], outputDimension: 100 }), Cohere.BadRequestError);
  await assert.rejects(client.embed({ model: 'mock-err-429', inputType: 'search_document', texts: ['a'] }), Cohere.TooManyRequestsError);
});
