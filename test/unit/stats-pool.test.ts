// The stats workers (src/core/store/stats-pool.ts): pieces claimed through a shared counter by
// worker threads that stay up between counts, and by the calling thread too when asked (the CLI).
// Every way of counting gives the figures and invalid line numbers of the one-thread count; a
// second count reuses the warm workers; an abort rejects and leaves the pool usable; the guided
// pieces shrink toward the end and start at line starts.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { JsonlDataset, computeStats } from '../../src/core/store';
import { endIdleWorkers } from '../../src/core/store/stats-pool';
import {
  POOL_MIN_BYTES,
  prestartStatsWorkers,
  prestartedCount,
  statsWorkersFor,
  takePrestarted,
} from '../../src/core/store/stats-prestart';
import { commands } from '../../src/cli/commands';
import { lineCuts } from '../../src/core/store/scan';
import { FieldMap } from '../../src/core/schema/annotation';
import { fileWith, tempDir } from './helpers/store';

function mixed(n: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 97 === 5) parts.push(Buffer.from('{"label": "bad",\n'));
    else if (i % 193 === 11) parts.push(Buffer.from('{"label":"crlf"}\r\n'));
    else
      parts.push(
        Buffer.from(
          `${JSON.stringify({ i, label: ['pos', 'neg', 'neu'][i % 3], judge: { score: i % 7, scale: [0, 6] }, annotations: { review: { status: i % 5 ? 'done' : 'pending' }, origin: { type: i % 2 ? 'model' : 'human' } }, text: 'é"\\'.repeat(i % 40) })}\n`,
        ),
      );
  }
  return Buffer.concat(parts);
}

const fields = FieldMap.parse({});

async function count(path: string, opts: Parameters<typeof computeStats>[2]) {
  const ds = await JsonlDataset.open(path, { deferScan: true });
  try {
    return await computeStats(ds, fields, opts);
  } finally {
    ds.close();
  }
}

test('counts on warm workers, in this thread too, give the one-thread figures; a second count starts no worker', async () => {
  endIdleWorkers();
  const path = fileWith(mixed(30000));
  const want = await count(path, { workers: 0, maxListed: 1000 });
  assert.ok(want.invalid > 200 && want.invalidLines.some((l) => l.line > 29000));
  const runs: { workers: number; inThread?: boolean; started: number }[] = [
    { workers: 2, started: 2 },
    { workers: 2, started: 0 },
    { workers: 1, inThread: true, started: 0 },
    { workers: 2, inThread: true, started: 0 },
  ];
  for (const r of runs) {
    const diagnostics: { workersUsed?: number; workersStarted?: number } = {};
    const got = await count(path, {
      workers: r.workers,
      ...(r.inThread ? { inThread: true } : {}),
      maxListed: 1000,
      pieceBytes: 48 * 1024,
      diagnostics,
    });
    assert.deepEqual(got, want, JSON.stringify(r));
    assert.equal(diagnostics.workersUsed, r.workers, JSON.stringify(r));
    assert.equal(diagnostics.workersStarted, r.started, JSON.stringify(r));
  }
  endIdleWorkers();
  const diagnostics: { workersStarted?: number } = {};
  assert.deepEqual(await count(path, { workers: 2, maxListed: 1000, pieceBytes: 48 * 1024, diagnostics }), want);
  assert.equal(diagnostics.workersStarted, 2, 'ended idle workers are started again');
  endIdleWorkers();
});

test('an abort during a count rejects it; the next count on the same pool has the right figures', async () => {
  endIdleWorkers();
  const path = fileWith(mixed(30000));
  const want = await count(path, { workers: 0 });
  const ac = new AbortController();
  await assert.rejects(
    count(path, {
      workers: 2,
      inThread: true,
      pieceBytes: 16 * 1024,
      signal: ac.signal,
      onProgress: () => ac.abort(),
    }),
    (err: Error) => err.name === 'AbortError',
  );
  assert.deepEqual(await count(path, { workers: 2, pieceBytes: 16 * 1024 }), want);
  endIdleWorkers();
});

test('guided pieces start at line starts, cover the file and shrink toward its end', () => {
  const content = mixed(20000);
  const path = fileWith(content);
  const fd = openSync(path, 'r');
  try {
    const cuts = lineCuts(fd, 0, content.length, (left) => Math.max(4096, left / 4));
    const buf = readFileSync(path);
    assert.equal(cuts[0], 0);
    assert.equal(cuts[cuts.length - 1], content.length);
    for (let k = 1; k + 1 < cuts.length; k++) {
      assert.ok(cuts[k]! > cuts[k - 1]!);
      assert.equal(buf[cuts[k]! - 1], 10, 'a cut is just after a newline');
    }
    const sizes = cuts.slice(1).map((c, k) => c - cuts[k]!);
    assert.ok(sizes.length > 8);
    assert.ok(sizes[0]! > 4 * sizes[sizes.length - 2]!, `first ${sizes[0]}, last ${sizes[sizes.length - 2]}`);
  } finally {
    closeSync(fd);
  }
});

test('counts at the same time each get their workers and the right figures; no more idle workers than cores stay up', async () => {
  endIdleWorkers();
  const a = fileWith(mixed(12000));
  const b = fileWith(mixed(9000));
  const [wantA, wantB] = [await count(a, { workers: 0 }), await count(b, { workers: 0 })];
  const [gotA, gotB, gotA2] = await Promise.all([
    count(a, { workers: 2, pieceBytes: 32 * 1024 }),
    count(b, { workers: 2, pieceBytes: 32 * 1024 }),
    count(a, { workers: 2, pieceBytes: 32 * 1024 }),
  ]);
  assert.deepEqual(gotA, wantA);
  assert.deepEqual(gotB, wantB);
  assert.deepEqual(gotA2, wantA);
  const diagnostics: { workersStarted?: number } = {};
  await count(b, { workers: 8, pieceBytes: 32 * 1024, diagnostics });
  assert.equal(
    diagnostics.workersStarted,
    8 - Math.min(availableParallelism(), 8),
    'the idle ones are reused, up to one per core',
  );
  endIdleWorkers();
});

// `curate stats` starts the count's workers before its code loads (src/cli/commands/index.ts).
test('workers prestarted for a big file are the ones the count takes, with the same figures; none for a small or missing file', async () => {
  endIdleWorkers();
  const small = fileWith(mixed(300));
  prestartStatsWorkers(small);
  prestartStatsWorkers(`${small}.missing`);
  prestartStatsWorkers(tempDir());
  assert.equal(prestartedCount(), 0, 'no worker for a small file, a missing one or a folder');
  const one = mixed(30000);
  const big = fileWith(Buffer.concat(Array.from({ length: Math.ceil(POOL_MIN_BYTES / one.length) + 1 }, () => one)));
  const want = await count(big, { workers: 0, maxListed: 1000 });
  prestartStatsWorkers(big);
  // One per core but the calling thread's, at least one: as many as the count below uses.
  const workers = statsWorkersFor(statSync(big).size, true);
  assert.equal(prestartedCount(), workers);
  const diagnostics: { workersUsed?: number; workersStarted?: number } = {};
  const got = await count(big, { inThread: true, endWorkers: true, maxListed: 1000, diagnostics });
  assert.deepEqual(got, want);
  assert.equal(diagnostics.workersUsed, workers);
  assert.equal(prestartedCount(), 0, 'the count took them');
  // endWorkers: none was kept idle, so the next count starts its own.
  const again: { workersStarted?: number } = {};
  assert.deepEqual(await count(big, { inThread: true, maxListed: 1000, diagnostics: again }), want);
  assert.equal(again.workersStarted, workers);
  endIdleWorkers();
});

// The dispatcher's prestart is synchronous: started from import().then(), the workers waited for
// the command's module to load first (the two promise chains run in turn).
test("curate stats's prestart has its workers starting when it returns, before the command's module loads", async () => {
  endIdleWorkers();
  const big = fileWith('');
  truncateSync(big, POOL_MIN_BYTES + 1);
  const entry = commands.find((c) => c.name === 'stats');
  if (!entry?.prestart) throw new Error('the stats command has no prestart');
  entry.prestart(['--json', big]);
  assert.equal(prestartedCount(), statsWorkersFor(POOL_MIN_BYTES + 1, true));
  for (let w = takePrestarted(); w; w = takePrestarted()) await w.terminate();
  entry.prestart(['--json']);
  assert.equal(prestartedCount(), 0, 'no file named: none');
});
