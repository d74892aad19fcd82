// Statistics without the line index: a dataset whose scan is deferred is counted straight from its
// file, in pieces cut at line starts and counted on the worker pool, with the same figures and
// the same invalid line numbers as the indexed count; and its index is still not built afterwards.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { JsonlDataset, computeStats } from '../../src/core/store';
import { FieldMap } from '../../src/core/schema/annotation';
import { statsOfPath } from '../../src/core/store/stats';
import { endIdleWorkers } from '../../src/core/store/stats-pool';
import { fileWith, tempDir } from './helpers/store';

function mixed(n: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 101 === 7) parts.push(Buffer.from('not json\n'));
    else if (i % 211 === 3) parts.push(Buffer.from('{"label":"crlf"}\r\n'));
    else if (i % 307 === 5) parts.push(Buffer.from([0xff, 0x7b, 0x7d, 0x0a]));
    else
      parts.push(
        Buffer.from(
          `${JSON.stringify({ i, label: ['pos', 'neg', 'neu'][i % 3], judge: { score: i % 10, scale: [0, 9] }, annotations: { review: { status: i % 4 ? 'reviewed' : 'pending' } }, text: 'x'.repeat(i % 50) })}\n`,
        ),
      );
  }
  parts.push(Buffer.from('{"label":"last, no newline"}'));
  return Buffer.concat(parts);
}

/** A file of mixed lines, and its figures counted by the indexed dataset in this thread. */
async function mixedFile() {
  const path = fileWith(mixed(20000));
  const indexed = await JsonlDataset.open(path);
  await indexed.ready;
  const want = await computeStats(indexed, FieldMap.parse({}), { workers: 0, maxListed: 1000 });
  indexed.close();
  return { path, want };
}

test('a deferred dataset is counted from its file: the same figures and line numbers as the indexed count', async () => {
  const { path, want } = await mixedFile();
  for (const workers of [0, 2]) {
    const ds = await JsonlDataset.open(path, { deferScan: true, worker: true, chunkSize: 4096 });
    assert.equal(ds.scanDeferred, true);
    const diagnostics: { workersUsed?: number } = {};
    const got = await computeStats(ds, FieldMap.parse({}), {
      workers,
      maxListed: 1000,
      pieceBytes: 64 * 1024,
      diagnostics,
    });
    assert.equal(diagnostics.workersUsed, workers);
    assert.deepEqual(got, want);
    assert.ok(
      got.invalid > 100 && got.invalidLines.some((l) => l.line > 19000),
      'invalid lines numbered across pieces',
    );
    assert.equal(ds.scanDeferred, true, 'no index was built');
    ds.close();
  }
});

// `curate stats` opens no dataset: statsOfPath counts the file as it is on disk.
test('statsOfPath: the figures and line numbers of the indexed count, with or without workers; a folder is refused', async () => {
  const { path, want } = await mixedFile();
  for (const opts of [{ workers: 0 }, { workers: 2 }, { workers: 1, inThread: true }])
    assert.deepEqual(
      await statsOfPath(path, FieldMap.parse({}), { ...opts, maxListed: 1000, pieceBytes: 64 * 1024 }),
      want,
      JSON.stringify(opts),
    );
  await assert.rejects(
    statsOfPath(tempDir()),
    (err: Error) => err.name === 'NotADatasetError' && /is a folder/.test(err.message),
  );
  endIdleWorkers();
});
