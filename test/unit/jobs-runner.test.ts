// Jobs: per-record failures, journal, kill -9 and resume, cancellation.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { readJournal } from '../../src/core/jobs/journal';
import { JobCancelledError, runJob } from '../../src/core/jobs/runner';
import { openJobTarget, StoreRecordSource, StoreResultSink } from '../../src/core/jobs/store-io';
import type { ResultSink } from '../../src/core/jobs/types';
import { LlmClient, LlmError } from '../../src/core/llm/client';
import { createTask, LabelOptions } from '../../src/core/llm/tasks';
import { acquireLock } from '../../src/core/store/lock';
import { lastUserText, startOpenAIServer, type OpenAITestServer } from '../support/openai-server';
import { runSupportChild } from './helpers/llm';
import { tempDir } from './helpers/store';

let server: OpenAITestServer;
let dir: string;
before(async () => {
  server = await startOpenAIServer();
});
after(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  server.latencyMs = 0;
  dir = tempDir('dc-jobs-');
});

function dataset(n: number, bad: number[] = []): string {
  const p = join(dir, 'data.jsonl');
  const lines = Array.from({ length: n }, (_, i) =>
    bad.includes(i) ? `{"id": ${i}, broken` : JSON.stringify({ id: i, text: `record-${i}-text` }),
  );
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}
const recordOf = (text: string): number => Number(/record-(\d+)-text/.exec(text)?.[1] ?? -1);

async function setup(n: number, opts: { bad?: number[]; concurrency?: number; key?: string } = {}) {
  const input = dataset(n, opts.bad);
  const client = new LlmClient({
    baseURL: server.baseURL,
    apiKey: opts.key ?? 'k',
    model: 'm',
    concurrency: opts.concurrency ?? 4,
    backoffBaseMs: 2,
    maxRetries: 2,
    timeoutMs: 3000,
  });
  const task = createTask(
    'label',
    LabelOptions.parse({ input, baseURL: server.baseURL, model: 'm', labels: ['positive', 'negative'] }),
    { client },
  );
  const target = await openJobTarget(input, join(dir, 'out.jsonl'));
  const source = new StoreRecordSource(target);
  const sink = new StoreResultSink(target);
  return { input, client, task, source, sink, dataset: target, journalDir: join(dir, 'data.jsonl.curator-journal') };
}

test('a job completes; every failure and invalid line is recorded per record; a re-run redoes only the failed ones', async () => {
  const { client, task, source, sink, dataset, journalDir } = await setup(40, { bad: [5, 6] });
  server.addFault({ kind: 'schema-invalid' }, { times: Infinity, when: (r) => [10, 11].includes(recordOf(r.rawBody)) });
  server.addFault({ kind: 'status', status: 500 }, { times: Infinity, when: (r) => recordOf(r.rawBody) === 20 });
  server.addFault({ kind: 'reset' }, { times: 1, when: (r) => recordOf(r.rawBody) === 30 });
  const progress: string[] = [];
  const s = await runJob({
    jobId: 'j1',
    journalDir,
    task,
    source,
    sink,
    concurrency: 4,
    progress: (p) => p.message && progress.push(p.message),
    prices: { input: 1, output: 1 },
  });
  assert.equal(s.total, 40);
  assert.equal(s.ok, 35);
  assert.deepEqual(
    s.skipped.map((x) => x.line),
    [6, 7],
  );
  assert.deepEqual(
    s.failed.map((x) => x.i),
    [10, 11, 20],
  );
  assert.match(s.failed[0]!.reason, /invalid answer after one repair/);
  assert.match(s.failed[2]!.reason, /HTTP 500/);
  assert.ok(s.cost > 0 && s.tokens.input_tokens > 0);
  assert.ok(s.complete);
  assert.match(progress.at(-1) ?? '', /^record 40 of 40 · [\d,]+ tokens · \$\d+\.\d{4} · 3 errors · ETA /);
  const out = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n');
  assert.equal(out.length, 40);
  assert.equal(out[5], '{"id": 5, broken'); // invalid lines kept verbatim
  assert.equal(JSON.parse(out[10]!).annotations, undefined);
  assert.ok(['positive', 'negative'].includes(JSON.parse(out[0]!).label));
  // with failures the journal stays: the same job again redoes only the 3 failed records
  assert.deepEqual(
    readdirSync(journalDir).filter((n) => n !== '.gitignore'),
    ['j1.jsonl'],
  );
  server.clearFaults();
  const before = server.counts.chat;
  const again = await runJob({ jobId: 'j1', journalDir, task, source, sink, concurrency: 4 });
  client.close();
  assert.equal(server.counts.chat - before, 3);
  assert.equal(again.resumed, 35);
  assert.equal(again.ok, 38);
  assert.equal(again.failed.length, 0);
  // complete without failures: the journal is retired
  const files = readdirSync(journalDir).filter((n) => n !== '.gitignore');
  assert.equal(files.length, 1);
  assert.match(files[0]!, /^j1\.done-\d+\.jsonl$/);
  const redone = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n');
  assert.ok(['positive', 'negative'].includes(JSON.parse(redone[10]!).label));
  dataset.close();
});

/** Job 'e' over a setup's records at concurrency 4, into `sink`. */
const jobWith = (x: Awaited<ReturnType<typeof setup>>, sink: ResultSink) =>
  runJob({ jobId: 'e', journalDir: x.journalDir, task: x.task, source: x.source, sink, concurrency: 4 });

/**
 * The output of a job over `n` records (`bad`: invalid lines) whose sink applies each result as an
 * edit and saves at the job's end: what the other sinks must write. Leaves a fresh `dir`.
 */
async function savedAtItsEnd(n: number, bad: number[]): Promise<string> {
  const ref = await setup(n, { bad });
  await jobWith(ref, ref.sink);
  const out = readFileSync(join(dir, 'out.jsonl'), 'utf8');
  ref.dataset.close();
  ref.client.close();
  dir = tempDir('dc-jobs-');
  return out;
}
/** A job's output without its results' times. */
const timeless = (t: string): string => t.replace(/"time":"[^"]*"/g, '"time":"T"');

test('a sink that keeps results and writes them by saves of a few (a file no editor holds): the same file as edits; saved as it goes', async () => {
  const n = 60;
  const editsOut = await savedAtItsEnd(n, [7]);
  const kept = await setup(n, { bad: [7] });
  const sink = new StoreResultSink(kept.dataset, { batchSize: 8 });
  // what is on disk as the job goes: the saves come every 8 results, never an edit held
  const onDisk: number[] = [];
  const apply = sink.apply.bind(sink);
  sink.apply = async (i, r, bound) => {
    await apply(i, r, bound);
    assert.equal(kept.dataset.dirty, false, 'no edit held in the store');
    onDisk.push((readFileSync(join(dir, 'out.jsonl'), 'utf8').match(/"label":/g) ?? []).length);
  };
  const s = await jobWith(kept, sink);
  kept.client.close();
  assert.equal(s.ok, n - 1);
  assert.equal(sink.received, n - 1);
  assert.ok(
    onDisk.some((c) => c > 0 && c < n - 1),
    'results reached the file before the job ended',
  );
  assert.equal(
    timeless(readFileSync(join(dir, 'out.jsonl'), 'utf8')),
    timeless(editsOut),
    'the same file as through edits',
  );
  kept.dataset.close();
});

/** The records of `file` that have a label (its invalid lines are none). */
const labelsIn = (file: string): number =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => {
      try {
        return (JSON.parse(l) as { label?: unknown }).label !== undefined;
      } catch {
        return false;
      }
    }).length;

test("an editor's sink (each result an edit it is told of) saves every few results while the person has no unsaved edits; results that come during that save wait for it", async () => {
  const n = 60;
  server.latencyMs = 5;
  const editsOut = await savedAtItsEnd(n, [7]);
  const out = join(dir, 'out.jsonl');
  const ed = await setup(n, { bad: [7] });
  const chats = server.counts.chat;
  const told: number[] = [];
  const sink = new StoreResultSink(ed.dataset, {
    onApplied: (i) => told.push(i),
    saveEvery: { results: 8, canSave: () => true },
  });
  // The first of its saves waits for the write lock (another writer) for 150 ms: the other
  // workers' results come meanwhile, while the store refuses edits.
  const save = ed.dataset.save.bind(ed.dataset);
  const onDisk: number[] = [];
  let saves = 0;
  ed.dataset.save = async (o) => {
    if (saves++ === 0) {
      const lock = await acquireLock(out);
      setTimeout(() => lock.release(), 150);
    }
    await save(o);
    onDisk.push(labelsIn(out));
  };
  let heldAtMost = 0;
  const apply = sink.apply.bind(sink);
  sink.apply = async (i, r, bound) => {
    await apply(i, r, bound);
    heldAtMost = Math.max(heldAtMost, told.length - labelsIn(out));
  };
  const s = await jobWith(ed, sink);
  ed.client.close();
  assert.equal(s.ok, n - 1);
  assert.equal(server.counts.chat - chats, n - 1, 'no record asked twice (its saves are not a person editing)');
  assert.equal(told.length, n - 1, 'the editor was told of every result');
  assert.ok(saves >= 5, `saved ${saves} times`);
  assert.ok(
    onDisk.some((c) => c > 0 && c < n - 1),
    'results reached the file before the job ended',
  );
  assert.ok(
    heldAtMost <= 8 + 4,
    `at most a save's worth of results (and those in flight) held as edits: ${heldAtMost}`,
  );
  assert.equal(timeless(readFileSync(out, 'utf8')), timeless(editsOut), 'the same file as a job that saves at its end');
  ed.dataset.close();
});

test("an editor's sink does not save while the person has unsaved edits; at its end it does (as before)", async () => {
  const n = 40;
  const ed = await setup(n);
  const out = join(dir, 'out.jsonl');
  const told: number[] = [];
  const seen: number[] = [];
  const sink = new StoreResultSink(ed.dataset, {
    onApplied: (i) => {
      told.push(i);
      seen.push(labelsIn(out));
    },
    saveEvery: { results: 8, canSave: () => false },
  });
  const s = await jobWith(ed, sink);
  ed.client.close();
  assert.equal(s.ok, n);
  assert.deepEqual([...new Set(seen)], [0], 'nothing written while the job ran');
  assert.equal(labelsIn(out), n);
  ed.dataset.close();
});

test('a fatal error (401) stops the job and throws', async () => {
  server.requireKey = 'right';
  const { client, task, source, sink, dataset, journalDir } = await setup(50, { key: 'wrong' });
  await assert.rejects(
    runJob({ jobId: 'j2', journalDir, task, source, sink, concurrency: 4 }),
    (e: unknown) => e instanceof LlmError && e.kind === 'fatal',
  );
  client.close();
  dataset.close();
  assert.ok(server.counts.chat <= 8, `sent ${server.counts.chat}`);
});

test('cancellation via AbortSignal stops promptly and leaves the journal consistent; resume finishes the rest', async () => {
  server.latencyMs = 20;
  const { client, task, source, sink, dataset, journalDir } = await setup(200, { concurrency: 8 });
  const ac = new AbortController();
  let done = 0;
  const t0 = performance.now();
  const p = runJob({
    jobId: 'j3',
    journalDir,
    task,
    source,
    sink,
    concurrency: 8,
    signal: ac.signal,
    progress: (x) => {
      done = x.done;
      if (x.done >= 40) ac.abort();
    },
  });
  await assert.rejects(p, (e: unknown) => e instanceof JobCancelledError && e.summary.ok >= 40 && e.summary.ok < 200);
  assert.ok(performance.now() - t0 < 10_000);
  assert.ok(done >= 40);
  const state = readJournal(join(journalDir, 'j3.jsonl'));
  assert.ok(state.header && !state.ended);
  const journaled = [...state.records.values()];
  assert.ok(journaled.every((r) => r.status === 'ok'));
  const before = server.counts.chat;
  const s = await runJob({ jobId: 'j3', journalDir, task, source, sink, concurrency: 8 });
  client.close();
  dataset.close();
  assert.equal(s.ok, 200);
  assert.equal(s.resumed, journaled.length);
  assert.equal(s.requests, 200 - journaled.length);
  // (requests aborted by the cancel may still reach the server late: at most `concurrency` of them)
  assert.ok(server.counts.chat - before <= 200 - journaled.length + 8);
});

function runChild(args: string[]) {
  return runSupportChild('job-child.ts', args);
}

test(
  'SIGKILL midway, then resume: every record annotated exactly once, at most `concurrency` repeats',
  { timeout: 60_000 },
  async () => {
    const N = 1000;
    const concurrency = 8;
    server.latencyMs = 5;
    const input = dataset(N);
    const output = join(dir, 'out.jsonl');
    const journalDir = join(dir, 'journal');
    const journal = join(journalDir, 'kill.jsonl');
    const args = [server.baseURL, input, output, journalDir, 'kill', String(concurrency)];
    const first = runChild(args);
    // kill it after N/3 records are journaled
    for (;;) {
      await new Promise((r) => setTimeout(r, 20));
      const lines = existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').length - 2 : 0;
      if (lines >= N / 3) break;
      if (first.proc.exitCode !== null) assert.fail(`child exited early: ${(await first.done).err}`);
    }
    first.proc.kill('SIGKILL');
    const r1 = await first.done;
    assert.equal(r1.signal, 'SIGKILL');
    const mid = readJournal(journal);
    assert.ok(mid.records.size >= N / 3 && mid.records.size < N, `journaled ${mid.records.size}`);
    const second = runChild(args);
    const r2 = await second.done;
    assert.equal(r2.code, 0, r2.err);
    const summary = JSON.parse(r2.out.trim()) as { ok: number; resumed: number };
    assert.equal(summary.ok, N);
    assert.equal(summary.resumed, mid.records.size);
    // exactly once in the output
    const out = readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; label: string; annotations: { suggestions: { label: unknown[] } } });
    assert.equal(out.length, N);
    out.forEach((r, i) => {
      assert.equal(r.id, i);
      assert.equal(r.annotations.suggestions.label.length, 1);
      assert.ok(r.label === 'positive' || r.label === 'negative');
    });
    // requests per record across both runs
    const perRecord = new Map<number, number>();
    for (const q of server.chatRequests()) {
      const i = recordOf(lastUserText(q.body));
      perRecord.set(i, (perRecord.get(i) ?? 0) + 1);
    }
    assert.equal(perRecord.size, N);
    const repeated = [...perRecord.values()].filter((c) => c > 1).length;
    assert.ok(repeated <= concurrency, `${repeated} records were requested twice`);
    assert.ok([...perRecord.values()].every((c) => c <= 2));
  },
);
