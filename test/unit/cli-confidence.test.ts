// `curate confidence FILE --labels a,b --samples 5` (src/cli/main.ts under tsx) against the loopback
// server, which serves logprobs: every record labeled once with logprob confidence and five times
// by self-consistency (answers chosen per record and sample, so the majority and its agreement are
// known), the comparison printed and in --json; the file is not touched; run again, all cached.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareConfidences, type ConfidenceComparison } from '../../src/core/llm/batch/logprobs';
import type { ConfidenceReport } from '../../src/core/llm/batch/compare-run';
import { lastUserText, type ChatBody } from '../support/openai-server';
import { useLoopbackServer } from './helpers/llm';
import { root } from './helpers/store';

const { server, dir } = useLoopbackServer('dc-cli-confidence-');

function curate(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '', OPENAI_API_KEY: 'sk-confidence' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

/** Item i: the logprob answer is "good" for even items, "bad" for odd; of the 5 samples, 5 - (i % 3) say "good". */
const AGREE = (i: number): number => 5 - (i % 3);

function setup(): string {
  const file = join(dir(), 'data.jsonl');
  writeFileSync(
    file,
    `${Array.from({ length: 6 }, (_, i) => JSON.stringify({ id: i, text: `item ${i}` })).join('\n')}\n{not json\n`,
  );
  server().respond = (req) => {
    const body = req.body as ChatBody & { logprobs?: boolean };
    const i = Number(/item (\d+)/.exec(lastUserText(body))?.[1]);
    const label = body.logprobs ? (i % 2 === 0 ? 'good' : 'bad') : (body.seed ?? 0) < AGREE(i) ? 'good' : 'bad';
    return { content: JSON.stringify({ label, confidence: 0.9, rationale: `item ${i}` }) };
  };
  return file;
}

const args = (file: string, ...more: string[]): string[] => [
  'confidence',
  file,
  '--labels',
  'good,bad',
  '--samples',
  '5',
  '--threshold',
  '0.7',
  '--base-url',
  server().baseURL,
  '--model',
  'm',
  '--cache-dir',
  join(dir(), 'cache'),
  '--yes',
  ...more,
];

test('curate confidence: logprobs and self-consistency on the same records, how they agree; nothing written', async () => {
  const file = setup();
  const before = readFileSync(file);
  const r = await curate(args(file, '--json'));
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out) as ConfidenceReport;
  assert.equal(report.total, 6);
  assert.equal(report.compared, 6);
  assert.equal(report.noLogprobs, 0);
  assert.deepEqual(report.failed, []);
  for (const [i, row] of report.rows.entries()) {
    assert.equal(row.line, i + 1);
    assert.equal(row.logprobs.label, i % 2 === 0 ? 'good' : 'bad');
    assert.ok(row.logprobs.confidence > 0 && row.logprobs.confidence <= 1, `item ${i}: a probability`);
    assert.notEqual(row.logprobs.confidence, 0.9, `item ${i}: from the logprobs, not the stated confidence`);
    assert.deepEqual(row.consistency, { label: 'good', confidence: AGREE(i) / 5 }, `item ${i}`);
  }
  // the comparison is compareConfidences over these rows, with the threshold
  const expected: ConfidenceComparison = compareConfidences(report.rows, { threshold: 0.7 });
  assert.deepEqual(report.comparison, JSON.parse(JSON.stringify(expected)) as ConfidenceComparison);
  assert.equal(report.comparison.sameLabel, 0.5);
  assert.equal(report.comparison.below?.threshold, 0.7);
  // items 2 and 5 have 3 of 5 samples agreeing (0.6 < 0.7)
  const lowLp = report.rows.filter((x) => x.logprobs.confidence < 0.7).map((x) => x.line);
  const both = [3, 6].filter((l) => lowLp.includes(l)).length / 6;
  assert.equal(report.comparison.below.both, both);
  // one label request and five samples per record; nothing written beside or into the file
  const chat = server().chatRequests();
  assert.equal(chat.filter((c) => (c.body as { logprobs?: boolean }).logprobs === true).length, 6);
  assert.equal(chat.length, 6 + 6 * 5);
  assert.deepEqual(readFileSync(file), before);
  assert.equal(existsSync(`${file}.curator-journal`), false);

  // In words; run again: every answer from the cache, the same figures.
  const again = await curate(args(file));
  assert.equal(again.code, 0, again.err);
  assert.equal(server().chatRequests().length, 36, 'nothing asked twice');
  assert.match(
    again.out,
    /^6 of 6 record\(s\) measured both ways with m: logprobs .* self-consistency \(5 samples\)$/m,
  );
  assert.match(
    again.out,
    /^same label: 50%; Pearson (-?\d\.\d\d|-), Spearman (-?\d\.\d\d|-); mean absolute difference \d\.\d\d$/m,
  );
  assert.match(again.out, /^below 0\.7: both \d+%, logprobs only \d+%, self-consistency only \d+%$/m);
  assert.match(again.out, /^0 request\(s\), 12 from cache/m);
});

test('curate confidence: usage errors', async () => {
  const file = setup();
  const noLabels = await curate(['confidence', file, '--base-url', server().baseURL, '--model', 'm']);
  assert.equal(noLabels.code, 2);
  assert.match(noLabels.err, /--labels needs at least two labels/);
  const out = await curate(args(file, '--out', join(dir(), 'x.jsonl')));
  assert.equal(out.code, 2);
  assert.match(out.err, /writes nothing/);
  assert.equal(server().chatRequests().length, 0);
});

test('curate confidence --batch: the same report from one batch of both measures` requests, no online request', async () => {
  const file = setup();
  const online = await curate(args(file, '--json', '--no-cache'));
  assert.equal(online.code, 0, online.err);
  const before = server().chatRequests().length;
  const fileBytes = readFileSync(file);
  const r = await curate([...args(file, '--json', '--no-cache'), '--batch']);
  assert.equal(r.code, 0, r.err);
  assert.equal(server().chatRequests().length, before, 'no online request');
  assert.equal(server().batches.list().length, 1, 'one model: one batch');
  assert.equal(server().batches.list()[0]?.request_counts.total, 6 + 6 * 5);
  const a = JSON.parse(online.out) as ConfidenceReport;
  const b = JSON.parse(r.out) as ConfidenceReport;
  assert.deepEqual(b.rows, a.rows);
  assert.deepEqual(b.comparison, a.comparison);
  assert.deepEqual(readFileSync(file), fileBytes, 'the file is not touched');
  // run again: the batch job's answers, no second batch
  const again = await curate([...args(file, '--json', '--no-cache'), '--batch']);
  assert.equal(again.code, 0, again.err);
  assert.equal(server().batches.list().length, 1);
  assert.deepEqual((JSON.parse(again.out) as ConfidenceReport).rows, a.rows);
});
