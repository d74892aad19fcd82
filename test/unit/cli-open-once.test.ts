// Each CLI command opens and indexes its input once: the real `curate` (its main(), in this process)
// against the loopback server, counting the store's opens of the input file. `curate label
// --few-shot` with several judges' agreement read it up to four times before (examples, estimate,
// job, agreement); a generation read it twice (estimate, run).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { main } from '../../src/cli/main';
import { JsonlDataset } from '../../src/core/store';
import { synthResponder } from '../support/synth-responder';
import { useLoopbackServer } from './helpers/llm';

const loopback = useLoopbackServer('dc-open-once-');
const realOpen = JsonlDataset.open.bind(JsonlDataset);
let opened: string[] = [];

beforeEach(() => {
  opened = [];
  JsonlDataset.open = (path, opts) => {
    opened.push(resolve(path));
    return realOpen(path, opts);
  };
});
afterEach(() => {
  JsonlDataset.open = realOpen;
});

async function curate(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = {
    out: (t: string) => (out += t),
    err: (t: string) => (err += t),
    write: () => {},
    isTTY: false,
    signal: new AbortController().signal,
  };
  const code = await main(args, io);
  return { code, out, err };
}

function dataset(): string {
  const p = join(loopback.dir(), 'data.jsonl');
  const human = { annotations: { human: { label: { value: 'positive', status: 'submitted' } } } };
  writeFileSync(
    p,
    `${Array.from({ length: 6 }, (_, i) => JSON.stringify({ id: i, text: `review ${i}`, ...(i < 2 ? { label: 'positive', ...human } : {}) })).join('\n')}\n`,
  );
  return p;
}

test('curate label --few-shot, then curate judge with two judges: the input opened once each', async () => {
  const server = loopback.server();
  server.respond = (req) => {
    const model = (req.body as { model?: string }).model ?? '';
    if (model.startsWith('judge'))
      return { content: JSON.stringify({ score: model === 'judge-a' ? 7 : 3, reasons: 'r' }) };
    return { content: JSON.stringify({ label: 'negative', confidence: 0.7, rationale: 'r' }) };
  };
  const input = dataset();
  const ep = ['--base-url', server.baseURL, '--no-cache'];
  const label = await curate([
    'label',
    input,
    '--labels',
    'positive,negative',
    '--few-shot',
    '2',
    '--in-place',
    '--model',
    'm',
    ...ep,
  ]);
  assert.equal(label.code, 0, label.err);
  assert.match(label.out, /^label: 6 ok/);
  assert.deepEqual(opened, [resolve(input)], 'examples, estimate and job read one open dataset');
  assert.match(readFileSync(input, 'utf8'), /"negative"/);

  opened = [];
  const out = join(loopback.dir(), 'judged.jsonl');
  const judge = await curate([
    'judge',
    input,
    '--judge-models',
    'judge-a,judge-b',
    '--rubric',
    'useful?',
    '--out',
    out,
    ...ep,
  ]);
  assert.equal(judge.code, 0, judge.err);
  assert.match(judge.out, /agreement: the judges disagree on 6 of 6 record\(s\)/);
  assert.deepEqual(opened, [resolve(input)], 'estimate, both judges, the copy and the agreement: one open');
});

test('curate generate responses: the input opened once for the estimate and the run', async () => {
  const server = loopback.server();
  server.respond = synthResponder();
  const input = join(loopback.dir(), 'prompts.jsonl');
  writeFileSync(input, `${['Name a prime', 'Say hello'].map((prompt) => JSON.stringify({ prompt })).join('\n')}\n`);
  const r = await curate([
    'generate',
    'responses',
    input,
    '--out',
    join(loopback.dir(), 'answers.jsonl'),
    '--base-url',
    server.baseURL,
    '--model',
    'm',
    '--no-cache',
  ]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(
    opened.filter((p) => p === resolve(input)),
    [resolve(input)],
  );
});

test('curate filter --tag and curate review-queue --mark: the file opened once, read and saved', async () => {
  const input = dataset();
  const filter = await curate(['filter', input, '--where', 'len(text) >= 100', '--tag', 'filtered']);
  assert.equal(filter.code, 0, filter.err);
  assert.match(filter.out, /tagged 6 record\(s\)/);
  assert.deepEqual(opened, [resolve(input)]);
  assert.equal(readFileSync(input, 'utf8').split('"filtered"').length - 1, 6);

  opened = [];
  const queue = await curate(['review-queue', input, '--mark']);
  assert.equal(queue.code, 0, queue.err);
  assert.deepEqual(opened, [resolve(input)]);
});
