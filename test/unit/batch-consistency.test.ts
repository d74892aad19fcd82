// Self-consistency as a batch (src/core/llm/batch/samples.ts): k samples a record as k requests
// (custom_ids `<content-bound id>#<i>`), aggregated as the online run aggregates them; what the
// loopback server's Batch API gives equals what its online route gives; a sample that failed goes
// to the follow-up batch, or (--retry-online) alone through the online path; a killed run resumes
// the same batch.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { JobSummary } from '../../src/core/jobs/runner';
import { quietContext } from '../../src/core/operation';
import { llmEntries } from '../../src/core/registry';
import { readJsonl, useLoopbackServer, readJsonlContent } from './helpers/llm';
import { root } from './helpers/store';

const { server, dir } = useLoopbackServer('dc-batch-consistency-');

const TEXTS = ['great film', 'dull and slow', 'fine I guess', 'a masterpiece', 'never again', 'ok'];

function dataset(name = 'data.jsonl', texts = TEXTS): string {
  const p = join(dir(), name);
  writeFileSync(p, `${texts.map((text, id) => JSON.stringify({ id, text })).join('\n')}\n`);
  return p;
}

const env = { apiKey: () => 'sk-consistency' };

function options(file: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    input: file,
    inPlace: true,
    baseURL: server().baseURL,
    model: 'm',
    labels: ['pos', 'neg', 'mixed'],
    k: 4,
    seed: 7,
    noCache: true,
    ...more,
  };
}

const online = (file: string, more?: Record<string, unknown>): Promise<JobSummary> =>
  llmEntries(env).consistency.prepare(options(file, more)).run(quietContext());

async function asBatch(file: string, more?: Record<string, unknown>, signal?: AbortSignal): Promise<JobSummary> {
  const b = llmEntries(env).consistency.prepare(options(file, more)).batch;
  assert.ok(b, 'consistency has a batch mode');
  return b.run(quietContext(signal), { retryOnline: more?.retryOnline === true, poll: { initialMs: 5, maxMs: 20 } });
}

const content = (p: string) => readJsonlContent(p, ['time', 'at']);

/** The custom_ids of the batches' input lines, all batches. */
function sentIds(): string[] {
  const s = server();
  const ids: string[] = [];
  for (const b of s.batches.list()) {
    const f = s.batches.files.get(b.input_file_id);
    assert.ok(f);
    for (const l of f.data.toString('utf8').split('\n').filter(Boolean))
      ids.push((JSON.parse(l) as { custom_id: string }).custom_id);
  }
  return ids;
}

test('consistency as a batch: k requests a record, the same labels, agreement and samples as the online run', async () => {
  const a = dataset('online.jsonl');
  const b = join(dir(), 'batch.jsonl');
  copyFileSync(a, b);
  const on = await online(a);
  assert.equal(on.ok, TEXTS.length);
  const chatOnline = server().counts.chat;
  assert.equal(chatOnline, TEXTS.length * 4);

  const s = await asBatch(b);
  assert.equal(s.ok, TEXTS.length);
  assert.deepEqual(s.failed, []);
  assert.equal(server().counts.chat, chatOnline, 'no online request: every sample went through the batch');
  assert.equal(server().batches.list().length, 1);
  assert.equal(s.batch?.requests, TEXTS.length * 4);
  const ids = sentIds();
  assert.equal(ids.length, TEXTS.length * 4);
  for (const id of ids) assert.match(id, /^dc1-[0-9a-f]{40}#[0-3]$/);
  assert.equal(new Set(ids.map((id) => id.split('#')[0])).size, TEXTS.length, 'one content-bound id a record');

  // what a user sees: the same records, label for label, sample for sample
  const recs = readJsonl(b);
  for (const r of recs) {
    assert.match(r.label, /^(pos|neg|mixed)$/);
    const sug = r.annotations.suggestions.label;
    assert.equal(sug.length, 1);
    assert.equal(sug[0].samples.length, 4, 'the k samples, each with its provenance');
    assert.match(sug[0].rationale, /^\d of 4 samples agree$/);
  }
  assert.deepEqual(content(b), content(a));
  // the estimate of a batch is at the Batch API's price, k requests a record
  const fresh = dataset('fresh.jsonl');
  const priced = options(fresh, { pricePerMillionInputTokens: 1, pricePerMillionOutputTokens: 2 });
  const signal = new AbortController().signal;
  const est = await llmEntries(env).consistency.prepare(priced).batch?.estimate({ signal });
  const estOnline = await llmEntries(env).consistency.prepare(priced).estimate({ signal });
  assert.ok(est && estOnline);
  assert.equal(est.requests, TEXTS.length * 4);
  assert.equal(est.requests, estOnline.requests);
  assert.ok(est.cost !== undefined && estOnline.cost !== undefined && estOnline.cost > 0);
  assert.ok(Math.abs(est.cost * 2 - estOnline.cost) < 1e-9, `${est.cost} is half of ${estOnline.cost}`);
});

test('a sample that failed for a transient reason goes to the follow-up batch alone; the record as online', async () => {
  const a = dataset('online.jsonl');
  const b = join(dir(), 'batch.jsonl');
  copyFileSync(a, b);
  await online(a);
  const s = server();
  let failedOnce = false;
  s.batches.lineFault = (line) => {
    if (failedOnce || !line.custom_id.endsWith('#2') || !JSON.stringify(line.body).includes('dull and slow'))
      return undefined;
    failedOnce = true;
    return { status: 500, message: 'The server had an error' };
  };
  const r = await asBatch(b);
  assert.ok(failedOnce);
  assert.equal(r.ok, TEXTS.length);
  assert.equal(s.batches.list().length, 2, 'the first batch and its follow-up');
  const follow = s.batches.list()[1];
  assert.equal(follow?.request_counts.total, 1, 'the follow-up holds the one failed sample');
  assert.deepEqual(content(b), content(a));
});

test('a sample that failed for good: the record listed failed; --retry-online sends that sample alone, the record as online', async () => {
  const a = dataset('online.jsonl');
  const b = join(dir(), 'batch.jsonl');
  copyFileSync(a, b);
  await online(a);
  const s = server();
  const chatBefore = s.counts.chat;
  s.batches.lineFault = (line) =>
    line.custom_id.endsWith('#1') && JSON.stringify(line.body).includes('a masterpiece')
      ? { status: 400, message: 'Invalid request', code: 'invalid_value' }
      : undefined;
  const r1 = await asBatch(b);
  assert.equal(r1.ok, TEXTS.length - 1);
  assert.equal(r1.failed.length, 1);
  assert.equal(r1.failed[0]?.line, 4);
  assert.match(
    (r1.failed[0] as { reason: string }).reason,
    /3 of 4 samples answered, 1 missing: failed \(HTTP 400\): Invalid request/,
  );
  assert.equal(s.batches.list().length, 1, 'a 400 is not sent again in a follow-up');
  assert.ok(!JSON.stringify(readJsonl(b)[3]).includes('annotations'), 'no result from 3 samples of 4');

  const r2 = await asBatch(b, { retryOnline: true });
  assert.equal(r2.ok, TEXTS.length);
  assert.deepEqual(r2.failed, []);
  assert.equal(s.batches.list().length, 1, 'no new batch');
  assert.equal(s.counts.chat - chatBefore, 1, 'the missing sample alone, online');
  const sent = s.requests.filter((x) => x.path === '/v1/chat/completions').at(-1)?.body as { seed?: number };
  assert.equal(sent.seed, 7 + 1, "sample 1's seed");
  assert.equal(r2.batch?.retriedOnline, 1);
  assert.deepEqual(content(b), content(a));
});

test('stopped while the batch is polled, run again: the same batch, no second one, each record once', async () => {
  const s = server();
  s.batches.hold('in_progress');
  const file = dataset();
  const ac = new AbortController();
  const first = asBatch(file, {}, ac.signal);
  for (let i = 0; i < 2000 && !s.requests.some((r) => r.method === 'GET' && r.path.startsWith('/v1/batches/')); i++)
    await new Promise((r) => setTimeout(r, 10));
  ac.abort();
  await assert.rejects(first, (err: Error) => err.name === 'AbortError');
  s.batches.release();
  const r = await asBatch(file);
  assert.equal(r.ok, TEXTS.length);
  assert.equal(r.batch?.batchesCreated, 0, 'the same batch');
  assert.equal(s.batches.list().length, 1);
  const again = await asBatch(file);
  assert.equal(again.ok, TEXTS.length);
  assert.equal(again.resumed, TEXTS.length, 'applied before: not again');
  for (const x of readJsonl(file)) assert.equal(x.annotations.suggestions.label.length, 1, 'each record answered once');
});

// ---- the CLI, killed -------------------------------------------------------------------------

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

function curate(args: string[]): { proc: ChildProcess; done: Promise<Run> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '', OPENAI_API_KEY: 'sk-consistency' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<Run>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, out, err })));
  return { proc, done };
}

test('curate consistency --batch killed -9 while polled, then the same command: one batch in all, the online run`s records', async () => {
  const a = dataset('online.jsonl');
  const file = join(dir(), 'batch.jsonl');
  copyFileSync(a, file);
  await online(a, { seed: undefined });
  const s = server();
  s.batches.hold('in_progress');
  const args = [
    'consistency',
    file,
    '--labels',
    'pos,neg,mixed',
    '--samples',
    '4',
    '--base-url',
    s.baseURL,
    '--model',
    'm',
    '--no-cache',
    '--in-place',
    '--yes',
    '--batch',
  ];
  const first = curate(args);
  const journalDir = `${file}.curator-journal`;
  for (let i = 0; i < 2400; i++) {
    const created =
      existsSync(journalDir) &&
      readdirSync(journalDir).some(
        (f) => f.endsWith('.batch.jsonl') && readFileSync(join(journalDir, f), 'utf8').includes('"type":"created"'),
      );
    const b = s.batches.list()[0];
    if (created && b && s.requests.some((r) => r.method === 'GET' && r.path === `/v1/batches/${b.id}`)) break;
    if (first.proc.exitCode !== null) assert.fail(`curate ended: ${(await first.done).err}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  first.proc.kill('SIGKILL');
  assert.equal((await first.done).signal, 'SIGKILL');
  assert.equal(s.batches.list().length, 1);
  s.batches.release();
  const chatBefore = s.counts.chat;
  const r2 = await curate(args).done;
  assert.equal(r2.code, 0, r2.err);
  assert.match(r2.out, new RegExp(`^consistency: ${TEXTS.length} ok, 0 failed`, 'm'));
  assert.match(r2.out, /0 batch\(es\) created by this run/);
  assert.equal(s.batches.list().length, 1, 'no second batch');
  assert.equal(s.requests.filter((r) => r.method === 'POST' && r.path === '/v1/batches').length, 1);
  assert.equal(s.counts.chat, chatBefore, 'no online request');
  assert.deepEqual(content(file), content(a));
});
