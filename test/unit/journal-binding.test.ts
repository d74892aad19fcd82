// The journal's binding to record content (issue 14) in the jobs that are not the CLI's annotate:
// a generation job (its output is written from the journal) resumed after its input changed, the
// runner's journal format (an entry carries its record's key; an older journal is never applied by
// line number), and identical records sharing one answer.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readJournal } from '../../src/core/jobs/journal';
import { journalPathFor, runJob } from '../../src/core/jobs/runner';
import { openJobTarget, StoreRecordSource, StoreResultSink } from '../../src/core/jobs/store-io';
import { LlmClient } from '../../src/core/llm/client';
import { createTask, LabelOptions } from '../../src/core/llm/tasks';
import { quietContext } from '../../src/core/operation';
import { GenerateCancelledError, InstructionsOptions, ResponsesOptions, synthOperations } from '../../src/core/synth';
import { synthResponder } from '../support/synth-responder';
import { lastUserText, type ChatBody, type OpenAITestServer } from '../support/openai-server';
import { readJsonl as read, useLoopbackServer } from './helpers/llm';

const loopback = useLoopbackServer('dc-binding-');
const server = (): OpenAITestServer => loopback.server();

function write(file: string, lines: unknown[]): void {
  writeFileSync(`${file}.w`, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  renameSync(`${file}.w`, file);
}

test('a generation job cancelled, its input changed (a line removed, one edited, one added), resumed: one output record per input record, each generated from its own prompt', async () => {
  const dir = loopback.dir();
  const input = join(dir, 'prompts.jsonl');
  const prompts = Array.from({ length: 12 }, (_, i) => ({ id: i, prompt: `Question number ${i}` }));
  write(input, prompts);
  const ctl = new AbortController();
  let asked = 0;
  server().latencyMs = 5;
  server().respond = (req) => {
    if (++asked === 6) ctl.abort();
    return { content: `answer to: ${lastUserText(req.body as ChatBody)}` };
  };
  const ops = synthOperations({ apiKey: () => 'sk-test' });
  const o = ResponsesOptions.parse({
    input,
    output: join(dir, 'out.jsonl'),
    baseURL: server().baseURL,
    model: 'gen',
    noCache: true,
    concurrency: 2,
  });
  await assert.rejects(ops.responses.run(o, quietContext(ctl.signal)), GenerateCancelledError);
  // Another program changes the input: the first prompt removed, one edited, one added at the top.
  const now = [{ id: 'new', prompt: 'A question added in between' }, ...prompts.slice(1)];
  now[3] = { id: 3, prompt: 'Question number 3, rewritten' };
  write(input, now);
  const s = await ops.responses.run(o, quietContext());
  assert.equal(s.failed.length, 0);
  assert.ok(s.resumed >= 2, `${s.resumed} from the journal`);
  const out = read(o.output);
  assert.deepEqual(
    out.map((r) => r.id),
    now.map((r) => r.id),
    'one record per input record, in input order',
  );
  for (const r of out) assert.equal(r.response, `answer to: ${r.prompt}`, `${r.id}: generated from its own prompt`);
});

async function labelJob(dir: string, lines: unknown[]) {
  const file = join(dir, 'd.jsonl');
  write(file, lines);
  const client = new LlmClient({ baseURL: server().baseURL, apiKey: 'k', model: 'm', concurrency: 2, timeoutMs: 5000 });
  const task = createTask(
    'label',
    LabelOptions.parse({ input: file, baseURL: server().baseURL, model: 'm', labels: ['pos', 'neg'] }),
    { client },
  );
  const journalDir = `${file}.curator-journal`;
  const run = async (opts: { keepJournal?: boolean } = {}) => {
    const ds = await openJobTarget(file);
    try {
      return await runJob({
        jobId: 'j',
        journalDir,
        task,
        source: new StoreRecordSource(ds),
        sink: new StoreResultSink(ds),
        concurrency: 2,
        ...opts,
      });
    } finally {
      ds.close();
    }
  };
  return { file, journalDir, task, run, close: () => client.close() };
}

test('journal entries carry the key of the record they were computed from; a record identical to one an earlier run did takes its answer', async () => {
  const dir = loopback.dir();
  server().respond = (req) => ({
    content: JSON.stringify({ label: 'pos', confidence: 0.5, rationale: `for: ${lastUserText(req.body as ChatBody)}` }),
  });
  const same = { text: 'the same words' };
  const job = await labelJob(dir, [same, { text: 'other words' }, same]);
  const s = await job.run({ keepJournal: true });
  assert.equal(s.ok, 3);
  const j = readJournal(journalPathFor(job.journalDir, 'j'));
  assert.equal(j.header?.version, 2);
  const entries = [...j.records.values()];
  assert.ok(entries.every((e) => typeof e.key === 'string' && e.key.startsWith('k2:')));
  assert.equal(new Set(entries.map((e) => e.key)).size, 2, 'the identical records have one key');
  // Two more copies of the record at the end: the next run answers them from the journal.
  const lines = readFileSync(job.file, 'utf8');
  writeFileSync(job.file, `${lines}${JSON.stringify(same)}\n${JSON.stringify(same)}\n`);
  const asked = server().counts.chat;
  const again = await job.run();
  job.close();
  assert.equal(server().counts.chat, asked, 'no request');
  assert.equal(again.resumed, 5);
  const out = read(job.file);
  assert.equal(out.length, 5);
  // (the journal's latest answer for that content: the one record 3 got)
  for (const k of [3, 4]) assert.deepEqual(out[k]!.annotations, out[2]!.annotations);
});

test('a journal of the older format (bound to line numbers) is never applied: it is set aside and the records are done again', async () => {
  const dir = loopback.dir();
  server().respond = (req) => ({
    content: JSON.stringify({ label: 'neg', confidence: 0.5, rationale: `for: ${lastUserText(req.body as ChatBody)}` }),
  });
  const job = await labelJob(dir, [{ text: 'a' }, { text: 'b' }]);
  // A version-1 journal that says line 1 was answered "pos" with a rationale about another record.
  mkdirSync(job.journalDir, { recursive: true });
  const v1 = journalPathFor(job.journalDir, 'j');
  const result = {
    task: 'label',
    question: 'label',
    value: 'pos',
    confidence: 0.9,
    rationale: 'about a record that was here before',
    provenance: {
      model: 'm',
      prompt_hash: job.task.promptHash,
      time: 't',
      usage: { input_tokens: 1, output_tokens: 1 },
    },
  };
  writeFileSync(
    v1,
    `${JSON.stringify({ type: 'header', version: 1, job: 'j', task: 'label', model: 'm', prompt_hash: job.task.promptHash, created: 't' })}\n` +
      `${JSON.stringify({ type: 'record', i: 0, line: 1, status: 'ok', cached: false, result })}\n`,
  );
  const s = await job.run();
  job.close();
  assert.equal(s.resumed, 0);
  assert.equal(s.requests, 2);
  const out = read(job.file);
  assert.ok(
    out.every((r) => r.label === 'neg' && !JSON.stringify(r).includes('a record that was here before')),
    'nothing of the old journal was applied',
  );
  assert.ok(
    readdirSync(job.journalDir).some((f) => /^j\.jsonl\.v1-\d+$/.test(f)),
    'the old journal is kept aside',
  );
  assert.ok(!existsSync(v1) || readFileSync(v1, 'utf8').includes('"version":2'));
});

test('an instructions job whose seeds changed since its journal was written starts over (the journal is set aside, not resumed)', async () => {
  const dir = loopback.dir();
  const seeds = join(dir, 'seeds.jsonl');
  const texts = [
    'Write a haiku about autumn leaves',
    'Explain weather and climate to a child',
    'List five uses of baking soda',
    'Summarize Romeo and Juliet in three sentences',
  ];
  write(
    seeds,
    texts.map((instruction) => ({ instruction })),
  );
  const synth = synthResponder();
  const ctl = new AbortController();
  let asked = 0;
  server().respond = (req) => {
    if (++asked === 6) ctl.abort();
    return synth(req);
  };
  const ops = synthOperations({ apiKey: () => 'sk-test' });
  const o = InstructionsOptions.parse({
    input: seeds,
    output: join(dir, 'out.jsonl'),
    baseURL: server().baseURL,
    model: 'gen',
    noCache: true,
    target: 40,
    requestsPerRound: 2,
    concurrency: 1,
  });
  await assert.rejects(ops.instructions.run(o, quietContext(ctl.signal)), GenerateCancelledError);
  // Unchanged seeds resume (checked by synth-instructions.test.ts); here a seed is edited.
  write(seeds, [
    { instruction: 'Describe how a bill becomes a law' },
    ...texts.slice(1).map((instruction) => ({ instruction })),
  ]);
  const logs: string[] = [];
  const s = await ops.instructions.run(o, { ...quietContext(), log: (l) => logs.push(l) });
  assert.equal(s.resumed, 0, 'nothing drawn from the old seeds is resumed');
  assert.ok(
    logs.some((l) => /the seed instructions changed since the journal/.test(l)),
    logs.join('\n'),
  );
  assert.ok(
    readdirSync(`${o.output}.curator-journal`).some((f) => f.includes('.seeds-changed-')),
    'the old journal is kept aside',
  );
});

test('--out over a changed input: the output is edited into a copy of the input; kept records byte for byte, odd bytes of the input carried as they are', async () => {
  const dir = loopback.dir();
  const input = join(dir, 'in.jsonl');
  const out = join(dir, 'out.jsonl');
  const bad = Buffer.from([0x7b, 0x22, 0x78, 0x22, 0x3a, 0xff, 0xfe, 0x7d]); // {"x":<FF FE>} (not UTF-8, not JSON)
  const rec = (id: number) => JSON.stringify({ id, text: `t${id}` });
  writeFileSync(input, `${[0, 1, 2, 3, 4].map(rec).join('\n')}\n`);
  // The output: the same records with results, written in its own style (spaces), and a line of its own.
  const annotated = (id: number) => `{ "id": ${id}, "text": "t${id}", "label": "L${id}" }`;
  writeFileSync(out, `${[0, 1, 2, 3, 4].map(annotated).join('\n')}\n`);
  // The input now: record 4 moved to the top, 2 removed, a new one, and a line of odd bytes.
  writeFileSync(
    input,
    Buffer.concat([Buffer.from(`${rec(4)}\n${rec(0)}\n${rec(1)}\n${rec(3)}\n${rec(9)}\n`), bad, Buffer.from('\n')]),
  );
  const logs: string[] = [];
  const ds = await openJobTarget(input, out, { log: (l) => logs.push(l) });
  ds.close();
  const expected = Buffer.concat([
    Buffer.from(`${annotated(4)}\n${annotated(0)}\n${annotated(1)}\n${annotated(3)}\n${rec(9)}\n`),
    bad,
    Buffer.from('\n'),
  ]);
  assert.ok(readFileSync(out).equals(expected), `the output:\n${readFileSync(out, 'utf8')}`);
  assert.match(
    logs.join('\n'),
    /4 record\(s\) keep their results \(3 at another line\), 2 new or changed record\(s\) are done again, 1 output record\(s\) without an input record left out/,
  );
  // A copy of the input as it is now: opened as it is, no second rebuild.
  const again = await openJobTarget(input, out, { log: (l) => logs.push(l) });
  again.close();
  assert.equal(logs.length, 1);
  assert.ok(readFileSync(out).equals(expected));
});
