// The LLM client against the loopback server over real HTTP with the real SDK.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, beforeEach, test } from 'node:test';
import { LlmClient, LlmError, parseRetryAfter, type LlmClientOptions } from '../../src/core/llm/client';
import { AdaptiveLimiter, TokenBucket } from '../../src/core/llm/limiter';
import { startOpenAIServer, type OpenAITestServer } from '../support/openai-server';

let server: OpenAITestServer;
const KEY = 'sk-test-SECRET-0123456789';
before(async () => {
  server = await startOpenAIServer();
});
after(async () => {
  await server.close();
});
beforeEach(() => server.reset());

function client(extra: Partial<LlmClientOptions> = {}): LlmClient {
  return new LlmClient({
    baseURL: server.baseURL,
    apiKey: KEY,
    model: 'test-model',
    timeoutMs: 2000,
    backoffBaseMs: 5,
    backoffMaxMs: 50,
    ...extra,
  });
}
const hello = { messages: [{ role: 'user' as const, content: 'hello' }] };

test('sends the request the caller asked for and records usage', async () => {
  const c = client();
  const r = await c.chat({ ...hello, temperature: 0.3, max_tokens: 33, seed: 7 });
  c.close();
  assert.match(r.content ?? '', /^ok /);
  const req = server.chatRequests()[0];
  assert.ok(req);
  assert.equal(req.body.model, 'test-model');
  assert.equal(req.body.temperature, 0.3);
  assert.equal(req.body.max_tokens, 33);
  assert.equal(req.body.seed, 7);
  assert.deepEqual(req.body.messages, hello.messages);
  assert.ok(r.usage.input_tokens > 0 && r.usage.output_tokens > 0);
  assert.equal(c.stats.inputTokens, r.usage.input_tokens);
  // key handling: sent as a bearer token, never recorded among the headers
  assert.equal(server.lastKey, KEY);
  assert.ok(req.hadAuth);
  assert.ok(!JSON.stringify(req.headers).includes(KEY));
});

test('429 with retry-after, then success; retry-after-ms is honoured', async () => {
  const logs: string[] = [];
  const c = client({ log: (l) => logs.push(l) });
  server.addFault({ kind: 'rate-limit', retryAfterSeconds: 0.2 });
  const t0 = performance.now();
  const r = await c.chat(hello);
  assert.ok(performance.now() - t0 >= 150, 'waited for retry-after');
  assert.equal(r.attempts, 2);
  server.addFault({ kind: 'rate-limit', retryAfterMs: 30 });
  assert.equal((await c.chat(hello)).attempts, 2);
  c.close();
  assert.equal(server.counts.chat, 4);
  assert.ok(logs.some((l) => l.includes('429')));
  assert.ok(logs.every((l) => !l.includes(KEY)));
});

test('a retry-after above the cap ends the request (no long wait)', async () => {
  const c = client({ retryAfterCapMs: 1000 });
  server.addFault({ kind: 'rate-limit', retryAfterSeconds: 120 });
  const t0 = performance.now();
  await assert.rejects(
    c.chat(hello),
    (e: unknown) => e instanceof LlmError && e.kind === 'exhausted' && /cap/.test(e.message),
  );
  assert.ok(performance.now() - t0 < 1000);
  c.close();
});

test('500 and 503 then success; gives up after maxRetries', async () => {
  const c = client({ maxRetries: 2 });
  server.addFault({ kind: 'status', status: 500 });
  server.addFault({ kind: 'status', status: 503 });
  assert.equal((await c.chat(hello)).attempts, 3);
  server.addFault({ kind: 'status', status: 502 }, { times: 3 });
  await assert.rejects(
    c.chat(hello),
    (e: unknown) => e instanceof LlmError && e.kind === 'exhausted' && e.status === 502 && e.attempts === 3,
  );
  c.close();
});

test('hang past the timeout is retried', async () => {
  const c = client({ timeoutMs: 200 });
  server.addFault({ kind: 'hang' });
  const r = await c.chat(hello);
  assert.equal(r.attempts, 2);
  server.addFault({ kind: 'hang' }, { times: 2 });
  await assert.rejects(
    client({ timeoutMs: 150, maxRetries: 1 }).chat(hello),
    (e: unknown) => e instanceof LlmError && /timeout/.test(e.message),
  );
  c.close();
});

test('connection reset and a malformed JSON body are retried', async () => {
  const c = client();
  server.addFault({ kind: 'reset' });
  assert.equal((await c.chat(hello)).attempts, 2);
  server.addFault({ kind: 'malformed-json' });
  assert.equal((await c.chat(hello)).attempts, 2);
  c.close();
});

test('401 is fatal and not retried; 400 is not retried; key is redacted from messages', async () => {
  server.requireKey = 'sk-the-right-one';
  const c = client();
  await assert.rejects(
    c.chat(hello),
    (e: unknown) => e instanceof LlmError && e.kind === 'fatal' && e.status === 401 && !e.message.includes(KEY),
  );
  assert.equal(server.counts.chat, 1);
  server.requireKey = undefined;
  server.addFault({ kind: 'status', status: 400, body: { error: { message: `bad request for key ${KEY}` } } });
  await assert.rejects(
    c.chat(hello),
    (e: unknown) => e instanceof LlmError && e.kind === 'request' && e.status === 400 && !e.message.includes(KEY),
  );
  assert.equal(server.counts.chat, 2);
  server.addFault({ kind: 'status', status: 404 });
  await assert.rejects(c.chat(hello), (e: unknown) => e instanceof LlmError && e.kind === 'fatal');
  c.close();
});

test('AbortSignal cancels an in-flight request promptly', async () => {
  const c = client({ timeoutMs: 10_000 });
  server.addFault({ kind: 'hang' });
  const ac = new AbortController();
  const t0 = performance.now();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(c.chat(hello, { signal: ac.signal }), (e: unknown) => (e as Error).name === 'AbortError');
  assert.ok(performance.now() - t0 < 2000);
  c.close();
});

test("a job's signal carries no listener per request: the SDK's are left on a signal of each request's own", async () => {
  // openai 6.x adds an abort listener to the signal of every request and never removes it; on a
  // job's one signal they piled up (100,000 requests: quadratic CPU in addEventListener)
  const c = client();
  const ac = new AbortController();
  const results = await Promise.all(Array.from({ length: 300 }, () => c.chat(hello, { signal: ac.signal })));
  assert.equal(results.length, 300);
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0, 'no listener left on the job signal');
  // and the job's signal still stops a request in flight (also after retries)
  server.addFault({ kind: 'status', status: 500 });
  server.addFault({ kind: 'hang' });
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(c.chat(hello, { signal: ac.signal }), (e: unknown) => (e as Error).name === 'AbortError');
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  c.close();
});

test('adaptive concurrency halves on 429 and grows back; never above max', async () => {
  const lim = new AdaptiveLimiter(8, 2);
  const p = await lim.acquire();
  lim.congestion(p);
  assert.equal(lim.limit, 4);
  lim.congestion(p); // same generation: ignored
  assert.equal(lim.limit, 4);
  p.release();
  const q = await lim.acquire();
  lim.congestion(q);
  assert.equal(lim.limit, 2);
  q.release();
  for (let i = 0; i < 40; i++) lim.success();
  assert.equal(lim.limit, 8);
  // in the client: a burst of 429s lowers the limit
  const c = client({ concurrency: 16 });
  server.addFault({ kind: 'rate-limit', retryAfterMs: 5 }, { times: 4 });
  await Promise.all(Array.from({ length: 16 }, () => c.chat(hello)));
  assert.ok(c.limiter.limit < 16);
  c.close();
});

test('parseRetryAfter and the token bucket', async () => {
  assert.equal(parseRetryAfter(new Headers({ 'retry-after-ms': '250' })), 250);
  assert.equal(parseRetryAfter(new Headers({ 'retry-after': '2' })), 2000);
  assert.equal(
    parseRetryAfter(new Headers({ 'retry-after': new Date(Date.now() + 5000).toUTCString() }), Date.now()) !==
      undefined,
    true,
  );
  assert.equal(parseRetryAfter(new Headers({})), undefined);
  const b = new TokenBucket(600); // 10 per second
  await b.take(600);
  const t0 = performance.now();
  await b.take(2);
  const waited = performance.now() - t0;
  assert.ok(waited >= 100 && waited < 2000, `waited ${waited}`);
});

test('rpm limit spaces requests; embeddings and models work', async () => {
  const c = client({ requestsPerMinute: 600 });
  const v = (await c.embed(['a', 'b'])).vectors;
  assert.equal(v.length, 2);
  assert.deepEqual(v[0], (await c.embed(['a'])).vectors[0]);
  assert.deepEqual(await c.listModels(), ['test-model']);
  c.close();
});
