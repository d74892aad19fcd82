// The question tasks without a batch form of their own (multi-label, rating, ranking, spans, and
// their self-consistency) as Batch API jobs by their requests (src/core/llm/batch/answers.ts via
// operation.ts): the records the online run gives on the same deterministic server, no online
// request, the job's own batch journal (what a face resumes), and `curate label --rating --batch`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { JobSummary } from '../../src/core/jobs/runner';
import { pendingBatchJobs } from '../../src/core/llm/batch/operation';
import { quietContext } from '../../src/core/operation';
import { llmEntries } from '../../src/core/registry';
import { readJsonl, readJsonlContent, useLoopbackServer } from './helpers/llm';
import { root } from './helpers/store';

const { server, dir } = useLoopbackServer('dc-batch-questions-');

function dataset(name: string): string {
  const p = join(dir(), name);
  const rows = ['a calm sea', 'a storm at night', 'fog over the bay', 'sun on the dunes'].map((text, id) => ({
    id,
    text,
    options: [`${text} (short)`, `${text} (long)`, `${text} (plain)`],
  }));
  writeFileSync(p, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return p;
}

const env = { apiKey: () => 'sk-q' };

const content = (file: string): unknown[] => readJsonlContent(file, ['time', 'at']);

const QUESTIONS: Array<[string, 'label' | 'consistency', Record<string, unknown>]> = [
  ['multi-label', 'label', { question: 'topics', questionType: 'multi-label', labels: ['sea', 'weather', 'light'] }],
  ['rating', 'label', { question: 'stars', questionType: 'rating', scale: [1, 5] }],
  ['ranking', 'label', { question: 'order', questionType: 'ranking', questionField: 'options' }],
  ['rating, self-consistency', 'consistency', { question: 'stars', questionType: 'rating', scale: [1, 5], k: 3 }],
];

for (const [name, task, q] of QUESTIONS)
  test(`a ${name} question as a batch: the online run's answers, no online request`, async () => {
    const a = dataset('online.jsonl');
    const b = join(dir(), 'batch.jsonl');
    copyFileSync(a, b);
    const raw = (input: string): Record<string, unknown> => ({
      input,
      inPlace: true,
      baseURL: server().baseURL,
      model: 'm',
      noCache: true,
      seed: 3,
      ...q,
    });
    const on = await llmEntries(env)[task].prepare(raw(a)).run(quietContext());
    assert.ok(on.ok > 0);
    const before = server().counts.chat;
    const batch = llmEntries(env)[task].prepare(raw(b)).batch;
    assert.ok(batch);
    const s: JobSummary = await batch.run(quietContext(), { poll: { initialMs: 5, maxMs: 20 } });
    // the same answers, and the same failures (an invalid answer, its repair request, still invalid)
    assert.equal(s.ok, on.ok);
    assert.deepEqual(
      s.failed.map((f) => [f.line, f.reason]),
      on.failed.map((f) => [f.line, f.reason]),
    );
    assert.equal(server().counts.chat, before, 'no online request');
    assert.equal(s.batch?.requests, on.requests);
    assert.ok(s.batch.journals[0]?.endsWith(`${s.jobId}.batch.jsonl`), 'the job`s own batch journal');
    assert.ok(existsSync(s.batch.journals[0] as string));
    assert.deepEqual(content(b), content(a));
    assert.deepEqual(pendingBatchJobs(b), [], 'nothing left to resume');
    // a repair request is the next round of batches
    if (on.failed.length > 0) assert.equal(s.batch.batches.length, 2, 'the answers, then the repair requests');
  });

test('curate label --question stars --rating 1-5 --batch: every record rated through the batch', async () => {
  const file = dataset('cli.jsonl');
  const args = [
    'label',
    file,
    '--question',
    'stars',
    '--rating',
    '1-5',
    '--base-url',
    server().baseURL,
    '--model',
    'm',
  ];
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args, '--no-cache', '--in-place', '--yes', '--batch'],
    { cwd: root, env: { ...process.env, NODE_OPTIONS: '', OPENAI_API_KEY: 'sk-q' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  assert.equal(code, 0, err);
  assert.match(out, /^label: 4 ok, 0 failed/m);
  assert.match(out, /batch: 4 request\(s\) in 1 batch\(es\)/);
  assert.equal(server().counts.chat, 0);
  assert.equal(server().batches.list().length, 1);
  assert.equal(readJsonl(file).filter((r) => JSON.stringify(r).includes('"stars"')).length, 4);
});
