// The job journal's writer: entries written at once, their fsync in batches off the thread, and
// nothing lost when it is closed (or synced) while a batch's fsync is still running.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JournalWriter } from '../../src/core/jobs/journal';

type Entry = { type: 'record'; i: number; status: 'ok' };
const entry = (i: number): Entry => ({ type: 'record', i, status: 'ok' });
const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as Entry).i);

test('a journal closed while its batches are being synced keeps every entry, in order, and can be opened again', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'dc-journal-')), 'job.jsonl');
  const w = new JournalWriter<Entry>(path, undefined, { records: 10, ms: 1 });
  for (let i = 0; i < 95; i++) w.append(entry(i)); // nine batches of 10 handed to fsync, five entries waiting
  assert.deepEqual(lines(path), [...Array(95).keys()], 'each entry is written as it is appended');
  w.close();
  assert.throws(() => w.append(entry(95)), /journal is closed/);
  // The batch fsync still running ends on a closed journal without a word.
  await new Promise((r) => setTimeout(r, 50));
  const again = new JournalWriter<Entry>(path, undefined, { records: 10, ms: 1 });
  assert.equal(again.length, readFileSync(path).length);
  again.append(entry(95));
  again.sync();
  again.close();
  assert.deepEqual(lines(path), [...Array(96).keys()]);
});

test('a journal synced by hand while a batch is on its way: sync returns with every entry on disk, the batches go on after it', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'dc-journal-')), 'job.jsonl');
  const w = new JournalWriter<Entry>(path, undefined, { records: 4, ms: 5 });
  for (let i = 0; i < 4; i++) w.append(entry(i)); // a batch handed to fsync
  w.sync();
  for (let i = 4; i < 7; i++) w.append(entry(i)); // three waiting for the timer
  await new Promise((r) => setTimeout(r, 30));
  for (let i = 7; i < 20; i++) w.append(entry(i));
  await new Promise((r) => setTimeout(r, 30));
  w.close();
  assert.deepEqual(lines(path), [...Array(20).keys()]);
});
