// The registry's batch mode (src/core/llm/batch/operation.ts) below the faces: what a stopped batch
// job leaves for a face to resume it (its options beside its journal, never the key), and several
// judges as one batch job each.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pendingBatchJobs } from '../../src/core/llm/batch/operation';
import { llmEntries } from '../../src/core/registry';
import { quietContext } from '../../src/core/operation';
import { readJsonl, useLoopbackServer } from './helpers/llm';

const { server, dir } = useLoopbackServer('dc-batch-op-');

function dataset(n: number): string {
  const p = join(dir(), 'data.jsonl');
  writeFileSync(p, `${Array.from({ length: n }, (_, i) => JSON.stringify({ id: i, text: `t ${i}` })).join('\n')}\n`);
  return p;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'timed out');
}

test('a batch job stopped while waiting is pending, with what resumes it (not the key); resumed, it is done', async () => {
  const s = server();
  s.batches.hold('in_progress');
  const file = dataset(3);
  const env = { apiKey: () => 'sk-batch-op-secret' };
  const raw = { input: file, inPlace: true, baseURL: s.baseURL, model: 'm', labels: ['x', 'y'], noCache: true };
  const ac = new AbortController();
  const run = llmEntries(env).label.prepare(raw).batch?.run(quietContext(ac.signal));
  assert.ok(run);
  await until(() => s.requests.some((r) => r.method === 'GET' && r.path.startsWith('/v1/batches/')));
  ac.abort();
  await assert.rejects(run, (err: Error) => err.name === 'AbortError');

  const problems: string[] = [];
  const [p, ...more] = pendingBatchJobs(file, (job, why) => problems.push(`${job}: ${why}`));
  assert.equal(more.length, 0);
  assert.deepEqual(problems, []);
  assert.ok(p);
  assert.equal(p.task, 'label');
  assert.equal(p.baseURL, s.baseURL);
  assert.deepEqual(p.options.labels, ['x', 'y']);
  const opFile = p.journal.replace(/\.batch\.jsonl$/, '.batch.op.json');
  assert.ok(!readFileSync(opFile, 'utf8').includes('sk-batch-op-secret'), 'the key is not written');

  s.batches.release();
  const done = await llmEntries(env).label.prepare(p.options).batch?.run(quietContext());
  assert.equal(done?.ok, 3);
  assert.equal(done.batch?.batchesCreated, 0, 'the same batch');
  assert.equal(s.batches.list().length, 1);
  assert.deepEqual(pendingBatchJobs(file), [], 'nothing pending once applied');
  assert.ok(readJsonl(file).every((r: { label?: string }) => r.label === 'x' || r.label === 'y'));

  // options that do not parse are reported, not followed
  writeFileSync(opFile, JSON.stringify({ task: 'label', options: { input: file, baseURL: 'not a url' } }));
  const s2 = server();
  s2.batches.hold('in_progress');
  writeFileSync(file, `${readFileSync(file, 'utf8')}${JSON.stringify({ id: 9, text: 'new one' })}\n`);
  const ac2 = new AbortController();
  const again = llmEntries(env).label.prepare(p.options).batch?.run(quietContext(ac2.signal));
  await until(() => s2.batches.list().length === 2);
  ac2.abort();
  await assert.rejects(again ?? Promise.resolve(), (err: Error) => err.name === 'AbortError');
  const why: string[] = [];
  assert.deepEqual(
    pendingBatchJobs(file, (job, w) => why.push(w)),
    [],
  );
  assert.equal(why.length, 1);
});

test('several judges as a batch: one batch job per judge, their verdicts side by side', async () => {
  const file = dataset(4);
  const summary = await llmEntries({ apiKey: () => undefined })
    .judge.prepare({
      input: file,
      inPlace: true,
      baseURL: server().baseURL,
      model: 'a',
      judgeModels: ['a', 'b'],
      noCache: true,
    })
    .batch?.run(quietContext());
  assert.equal(summary?.ok, 8);
  assert.equal(summary.parts?.length, 2);
  assert.equal(summary.batch?.batches.length, 2);
  assert.equal(summary.batch.journals.length, 2);
  assert.equal(server().batches.list().length, 2);
  assert.ok(readJsonl(file).every((r: { judges?: unknown[] }) => r.judges?.length === 2));
});
