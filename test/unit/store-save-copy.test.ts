// The byte copy of a save (src/core/store/save-copy.ts): when the save starts from a kernel copy
// of the file, the original ranges that stay at their offsets are not written again. A relabel
// to a label of the same length writes that one line; edits that change lengths write from the
// first change in length on; the file is byte-exact either way (random edits included).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { JsonlDataset } from '../../src/core/store';
import { writeHooks } from '../../src/core/store/files';
import { fileWith } from './helpers/store';

const line = (i: number, label = ['positive', 'negative'][i % 2]) =>
  `{"i":"${String(i).padStart(7, '0')}","label":"${label}","text":"${'t'.repeat(200)}"}\n`;

/** The file offsets the save's writes start at (files.ts' test seam). */
async function writesOf(run: () => Promise<void>): Promise<number[]> {
  const at: number[] = [];
  writeHooks.beforeWrite = (pos) => void at.push(pos);
  try {
    await run();
  } finally {
    writeHooks.beforeWrite = undefined;
  }
  return at;
}

test('a same-length relabel in the middle of a 24 MB file writes only that line', async () => {
  const n = 110_000;
  const text = Array.from({ length: n }, (_, i) => line(i)).join('');
  const path = fileWith(text);
  const ds = await JsonlDataset.open(path);
  await ds.ready;
  const k = 60_000;
  const start = k * Buffer.byteLength(line(0));
  ds.setField(k, ['label'], 'negative');
  assert.equal(line(k), line(k, 'positive'));
  const writes = await writesOf(() => ds.save());
  assert.deepEqual(writes, [start], 'one write, at the edited line');
  const expected = text.replace(line(k), line(k, 'negative'));
  assert.ok(readFileSync(path).equals(Buffer.from(expected)));
  ds.close();
});

test('edits that keep and that change lengths: in-place lines are skipped, the rest written from the first change in length', async () => {
  const n = 40_000;
  const text = Array.from({ length: n }, (_, i) => line(i)).join('');
  const path = fileWith(text);
  const ds = await JsonlDataset.open(path);
  await ds.ready;
  const lineStart = (i: number) => i * Buffer.byteLength(line(0));
  ds.setField(10_000, ['label'], ds.line(10_000).value!.label === 'positive' ? 'negative' : 'positive');
  ds.setField(30_000, ['label'], 'x');
  const writes = await writesOf(() => ds.save());
  assert.equal(writes[0], lineStart(10_000));
  assert.equal(writes[1], lineStart(30_000));
  assert.ok(
    writes.every((w) => w === lineStart(10_000) || w >= lineStart(30_000)),
    'nothing written between the two edits',
  );
  const out = readFileSync(path, 'utf8').split('\n');
  assert.equal(out.length, n + 1);
  assert.equal(JSON.parse(out[30_000]!).label, 'x');
  assert.equal(out[29_999], line(29_999).trimEnd());
  assert.equal(out[39_999], line(39_999).trimEnd());
  ds.close();
});

test('random edits (same length, other lengths, inserts, deletes, a last line without newline): the saved file is the logical lines', async () => {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('relabel' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.string({ maxLength: 12 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(edit, { maxLength: 8 }),
      fc.boolean(),
      fc.integer({ min: 30, max: 120 }),
      async (edits, finalNewline, n) => {
        let text = Array.from({ length: n }, (_, i) => line(i)).join('');
        if (!finalNewline) text = text.slice(0, -1);
        const path = fileWith(text);
        const ds = await JsonlDataset.open(path);
        await ds.ready;
        for (const e of edits) {
          const at = e.at % Math.max(1, ds.lineCount);
          if (e.kind === 'insert') ds.insertLine(at, { i: -1, label: 'new' });
          else if (ds.lineCount === 0) continue;
          else if (e.kind === 'delete') ds.deleteLine(at);
          else if (e.kind === 'relabel')
            ds.setField(at, ['label'], ds.line(at).value!.label === 'positive' ? 'negative' : 'positive');
          else ds.setField(at, ['label'], e.value);
        }
        const expected: Buffer[] = [];
        for (let i = 0; i < ds.lineCount; i++) {
          const l = ds.line(i);
          expected.push(l.bytes(), Buffer.from(l.eol || (i < ds.lineCount - 1 ? '\n' : '')));
        }
        await ds.save();
        assert.ok(readFileSync(path).equals(Buffer.concat(expected)));
        ds.close();
      },
    ),
    { numRuns: 60 },
  );
});
