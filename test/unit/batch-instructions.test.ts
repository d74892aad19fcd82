// Self-instruct as a Batch API job (issue 16): each round's requests are one batch built from the
// pool at the round's start; the answers are decided in request order against the pool as online,
// so the output is the online run's on the deterministic loopback server. Stopped while a round's
// batch runs, the job is found with its options (as VS Code does on activation) and run again:
// the same round's batch is polled, not sent again, and nothing written before is written twice.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pendingBatchJobs } from '../../src/core/llm/batch/operation';
import { quietContext, type OperationContext } from '../../src/core/operation';
import { generateEntries } from '../../src/core/registry';
import { rougeL } from '../../src/core/synth/similarity';
import { synthResponder } from '../support/synth-responder';
import { readJsonl, useLoopbackServer, readJsonlContent } from './helpers/llm';

const { server, dir } = useLoopbackServer('dc-batch-instructions-');
const entries = generateEntries({ apiKey: () => 'sk-gen' });
const poll = { initialMs: 5, maxMs: 20 };

const SEEDS = [
  'Write a haiku about autumn leaves falling in the park',
  'Explain the difference between weather and climate to a child',
  'List five practical uses of baking soda around the house',
  'Summarize the plot of Romeo and Juliet in three sentences',
];

function seeds(): string {
  const p = join(dir(), 'seeds.jsonl');
  writeFileSync(p, `${SEEDS.map((instruction) => JSON.stringify({ instruction })).join('\n')}\n`);
  return p;
}

const options = (output: string): Record<string, unknown> => ({
  input: seeds(),
  output: join(dir(), output),
  baseURL: server().baseURL,
  model: 'gen-model',
  noCache: true,
  target: 20,
  perRequest: 4,
  requestsPerRound: 3,
  demonstrations: 3,
  generatedDemonstrations: 1,
});

const content = (p: string) => readJsonlContent(p, ['time', 'job']);

/** Every kept instruction is below the similarity threshold against the seeds and the ones kept before it. */
function novelAgainstPool(path: string): void {
  const pool = [...SEEDS];
  for (const r of readJsonl(path)) {
    const text = r.instruction as string;
    for (const p of pool) assert.ok(rougeL(text, p) < 0.7, `"${text}" is too close to "${p}"`);
    pool.push(text);
  }
}

test('generate instructions as a batch: one batch a round from the grown pool, the online run`s output', async () => {
  const s = server();
  s.respond = synthResponder({ copyShare: 0.4 });
  const online = await entries.instructions.prepare(options('online.jsonl')).run(quietContext());
  assert.equal(online.records, 20);
  const rounds = online.instructions?.rounds ?? 0;
  assert.ok(rounds >= 2, `${rounds} rounds`);
  assert.ok((online.instructions?.rejectedBy.similar ?? 0) > 0, 'near-copies were rejected');

  const before = s.counts.chat;
  const b = entries.instructions.prepare(options('batch.jsonl')).batch;
  assert.ok(b, 'generate instructions has a batch mode');
  const r = await b.run(quietContext(), { poll });
  assert.equal(s.counts.chat, before, 'no online request');
  assert.equal(r.records, 20);
  assert.equal(r.stop.reason, 'target');
  assert.equal(r.instructions?.rounds, rounds);
  // one batch a round, of the round's requests
  assert.deepEqual(
    s.batches.list().map((x) => x.request_counts.total),
    Array.from({ length: rounds }, () => 3),
  );
  assert.equal(r.batch?.batchesCreated, rounds);
  assert.equal(r.batch.rounds, rounds);
  assert.deepEqual(content(join(dir(), 'batch.jsonl')), content(join(dir(), 'online.jsonl')));
  novelAgainstPool(join(dir(), 'batch.jsonl'));
  // the estimate: the online one at half the price
  const p = entries.instructions.prepare({ ...options('e.jsonl'), pricePerMillionInputTokens: 2 });
  const signal = new AbortController().signal;
  const [eo, eb] = [await p.estimate({ signal }), await p.batch?.estimate({ signal })];
  assert.ok(eo?.cost && eb?.cost !== undefined);
  assert.ok(Math.abs(eb.cost * 2 - eo.cost) < 1e-9);
});

test('stopped while round 2`s batch runs, found with its options and run again: the same batch, nothing written twice', async () => {
  const s = server();
  s.respond = synthResponder({ copyShare: 0.4 });
  await entries.instructions.prepare(options('online.jsonl')).run(quietContext());
  const ac = new AbortController();
  const ctx: OperationContext = {
    ...quietContext(ac.signal),
    progress: (p) => {
      if (p.message?.startsWith('round 2 (batch)')) s.batches.hold('in_progress');
    },
  };
  const first = entries.instructions.prepare(options('batch.jsonl')).batch?.run(ctx, { poll });
  assert.ok(first);
  const round2Polled = (): boolean => {
    const id = s.batches.list()[1]?.id;
    return id !== undefined && s.requests.some((r) => r.method === 'GET' && r.path === `/v1/batches/${id}`);
  };
  for (let i = 0; i < 3000 && !round2Polled(); i++) await new Promise((r) => setTimeout(r, 10));
  ac.abort();
  await assert.rejects(first, (err: Error) => err.name === 'AbortError');
  assert.equal(s.batches.list().length, 2, 'round 1 done, round 2 out');
  const out = join(dir(), 'batch.jsonl');
  const written = readJsonl(out).length;
  assert.ok(written > 0, 'round 1`s instructions are written');

  // what VS Code finds on activation
  const jobs = pendingBatchJobs(out);
  assert.equal(jobs.length, 1);
  const [job] = jobs;
  assert.ok(job);
  assert.equal(job.task, 'generate-instructions');

  s.batches.release();
  const again = entries.instructions.prepare(job.options).batch;
  assert.ok(again);
  const r = await again.run(quietContext(), { poll });
  const posts = s.requests.filter((x) => x.method === 'POST' && x.path === '/v1/batches').length;
  assert.equal(posts, s.batches.list().length);
  assert.equal(r.batch?.batchesCreated, posts - 2, 'round 2`s batch not sent again');
  assert.equal(r.records, 20);
  assert.deepEqual(content(out), content(join(dir(), 'online.jsonl')));
  novelAgainstPool(out);
  assert.deepEqual(pendingBatchJobs(out), []);
});
