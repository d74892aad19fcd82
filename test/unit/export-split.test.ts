import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { quietContext } from '../../src/core/operation';
import {
  largestRemainder,
  seededHash,
  splitLines,
  splitOperation,
  SplitOperationOptions,
  stratifiedSizes,
} from '../../src/core/export/split';
import {
  exportLines,
  exportOperation,
  ExportOperationOptions,
  importOperation,
  ImportOperationOptions,
} from '../../src/core/export/export';
import { linesOf } from '../../src/core/filter/source';
import { tempDir } from './helpers/store';

const dir = tempDir('dc-export-');

test('largest remainder: exact sizes, ties to the earlier part', () => {
  // 103 · 0.8 = 82.4, 103 · 0.2 = 20.6 → floors 82 + 20 = 102; the one left goes to the larger remainder (0.6)
  assert.deepEqual(largestRemainder(103, [0.8, 0.2]), [82, 21]);
  // 10 / 3 = 3.33 each: floors 9, one left, equal remainders → the first part
  assert.deepEqual(largestRemainder(10, [1, 1, 1]), [4, 3, 3]);
  assert.deepEqual(largestRemainder(0, [0.9, 0.1]), [0, 0]);
  assert.throws(() => largestRemainder(5, [0, 0]));
});

test('stratified sizes: rows sum to the strata, columns to the exact totals, cells within one of the quota', () => {
  // strata a 60, b 30, c 13 at 0.8/0.2: a 48/12, b 24/6 exact; c 10.4/2.6 → 10/2 + 1 to validation (needs 21 in all)
  assert.deepEqual(stratifiedSizes([60, 30, 13], [0.8, 0.2]), [
    [48, 12],
    [24, 6],
    [10, 3],
  ]);
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 4 }),
      (strata, weights) => {
        const sizes = stratifiedSizes(strata, weights);
        const n = strata.reduce((a, b) => a + b, 0);
        const totals = largestRemainder(n, weights);
        const sum = weights.reduce((a, b) => a + b, 0);
        sizes.forEach((row, i) => {
          assert.equal(
            row.reduce((a, b) => a + b, 0),
            strata[i],
          );
          row.forEach((c, j) =>
            assert.ok(Math.abs(c - ((strata[i] as number) * (weights[j] as number)) / sum) < 1 + 1e-9),
          );
        });
        totals.forEach((t, j) =>
          assert.equal(
            sizes.reduce((a, row) => a + (row[j] as number), 0),
            t,
          ),
        );
      },
    ),
    { seed: 7, numRuns: 300 },
  );
});

const records = [
  ...Array.from({ length: 60 }, (_, i) => ({ id: `a${i}`, label: 'a' })),
  ...Array.from({ length: 30 }, (_, i) => ({ id: `b${i}`, label: 'b' })),
  ...Array.from({ length: 13 }, (_, i) => ({
    id: `c${i}`,
    label: 'c',
    annotations: { human: { label: { value: 'c', user: 'u' } } },
  })),
];

test('split: deterministic with the seed, stratified, exact', async () => {
  const lines = linesOf(records);
  const r = await splitLines(lines, { fractions: { train: 0.8, validation: 0.2 }, seed: 1 });
  assert.deepEqual(r.sizes, { train: 82, validation: 21 });
  assert.deepEqual(r.strata, {
    a: { train: 48, validation: 12 },
    b: { train: 24, validation: 6 },
    c: { train: 10, validation: 3 },
  });
  assert.deepEqual(
    [...r.splits.train!, ...r.splits.validation!].sort((x, y) => x - y),
    records.map((_, i) => i),
    'a partition',
  );
  assert.deepEqual(
    await splitLines(lines, { fractions: { train: 0.8, validation: 0.2 }, seed: 1 }),
    r,
    'same seed, same split',
  );
  const other = await splitLines(lines, { fractions: { train: 0.8, validation: 0.2 }, seed: 2 });
  assert.notDeepEqual(other.splits.validation, r.splits.validation);
  assert.deepEqual(other.sizes, r.sizes);
  // the order of the input does not matter (keys are hashed with the seed)
  const reversed = linesOf([...records].reverse());
  const rv = await splitLines(reversed, { fractions: { train: 0.8, validation: 0.2 }, seed: 1 });
  const ids = (res: typeof r, recs: typeof records) => res.splits.validation!.map((i) => recs[i]!.id).sort();
  assert.deepEqual(ids(rv, [...records].reverse()), ids(r, records));
  const flat = await splitLines(lines, { fractions: { train: 1, validation: 1, test: 1 }, stratify: null });
  assert.deepEqual(flat.sizes, { train: 35, validation: 34, test: 34 });
  assert.notEqual(seededHash('x', 1), seededHash('x', 2));
});

test('split operation writes byte-exact lines per part', async () => {
  const file = join(dir, 'data.jsonl');
  const raws = records.map((r) => JSON.stringify(r).replace(':', ': '));
  writeFileSync(file, raws.join('\n') + '\n');
  const r = await splitOperation.run(
    SplitOperationOptions.parse({
      file,
      fractions: { train: 0.9, validation: 0.1 },
      outputs: { train: join(dir, 't.jsonl'), validation: join(dir, 'v.jsonl') },
    }),
    quietContext(),
  );
  const t = readFileSync(join(dir, 't.jsonl'), 'utf8').trim().split('\n');
  const v = readFileSync(join(dir, 'v.jsonl'), 'utf8').trim().split('\n');
  assert.equal(t.length, r.sizes.train);
  assert.equal(v.length, r.sizes.validation);
  assert.deepEqual(
    v,
    r.splits.validation!.map((i) => raws[i]),
  );
});

test('export and import operations', async () => {
  const file = join(dir, 'chat.jsonl');
  writeFileSync(
    file,
    [
      JSON.stringify({
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
        ],
        label: 'ok',
      }),
      JSON.stringify({ text: 'no chat' }),
      '{broken',
      JSON.stringify({ prompt: 'p', response: 'r' }),
    ].join('\n') + '\n',
  );
  const out = join(dir, 'sharegpt.jsonl');
  const r = await exportOperation.run(ExportOperationOptions.parse({ file, format: 'sharegpt', out }), quietContext());
  assert.equal(r.written, 2);
  assert.equal(r.invalid, 1);
  assert.equal(r.skippedCount, 1);
  assert.equal(r.skipped[0]?.index, 1);
  const rows = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(rows[1], {
    conversations: [
      { from: 'human', value: 'p' },
      { from: 'gpt', value: 'r' },
    ],
  });
  await assert.rejects(
    exportOperation.run(ExportOperationOptions.parse({ file, format: 'sft', out }), quietContext()),
    /exists/,
  );
  const back = join(dir, 'back.jsonl');
  const i = await importOperation.run(
    ImportOperationOptions.parse({ file: out, format: 'sharegpt', out: back }),
    quietContext(),
  );
  assert.equal(i.written, 2);
  assert.deepEqual(JSON.parse(readFileSync(back, 'utf8').split('\n')[0]!), {
    messages: [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ],
  });
  const mem = await exportLines(linesOf([{ instruction: 'i', output: 'o' }]), { format: 'alpaca' }, quietContext());
  assert.deepEqual(mem.rows, [{ instruction: 'i', input: '', output: 'o' }]);
});
