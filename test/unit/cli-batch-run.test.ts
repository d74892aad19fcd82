// `curate label|rationale|judge|critique FILE --batch [--retry-online]` as a user runs it
// (src/cli/main.ts under tsx, a child process) against the loopback server's Batch API: the
// estimate at batch prices, the results in the file, kill -9 while the batches are polled and the
// same command again (the same batches, never a second one), Ctrl-C (stops waiting, cancels
// nothing), what the batch left failed sent online with --retry-online.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readJsonl, useLoopbackServer } from './helpers/llm';
import { synthResponder } from '../support/synth-responder';
import { root } from './helpers/store';

const { server, dir } = useLoopbackServer('dc-cli-batch-run-');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

function curate(args: string[], env: Record<string, string> = {}): { proc: ChildProcess; done: Promise<Run> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '', OPENAI_API_KEY: 'sk-batch-run-key', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<Run>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, out, err })));
  return { proc, done };
}

const run = (args: string[], env?: Record<string, string>): Promise<Run> => curate(args, env).done;

function dataset(n: number, name = 'data.jsonl'): string {
  const p = join(dir(), name);
  writeFileSync(
    p,
    `${Array.from({ length: n }, (_, i) => JSON.stringify({ id: i, text: `review number ${i}`, response: `answer ${i}` })).join('\n')}\n`,
  );
  return p;
}

const labelArgs = (file: string, ...more: string[]): string[] => [
  'label',
  file,
  '--labels',
  'good,bad',
  '--base-url',
  server().baseURL,
  '--model',
  'm',
  '--no-cache',
  ...more,
];

/** The requests the server got, by method and path. */
const hits = (method: string, path: string): number =>
  server().requests.filter((r) => r.method === method && r.path === path).length;

async function until(what: string, cond: () => boolean, proc?: ChildProcess): Promise<void> {
  for (let i = 0; i < 2400; i++) {
    if (cond()) return;
    if (proc && proc.exitCode !== null) assert.fail(`curate ended before ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('curate label --batch: every record labeled through one batch, no online request; --json says which batch', async () => {
  const file = dataset(6);
  const r = await run(labelArgs(file, '--batch', '--in-place', '--yes', '--json'));
  assert.equal(r.code, 0, r.err);
  const s = server();
  assert.equal(s.batches.list().length, 1);
  assert.equal(s.counts.chat, 0, 'no online request');
  assert.equal(hits('POST', '/v1/files'), 1);
  const recs = readJsonl(file);
  assert.equal(recs.length, 6);
  assert.ok(recs.every((x) => ['good', 'bad'].includes(x.label) && x.annotations.suggestions.label[0].agent === 'm'));
  const json = JSON.parse(r.out) as {
    ok: number;
    failed: unknown[];
    batch: { requests: number; batchesCreated: number; batches: Array<{ batchId: string; status: string }> };
  };
  assert.equal(json.ok, 6);
  assert.equal(json.failed.length, 0);
  assert.equal(json.batch.requests, 6);
  assert.equal(json.batch.batchesCreated, 1);
  assert.equal(json.batch.batches[0]?.batchId, s.batches.list()[0]?.id);
  assert.equal(json.batch.batches[0]?.status, 'completed');
  assert.match(r.err, /waiting for the batches .*Ctrl-C stops waiting without cancelling them.*curate batch cancel/);
  assert.ok(!r.err.includes('sk-batch-run-key') && !r.out.includes('sk-batch-run-key'), 'the key is not printed');
  assert.equal(s.lastKey, 'sk-batch-run-key', 'the key from OPENAI_API_KEY');

  // run again: the job is done, nothing is sent, the summary says so
  const again = await run(labelArgs(file, '--batch', '--in-place', '--yes'));
  assert.equal(again.code, 0, again.err);
  assert.equal(s.batches.list().length, 1, 'no second batch');
  assert.match(again.out, /^label: 6 ok, 0 failed, 0 skipped \(invalid lines\), 0 from cache, 6 resumed/m);
  assert.match(again.out, /batch: 6 request\(s\) in 1 batch\(es\), 6 sent by an earlier run; 0 batch\(es\) created/);
});

test('the estimate of --batch is at the Batch API price: half the online one', async () => {
  const file = dataset(20);
  const price = ['--price-in', '2', '--price-out', '8', '--max-cost', '0.0000001'];
  const online = await run(labelArgs(file, '--in-place', ...price));
  const batch = await run(labelArgs(file, '--in-place', '--batch', ...price));
  assert.equal(online.code, 2, online.err);
  assert.equal(batch.code, 2, batch.err);
  const cost = (err: string): number => Number(/about \$(\d+\.\d+)/.exec(err)?.[1]);
  assert.match(batch.err, /^label \(as a batch, at batch prices\): 20 record\(s\), about 20 request\(s\)/m);
  assert.ok(cost(online.err) > 0);
  assert.ok(Math.abs(cost(batch.err) - cost(online.err) / 2) < 0.00015, `${batch.err}\n${online.err}`);
  assert.equal(server().batches.list().length, 0, 'nothing sent before the estimate is confirmed');
});

test('--out: results in the copy, the input untouched; judge, rationale and critique run as batches too', async () => {
  const file = dataset(4);
  const before = readFileSync(file, 'utf8');
  const out = join(dir(), 'out.jsonl');
  const r = await run(labelArgs(file, '--batch', '--out', out, '--yes'));
  assert.equal(r.code, 0, r.err);
  assert.equal(readFileSync(file, 'utf8'), before);
  assert.ok(readJsonl(out).every((x) => typeof x.label === 'string'));
  assert.ok(existsSync(join(`${out}.curator-journal`)), 'the journal is beside the output');
  const st = await run(['batch', 'status', out]);
  assert.match(st.out, /part 0: 4 request\(s\), batch_\w+, applied: 4 ok, 0 failed/);
  for (const [cmd, extra] of [
    ['judge', ['--rubric', 'good data']],
    ['rationale', []],
    ['critique', ['--field', 'response']],
  ] as const) {
    const j = await run([
      cmd,
      out,
      ...extra,
      '--base-url',
      server().baseURL,
      '--model',
      'm',
      '--batch',
      '--in-place',
      '--yes',
    ]);
    assert.equal(j.code, 0, `${cmd}: ${j.err}`);
    assert.match(j.out, new RegExp(`^${cmd}: 4 ok, 0 failed`, 'm'));
  }
  assert.equal(server().counts.chat, 0, 'no online request');
  assert.equal(server().batches.list().length, 4);
  const recs = readJsonl(out);
  assert.ok(recs.every((x) => typeof x.judge?.score === 'number' && typeof x.rationale === 'string'));
});

test('kill -9 while the batch is polled, then the same command: the same batch, no second one, every record once', async () => {
  const s = server();
  s.batches.hold('in_progress');
  const file = dataset(8);
  const args = labelArgs(file, '--batch', '--in-place', '--yes');
  const first = curate(args);
  const journalDir = `${file}.curator-journal`;
  const journaled = (): boolean =>
    existsSync(journalDir) &&
    readdirSync(journalDir).some(
      (f) => f.endsWith('.batch.jsonl') && readFileSync(join(journalDir, f), 'utf8').includes('"type":"created"'),
    );
  await until(
    'the batch is created and journaled',
    () => journaled() && hits('GET', `/v1/batches/${s.batches.list()[0]?.id}`) > 0,
    first.proc,
  );
  first.proc.kill('SIGKILL');
  const r1 = await first.done;
  assert.equal(r1.signal, 'SIGKILL');
  assert.equal(s.batches.list().length, 1);
  assert.equal(s.batches.list()[0]?.status, 'in_progress');
  assert.ok(!readFileSync(file, 'utf8').includes('annotations'), 'no result yet');

  s.batches.release();
  const r2 = await run(args);
  assert.equal(r2.code, 0, r2.err);
  assert.equal(hits('POST', '/v1/batches'), 1, 'one batch created in all');
  assert.equal(hits('POST', '/v1/files'), 1, 'one upload in all');
  assert.equal(s.batches.list().length, 1);
  assert.equal(s.counts.chat, 0);
  assert.match(r2.out, /^label: 8 ok, 0 failed/m);
  assert.match(r2.out, /0 batch\(es\) created by this run/);
  const recs = readJsonl(file);
  assert.equal(recs.length, 8);
  for (const x of recs) assert.equal(x.annotations.suggestions.label.length, 1, 'each record answered once');
});

test('Ctrl-C while waiting: exit 130, the batch goes on (not cancelled); the same command picks it up', async () => {
  const s = server();
  s.batches.hold('in_progress');
  const file = dataset(3);
  const args = labelArgs(file, '--batch', '--in-place', '--yes');
  const first = curate(args);
  await until(
    'the batch is polled',
    () => (s.batches.list()[0] ? hits('GET', `/v1/batches/${s.batches.list()[0]?.id}`) > 0 : false),
    first.proc,
  );
  first.proc.kill('SIGINT');
  const r1 = await first.done;
  assert.equal(r1.code, 130, r1.err);
  assert.match(r1.err, /stopped waiting for the batches, which go on at the provider \(nothing was cancelled\)/);
  assert.match(r1.err, /Run the same command again to resume/);
  assert.match(r1.err, /to cancel the batches: curate batch cancel .*data\.jsonl/);
  assert.equal(hits('POST', `/v1/batches/${s.batches.list()[0]?.id}/cancel`), 0);
  assert.equal(s.batches.list()[0]?.status, 'in_progress');
  s.batches.release();
  const r2 = await run(args);
  assert.equal(r2.code, 0, r2.err);
  assert.equal(s.batches.list().length, 1);
  assert.equal(readJsonl(file).filter((x) => typeof x.label === 'string').length, 3);
});

test('--retry-online: what the batch left failed goes through the online path for those records only', async () => {
  const s = server();
  // two records' lines fail with a 400 (not retried in a follow-up batch)
  s.batches.lineFault = (line) =>
    /review number [25]\b/.test(JSON.stringify(line.body.messages))
      ? { status: 400, message: 'Invalid request', code: 'invalid_value' }
      : undefined;
  const file = dataset(7);
  const r1 = await run(labelArgs(file, '--batch', '--in-place', '--yes'));
  assert.equal(r1.code, 1, r1.err);
  assert.match(r1.out, /^label: 5 ok, 2 failed/m);
  assert.match(r1.out, /failed line 3: failed \(HTTP 400\): Invalid request/);
  assert.match(r1.err, /2 record\(s\) failed in the batch; run the same command with --retry-online/);
  assert.equal(s.counts.chat, 0);

  const r2 = await run(labelArgs(file, '--batch', '--in-place', '--yes', '--retry-online'));
  assert.equal(r2.code, 0, r2.err);
  assert.equal(s.batches.list().length, 1, 'no new batch');
  assert.equal(s.counts.chat, 2, 'the two failed records, online');
  assert.match(r2.out, /^label: 7 ok, 0 failed/m);
  assert.match(r2.out, /2 record\(s\) the batch left failed went through the online path/);
  const recs = readJsonl(file);
  assert.ok(recs.every((x) => x.annotations.suggestions.label.length === 1));
});

test('generate instructions --batch runs as a batch job; --retry-online alone is a usage error', async () => {
  const file = dataset(2);
  server().respond = synthResponder();
  // self-instruct as a batch: each round's requests one batch, from the pool at the round's start
  const out = join(dir(), 'out.jsonl');
  const c = await run([
    'generate',
    'instructions',
    file,
    '--field',
    'text',
    '--out',
    out,
    '--base-url',
    server().baseURL,
    '--model',
    'm',
    '--target',
    '4',
    '--per-request',
    '4',
    '--requests-per-round',
    '1',
    '--no-cache',
    '--yes',
    '--batch',
  ]);
  assert.equal(c.code, 0, c.err);
  assert.equal(readJsonl(out).length, 4);
  assert.ok(server().batches.list().length >= 1);
  assert.equal(server().counts.chat, 0, 'no online request');
  const batches = server().batches.list().length;
  const r = await run(labelArgs(file, '--in-place', '--retry-online'));
  assert.equal(r.code, 2);
  assert.match(r.err, /--retry-online goes with --batch/);
  assert.equal(server().batches.list().length, batches);
  assert.equal(server().counts.chat, 0);
});
