// The official @anthropic-ai/sdk pointed DIRECTLY at the Anthropic mock
// (t/mock/providers/anthropic.js): if the SDK rejects or misreads anything
// the mock sends, the mock is wrong.
//
//   node --test t/sdk/mock-anthropic.test.mjs            (starts its own mock)
//   MOCK_URL=http://127.0.0.1:P node --test ...           (uses a running one)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { useMock, lastRequest } from './mock-helpers.mjs';

let mock;
let client;   // the SDK as it comes: anthropic-version 2026-10-21, Authorization: Bearer
let client23; // the dialect the gateway speaks: anthropic-version 2023-06-01, x-api-key

before(async () => {
  mock = await useMock();
  client = new Anthropic({ baseURL: mock.url, apiKey: 'sk-ant-sdk-mock-test', maxRetries: 0, timeout: 20000 });
  client23 = new Anthropic({
    baseURL: mock.url, apiKey: null, maxRetries: 0, timeout: 20000,
    defaultHeaders: { 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-sdk-mock-23' },
  });
});
after(async () => { await mock.stop(); });

const user = (content) => [{ role: 'user', content }];
const WEATHER = {
  name: 'get_weather',
  description: 'Current weather',
  input_schema: { type: 'object', properties: { city: { type: 'string' }, query: { type: 'string' } }, required: ['city'] },
};

async function collect(stream) {
  const events = [];
  for await (const e of stream) events.push(e);
  return events;
}
const streamedText = (events) => events
  .filter((e) => e.type === 'content_block_delta' && e.delta.type === 'text_delta')
  .map((e) => e.delta.text).join('');

test('messages.create: text, stop_reason, usage with cache counts; the request as the SDK sends it', async () => {
  const r = await client.messages.create({
    model: 'mock-ok', max_tokens: 64, system: 'be brief',
    messages: user('héllo 你好'),
  });
  assert.equal(r.type, 'message');
  assert.equal(r.role, 'assistant');
  assert.match(r.id, /^msg_/);
  assert.equal(r.model, 'mock-ok');
  assert.deepEqual(r.content, [{ type: 'text', text: 'echo: héllo 你好' }]);
  assert.equal(r.stop_reason, 'end_turn');
  assert.equal(r.stop_sequence, null);
  assert.ok(r.usage.input_tokens > 0 && r.usage.output_tokens > 0);
  assert.equal(r.usage.cache_read_input_tokens, 300);
  assert.equal(r.usage.cache_creation_input_tokens, 20);
  const rec = await lastRequest(mock.url);
  assert.equal(rec.path, '/v1/messages');
  assert.equal(rec.provider, 'anthropic');
  assert.equal(rec.headers.authorization, 'Bearer sk-ant-sdk-mock-test');
  assert.equal(rec.headers['anthropic-version'], '2026-10-21');
  assert.equal(rec.json.system, 'be brief');
  assert.equal(rec.json.max_tokens, 64);
});

test('anthropic-version 2023-06-01 with x-api-key (the gateway dialect): same answers, sampling params accepted', async () => {
  const r = await client23.messages.create({ model: 'mock-ok', max_tokens: 64, temperature: 0.2, top_p: 0.9, top_k: 5, messages: user('v1 ça') });
  assert.equal(r.content[0].text, 'echo: v1 ça');
  assert.equal(r.usage.cache_read_input_tokens, 300);
  const rec = await lastRequest(mock.url);
  assert.equal(rec.headers['x-api-key'], 'sk-ant-sdk-mock-23');
  assert.equal(rec.headers.authorization, undefined);
  assert.equal(rec.headers['anthropic-version'], '2023-06-01');
  assert.equal(rec.json.temperature, 0.2);
  const s = await client23.messages.stream({ model: 'mock-tools-split', max_tokens: 256, tools: [WEATHER], messages: user('v1') }).finalMessage();
  assert.deepEqual(s.content[1].input, { city: 'Paris', query: 'v1' });
  await assert.rejects(client23.messages.create({ model: 'mock-ok', max_tokens: 8, temperature: 1.5, messages: user('x') }),
    (e) => e instanceof Anthropic.BadRequestError && /^temperature: Input should be less than or equal to 1/.test(e.error.error.message));
});

test('anthropic-version 2026-10-21 rejects temperature/top_p/top_k even at 1.0', async () => {
  for (const k of ['temperature', 'top_p', 'top_k']) {
    await assert.rejects(client.messages.create({ model: 'mock-ok', max_tokens: 8, [k]: 1, messages: user('x') }),
      (e) => e instanceof Anthropic.BadRequestError && e.error.error.message === `${k}: Extra inputs are not permitted`);
  }
});

test('withResponse: request-id header is the SDK requestID', async () => {
  const { data, response } = await client.messages.create({ model: 'mock-ok', max_tokens: 16, messages: user('h') }).withResponse();
  assert.equal(data.content[0].text, 'echo: h');
  assert.match(response.headers.get('request-id'), /^req_mock\d+$/);
  assert.match(data._request_id, /^req_mock\d+$/);
});

test('non-stream body written in tiny pieces (-split)', async () => {
  const r = await client.messages.create({ model: 'mock-ok-split', max_tokens: 64, messages: user('pièce 你好 🌍') });
  assert.equal(r.content[0].text, 'echo: pièce 你好 🌍');
});

test('system as blocks, images (base64 and url), a tool round trip: the mock accepts valid requests', async () => {
  const r = await client.messages.create({
    model: 'mock-ok', max_tokens: 64,
    system: [{ type: 'text', text: 'sys one', cache_control: { type: 'ephemeral' } }],
    tools: [WEATHER],
    messages: [
      { role: 'user', content: [
        { type: 'text', text: 'look' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
      ] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A', content: '18C' }, { type: 'text', text: 'and?' }] },
    ],
  });
  assert.equal(r.content[0].text, 'echo: and?');
});

test('stop_sequences and max_tokens are honoured', async () => {
  const a = await client.messages.create({ model: 'mock-ok', max_tokens: 64, stop_sequences: ['STOP'], messages: user('one STOP two') });
  assert.equal(a.content[0].text, 'echo: one ');
  assert.equal(a.stop_reason, 'stop_sequence');
  assert.equal(a.stop_sequence, 'STOP');
  const b = await client.messages.create({ model: 'mock-ok', max_tokens: 3, messages: user('one two three four') });
  assert.equal(b.content[0].text, 'echo: one');
  assert.equal(b.stop_reason, 'max_tokens');
});

test('tool_use response (non-stream)', async () => {
  const r = await client.messages.create({ model: 'mock-tools', max_tokens: 256, tools: [WEATHER], messages: user('weather?') });
  assert.equal(r.stop_reason, 'tool_use');
  assert.equal(r.content[0].type, 'text');
  assert.equal(r.content[1].type, 'tool_use');
  assert.match(r.content[1].id, /^toolu_/);
  assert.equal(r.content[1].name, 'get_weather');
  assert.deepEqual(r.content[1].input, { city: 'Paris', query: 'weather?' });
});

test('stream: true: named events, pings skipped by the SDK, text reassembled', async () => {
  const events = await collect(await client.messages.create({
    model: 'mock-ok', max_tokens: 64, stream: true, messages: user('stream me'),
  }));
  assert.equal(events[0].type, 'message_start');
  assert.equal(events[0].message.usage.cache_read_input_tokens, 300);
  assert.equal(events.at(-1).type, 'message_stop');
  assert.equal(events.at(-2).type, 'message_delta');
  assert.equal(events.at(-2).delta.stop_reason, 'end_turn');
  assert.ok(!events.some((e) => e.type === 'ping'));
  assert.equal(streamedText(events), 'echo: stream me');
  const rec = await lastRequest(mock.url);
  assert.equal(rec.json.stream, true);
});

test('raw SSE: every event has an event: line naming its type, pings present', async () => {
  const r = await fetch(mock.url + '/v1/messages', {
    method: 'POST',
    headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-ok', max_tokens: 64, stream: true, messages: user('raw') }),
  });
  assert.match(r.headers.get('content-type'), /^text\/event-stream/);
  const body = await r.text();
  assert.ok(body.endsWith('\n\n'));
  const blocks = body.split('\n\n').filter(Boolean);
  for (const b of blocks) {
    const m = /^event: (\w+)\ndata: (.*)$/.exec(b);
    assert.ok(m, `not an event: ${b}`);
    assert.equal(JSON.parse(m[2]).type, m[1]);
  }
  assert.ok(blocks.some((b) => b.startsWith('event: ping\n')));
});

test('messages.stream split mid-line and mid-UTF-8 (-split): finalText', async () => {
  const input = 'héllo 你好 🌍 ça va — ñ';
  const s = client.messages.stream({ model: 'mock-ok-split', max_tokens: 64, messages: user(input) });
  let deltas = '';
  s.on('text', (t) => { deltas += t; });
  assert.equal(await s.finalText(), 'echo: ' + input);
  assert.equal(deltas, 'echo: ' + input);
  const final = await s.finalMessage();
  assert.equal(final.stop_reason, 'end_turn');
  assert.equal(final.usage.cache_read_input_tokens, 300);
  assert.ok(final.usage.input_tokens > 0, 'message_start input_tokens kept');
  assert.ok(final.usage.output_tokens > 1, 'message_delta output_tokens applied');
});

test('messages.stream: tool_use input JSON reassembled by finalMessage() (text block first, index 1)', async () => {
  const s = client.messages.stream({ model: 'mock-tools-split', max_tokens: 256, tools: [WEATHER], messages: user('où "est" \\ ça?') });
  const json = [];
  s.on('inputJson', (partial) => { json.push(partial); });
  const final = await s.finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  assert.equal(final.content.length, 2);
  assert.deepEqual(final.content[0], { type: 'text', text: 'Let me check.' });
  const tu = final.content[1];
  assert.equal(tu.type, 'tool_use');
  assert.equal(tu.name, 'get_weather');
  assert.match(tu.id, /^toolu_/);
  assert.deepEqual(tu.input, { city: 'Paris', query: 'où "est" \\ ça?' });
  assert.ok(json.length > 3, `input arrived in fragments (${json.length})`);
});

test('two tool uses stream as blocks 1 and 2; forced tool_choice has no text block', async () => {
  const tools = [WEATHER, { name: 'get_time', input_schema: { type: 'object' } }];
  const two = await client.messages.stream({ model: 'mock-tools2', max_tokens: 256, tools, messages: user('x') }).finalMessage();
  assert.deepEqual(two.content.map((b) => b.type), ['text', 'tool_use', 'tool_use']);
  assert.deepEqual(two.content.map((b) => b.name ?? null), [null, 'get_weather', 'get_time']);
  assert.deepEqual(two.content[2].input, { city: 'Tokyo', query: 'x' });
  const forced = await client.messages.create({
    model: 'mock-tools', max_tokens: 256, tools, tool_choice: { type: 'tool', name: 'get_time' }, messages: user('y'),
  });
  assert.deepEqual(forced.content.map((b) => b.type), ['tool_use']);
  assert.equal(forced.content[0].name, 'get_time');
});

test('thinking blocks stream with thinking_delta and signature_delta', async () => {
  const final = await client.messages.stream({
    model: 'mock-thinking', max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: user('ponder'),
  }).finalMessage();
  assert.equal(final.content[0].type, 'thinking');
  assert.match(final.content[0].thinking, /ponder/);
  assert.ok(final.content[0].signature.length > 10);
  assert.equal(final.content[1].text, 'echo: ponder');
});

test('a long stream arrives whole', async () => {
  const text = await client.messages.stream({ model: 'mock-long', max_tokens: 100000, messages: user('long') }).finalText();
  assert.equal(text, 'echo: long ' + 'lorem ipsum dolor é 你好 🌍 sit amet. '.repeat(2500));
});

function rejectsWith(p, Cls, status, type, extra) {
  return assert.rejects(p, (e) => {
    assert.ok(e instanceof Cls, `${e.constructor.name} is not ${Cls.name}: ${e.message}`);
    assert.equal(e.status, status);
    assert.equal(e.error?.type, 'error', 'Anthropic error body');
    assert.equal(e.error?.error?.type, type);
    assert.match(e.requestID, /^req_mock\d+$/);
    if (extra) extra(e);
    return true;
  });
}

test('429 rate_limit_error -> RateLimitError with retry-after', async () => {
  await rejectsWith(client.messages.create({ model: 'mock-err-429', max_tokens: 8, messages: user('x') }),
    Anthropic.RateLimitError, 429, 'rate_limit_error', (e) => assert.equal(e.headers.get('retry-after'), '7'));
});

test('401 -> AuthenticationError (also: no x-api-key at all)', async () => {
  await rejectsWith(client.messages.create({ model: 'mock-err-401', max_tokens: 8, messages: user('x') }),
    Anthropic.AuthenticationError, 401, 'authentication_error');
  const r = await fetch(mock.url + '/v1/messages', {
    method: 'POST', headers: { 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-ok', max_tokens: 8, messages: user('x') }),
  });
  assert.equal(r.status, 401);
  assert.equal((await r.json()).error.type, 'authentication_error');
});

test('400 context -> BadRequestError "prompt is too long"', async () => {
  await rejectsWith(client.messages.create({ model: 'mock-err-400-context', max_tokens: 8, messages: user('x') }),
    Anthropic.BadRequestError, 400, 'invalid_request_error', (e) => assert.match(e.message, /prompt is too long/));
});

test('402 billing, 403, 404, 500, 529 map to the SDK classes', async () => {
  const call = (model) => client.messages.create({ model, max_tokens: 8, messages: user('x') });
  await rejectsWith(call('mock-err-402'), Anthropic.PaymentRequiredError, 402, 'billing_error');
  await rejectsWith(call('mock-err-403'), Anthropic.PermissionDeniedError, 403, 'permission_error');
  await rejectsWith(call('mock-err-404'), Anthropic.NotFoundError, 404, 'not_found_error');
  await rejectsWith(call('mock-typo-model'), Anthropic.NotFoundError, 404, 'not_found_error');
  await rejectsWith(call('mock-err-500'), Anthropic.InternalServerError, 500, 'api_error');
  await rejectsWith(call('mock-err-529'), Anthropic.InternalServerError, 529, 'overloaded_error',
    (e) => assert.ok(e instanceof Anthropic.OverloadedError, e.constructor.name));
  await rejectsWith(call('mock-err-504'), Anthropic.InternalServerError, 504, 'timeout_error');
  await rejectsWith(call('mock-err-413'), Anthropic.APIError, 413, 'request_too_large');
});

test('invalid requests get 400 invalid_request_error naming the field (what catches a bad translation)', async () => {
  const bad = async (body, re) => {
    await rejectsWith(client.messages.create(body), Anthropic.BadRequestError, 400, 'invalid_request_error',
      (e) => assert.match(e.error.error.message, re));
  };
  await bad({ model: 'mock-ok', messages: user('x') }, /^max_tokens: Field required/);
  await bad({ model: 'mock-ok', max_tokens: 8, seed: 7, messages: user('x') }, /^seed: Extra inputs are not permitted/);
  await bad({ model: 'mock-ok', max_tokens: 8, messages: [{ role: 'system', content: 's' }, ...user('x')] }, /Unexpected role "system"/);
  await bad({ model: 'mock-ok', max_tokens: 8, messages: [{ role: 'tool', content: 's' }] }, /messages\.0\.role/);
  await bad({ model: 'mock-ok', max_tokens: 8, messages: [...user('a'), ...user('b')] }, /roles must alternate/);
  await bad({ model: 'mock-ok', max_tokens: 8, messages: [...user('a'), { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] }, ...user('b')] },
    /tool_use` ids were found without `tool_result`/);
  await bad({ model: 'mock-ok', max_tokens: 8, messages: [...user('a'), { role: 'assistant', content: 'ok' }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: 'r' }] }] },
    /unexpected `tool_use_id`/);
  await bad({ model: 'mock-ok', max_tokens: 8, messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] }, /non-empty/);
  await bad({ model: 'mock-ok', max_tokens: 8, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x' } }] }] }, /image_url/);
  await bad({ model: 'mock-ok', max_tokens: 8, tools: [{ type: 'function', function: { name: 'f', parameters: {} } }], messages: user('x') }, /^tools\.0/);
  await bad({ model: 'mock-ok', max_tokens: 8, tools: [WEATHER], tool_choice: 'auto', messages: user('x') }, /^tool_choice/);
  await bad({ model: 'mock-ok', max_tokens: 8, stop_sequences: 'END', messages: user('x') }, /^stop_sequences/);
  await bad({ model: 'mock-ok', max_tokens: 8, stop_sequences: ['END', '\n\n'], messages: user('x') }, /^stop_sequences: each stop sequence must contain non-whitespace/);
  await bad({ model: 'mock-ok', max_tokens: 8, messages: [...user('x'), { role: 'assistant', content: 'Sure ' }] }, /trailing whitespace/);
  await bad({ model: 'mock-ok', max_tokens: 8, metadata: { user: 'u' }, messages: user('x') }, /^metadata\.user: Extra inputs/);
});

test('anthropic-version is required', async () => {
  const r = await fetch(mock.url + '/v1/messages', {
    method: 'POST', headers: { 'x-api-key': 'k', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-ok', max_tokens: 8, messages: user('x') }),
  });
  assert.equal(r.status, 400);
  const j = await r.json();
  assert.equal(j.type, 'error');
  assert.equal(j.error.type, 'invalid_request_error');
  assert.match(j.error.message, /anthropic-version/);
});

test('mid-stream "event: error" (overloaded_error) raises from the SDK stream', async () => {
  const s = client.messages.stream({ model: 'mock-stream-error', max_tokens: 64, messages: user('x') });
  let text = '';
  s.on('text', (t) => { text += t; });
  await assert.rejects(s.finalMessage(), (e) => {
    assert.ok(e instanceof Anthropic.APIError, `${e.constructor.name}: ${e.message}`);
    assert.match(e.message, /overloaded_error|Overloaded/);
    return true;
  });
  assert.equal(text, 'echo: ');
  // the raw iterator too
  const raw = await client.messages.create({ model: 'mock-stream-error', max_tokens: 64, stream: true, messages: user('x') });
  await assert.rejects(collect(raw), (e) => e instanceof Anthropic.APIError && e.type === 'overloaded_error');
});

test('a stream cut before message_stop rejects; a clean end without message_stop is incomplete', async () => {
  await assert.rejects(client.messages.stream({ model: 'mock-stream-cut', max_tokens: 64, messages: user('x') }).finalMessage());
  const events = await collect(await client.messages.create({ model: 'mock-stream-eof', max_tokens: 64, stream: true, messages: user('x') }));
  assert.ok(events.length > 0 && !events.some((e) => e.type === 'message_stop'));
});
