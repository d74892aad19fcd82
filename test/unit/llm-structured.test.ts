// Structured outputs: json_schema requests, validation, one repair, fallback between modes.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { z } from 'zod';
import { LlmClient, LlmError } from '../../src/core/llm/client';
import { extractJson, rememberedMode, structuredCall, structuredSpec } from '../../src/core/llm/structured';
import { contentText, startOpenAIServer, type OpenAITestServer } from '../support/openai-server';

let server: OpenAITestServer;
before(async () => {
  server = await startOpenAIServer();
});
after(async () => {
  await server.close();
});
beforeEach(() => server.reset());

const Answer = z.object({
  label: z.enum(['pos', 'neg', 'neutral']),
  confidence: z.number().min(0).max(1),
  rationale: z.string(),
});
const spec = structuredSpec(Answer, 'answer');
const messages = [
  { role: 'system' as const, content: 'Label it.' },
  { role: 'user' as const, content: 'Record: {"text":"great"}' },
];
const mk = (baseURL = server.baseURL): LlmClient =>
  new LlmClient({ baseURL, apiKey: 'k', model: 'm', backoffBaseMs: 5, timeoutMs: 2000 });

test('extractJson is tolerant of fences and prose', () => {
  assert.deepEqual(extractJson('{"a":1}'), { ok: true, value: { a: 1 } });
  assert.deepEqual(extractJson('Sure!\n```json\n{"a":2}\n```\nDone.'), { ok: true, value: { a: 2 } });
  assert.deepEqual(extractJson('```\n{"a":3}\n```'), { ok: true, value: { a: 3 } });
  assert.deepEqual(extractJson('The answer: {"a":"}{", "b":[1,2]} ok'), { ok: true, value: { a: '}{', b: [1, 2] } });
  assert.deepEqual(extractJson('no json here'), { ok: false });
  assert.deepEqual(extractJson('{"a": 1'), { ok: false });
});

test('spec is converted once (cached per schema)', () => {
  assert.equal(structuredSpec(Answer, 'answer'), spec);
  assert.equal(spec.responseFormat.type, 'json_schema');
});

test('json_schema request carries the schema; the answer is valid', async () => {
  const c = mk();
  const r = await structuredCall(c, { messages, spec, params: { temperature: 0 } });
  c.close();
  assert.ok(r.ok, JSON.stringify(r));
  assert.ok(['pos', 'neg', 'neutral'].includes(r.value.label));
  assert.ok(r.value.confidence >= 0 && r.value.confidence <= 1);
  assert.equal(r.requests, 1);
  const body = server.chatRequests()[0]?.body;
  assert.equal(body?.response_format?.type, 'json_schema');
  assert.equal(body.response_format.json_schema?.strict, true);
  const schema = body.response_format.json_schema.schema as { properties: Record<string, { enum?: string[] }> };
  assert.deepEqual(schema.properties.label?.enum, ['pos', 'neg', 'neutral']);
  assert.equal(body.temperature, 0);
});

test('schema-invalid answer gets one repair retry that succeeds', async () => {
  const c = mk();
  server.addFault({ kind: 'schema-invalid' });
  const r = await structuredCall(c, { messages, spec });
  c.close();
  assert.ok(r.ok && r.repaired);
  assert.equal(r.requests, 2);
  const repair = server.chatRequests()[1]?.body.messages ?? [];
  assert.equal(repair.at(-2)?.role, 'assistant');
  assert.match(contentText(repair.at(-1)?.content), /does not match the required JSON schema/);
  assert.ok(r.usage.input_tokens > 0);
});

test('twice invalid, or not JSON twice: a recorded failure with the reason, never a throw', async () => {
  const c = mk();
  server.addFault({ kind: 'schema-invalid' }, { times: 2 });
  const r = await structuredCall(c, { messages, spec });
  assert.ok(!r.ok);
  assert.match(r.reason, /invalid answer after one repair/);
  assert.ok(r.raw?.includes('unexpected'));
  server.addFault({ kind: 'not-json' }, { times: 2 });
  const r2 = await structuredCall(c, { messages, spec });
  assert.ok(!r2.ok && /not JSON/.test(r2.reason));
  assert.equal(server.counts.chat, 4);
  // exhausted retries are a per-record failure too
  server.addFault({ kind: 'status', status: 500 }, { times: 10 });
  const c2 = new LlmClient({ baseURL: server.baseURL, apiKey: 'k', model: 'm', backoffBaseMs: 1, maxRetries: 1 });
  const r3 = await structuredCall(c2, { messages, spec });
  assert.ok(!r3.ok && /HTTP 500/.test(r3.reason));
  c.close();
  c2.close();
});

test('401 throws (fatal); abort throws', async () => {
  server.requireKey = 'other';
  const c = mk();
  await assert.rejects(
    structuredCall(c, { messages, spec }),
    (e: unknown) => e instanceof LlmError && e.kind === 'fatal',
  );
  server.requireKey = undefined;
  server.addFault({ kind: 'hang' });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 30);
  await assert.rejects(
    structuredCall(c, { messages, spec, signal: ac.signal }),
    (e: unknown) => (e as Error).name === 'AbortError',
  );
  c.close();
});

test('falls back json_schema → json_object → prompt when unsupported, and remembers per endpoint', async () => {
  const s2 = await startOpenAIServer({ unsupported: ['json_schema', 'json_object'] });
  const c = mk(s2.baseURL);
  const r = await structuredCall(c, { messages, spec });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.mode, 'prompt');
  assert.equal(s2.counts.chat, 3);
  assert.equal(rememberedMode(c.baseURL, 'm'), 'prompt');
  const last = s2.chatRequests()[2]?.body;
  assert.equal(last?.response_format, undefined);
  assert.match(contentText(last?.messages?.[0]?.content), /json-schema/);
  // the next call goes straight to the remembered mode
  const r2 = await structuredCall(c, { messages: [messages[0]!, { role: 'user', content: 'other' }], spec });
  assert.ok(r2.ok && r2.mode === 'prompt');
  assert.equal(s2.counts.chat, 4);
  c.close();
  await s2.close();
  // json_object only
  const s3 = await startOpenAIServer({ unsupported: ['json_schema'] });
  const c3 = mk(s3.baseURL);
  const r3 = await structuredCall(c3, { messages, spec });
  assert.ok(r3.ok && r3.mode === 'json_object');
  assert.equal(s3.chatRequests()[1]?.body.response_format?.type, 'json_object');
  c3.close();
  await s3.close();
});
