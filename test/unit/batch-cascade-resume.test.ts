// Resuming a label cascade run as a batch from the options beside its stage journals (issue 16):
// what VS Code does on activation (src/extension/batchJobs.ts resume). pendingBatchJobs finds the
// cascade once (not once per stage) with its options (`cascade`, no API key), and the registry's
// label batch mode run with them polls stage 1's batch already out (no second one), runs stage 2
// on the records stage 1 was unsure of, and writes what an uninterrupted cascade batch run writes.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pendingBatchJobs } from '../../src/core/llm/batch/operation';
import { quietContext } from '../../src/core/operation';
import { llmEntries } from '../../src/core/registry';
import { lastUserText, type ChatBody } from '../support/openai-server';
import { useLoopbackServer, readJsonlContent, onePendingBatchJob } from './helpers/llm';

const { server, dir } = useLoopbackServer('dc-batch-cascade-resume-');

const entries = llmEntries({ apiKey: () => 'sk-cascade' });
const poll = { initialMs: 5, maxMs: 20 };

const content = (p: string) => readJsonlContent(p);

/**
 * The test server answering as two models (small is sure of the even items, large of items 1
 * and 5), a maker of 8-item files, and the cascade's label options for a file.
 */
function cascadeSetup(): {
  s: ReturnType<typeof server>;
  file: (name: string) => string;
  o: (input: string) => Record<string, unknown>;
} {
  const s = server();
  s.respond = (req) => {
    const body = req.body as ChatBody;
    const i = Number(/item (\d+)/.exec(lastUserText(body))?.[1]);
    const small = body.model === 'small';
    const confidence = small ? (i % 2 === 0 ? 0.95 : 0.4) : i % 4 === 1 ? 0.9 : 0.5;
    return {
      content: JSON.stringify({ label: small ? 'good' : 'bad', confidence, rationale: `${body.model} on ${i}` }),
    };
  };
  const file = (name: string): string => {
    const f = join(dir(), name);
    writeFileSync(
      f,
      `${Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: i, text: `item ${i}` })).join('\n')}\n`,
    );
    return f;
  };
  const o = (input: string): Record<string, unknown> => ({
    input,
    output: input.replace(/\.jsonl$/, '.out.jsonl'),
    baseURL: s.baseURL,
    model: 'small',
    noCache: true,
    labels: ['good', 'bad'],
    cascade: ['small', 'large'],
    escalateBelow: 0.8,
  });
  return { s, file, o };
}

const created = (): number => server().requests.filter((x) => x.method === 'POST' && x.path === '/v1/batches').length;

test('a cascade batch stopped while stage 1 was pending is found once with its options and resumed: no second stage-1 batch, stage 2 on the unsure records, the same file', async () => {
  const { s, file, o } = cascadeSetup();
  const batchOf = (input: string) => {
    const b = entries.label.prepare(o(input)).batch;
    assert.ok(b, 'label has a batch mode');
    return b;
  };

  // uninterrupted: what the resumed run must write
  const whole = file('whole.jsonl');
  const w = await batchOf(whole).run(quietContext(), { poll });
  assert.deepEqual(
    w.cascade?.stages.map((x) => x.records),
    [8, 4],
  );
  const before = created();
  assert.equal(before, 2);

  // stopped while stage 1's batch is pending (VS Code closed)
  const data = file('data.jsonl');
  const out = join(dir(), 'data.out.jsonl');
  s.batches.hold('in_progress');
  const ac = new AbortController();
  const first = batchOf(data).run(quietContext(ac.signal), { poll });
  for (let i = 0; i < 2000 && created() === before; i++) await new Promise((r) => setTimeout(r, 10));
  ac.abort();
  await assert.rejects(first, (err: Error) => err.name === 'AbortError' || err.name === 'JobCancelledError');
  assert.equal(created(), before + 1, 'stage 1`s batch only');

  // what activation finds: the cascade once, with its options
  const job = onePendingBatchJob(out);
  assert.equal(job.task, 'label');
  assert.deepEqual(job.options.cascade, ['small', 'large']);
  assert.equal(job.options.escalateBelow, 0.8);
  assert.match(job.journal, /\.stage1\.batch\.jsonl$/);
  const opts = readFileSync(join(`${out}.curator-journal`, `${job.job}.batch.op.json`), 'utf8');
  assert.ok(!opts.includes('sk-cascade'), 'no API key in the options');

  // resumed as batchJobs.ts does: the registry's label entry, its batch mode, the options from the file
  s.batches.release();
  const resumed = entries.label.prepare(job.options).batch;
  assert.ok(resumed);
  const r = await resumed.run(quietContext(), { poll });
  assert.equal(created(), before + 2, 'no second stage-1 batch: only stage 2`s');
  assert.deepEqual(
    r.cascade?.stages.map((x) => [x.records, x.accepted]),
    [
      [8, 4],
      [4, 2],
    ],
  );
  assert.equal(r.cascade.review, 2);
  assert.equal(job.options.output, out);
  assert.deepEqual(content(out), content(join(dir(), 'whole.out.jsonl')));
  assert.deepEqual(pendingBatchJobs(out), [], 'nothing left to resume');
});

test('a cascade batch stopped between its stages (stage 1 applied, stage 2`s batch not created) is found and resumed: no batch twice, the same file', async () => {
  const { file, o } = cascadeSetup();
  const whole = file('between-whole.jsonl');
  await entries.label.prepare(o(whole)).batch?.run(quietContext(), { poll });
  const before = created();
  assert.equal(before, 2);

  // stopped the moment stage 2 begins: stage 1's batch applied and ended, stage 2's not built
  const data = file('between.jsonl');
  const out = join(dir(), 'between.out.jsonl');
  const ac = new AbortController();
  const log = (line: string): void => {
    if (/^cascade stage 2 of 2/.test(line)) ac.abort();
  };
  const first = entries.label.prepare(o(data)).batch?.run({ ...quietContext(ac.signal), log }, { poll });
  await assert.rejects(
    first ?? Promise.resolve(),
    (err: Error) => err.name === 'AbortError' || err.name === 'JobCancelledError',
  );
  assert.equal(created(), before + 1, 'stage 1`s batch only');

  const jobs = pendingBatchJobs(out);
  assert.equal(jobs.length, 1, 'the cascade stopped between its stages is pending');
  const [job] = jobs;
  assert.ok(job);
  assert.deepEqual(job.options.cascade, ['small', 'large']);

  const r = await entries.label.prepare(job.options).batch?.run(quietContext(), { poll });
  assert.equal(created(), before + 2, 'stage 2`s batch only: no batch twice');
  assert.deepEqual(
    r?.cascade?.stages.map((x) => [x.records, x.accepted]),
    [
      [8, 4],
      [4, 2],
    ],
  );
  assert.deepEqual(content(out), content(join(dir(), 'between-whole.out.jsonl')));
  assert.deepEqual(pendingBatchJobs(out), [], 'nothing left to resume');
});

// Which labels are the cascade's own (a later stage may replace them) is bound to the records'
// content, not to their line numbers: a record a person adds at the top of the file between two
// stages moves every other one down a line.
test('a cascade resumed after a labeled record was added above the others between its stages: the person`s label kept, the others as an uninterrupted run', async () => {
  const { file, o } = cascadeSetup();
  const whole = file('moved-whole.jsonl');
  await entries.label.prepare(o(whole)).batch?.run(quietContext(), { poll });

  const data = file('moved.jsonl');
  const out = join(dir(), 'moved.out.jsonl');
  const ac = new AbortController();
  const log = (line: string): void => {
    if (/^cascade stage 2 of 2/.test(line)) ac.abort();
  };
  await assert.rejects(
    entries.label.prepare(o(data)).batch?.run({ ...quietContext(ac.signal), log }, { poll }) ?? Promise.resolve(),
    (err: Error) => err.name === 'AbortError' || err.name === 'JobCancelledError',
  );
  const cascadeFile = readdirSync(`${out}.curator-journal`).find((n) => n.endsWith('.cascade.json'));
  assert.ok(cascadeFile, 'the records without a label at the start are kept beside the journals');
  const kept = readFileSync(join(`${out}.curator-journal`, cascadeFile), 'utf8');
  assert.doesNotMatch(kept, /"unlabeled"/, 'as content keys, not line numbers');

  // a person adds a record of their own, labeled, at the top of the input (the small model is
  // unsure of item 9 and the large one sure of it: it goes to stage 2, which must not replace the
  // person's label)
  writeFileSync(data, `${JSON.stringify({ id: 9, text: 'item 9', label: 'good' })}\n${readFileSync(data, 'utf8')}`);

  const [job] = pendingBatchJobs(out);
  assert.ok(job);
  await entries.label.prepare(job.options).batch?.run(quietContext(), { poll });
  const got = content(out) as Record<string, unknown>[];
  assert.equal(got[0]?.label, 'good', 'the person`s label');
  assert.deepEqual(
    got.slice(1),
    content(join(dir(), 'moved-whole.out.jsonl')),
    'every other record as the uninterrupted run',
  );
  assert.deepEqual(pendingBatchJobs(out), [], 'nothing left to resume');
});
