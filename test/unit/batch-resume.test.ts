// Resuming a generation's batch job from the options beside its journals (issue 16): what VS Code
// does on activation (src/extension/batchJobs.ts resume): pendingBatchJobs finds the job (one job
// for its several models' batch journals), and the registry's batch mode run with those options
// polls the batches already out, writes the output the online run writes, and creates no second
// batch for the same requests.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pendingBatchJobs } from '../../src/core/llm/batch/operation';
import { quietContext } from '../../src/core/operation';
import { generateEntries } from '../../src/core/registry';
import { lastUserText, type ChatBody } from '../support/openai-server';
import { synthResponder } from '../support/synth-responder';
import { useLoopbackServer, readJsonlContent, onePendingBatchJob } from './helpers/llm';
import { curateAsync } from './helpers/store';

const { server, dir } = useLoopbackServer('dc-batch-resume-');

const entries = generateEntries({ apiKey: () => 'sk-gen' });
const poll = { initialMs: 5, maxMs: 20 };

const content = (p: string) => readJsonlContent(p);

test('a generation stopped while its batches ran is found with its options and resumed: the same batches, the online output', async () => {
  const s = server();
  const judge = synthResponder();
  s.respond = (req) => {
    const chat = req.body as ChatBody;
    if (chat.response_format) return judge(req);
    const k = chat.seed ?? 0;
    return { content: `answer ${k} by ${chat.model} to ${lastUserText(chat).slice(0, 20)} rating=${[3, 8][k % 2]}` };
  };
  const input = join(dir(), 'prompts.jsonl');
  writeFileSync(
    input,
    `${[{ prompt: 'Name a prime number' }, { question: 'Why is the sky blue?' }].map((x) => JSON.stringify(x)).join('\n')}\n`,
  );
  const o = (output: string): Record<string, unknown> => ({
    input,
    output: join(dir(), output),
    baseURL: s.baseURL,
    model: 'gen-model',
    noCache: true,
    models: ['ma', 'mb'],
    judgeModel: 'judge-m',
    candidates: 2,
  });
  const online = await entries.preferences.prepare(o('online.jsonl')).run(quietContext());
  assert.ok(online.records > 0);

  // run as a batch, stopped while its first round's batches are polled (a window closed)
  s.batches.hold('in_progress');
  const ac = new AbortController();
  const first = entries.preferences.prepare(o('batch.jsonl')).batch?.run(quietContext(ac.signal), { poll });
  assert.ok(first, 'generate preferences has a batch mode');
  for (let i = 0; i < 2000 && !s.requests.some((r) => r.method === 'GET' && r.path.startsWith('/v1/batches/')); i++)
    await new Promise((r) => setTimeout(r, 10));
  ac.abort();
  await assert.rejects(first, (err: Error) => err.name === 'AbortError');
  assert.equal(s.batches.list().length, 2, 'the candidates of ma and of mb');

  // what activation finds: one job (its two models' batch journals), with its options
  const out = join(dir(), 'batch.jsonl');
  const job = onePendingBatchJob(out);
  assert.equal(job.task, 'generate-preferences');
  assert.equal(job.baseURL, s.baseURL);
  assert.equal(job.options.output, out);
  assert.deepEqual(job.options.models, ['ma', 'mb']);
  const file = readFileSync(join(`${out}.curator-journal`, `${job.job}.batch.op.json`), 'utf8');
  assert.ok(!file.includes('sk-gen'), 'no API key in the options');

  // resumed as batchJobs.ts does: the registry's entry, its batch mode, the options from the file
  s.batches.release();
  const resumed = entries.preferences.prepare(job.options).batch;
  assert.ok(resumed);
  const r = await resumed.run(quietContext(), { poll });
  assert.equal(r.jobId, job.job);
  assert.equal(s.requests.filter((x) => x.method === 'POST' && x.path === '/v1/batches').length, 3);
  assert.equal(r.batch?.batchesCreated, 1, 'only the judge`s batch by the resumed run');
  assert.equal(r.records, online.records);
  assert.deepEqual(content(out), content(join(dir(), 'online.jsonl')));
  assert.deepEqual(pendingBatchJobs(out), [], 'nothing left to resume');
});

test('a generation stopped between two rounds (the candidates` batch applied, the judge`s not created) is found and resumed: no batch twice, the online output', async () => {
  const s = server();
  const judge = synthResponder();
  s.respond = (req) => {
    const chat = req.body as ChatBody;
    if (chat.response_format) return judge(req);
    const k = chat.seed ?? 0;
    return { content: `answer ${k} by ${chat.model} to ${lastUserText(chat).slice(0, 20)} rating=${[3, 8][k % 2]}` };
  };
  const input = join(dir(), 'rounds.jsonl');
  writeFileSync(
    input,
    `${[{ prompt: 'Name a prime number' }, { question: 'Why is the sky blue?' }].map((x) => JSON.stringify(x)).join('\n')}\n`,
  );
  const o = (output: string): Record<string, unknown> => ({
    input,
    output: join(dir(), output),
    baseURL: s.baseURL,
    model: 'gen-model',
    noCache: true,
    judgeModel: 'judge-m',
    candidates: 2,
  });
  const online = await entries.preferences.prepare(o('rounds-online.jsonl')).run(quietContext());
  assert.ok(online.records > 0);
  const batchesCreated = () => s.requests.filter((x) => x.method === 'POST' && x.path === '/v1/batches').length;

  // run as a batch, stopped the moment round 2 (the judge) begins: round 1's batch (the
  // candidates) is applied and ended, the judge's batch not built (VS Code closed right then)
  const ac = new AbortController();
  const log = (line: string): void => {
    if (/^batch round 2\b/.test(line)) ac.abort();
  };
  const first = entries.preferences
    .prepare(o('rounds-batch.jsonl'))
    .batch?.run({ ...quietContext(ac.signal), log }, { poll });
  assert.ok(first);
  await assert.rejects(first, (err: Error) => err.name === 'AbortError' || err.name === 'GenerateCancelledError');
  assert.equal(batchesCreated(), 1, 'the candidates` batch only');

  // what activation finds: the job, with its options, though none of its journals has a part left
  const out = join(dir(), 'rounds-batch.jsonl');
  const job = onePendingBatchJob(out, 'the job stopped between its rounds is pending');
  assert.equal(job.task, 'generate-preferences');
  assert.equal(job.options.output, out);

  // what `curate batch status` says of it: not done, stopped between its rounds
  const between = await curateAsync(['batch', 'status', out]);
  assert.equal(between.code, 0, between.err);
  assert.match(between.out, /~gen-model-\w+ \(gen-model\): stopped between two rounds, the next one not sent/);
  assert.match(between.out, /~judge-m-\w+ \(judge-m\): no batch sent yet/);
  assert.doesNotMatch(between.out, /: done\n/);
  const betweenJson = JSON.parse((await curateAsync(['batch', 'status', out, '--json'])).out) as {
    betweenRounds: boolean;
  }[];
  assert.deepEqual(
    betweenJson.map((j) => j.betweenRounds),
    [true, false],
  );

  // resumed as batchJobs.ts does: the judge's batch only, the candidates' answers replayed
  const resumed = entries.preferences.prepare(job.options).batch;
  assert.ok(resumed);
  const r = await resumed.run(quietContext(), { poll });
  assert.equal(r.batch?.batchesCreated, 1, 'only the judge`s batch by the resumed run');
  assert.equal(batchesCreated(), 2, 'no batch sent twice');
  assert.equal(r.records, online.records);
  assert.deepEqual(content(out), content(join(dir(), 'rounds-online.jsonl')));
  assert.deepEqual(pendingBatchJobs(out), [], 'nothing left to resume once it is done');
  const done = await curateAsync(['batch', 'status', out]);
  assert.doesNotMatch(done.out, /between two rounds/);
  assert.match(done.out, /: done\n/);
});
