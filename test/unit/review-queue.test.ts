// Review-queue stepping and duplicate review in the core: which records wait in the queue (the
// editor's "in review queue" facet and its q key search with it), that reviewing takes a record
// out, the records a duplicate review drops, and cluster members followed through edits.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { JsonlDataset, invertEdit, remapIndices, type Edit } from '../../src/core/store';
import { inReviewQueue } from '../../src/core/filter/fields';
import { markForReview, reviewQueue } from '../../src/core/filter/thresholds';
import { duplicatesToDrop, type DupCluster } from '../../src/core/filter/dedup';
import { tagEdits } from '../../src/core/filter/filter';
import { matchesQuery } from '../../src/core/query';
import { datasetLines } from '../../src/core/sources';
import { annotationFieldEdits } from '../../src/core/annotate-edits';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { curate, fileWith, root } from './helpers/store';

const sug = (value: string, score: number) => ({
  suggestions: { label: [{ value, score, agent: 'm', type: 'model' }] },
});

/** Steps through the queue as the editor does: the next match from the record after `from`, wrapping. */
function stepper(ds: JsonlDataset) {
  const inQueue = matchesQuery({ inQueue: true });
  return (from: number): number | undefined => {
    for (let k = 1; k <= ds.lineCount; k++) {
      const i = (from + k) % ds.lineCount;
      if (inQueue(ds.line(i))) return i;
    }
    return undefined;
  };
}

test('send low-confidence records to the queue, step through it, review each one out of it', async () => {
  const recs = [
    { text: 'a', annotations: sug('pos', 0.95) },
    { text: 'b', annotations: sug('neg', 0.41) },
    {
      text: 'c',
      annotations: {
        ...sug('pos', 0.6),
        human: { label: { value: 'pos', status: 'submitted' } },
        review: { status: 'reviewed' },
      },
    },
    { text: 'd', annotations: sug('neg', 0.79) },
    { text: 'e' },
    { text: 'f', annotations: sug('pos', 0.3) },
  ];
  const ds = await JsonlDataset.open(fileWith(`${recs.map((r) => JSON.stringify(r)).join('\n')}\n`));
  try {
    // Below 0.8, or no suggestion; the record a person decided (c) stays out.
    const q = await reviewQueue(() => datasetLines(ds), { minConfidence: 0.8, queue: 'low-confidence' });
    assert.deepEqual(q.indices, [1, 3, 4, 5]);
    assert.deepEqual(q.reasons, {
      1: ['low-confidence'],
      3: ['low-confidence'],
      4: ['no-confidence'],
      5: ['low-confidence'],
    });
    for (const e of markForReview(q.indices, 'low-confidence')) ds.setField(e.index, e.path, e.value);
    const next = stepper(ds);
    // q from the first record, then on: 1, 3, 4, 5, and round to 1 again.
    assert.deepEqual([next(0), next(1), next(3), next(4), next(5)], [1, 3, 4, 5, 1]);
    // Shift+Q goes the other way round (the search runs backward from the record before).
    // Reviewing takes a record out: relabel (1), accept (3), reject (5); the queue's name stays.
    ds.setFields(1, annotationFieldEdits(ds.line(1).value!, { op: 'relabel', index: 1, label: 'pos' }));
    ds.setFields(
      3,
      annotationFieldEdits(ds.line(3).value!, { op: 'accept', index: 3, question: 'label', position: 0 }),
    );
    ds.setFields(5, annotationFieldEdits(ds.line(5).value!, { op: 'reject', index: 5, question: 'label' }));
    assert.deepEqual(
      [1, 3, 5].map((i) => inReviewQueue(ds.line(i).value!)),
      [false, false, false],
    );
    assert.equal(
      (ds.line(1).value as { annotations: { review: { queue: string } } }).annotations.review.queue,
      'low-confidence',
    );
    // After reviewing 5 the editor moves on: the next (and only) one left is 4; then none.
    assert.equal(next(5), 4);
    ds.setFields(4, annotationFieldEdits(ds.line(4).value!, { op: 'relabel', index: 4, label: 'neg' }));
    assert.equal(next(4), undefined);
    // A new send skips what was decided: nothing waits now.
    assert.deepEqual((await reviewQueue(() => datasetLines(ds), { minConfidence: 0.8 })).indices, []);
    // The queue is named: inReviewQueue(v, name) tells queues apart.
    assert.equal(
      inReviewQueue({ annotations: { review: { status: 'pending', queue: 'judges-disagree' } } }, 'low-confidence'),
      false,
    );
    assert.equal(inReviewQueue({ annotations: { review: { queue: 'x' } } }), true, 'no status yet: pending');
  } finally {
    ds.close();
  }
});

test('a confusion-matrix cell as a search facet', () => {
  const cell = matchesQuery({
    agreementCell: {
      question: 'label',
      reference: 'human',
      prediction: 'suggestion',
      referenceLabel: 'pos',
      predictionLabel: 'neg',
    },
  });
  const line = (human: string | undefined, s: string) => ({
    raw: '',
    value: { annotations: { ...sug(s, 0.9), ...(human ? { human: { label: { value: human } } } : {}) } },
  });
  assert.deepEqual([line('pos', 'neg'), line('pos', 'pos'), line('neg', 'neg'), line(undefined, 'neg')].map(cell), [
    true,
    false,
    false,
    false,
  ]);
});

test('a duplicate review: the records dropped, with the kept one chosen, tagged once', () => {
  const clusters: DupCluster[] = [
    { id: 0, members: [1, 4, 9], representative: 1, kind: 'near', similarity: 0.9 },
    { id: 1, members: [2, 3], representative: 2, kind: 'exact', similarity: 1 },
  ];
  assert.deepEqual(duplicatesToDrop(clusters), [3, 4, 9]);
  assert.deepEqual(duplicatesToDrop(clusters, new Map([[0, 9]])), [1, 3, 4]);
  assert.deepEqual(
    duplicatesToDrop(clusters, new Map([[0, 77]])),
    [3, 4, 9],
    'a keeper outside the cluster is ignored',
  );
  assert.deepEqual(
    tagEdits(
      [
        [3, ['x']],
        [4, ['duplicate']],
        [9, undefined],
      ],
      'duplicate',
    ),
    [{ index: 3, path: ['annotations', 'tags'], value: ['x', 'duplicate'] }],
  );
});

test('cluster members follow their records through inserts, deletes and their undo', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 3, max: 30 }),
      fc.array(fc.tuple(fc.constantFrom('insert', 'delete', 'replace', 'delete-run', 'undo-run'), fc.nat(), fc.nat()), {
        maxLength: 12,
      }),
      async (n, ops) => {
        const ds = await JsonlDataset.open(
          fileWith(`${Array.from({ length: n }, (_, i) => JSON.stringify({ id: i })).join('\n')}\n`),
        );
        try {
          const all: Edit[] = [];
          for (const [op, a, b] of ops) {
            const count = ds.lineCount;
            if (op === 'insert') all.push(ds.insertLine(a % (count + 1), { id: `new${all.length}` }));
            else if (count === 0) continue;
            else if (op === 'delete') all.push(ds.deleteLine(a % count));
            else if (op === 'replace') all.push(ds.setField(a % count, ['x'], b));
            else {
              // A filter's "delete the others": descending deletes; then perhaps its undo (ascending inserts).
              const picks = [...new Set([a % count, b % count, (a + b) % count])].sort((x, y) => y - x);
              const run = picks.map((i) => ds.deleteLine(i));
              all.push(...run);
              if (op === 'undo-run') {
                const undo = [...run].reverse().map(invertEdit);
                for (const e of undo) ds.applyEdit(e);
                all.push(...undo);
              }
            }
          }
          const moved = remapIndices(
            Array.from({ length: n }, (_, i) => i),
            all,
          );
          const where = new Map<number, number>();
          for (let i = 0; i < ds.lineCount; i++) {
            const id = (ds.line(i).value as { id: unknown }).id;
            if (typeof id === 'number') where.set(id, i);
          }
          moved.forEach((m, id) => assert.equal(m, where.get(id), `record ${id}`));
        } finally {
          ds.close();
        }
      },
    ),
    { numRuns: 150 },
  );
});

test('curate review-queue --mark: the records for people, marked in place, every other line byte-identical', () => {
  const sample = readFileSync(join(root, 'samples', 'reviews.jsonl'), 'utf8');
  const file = fileWith(sample);
  const recs = sample
    .trim()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as {
          annotations: { human?: unknown; review?: { status?: string }; suggestions: { label: { score: number }[] } };
        },
    );
  const expected = recs.flatMap((r, i) =>
    !r.annotations.human &&
    (r.annotations.review?.status ?? 'pending') === 'pending' &&
    (r.annotations.suggestions.label[0]?.score ?? 0) < 0.75
      ? [i]
      : [],
  );
  const r = curate(['review-queue', file, '--min-confidence', '0.75', '--mark']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`${expected.length} record\\(s\\) for review in 'low-confidence'`));
  const before = sample.split('\n');
  const after = readFileSync(file, 'utf8').split('\n');
  assert.equal(after.length, before.length);
  after.forEach((line, i) => {
    if (expected.includes(i))
      assert.deepEqual((JSON.parse(line) as { annotations: { review: unknown } }).annotations.review, {
        status: 'pending',
        queue: 'low-confidence',
      });
    else assert.equal(line, before[i], `line ${i + 1} is untouched`);
  });
  const json = JSON.parse(curate(['review-queue', file, '--min-confidence', '0.75', '--json']).out) as {
    indices: number[];
    reasons: Record<string, string[]>;
  };
  assert.deepEqual(json.indices, expected);
  assert.equal(curate(['review-queue', file, '--min-confidence', 'lots']).code, 2);
});
