// The per-record generators as Batch API jobs (src/core/llm/batch/answers.ts through the
// registry's batch mode): responses in one round of batches, preference pairs in two (the
// candidates, then their judge), dialogues one round a turn; the output file the online run
// writes on the same deterministic server; stopped and run again, the same batches; a line the
// batch failed for good, sent online alone with retryOnline.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { quietContext } from '../../src/core/operation';
import { generateEntries } from '../../src/core/registry';
import type { GenerateSummary } from '../../src/core/synth';
import { lastUserText, type ChatBody } from '../support/openai-server';
import { synthResponder } from '../support/synth-responder';
import { readJsonl, useLoopbackServer, readJsonlContent } from './helpers/llm';
import { root } from './helpers/store';

const { server, dir } = useLoopbackServer('dc-batch-generate-');

type Task = 'responses' | 'preferences' | 'dialogues';

function file(name: string, lines: unknown[]): string {
  const p = join(dir(), name);
  writeFileSync(p, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
  return p;
}

const entries = generateEntries({ apiKey: () => 'sk-gen' });

const run = (task: Task, o: Record<string, unknown>): Promise<GenerateSummary> =>
  entries[task].prepare(o).run(quietContext());

async function asBatch(
  task: Task,
  o: Record<string, unknown>,
  mode: { retryOnline?: boolean } = {},
  signal?: AbortSignal,
): Promise<GenerateSummary> {
  const b = entries[task].prepare(o).batch;
  assert.ok(b, `generate ${task} has a batch mode`);
  return b.run(quietContext(signal), { ...mode, poll: { initialMs: 5, maxMs: 20 } });
}

const content = (p: string) => readJsonlContent(p);

const options = (input: string, output: string, more: Record<string, unknown> = {}): Record<string, unknown> => ({
  input,
  output: join(dir(), output),
  baseURL: server().baseURL,
  model: 'gen-model',
  noCache: true,
  ...more,
});

const prompts = (): string =>
  file('prompts.jsonl', [
    { id: 1, instruction: 'Sort these numbers', input: '3, 1, 2' },
    { id: 2, prompt: 'Name a prime number' },
    { id: 3, messages: [{ role: 'user', content: 'Hi there' }] },
    { id: 4, other: 'no prompt' },
    { id: 5, question: 'Why is the sky blue?' },
  ]);

/** The candidates say their rating; the judge (structured) reads it (synth-responder.ts). */
function rated(): void {
  const judge = synthResponder();
  server().respond = (req) => {
    const chat = req.body as ChatBody;
    if (chat.response_format) return judge(req);
    const k = chat.seed ?? 0;
    return { content: `answer ${k} by ${chat.model} to ${lastUserText(chat).slice(0, 20)} rating=${[3, 8][k % 2]}` };
  };
}

const chat = (): number => server().counts.chat;

test('generate responses as a batch: one request per response in one batch, the online run`s output', async () => {
  const input = prompts();
  const on = await run('responses', options(input, 'online.jsonl', { n: 2, system: 'Be brief.' }));
  assert.equal(on.records, 8);
  const before = chat();
  const b = await asBatch('responses', options(input, 'batch.jsonl', { n: 2, system: 'Be brief.' }));
  assert.equal(chat(), before, 'no online request');
  assert.equal(b.records, 8);
  assert.equal(b.ok, 4);
  assert.deepEqual(
    b.skipped.map((x) => x.line),
    [4],
  );
  assert.equal(server().batches.list().length, 1);
  assert.equal(b.batch?.requests, 8);
  assert.equal(b.batch.rounds, 1);
  assert.equal(b.batch.batchesCreated, 1);
  assert.deepEqual(content(join(dir(), 'batch.jsonl')), content(join(dir(), 'online.jsonl')));
});

test('the estimate of a generation as a batch: the online estimate at half the price', async () => {
  const input = prompts();
  const o = options(input, 'out.jsonl', { n: 3, pricePerMillionInputTokens: 2, pricePerMillionOutputTokens: 8 });
  const signal = new AbortController().signal;
  for (const task of ['responses', 'preferences', 'dialogues'] as const) {
    const p = entries[task].prepare(o);
    const online = await p.estimate({ signal });
    const batch = await p.batch?.estimate({ signal });
    assert.ok(online?.cost && batch?.cost !== undefined, task);
    assert.equal(batch.requests, online.requests, task);
    assert.ok(Math.abs(batch.cost * 2 - online.cost) < 1e-9, `${task}: ${batch.cost} is half of ${online.cost}`);
  }
});

test('generate preferences as a batch: the candidates in one round, their judge in the next; the online run`s pairs', async () => {
  rated();
  const input = prompts();
  const more = { models: ['ma', 'mb'], judgeModel: 'judge-m', candidates: 2 };
  const on = await run('preferences', options(input, 'online.jsonl', more));
  assert.ok(on.records > 0);
  const before = chat();
  const b = await asBatch('preferences', options(input, 'batch.jsonl', more));
  assert.equal(chat(), before, 'no online request');
  assert.equal(b.batch?.rounds, 2, 'the candidates, then the judge');
  // a batch holds one model's requests: the candidates of ma, of mb, then the judge's
  assert.deepEqual(
    server()
      .batches.list()
      .map((x) => x.request_counts.total),
    [4, 4, 4],
  );
  assert.equal(b.records, on.records);
  assert.deepEqual(content(join(dir(), 'batch.jsonl')), content(join(dir(), 'online.jsonl')));
});

test('generate dialogues as a batch: one round a turn; the online run`s conversations', async () => {
  const input = file('topics.txt', ['planning a trip to Lisbon', 'learning to bake bread']);
  const more = { turns: 2, system: 'You are a travel agent.', personas: ['a retired teacher'] };
  const on = await run('dialogues', options(input, 'online.jsonl', more));
  assert.equal(on.records, 2);
  const before = chat();
  const b = await asBatch('dialogues', options(input, 'batch.jsonl', more));
  assert.equal(chat(), before, 'no online request');
  assert.equal(b.batch?.rounds, 4, 'user, assistant, user, assistant');
  assert.equal(b.batch.requests, on.requests);
  assert.deepEqual(content(join(dir(), 'batch.jsonl')), content(join(dir(), 'online.jsonl')));
});

test('stopped while a round is polled, run again: the same batches, no second one for the same requests', async () => {
  rated();
  const s = server();
  const input = prompts();
  const more = { models: ['ma', 'mb'], judgeModel: 'judge-m', candidates: 2 };
  const on = await run('preferences', options(input, 'online.jsonl', more));
  s.batches.hold('in_progress');
  const ac = new AbortController();
  const first = asBatch('preferences', options(input, 'batch.jsonl', more), {}, ac.signal);
  for (let i = 0; i < 2000 && !s.requests.some((r) => r.method === 'GET' && r.path.startsWith('/v1/batches/')); i++)
    await new Promise((r) => setTimeout(r, 10));
  ac.abort();
  await assert.rejects(first, (err: Error) => err.name === 'AbortError');
  assert.equal(s.batches.list().length, 2, 'the candidates of both models submitted before waiting');
  s.batches.release();
  const b = await asBatch('preferences', options(input, 'batch.jsonl', more));
  assert.equal(s.batches.list().length, 3, 'the first round`s two batches, then the judge`s');
  assert.equal(s.requests.filter((r) => r.method === 'POST' && r.path === '/v1/batches').length, 3);
  assert.equal(b.batch?.batchesCreated, 1, 'only the judge`s batch by this run');
  assert.equal(b.records, on.records);
  assert.deepEqual(content(join(dir(), 'batch.jsonl')), content(join(dir(), 'online.jsonl')));
});

test('a response the batch failed for good: the record failed; run again with retryOnline, that request alone online', async () => {
  const s = server();
  const input = prompts();
  await run('responses', options(input, 'online.jsonl', { n: 2 }));
  const before = chat();
  s.batches.lineFault = (line) =>
    JSON.stringify(line.body).includes('prime number') && (line.body as { seed?: number }).seed === 1
      ? { status: 400, message: 'Invalid request', code: 'invalid_value' }
      : undefined;
  const o = options(input, 'batch.jsonl', { n: 2 });
  const r1 = await asBatch('responses', o);
  assert.equal(r1.failed.length, 1);
  assert.equal(r1.failed[0]?.line, 2);
  assert.match((r1.failed[0] as { reason: string }).reason, /HTTP 400: .*Invalid request.*retryOnline/);
  assert.equal(chat(), before);
  const r2 = await asBatch('responses', o, { retryOnline: true });
  assert.deepEqual(r2.failed, []);
  assert.equal(chat() - before, 1, 'the one failed request, online');
  assert.equal(r2.batch?.retriedOnline, 1);
  assert.equal(s.batches.list().length, 1, 'no new batch');
  assert.deepEqual(content(o.output as string), content(join(dir(), 'online.jsonl')));
});

test('curate generate responses --batch: the output written, the batch named, no online request', async () => {
  const input = prompts();
  const out = join(dir(), 'cli.jsonl');
  const args = ['generate', 'responses', input, '--out', out, '--base-url', server().baseURL, '--model', 'm'];
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args, '--no-cache', '--yes', '--batch'],
    {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '', OPENAI_API_KEY: 'sk-gen' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^generate responses: 4 record\(s\) written to .*cli\.jsonl/m);
  assert.match(stdout, /batch: 4 request\(s\) in 1 batch\(es\); 1 batch\(es\) created by this run in 1 round\(s\)/);
  assert.match(stdout, /batches: batch_\w+ completed/);
  assert.equal(chat(), 0);
  assert.equal(readJsonl(out).length, 4);
});
