import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { quietContext, UserError } from '../../src/core/operation';
import {
  createFilterOperation,
  filterLines,
  filterOperation,
  FilterOptions,
  untagEdits,
} from '../../src/core/filter/filter';
import { linesOf } from '../../src/core/filter/source';
import { storeLines } from '../../src/core/sources';
import type { Line } from '../../src/core/filter/fields';
import { tempDir } from './helpers/store';

const dir = tempDir('dc-filter-');
const ctx = quietContext();

const records = [
  { id: 'a', text: 'A long enough review about a refund that never came.', label: 'negative', judge: { score: 8 } },
  { id: 'b', text: 'short', label: 'positive', judge: { score: 9 } },
  {
    id: 'c',
    text: 'A long enough review about a refund that never came.',
    label: 'negative',
    judge: { score: 9 },
    annotations: { tags: ['x'] },
  },
  { id: 'd', text: 'Another fine review, long enough to pass the length rule.', label: 'spam', judge: { score: 3 } },
  { id: 'e', text: 'Yet another review that passes every rule we have here.', label: 'positive', judge: { score: 7 } },
];
// Byte-exact: odd spacing and key order in the raw lines must survive a write.
const raws = records.map((r) => JSON.stringify(r).replace('{"id"', '{ "id"'));
const file = join(dir, 'in.jsonl');
writeFileSync(file, raws.join('\n') + '\n{not json\n');

const where = ['len(text) >= 20', 'label in [positive, negative]', 'not invalid'];

test('dry run: counts per rule alone and overall', async () => {
  const r = await filterOperation.run(FilterOptions.parse({ file, rules: where, minScore: 7, dedup: 'exact' }), ctx);
  assert.equal(r.total, 6);
  assert.equal(r.invalid, 1);
  assert.deepEqual(r.rules, [
    { rule: 'len(text) >= 20', dropped: 2 }, // b, and the invalid line
    { rule: 'label in [positive, negative]', dropped: 2 }, // d, invalid
    { rule: 'not invalid', dropped: 1 },
    { rule: 'judge.score >= 7', dropped: 2 }, // d, invalid
    { rule: 'duplicates (exact)', dropped: 1 }, // c duplicates a (among a, c, e)
  ]);
  assert.equal(r.dropped, 4); // b, c, d, invalid
  assert.equal(r.kept, 2);
  assert.deepEqual(r.dedup?.clusters, [{ id: 0, members: [0, 2], representative: 0, kind: 'exact', similarity: 1 }]);
  assert.equal(r.edits, undefined);
});

test('keep the highest judge score among duplicates', async () => {
  const r = await filterLines(
    () => storeLines(file),
    { rules: where, dedup: 'exact', keep: 'highest-score', action: 'delete' },
    ctx,
  );
  assert.deepEqual(r.deleteIndices, [0, 1, 3, 5]); // a loses to c (9 > 8)
});

test('write: byte-exact copies of the kept lines, never over the input', async () => {
  const out = join(dir, 'out.jsonl');
  const r = await filterOperation.run(
    FilterOptions.parse({
      file,
      rules: where,
      dedup: 'near',
      near: { shingleSize: 2, workers: 0 },
      action: 'write',
      out,
    }),
    ctx,
  );
  assert.equal(r.written, 2);
  assert.equal(readFileSync(out, 'utf8'), `${raws[0]}\n${raws[4]}\n`);
  await assert.rejects(filterOperation.run(FilterOptions.parse({ file, action: 'write', out }), ctx), /exists/);
  await assert.rejects(
    filterOperation.run(FilterOptions.parse({ file, action: 'write', out: file, overwrite: true }), ctx),
    UserError,
  );
  // from a one-shot async iterable, the kept lines are buffered
  async function* once(): AsyncGenerator<Line> {
    yield* linesOf(records);
  }
  const out2 = join(dir, 'out2.jsonl');
  const r2 = await filterLines(once(), { rules: ['label == positive'], action: 'write', out: out2 }, ctx);
  assert.equal(r2.written, 2);
  assert.equal(readFileSync(out2, 'utf8'), `${JSON.stringify(records[1])}\n${JSON.stringify(records[4])}\n`);
  assert.throws(() => FilterOptions.parse({ file, action: 'write' }), /out path/);
});

test('tag: reversible edits of annotations.tags; delete: indices', async () => {
  const lines = linesOf(records);
  const r = await filterLines(lines, { rules: ['label != spam'], dedup: 'exact', action: 'tag', tag: 'drop' }, ctx);
  assert.deepEqual(r.edits, [
    { index: 2, path: ['annotations', 'tags'], value: ['x', 'drop'] },
    { index: 3, path: ['annotations', 'tags'], value: ['drop'] },
  ]);
  // applying then reversing
  const tagged = lines.map((l) => ({ ...l, value: structuredClone(l.value) }));
  for (const e of r.edits ?? []) {
    const v = tagged[e.index]?.value as Record<string, unknown>;
    v.annotations = { ...(v.annotations as object), tags: e.value };
  }
  assert.deepEqual(await untagEdits(tagged, 'drop'), [
    { index: 2, path: ['annotations', 'tags'], value: ['x'] },
    { index: 3, path: ['annotations', 'tags'], value: [] },
  ]);
  const d = await filterLines(lines, { rules: ['judge.score > 7'], action: 'delete' }, ctx);
  assert.deepEqual(d.deleteIndices, [3, 4]);
});

test('bad rules are reported with their column; semantic needs an embeddings function', async () => {
  assert.throws(
    () => FilterOptions.parse({ file, rules: ['len(text) >= x'] }),
    /expected a number after '>=' \(len\(\) is a number\), found 'x' at column 14/,
  );
  assert.throws(() => FilterOptions.parse({ file, rules: [{ kind: 'range', path: 'x' }] }), /min or max/);
  await assert.rejects(filterLines(linesOf(records), { dedup: 'semantic' }, ctx), /embeddings/);
  const op = createFilterOperation({ embed: async (texts) => texts.map((t) => [t.length, 1]) });
  const r = await op.run(FilterOptions.parse({ file, dedup: 'semantic', semantic: { threshold: 0.999999 } }), ctx);
  assert.ok(r.dedup?.clusters.length === 1 && r.dedup.clusters[0]?.kind === 'semantic');
  const est = await op.estimate?.(FilterOptions.parse({ file, dedup: 'semantic' }), ctx);
  assert.equal(est?.records, 6);
  assert.equal(est.requests, 1);
});

test('aborting', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(filterLines(linesOf(records), { rules: where }, quietContext(ac.signal)), {
    name: 'AbortError',
  });
});
