// A comparison of confidences run as a batch (`curate confidence --batch`, VS Code's "Compare
// Logprob Confidence with Self-Consistency (Batch)") stopped while its batch ran: its options are
// beside its journal, so pendingBatchJobs finds it as VS Code does on activation (batchJobs.ts
// resume), and the registry's batch mode run with them polls the batch already out (no second
// one) and gives the report an online run gives.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pendingBatchJobs } from '../../src/core/llm/batch/operation';
import { quietContext } from '../../src/core/operation';
import { confidenceEntry } from '../../src/core/registry';
import { lastUserText, type ChatBody } from '../support/openai-server';
import { useLoopbackServer, onePendingBatchJob } from './helpers/llm';

const { server, dir } = useLoopbackServer('dc-batch-confidence-resume-');
const poll = { initialMs: 5, maxMs: 20 };

test('a confidence comparison stopped while its batch ran is found with its options and resumed: the same batch, the online report', async () => {
  const s = server();
  s.respond = (req) => {
    const body = req.body as ChatBody & { logprobs?: boolean };
    const i = Number(/item (\d+)/.exec(lastUserText(body))?.[1]);
    const label = body.logprobs ? (i % 2 === 0 ? 'good' : 'bad') : (body.seed ?? 0) < 5 - (i % 3) ? 'good' : 'bad';
    return { content: JSON.stringify({ label, confidence: 0.9, rationale: `item ${i}` }) };
  };
  const file = join(dir(), 'data.jsonl');
  writeFileSync(
    file,
    `${Array.from({ length: 6 }, (_, i) => JSON.stringify({ id: i, text: `item ${i}` })).join('\n')}\n`,
  );
  const entry = confidenceEntry({ apiKey: () => 'sk-confidence' });
  const o = { input: file, baseURL: s.baseURL, model: 'm', labels: ['good', 'bad'], k: 5, noCache: true };
  const online = await entry.prepare(o).run(quietContext());

  // as a batch, stopped while its batch is polled (a window closed)
  s.batches.hold('in_progress');
  const ac = new AbortController();
  const first = entry.prepare(o).batch?.run(quietContext(ac.signal), { poll });
  assert.ok(first, 'the comparison has a batch mode');
  for (let i = 0; i < 2000 && !s.requests.some((r) => r.method === 'GET' && r.path.startsWith('/v1/batches/')); i++)
    await new Promise((r) => setTimeout(r, 10));
  ac.abort();
  await assert.rejects(first, (err: Error) => err.name === 'AbortError');
  assert.equal(s.batches.list().length, 1);

  const job = onePendingBatchJob(file);
  assert.equal(job.task, 'confidence');
  assert.equal(job.baseURL, s.baseURL);
  const saved = readFileSync(join(`${file}.curator-journal`, `${job.job}.batch.op.json`), 'utf8');
  assert.ok(!saved.includes('sk-confidence'), 'no API key in the options');

  s.batches.release();
  const resumed = entry.prepare(job.options).batch;
  assert.ok(resumed);
  const report = await resumed.run(quietContext(), { poll });
  assert.equal(s.batches.list().length, 1, 'the same batch, no second one');
  assert.deepEqual(report.rows, online.rows);
  assert.deepEqual(report.comparison, online.comparison);
  assert.deepEqual(pendingBatchJobs(file), [], 'nothing left to resume');
});
