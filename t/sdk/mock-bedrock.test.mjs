// The official AWS SDK (@aws-sdk/client-bedrock-runtime) pointed DIRECTLY
// at the Bedrock mock: the SDK signs with SigV4 and the mock verifies the
// signature; ConverseStream answers are decoded by the SDK's own
// event-stream codec (which checks both CRCs of every frame).  If the SDK
// rejects or misreads anything, the mock is wrong.
//
//   node --test t/sdk/mock-bedrock.test.mjs            (starts its own mock)
//   MOCK_URL=http://127.0.0.1:P node --test ...        (uses a running one)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, InvokeModelCommand,
  ThrottlingException, ValidationException, AccessDeniedException, ResourceNotFoundException,
  ModelTimeoutException, ModelErrorException, ModelNotReadyException, InternalServerException,
  ServiceUnavailableException, ModelStreamErrorException, BedrockRuntimeServiceException,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { useMock, lastRequest } from './mock-helpers.mjs';

const KEY = { accessKeyId: 'AKIDMOCKBEDROCK', secretAccessKey: 'mock/Secret+Key/EXAMPLEKEY0123456789' };
const SESSION = {
  accessKeyId: 'ASIAMOCKSESSION', secretAccessKey: 'mock-session-secret/EXAMPLE',
  sessionToken: 'mock//session+token=EXAMPLE',
};

let mock;
let client;

// HTTP/1.1, as the gateway speaks (the client's default is HTTP/2)
function makeClient(credentials, extra) {
  return new BedrockRuntimeClient(Object.assign({
    region: 'us-east-1', endpoint: mock.url, credentials, maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
  }, extra || {}));
}

before(async () => {
  mock = await useMock();
  client = makeClient(KEY);
});
after(async () => {
  client.destroy();
  await mock.stop();
});

const user = (text) => [{ role: 'user', content: [{ text }] }];

async function events(resp) {
  const out = [];
  for await (const ev of resp.stream) out.push(ev);
  return out;
}

test('Converse: text, system, inferenceConfig; the mock checked the signature', async () => {
  const r = await client.send(new ConverseCommand({
    modelId: 'anthropic.mock-ok-v1:0',
    system: [{ text: 'be brief' }],
    messages: user('héllo 你好'),
    inferenceConfig: { maxTokens: 64, temperature: 0.2, stopSequences: ['END'] },
  }));
  assert.equal(r.output.message.role, 'assistant');
  assert.equal(r.output.message.content[0].text, 'echo: héllo 你好');
  assert.equal(r.stopReason, 'end_turn');
  assert.ok(r.usage.inputTokens > 0 && r.usage.outputTokens > 0);
  assert.equal(r.usage.totalTokens, r.usage.inputTokens + r.usage.outputTokens);
  const rec = await lastRequest(mock.url);
  assert.equal(rec.path, '/model/anthropic.mock-ok-v1%3A0/converse');
  assert.equal(rec.sigv4.ok, true);
  assert.equal(rec.sigv4.access_key, 'AKIDMOCKBEDROCK');
  assert.equal(rec.sigv4.region, 'us-east-1');
  assert.equal(rec.sigv4.service, 'bedrock');
  // the ':' of the model id is encoded twice in the canonical request
  assert.match(rec.sigv4.canonical_request, /^POST\n\/model\/anthropic\.mock-ok-v1%253A0\/converse\n/);
  assert.equal(rec.json.inferenceConfig.maxTokens, 64);
});

test('Converse: an ARN model id (":" and "/" percent-encoded)', async () => {
  const arn = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.mock-ok-v1:0';
  const r = await client.send(new ConverseCommand({ modelId: arn, messages: user('arn') }));
  assert.equal(r.output.message.content[0].text, 'echo: arn');
  const rec = await lastRequest(mock.url);
  assert.equal(rec.sigv4.ok, true);
  assert.match(rec.path, /^\/model\/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus\.mock-ok-v1%3A0\/converse$/);
  assert.equal(rec.model_id, arn);
});

test('Converse: temporary credentials (session token signed)', async () => {
  const c = makeClient(SESSION);
  try {
    const r = await c.send(new ConverseCommand({ modelId: 'amazon.mock-ok-v1:0', messages: user('tok') }));
    assert.equal(r.output.message.content[0].text, 'echo: tok');
    const rec = await lastRequest(mock.url);
    assert.equal(rec.headers['x-amz-security-token'], SESSION.sessionToken);
    assert.match(rec.sigv4.signed_headers, /x-amz-security-token/);
  } finally {
    c.destroy();
  }
});

test('bad credentials: 403 with AWS error types', async () => {
  const wrongSecret = makeClient({ ...KEY, secretAccessKey: 'wrong' });
  const unknownKey = makeClient({ accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' });
  const wrongToken = makeClient({ ...SESSION, sessionToken: 'nope' });
  try {
    for (const [c, name] of [[wrongSecret, 'InvalidSignatureException'], [unknownKey, 'UnrecognizedClientException'],
      [wrongToken, 'UnrecognizedClientException']]) {
      await assert.rejects(c.send(new ConverseCommand({ modelId: 'amazon.mock-ok-v1:0', messages: user('x') })), (e) => {
        assert.ok(e instanceof BedrockRuntimeServiceException, String(e));
        assert.equal(e.name, name);
        assert.equal(e.$metadata.httpStatusCode, 403);
        return true;
      });
    }
    const rec = await lastRequest(mock.url);
    assert.equal(rec.sigv4.ok, false);
  } finally {
    wrongSecret.destroy();
    unknownKey.destroy();
    wrongToken.destroy();
  }
});

test('Bedrock API key: Bearer token instead of SigV4', async () => {
  const c = makeClient(undefined, {
    token: { token: 'bedrock-api-key-mocktest' },
    authSchemePreference: ['httpBearerAuth'],
  });
  try {
    const r = await c.send(new ConverseCommand({ modelId: 'amazon.mock-ok-v1:0', messages: user('bearer') }));
    assert.equal(r.output.message.content[0].text, 'echo: bearer');
    const rec = await lastRequest(mock.url);
    assert.equal(rec.headers.authorization, 'Bearer bedrock-api-key-mocktest');
    assert.equal(rec.sigv4.bearer, 'bedrock-api-key-mocktest');
  } finally {
    c.destroy();
  }
});

test('Converse: tool use, then the tool result turn', async () => {
  const toolConfig = {
    tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } } } }],
    toolChoice: { auto: {} },
  };
  const r = await client.send(new ConverseCommand({ modelId: 'anthropic.mock-tools-v1:0', messages: user('weather?'), toolConfig }));
  assert.equal(r.stopReason, 'tool_use');
  const tu = r.output.message.content[0].toolUse;
  assert.equal(tu.name, 'get_weather');
  assert.deepEqual(tu.input, { city: 'Paris', query: 'weather?' });
  const r2 = await client.send(new ConverseCommand({
    modelId: 'anthropic.mock-ok-v1:0',
    messages: [...user('weather?'), r.output.message,
      { role: 'user', content: [{ toolResult: { toolUseId: tu.toolUseId, content: [{ text: '18C' }] } }, { text: 'and now?' }] }],
    toolConfig,
  }));
  assert.equal(r2.output.message.content[0].text, 'echo: and now?');
});

test('ConverseStream: text split at awkward byte boundaries', async () => {
  const input = 'héllo 你好 🌍 ça va';
  const resp = await client.send(new ConverseStreamCommand({ modelId: 'anthropic.mock-ok-split-v1:0', messages: user(input) }));
  const evs = await events(resp);
  assert.deepEqual(Object.keys(evs[0]), ['messageStart']);
  assert.equal(evs[0].messageStart.role, 'assistant');
  const text = evs.filter((e) => e.contentBlockDelta).map((e) => e.contentBlockDelta.delta.text).join('');
  assert.equal(text, 'echo: ' + input);
  const stop = evs.find((e) => e.messageStop);
  assert.equal(stop.messageStop.stopReason, 'end_turn');
  const meta = evs.at(-1).metadata;
  assert.ok(meta.usage.inputTokens > 0 && meta.usage.outputTokens > 0);
  const rec = await lastRequest(mock.url);
  assert.equal(rec.path, '/model/anthropic.mock-ok-split-v1%3A0/converse-stream');
  assert.equal(rec.sigv4.ok, true);
});

test('ConverseStream: tool use (start, input fragments, stop)', async () => {
  const resp = await client.send(new ConverseStreamCommand({
    modelId: 'us.anthropic.mock-tools2-split-v1:0',
    messages: user('two tools'),
    toolConfig: { tools: [
      { toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } },
      { toolSpec: { name: 'get_time', inputSchema: { json: { type: 'object' } } } },
    ] },
  }));
  const evs = await events(resp);
  const starts = evs.filter((e) => e.contentBlockStart);
  assert.deepEqual(starts.map((e) => e.contentBlockStart.start.toolUse.name), ['get_weather', 'get_time']);
  for (const [i, city] of [[0, 'Paris'], [1, 'Tokyo']]) {
    const args = evs.filter((e) => e.contentBlockDelta && e.contentBlockDelta.contentBlockIndex === i)
      .map((e) => e.contentBlockDelta.delta.toolUse.input).join('');
    assert.deepEqual(JSON.parse(args), { city, query: 'two tools' });
  }
  assert.equal(evs.find((e) => e.messageStop).messageStop.stopReason, 'tool_use');
});

test('errors before the stream: typed exceptions', async () => {
  const cases = [
    ['mock-err-throttle', ThrottlingException, 429],
    ['mock-err-validation', ValidationException, 400],
    ['mock-err-context', ValidationException, 400],
    ['mock-err-access', AccessDeniedException, 403],
    ['mock-err-notfound', ResourceNotFoundException, 404],
    ['mock-err-timeout', ModelTimeoutException, 408],
    ['mock-err-model', ModelErrorException, 424],
    ['mock-err-notready', ModelNotReadyException, 429],
    ['mock-err-500', InternalServerException, 500],
    ['mock-err-503', ServiceUnavailableException, 503],
    ['mock-nonsense', ResourceNotFoundException, 404],
  ];
  for (const [id, cls, status] of cases) {
    for (const Command of [ConverseCommand, ConverseStreamCommand]) {
      await assert.rejects(client.send(new Command({ modelId: `anthropic.${id}-v1:0`, messages: user('x') })), (e) => {
        assert.ok(e instanceof cls, `${id}: ${e.name}`);
        assert.equal(e.$metadata.httpStatusCode, status);
        assert.ok(e.message.length > 0);
        return true;
      });
    }
  }
});

test('exceptions inside the stream: typed exceptions from frames', async () => {
  for (const [id, cls] of [['mock-stream-throttle-split', ThrottlingException], ['mock-stream-error', ModelStreamErrorException],
    ['mock-stream-internal', InternalServerException]]) {
    const seen = [];
    // a first frame that is an exception already fails send() itself
    await assert.rejects((async () => {
      const resp = await client.send(new ConverseStreamCommand({ modelId: `anthropic.${id}-v1:0`, messages: user('abcdefgh') }));
      for await (const ev of resp.stream) seen.push(ev);
    })(), (e) => {
      assert.ok(e instanceof cls, `${id}: ${e.name}`);
      return true;
    });
    if (id !== 'mock-stream-internal') assert.ok(seen.some((e) => e.contentBlockDelta), id);
  }
});

test('the mock validates Converse requests as AWS does', async () => {
  const bad = [
    { modelId: 'amazon.mock-ok-v1:0', messages: [{ role: 'assistant', content: [{ text: 'x' }] }] },
    { modelId: 'amazon.mock-ok-v1:0', messages: [...user('a'), ...user('b')] },
    { modelId: 'amazon.mock-ok-v1:0', messages: [{ role: 'user', content: [{ text: ' ' }] }] },
    { modelId: 'amazon.mock-ok-v1:0', messages: user('x'), inferenceConfig: { temperature: 3 } },
    {
      modelId: 'amazon.mock-ok-v1:0',
      messages: [...user('x'), { role: 'assistant', content: [{ toolUse: { toolUseId: 't', name: 'f', input: {} } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 't', content: [{ text: 'r' }] } }] }],
    },
  ];
  for (const input of bad) {
    await assert.rejects(client.send(new ConverseCommand(input)), (e) => {
      assert.ok(e instanceof ValidationException, e.name);
      return true;
    });
  }
});

test('InvokeModel: Titan and Cohere embeddings', async () => {
  const enc = (o) => new TextEncoder().encode(JSON.stringify(o));
  const dec = (r) => JSON.parse(new TextDecoder().decode(r.body));
  const t = dec(await client.send(new InvokeModelCommand({
    modelId: 'amazon.titan-embed-text-v2:0', contentType: 'application/json', accept: 'application/json',
    body: enc({ inputText: 'hello world', dimensions: 256 }),
  })));
  assert.equal(t.embedding.length, 256);
  assert.equal(t.inputTextTokenCount, 2);
  const c = dec(await client.send(new InvokeModelCommand({
    modelId: 'cohere.embed-english-v3', contentType: 'application/json',
    body: enc({ texts: ['a', 'b'], input_type: 'search_document' }),
  })));
  assert.equal(c.embeddings.length, 2);
  assert.equal(c.embeddings[0].length, 1024);
  assert.deepEqual(c.texts, ['a', 'b']);
  await assert.rejects(client.send(new InvokeModelCommand({
    modelId: 'amazon.titan-embed-text-v2:0', contentType: 'application/json', body: enc({ inputText: 'x', model: 'm' }),
  })), ValidationException);
  const rec = await lastRequest(mock.url);
  assert.equal(rec.path, '/model/amazon.titan-embed-text-v2%3A0/invoke');
});
