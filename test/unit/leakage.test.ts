// Leakage between splits (src/core/filter/leakage.ts, `curate leakage`): exact and near duplicates
// shared by train, validation and eval files, reported on the later split's line.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { describeLeak, findLeaks, splitRole } from '../../src/core/filter/leakage';
import { curate, fileWith, tempDir } from './helpers/store';

const lines = (...texts: string[]) => texts.map((t, i) => `${JSON.stringify({ id: i, text: t })}\n`).join('');
const long = (topic: string) =>
  `The ${topic} arrived on time and works exactly as described in the listing, the battery lasts two full days and setup took five minutes.`;

function splits(): { dir: string; train: string; valid: string; test: string } {
  const dir = tempDir('dc-leak-');
  const train = fileWith(
    lines(long('phone'), long('laptop'), 'short unique train text', long('camera')),
    'train.jsonl',
    dir,
  );
  // line 2: the same text as train line 2 with other case and spacing (exact after normalization); line 3 a near copy of train line 4
  const valid = fileWith(
    lines(
      'validation only record',
      `  ${long('LAPTOP').toUpperCase()}  `,
      long('camera').replace('five minutes', 'five minutes flat'),
    ),
    'valid.jsonl',
    dir,
  );
  const test = fileWith(lines(long('phone'), 'test only record', 'validation only record'), 'test.jsonl', dir);
  return { dir, train, valid, test };
}

describe('leakage', () => {
  test('splitRole by file name; eval first', () => {
    assert.equal(splitRole('/d/train.jsonl'), 'train');
    assert.equal(splitRole('/d/reviews_val.jsonl'), 'validation');
    assert.equal(splitRole('/d/dev.jsonl'), 'validation');
    assert.equal(splitRole('/d/train_eval.jsonl'), 'eval');
    assert.equal(splitRole('/d/test.jsonl'), 'eval');
    assert.equal(splitRole('/d/reviews.jsonl'), undefined);
    assert.equal(splitRole('/d/gold.jsonl', { eval: ['gold*'] }), 'eval');
  });

  test('exact and near duplicates across splits, on the later file, naming the earlier record', async () => {
    const { train, valid, test } = splits();
    const leaks = await findLeaks(
      [
        { path: train, role: 'train' },
        { path: valid, role: 'validation' },
        { path: test, role: 'eval' },
      ],
      { workers: 0 },
    );
    assert.deepEqual(
      leaks.map((l) => [l.file, l.line, l.kind, l.other.file, l.other.line]),
      [
        [test, 1, 'exact', train, 1],
        [test, 3, 'exact', valid, 1],
        [valid, 2, 'exact', train, 2],
        [valid, 3, 'near', train, 4],
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : (a[1] as number) - (b[1] as number))),
    );
    const nearLeak = leaks.find((l) => l.kind === 'near')!;
    assert.ok(nearLeak.similarity >= 0.8 && nearLeak.similarity < 1);
    assert.match(
      describeLeak(nearLeak),
      /^Leakage: this validation record is a near duplicate \(Jaccard ~0\.\d\d\) of train record train\.jsonl:4$/,
    );
    const exactOnly = await findLeaks(
      [
        { path: train, role: 'train' },
        { path: valid, role: 'validation' },
      ],
      { near: false },
    );
    assert.deepEqual(
      exactOnly.map((l) => l.line),
      [2],
    );
  });

  test('curate leakage: lists FILE:LINE and exits 1; 0 when the splits are clean; a file without a split name is refused', () => {
    const { dir, train, valid, test } = splits();
    const r = curate(['leakage', train, valid, test]);
    assert.equal(r.code, 1, r.err);
    assert.match(
      r.out,
      new RegExp(
        `${valid.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: Leakage: this validation record is an exact duplicate of train record .*train\\.jsonl:2`,
      ),
    );
    assert.match(r.out, /4 record\(s\) of a later split repeat an earlier split/);
    const clean = fileWith(lines('nothing in common'), 'eval.jsonl', dir);
    assert.equal(curate(['leakage', train, clean]).code, 0);
    const unnamed = fileWith(lines('x'), 'reviews.jsonl', dir);
    const bad = curate(['leakage', train, unnamed]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /says no split/);
    assert.ok(join(dir, 'x'));
  });
});
