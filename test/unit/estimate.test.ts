// A job's cost estimate is a pass over the file's records before anything is sent. On a large file
// that no job has touched yet it reads an even sample (src/core/estimate.ts) and scales it: the
// figures stay within 1% of the exact count; a resumed job walks every record (which are done is
// known only record by record), reads those its journal has and counts the tokens of a sample of
// the records left. The pass reports progress, and a cancel (VS Code's button,
// the CLI's Ctrl-C) stops it partway: it gives the event loop a turn as it goes.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SAMPLE_ABOVE, SAMPLE_SIZE, sampledNote } from '../../src/core/estimate';
import { quietContext, type Estimate, type Progress } from '../../src/core/operation';
import { StoreRecordSource } from '../../src/core/jobs/store-io';
import type { RecordSource } from '../../src/core/jobs/types';
import { JsonlDataset } from '../../src/core/store';
import { generateEntries, llmEntries } from '../../src/core/registry';
import { main } from '../../src/cli/main';
import { useLoopbackServer } from './helpers/llm';

const { server, dir } = useLoopbackServer('dc-estimate-');
const env = { apiKey: () => 'sk-estimate-test' };

/**
 * Texts of very different lengths (3 to ~1,300 characters) that grow along the file: a sample that
 * is not spread over the whole file (its first records only) would be far off.
 */
function textOf(i: number, n: number): string {
  const words = 1 + ((i * 7919) % 60) + Math.floor((120 * i) / n);
  return Array.from({ length: words }, (_, w) => `w${(i + w) % 97}ord`).join(' ');
}

/** `n` records; with `twice`, the same texts again after them (ids go on): the second half's tokens equal the first's. */
function dataset(n: number, twice = false): string {
  const p = join(dir(), 'data.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(JSON.stringify({ id: i, text: textOf(i, n) }));
  if (twice) for (let i = 0; i < n; i++) lines.push(JSON.stringify({ id: n + i, text: textOf(i, n) }));
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

const labelOptions = (input: string, more: Record<string, unknown> = {}) => ({
  input,
  output: join(dir(), 'out.jsonl'),
  baseURL: server().baseURL,
  model: 'm',
  labels: ['x', 'y'],
  pricePerMillionInputTokens: 1,
  pricePerMillionOutputTokens: 4,
  noCache: true,
  ...more,
});

/** The sampled estimate of the doubled file against twice the exact estimate of its first half (`limit`: no sample). */
function assertClose(sampled: Estimate, half: Estimate, what: string): void {
  assert.equal(half.sampled, undefined, `${what}: the half is counted record by record`);
  assert.equal(sampled.sampled, SAMPLE_SIZE, `${what}: sampled`);
  for (const k of ['requests', 'inputTokens', 'outputTokens', 'cost'] as const) {
    const exact = 2 * (half[k] ?? 0);
    const got = sampled[k] ?? 0;
    assert.ok(exact > 0, `${what}: ${k} is counted`);
    assert.ok(Math.abs(got - exact) / exact < 0.01, `${what}: ${k} ${got} within 1% of ${exact}`);
  }
}

test('a first run over a large file: the estimate reads a sample and lands within 1% of the exact count', async () => {
  const half = SAMPLE_ABOVE;
  const input = dataset(half, true);
  const label = llmEntries(env).label;
  const progress: Progress[] = [];
  const ctx = { ...quietContext(), progress: (p: Progress) => progress.push(p) };
  const whole = await label.prepare(labelOptions(input)).estimate(ctx);
  const first = await label.prepare(labelOptions(input, { limit: half })).estimate(quietContext());
  assert.ok(whole && first);
  assert.equal(whole.records, 2 * half, 'records: the file`s count, not the sample`s');
  assertClose(whole, first, 'online');
  // the same at batch prices (the batch mode's own pass)
  const batchWhole = await label.prepare(labelOptions(input)).batch?.estimate(quietContext());
  const batchFirst = await label.prepare(labelOptions(input, { limit: half })).batch?.estimate(quietContext());
  assert.ok(batchWhole && batchFirst);
  assertClose(batchWhole, batchFirst, 'batch');
  assert.ok(
    Math.abs((batchWhole.cost ?? 0) * 2 - (whole.cost ?? 0)) / (whole.cost ?? 1) < 0.01,
    'batch: half the price',
  );
  // progress: from 0 to the sample's size, never backwards, in words that say it is a sample
  assert.ok(progress.length >= 2);
  assert.deepEqual(
    progress.map((p) => p.total),
    progress.map(() => SAMPLE_SIZE),
  );
  assert.equal(progress[0]?.done, 0);
  assert.equal(progress.at(-1)?.done, SAMPLE_SIZE);
  for (let k = 1; k < progress.length; k++) assert.ok((progress[k]?.done ?? 0) >= (progress[k - 1]?.done ?? 0));
  assert.equal(progress.at(-1)?.message, 'record 10,000 of 10,000 sampled over 40,000');
  assert.equal(server().counts.total, 0, 'an estimate sends nothing');
});

test('a generation`s estimate over a large input is sampled too', async () => {
  const input = dataset(SAMPLE_ABOVE, true);
  const o = {
    input,
    output: join(dir(), 'gen.jsonl'),
    baseURL: server().baseURL,
    model: 'm',
    n: 2,
    pricePerMillionInputTokens: 1,
    pricePerMillionOutputTokens: 4,
  };
  const responses = generateEntries(env).responses;
  const whole = await responses.prepare(o).estimate(quietContext());
  // the first half alone, in a file of its own (a generation has no limit)
  const half = dataset(SAMPLE_ABOVE);
  const first = await responses.prepare({ ...o, input: half }).estimate(quietContext());
  assert.ok(whole && first);
  assertClose(whole, first, 'responses');
});

/** A label run stopped after a few records (as a Ctrl-C stops it): its journal keeps them. Returns how many. */
async function stoppedAfterSeven(o: ReturnType<typeof labelOptions>): Promise<number> {
  const label = llmEntries(env).label;
  server().latencyMs = 5;
  const ac = new AbortController();
  const stopped = await label
    .prepare(o)
    .run({ ...quietContext(ac.signal), progress: (p) => p.done >= 7 && ac.abort() })
    .then(
      () => assert.fail('the run was stopped'),
      (err: unknown) => label.prepare(o).cancelled(err),
    );
  const done = stopped?.result.ok ?? 0;
  assert.ok(done >= 7, `${done} records done`);
  return done;
}

test('a resumed job`s estimate walks every record: the records left are exact, their tokens counted on a sample of them', async () => {
  const half = SAMPLE_ABOVE;
  const input = dataset(half, true);
  const n = 2 * half;
  const label = llmEntries(env).label;
  const o = labelOptions(input, { concurrency: 2 });
  const done = await stoppedAfterSeven(o);
  const progress: Progress[] = [];
  const e = await label.prepare(o).estimate({ ...quietContext(), progress: (p) => progress.push(p) });
  assert.ok(e);
  assert.equal(e.records, n);
  assert.equal(e.remaining, n - done, 'the records left: exact');
  assert.equal(e.requests, n - done, 'one request each: exact');
  // the pass walked every record (which are left is known record by record) ...
  assert.equal(progress.at(-1)?.message, `record ${n.toLocaleString('en-US')} of ${n.toLocaleString('en-US')}`);
  // ... and tokenized a sample of those left, spread over the file: within 1% of the exact count
  // (the first half's exact count twice; the few records done are 0.03% of it)
  assert.ok(
    e.sampled !== undefined && e.sampled >= SAMPLE_SIZE * 0.9 && e.sampled <= SAMPLE_SIZE * 1.1,
    `${e.sampled} counted`,
  );
  const exactHalf = await label.prepare(labelOptions(input, { limit: half })).estimate(quietContext());
  assert.ok(exactHalf && exactHalf.sampled === undefined);
  for (const k of ['inputTokens', 'outputTokens', 'cost'] as const) {
    const exact = 2 * (exactHalf[k] ?? 0);
    assert.ok(Math.abs((e[k] ?? 0) - exact) / exact < 0.01, `${k} ${e[k]} within 1% of ${exact}`);
  }
  assert.equal(sampledNote(e), ` (counted on ${e.sampled} of the records left, spread over the file)`);
  // the batch mode's estimate of the same file reads every record too when a batch was sent
  // (test/unit/batch-*.test.ts); a small file's resume is counted record by record
  const small = dataset(50);
  const os = labelOptions(small, { concurrency: 1, output: join(dir(), 'small-out.jsonl') });
  const ac2 = new AbortController();
  await label
    .prepare(os)
    .run({ ...quietContext(ac2.signal), progress: (p) => p.done >= 3 && ac2.abort() })
    .catch((err: unknown) => label.prepare(os).cancelled(err));
  const es = await label.prepare(os).estimate(quietContext());
  assert.ok(es && es.remaining !== undefined && es.remaining < 50);
  assert.equal(es.sampled, undefined);
  assert.equal(sampledNote(es), '');
});

test('a resumed job`s estimate reads only the records whose entries it checks and those it counts; a record changed since its entry is left to do', async () => {
  const half = SAMPLE_ABOVE;
  const input = dataset(half, true);
  const n = 2 * half;
  const o = labelOptions(input, { concurrency: 2, output: join(dir(), 'reads-out.jsonl') });
  const done = await stoppedAfterSeven(o);
  // The records the estimate reads, through a source that counts them (the store's own underneath).
  const estimate = async (): Promise<{ e: Estimate; reads: Set<number> }> => {
    const dataset = await JsonlDataset.open(input);
    await dataset.ready;
    const reads = new Set<number>();
    const store = new StoreRecordSource(dataset);
    const source: RecordSource = { count: () => store.count(), get: (i) => (reads.add(i), store.get(i)) };
    try {
      const e = await llmEntries({ ...env, openSource: async () => source })
        .label.prepare(o)
        .estimate(quietContext());
      assert.ok(e);
      return { e, reads };
    } finally {
      dataset.close();
    }
  };
  const { e, reads } = await estimate();
  assert.equal(e.remaining, n - done, 'the records left: exact');
  assert.equal(e.requests, n - done);
  assert.ok(e.sampled !== undefined && e.sampled >= SAMPLE_SIZE * 0.9 && e.sampled <= SAMPLE_SIZE * 1.1);
  // every record with an entry (its key checked against its content) and the sample, no more
  assert.equal(reads.size, done + e.sampled, `${reads.size} records read of ${n}`);
  // The first record, done, edited since (its text): it is left to do again, read to find that out.
  const lines = readFileSync(input, 'utf8').split('\n');
  lines[0] = JSON.stringify({ id: 0, text: 'changed since the run' });
  writeFileSync(input, lines.join('\n'));
  const after = await estimate();
  assert.equal(after.e.remaining, n - done + 1, 'the changed record is left to do');
  assert.ok(after.reads.has(0));
});

test('an estimate is stopped partway by its signal (it gives the event loop a turn as it goes)', async () => {
  // Not sampled (at the threshold), so the pass reads all 20,000 records: long enough to stop.
  const input = dataset(SAMPLE_ABOVE);
  const ac = new AbortController();
  const seen: Progress[] = [];
  const ctx = {
    signal: ac.signal,
    progress: (p: Progress) => {
      // a timer, as a Cancel click or a Ctrl-C arrives: it fires only if the pass lets it
      if (seen.length === 0) setTimeout(() => ac.abort(), 5);
      seen.push(p);
    },
  };
  await assert.rejects(llmEntries(env).label.prepare(labelOptions(input)).estimate(ctx), { name: 'AbortError' });
  assert.ok(seen.length >= 1);
  assert.ok((seen.at(-1)?.done ?? 0) < SAMPLE_ABOVE, `stopped at ${seen.at(-1)?.done} of ${SAMPLE_ABOVE}`);
  assert.equal(server().counts.total, 0);
});

test('curate label: the estimate says it was sampled; Ctrl-C while it runs exits 130 and changes nothing', async () => {
  const input = dataset(SAMPLE_ABOVE, true);
  const before = readFileSync(input);
  const args = ['label', input, '--labels', 'x,y', '--base-url', server().baseURL, '--model', 'm', '--in-place'];
  const run = async (onErr: (t: string, ac: AbortController) => void = () => {}) => {
    const ac = new AbortController();
    let out = '';
    let err = '';
    const code = await main(args, {
      out: (t) => (out += t),
      err: (t) => {
        err += t;
        onErr(t, ac);
      },
      write: (b) => (out += Buffer.from(b).toString()),
      isTTY: true,
      signal: ac.signal,
    });
    return { code, out, err };
  };
  // Above --max-cost with no terminal to ask: the estimate is printed and nothing runs.
  const shown = await run();
  assert.equal(shown.code, 2, shown.err);
  assert.match(shown.err, /estimating the cost: record [\d,]+ of 10,000 sampled over 40,000/);
  assert.match(
    shown.err,
    new RegExp(
      `label: ${2 * SAMPLE_ABOVE} record\\(s\\), about \\d+ request\\(s\\), .*\\(counted on ${SAMPLE_SIZE} records spread over the file\\)`,
    ),
  );
  // Ctrl-C at the estimate's first progress line: interrupted, nothing sent, the file as it was.
  const stopped = await run((t, ac) => {
    if (t.includes('estimating the cost') && !ac.signal.aborted) setTimeout(() => ac.abort(), 0);
  });
  assert.equal(stopped.code, 130, stopped.err);
  assert.match(stopped.err, /interrupted; nothing was written/);
  assert.doesNotMatch(stopped.err, /record\(s\), about/);
  assert.equal(server().counts.total, 0);
  assert.deepEqual(readFileSync(input), before);
});

test('curate confidence --batch: Ctrl-C while the cost is estimated says nothing was written, not that batches go on', async () => {
  const input = dataset(SAMPLE_ABOVE, true);
  const ac = new AbortController();
  let err = '';
  const code = await main(
    ['confidence', input, '--labels', 'x,y', '--base-url', server().baseURL, '--model', 'm', '--batch'],
    {
      out: () => {},
      err: (t) => {
        err += t;
        if (t.includes('estimating the cost') && !ac.signal.aborted) setTimeout(() => ac.abort(), 0);
      },
      write: () => {},
      isTTY: true,
      signal: ac.signal,
    },
  );
  assert.equal(code, 130, err);
  assert.match(err, /interrupted; nothing was written/);
  assert.doesNotMatch(err, /batches/);
  assert.equal(server().counts.total, 0);
});
