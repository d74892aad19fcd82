// The editor's live figures: counted once over the store, then kept up to date edit by edit
// (relabel, undo, insert, delete, edits while counting, a save while counting), in this thread and
// in the store's worker threads. Figures against hand-computed values and against a full recount.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { JsonlDataset, invertEdit, type Edit } from '../../src/core/store';
import { LiveAggregate } from '../../src/core/metrics/live';
import { agreement } from '../../src/core/metrics/agreement';
import { markForReview } from '../../src/core/filter/thresholds';
import { datasetLines } from '../../src/core/sources';
import { annotationFieldEdits } from '../../src/core/annotate-edits';
import { fileWith } from './helpers/store';

const close = (a: number | null | undefined, b: number, msg?: string) =>
  assert.ok(a !== null && a !== undefined && Math.abs(a - b) < 1e-9, `${msg ?? ''} ${a} != ${b}`);

function rec(
  id: string,
  suggestion: string | undefined,
  human: string | undefined,
  extra: Record<string, unknown> = {},
) {
  return {
    id,
    text: `review ${id}`,
    ...(human ? { label: human } : {}),
    annotations: {
      ...(suggestion ? { suggestions: { label: [{ value: suggestion, score: 0.9, agent: 'm', type: 'model' }] } } : {}),
      ...(human ? { human: { label: { value: human, status: 'submitted' } } } : {}),
      review: { status: human ? 'reviewed' : 'pending' },
    },
    ...extra,
  };
}

// human vs suggestion: (pos,pos) (neg,pos) (neg,neg) (pos,pos); r4 has no human decision; line 6 is invalid.
const lines = [
  rec('r0', 'pos', 'pos'),
  rec('r1', 'pos', 'neg'),
  rec('r2', 'neg', 'neg'),
  rec('r3', 'pos', 'pos'),
  rec('r4', 'neg', undefined),
].map((r) => JSON.stringify(r));
const content = `${[...lines, '{not json'].join('\n')}\n`;
const spec = {
  type: 'agreement' as const,
  spec: { question: 'label', compare: [['human', 'suggestion']] as [['human', 'suggestion']], judges: true },
};

function relabel(ds: JsonlDataset, index: number, label: string): Edit {
  return ds.setFields(index, annotationFieldEdits(ds.line(index).value ?? {}, { op: 'relabel', index, label }));
}

test('agreement over the store, then per edit: relabel, undo, insert, delete (hand-computed)', async () => {
  const ds = await JsonlDataset.open(fileWith(content));
  try {
    const live = new LiveAggregate(ds, spec);
    let r = (await live.current()).report();
    // confusion (rows human, columns suggestion), labels [neg, pos]: neg [1, 1], pos [0, 2]
    // p_o = 3/4; human totals neg 2, pos 2; suggestion totals neg 1, pos 3; p_e = 2/4·1/4 + 2/4·3/4 = 1/2
    // kappa = (3/4 − 1/2) / (1 − 1/2) = 1/2; neg: P 1/1, R 1/2, F1 2/3; pos: P 2/3, R 1, F1 4/5
    let m = r.comparisons[0]!.metrics;
    assert.equal(r.records, 5);
    assert.equal(r.comparisons[0]!.missing, 1);
    assert.deepEqual(m.confusion, [
      [1, 1],
      [0, 2],
    ]);
    close(m.accuracy, 3 / 4);
    close(m.kappa, 1 / 2);
    close(m.perLabel[0]!.f1, 2 / 3);
    close(m.perLabel[1]!.precision, 2 / 3);
    close(m.perLabel[1]!.f1, 4 / 5);
    assert.equal(live.counts, 1);

    // The person relabels r1 as pos: (pos,pos)×3, (neg,neg): p_o = 1; p_e = 1/4·1/4 + 3/4·3/4 = 5/8; kappa = 1.
    const e1 = relabel(ds, 1, 'pos');
    live.applyEdits([e1]);
    m = (await live.current()).report().comparisons[0]!.metrics;
    assert.deepEqual(m.confusion, [
      [1, 0],
      [0, 3],
    ]);
    close(m.accuracy, 1);
    close(m.expectedAgreement, 5 / 8);
    close(m.kappa, 1);
    assert.equal(live.counts, 1, 'an edit is applied, not recounted');

    // r4 (no decision yet) gets one: human pos vs suggestion neg. n = 5, p_o = 4/5;
    // human neg 1, pos 4; suggestion neg 2, pos 3: p_e = 1/5·2/5 + 4/5·3/5 = 14/25; kappa = (4/5 − 14/25)/(11/25) = 6/11
    const e2 = relabel(ds, 4, 'pos');
    live.applyEdits([e2]);
    r = (await live.current()).report();
    m = r.comparisons[0]!.metrics;
    assert.equal(m.n, 5);
    assert.equal(r.comparisons[0]!.missing, 0);
    close(m.kappa, 6 / 11);

    // Undo both (VS Code's undo passes the inverses, last first): back to the start.
    ds.undoEdit(e2);
    ds.undoEdit(e1);
    live.applyEdits([invertEdit(e2), invertEdit(e1)]);
    m = (await live.current()).report().comparisons[0]!.metrics;
    assert.deepEqual(m.confusion, [
      [1, 1],
      [0, 2],
    ]);

    // Insert a record and delete one: still equal to a full recount of the dataset as it is.
    const ins = ds.insertLine(2, rec('new', 'neg', 'pos'));
    const del = ds.deleteLine(0);
    live.applyEdits([ins, del]);
    const now = (await live.current()).report();
    const full = await agreement(() => datasetLines(ds), { compare: [['human', 'suggestion']] });
    assert.deepEqual(now, full);
    assert.equal(live.counts, 1);
  } finally {
    ds.close();
  }
});

test('a gold field, and agreement between judges, kept live', async () => {
  const withJudges = [
    {
      ...rec('a', 'pos', 'pos'),
      gold: 'pos',
      judges: [
        { model: 'A', score: 1 },
        { model: 'B', score: 2 },
      ],
    },
    {
      ...rec('b', 'neg', 'neg'),
      gold: 'pos',
      judges: [
        { model: 'A', score: 3 },
        { model: 'B', score: 3 },
      ],
    },
    {
      ...rec('c', 'neg', 'pos'),
      gold: 'neg',
      judges: [
        { model: 'A', score: 5 },
        { model: 'B', score: 4 },
      ],
    },
  ];
  const ds = await JsonlDataset.open(fileWith(`${withJudges.map((r) => JSON.stringify(r)).join('\n')}\n`));
  try {
    const live = new LiveAggregate(ds, {
      type: 'agreement',
      spec: {
        question: 'label',
        compare: [
          ['field:gold', 'suggestion'],
          ['field:gold', 'human'],
        ],
        judges: true,
      },
    });
    let r = (await live.current()).report();
    // gold vs suggestion: (pos,pos) (pos,neg) (neg,neg): accuracy 2/3; gold vs human: (pos,pos) (pos,neg) (neg,pos): 1/3
    close(r.comparisons[0]!.metrics.accuracy, 2 / 3);
    close(r.comparisons[1]!.metrics.accuracy, 1 / 3);
    // judges: units (1,2) (3,3) (5,4); alpha = 5/6 (see metrics-agreement.test.ts)
    close(r.judges?.alpha, 5 / 6);
    assert.equal(r.judges?.records, 3);
    // relabel c as neg: gold vs human becomes (pos,pos) (pos,neg) (neg,neg): 2/3
    live.applyEdits([relabel(ds, 2, 'neg')]);
    // a judge changes its mind on b: units (1,2) (3,1) (5,4)
    live.applyEdits([ds.setField(1, ['judges', 1, 'score'], 1)]);
    r = (await live.current()).report();
    close(r.comparisons[1]!.metrics.accuracy, 2 / 3);
    const full = await agreement(() => datasetLines(ds), {
      compare: [
        ['field:gold', 'suggestion'],
        ['field:gold', 'human'],
      ],
    });
    assert.deepEqual(r, full);
    assert.equal(live.counts, 1);
  } finally {
    ds.close();
  }
});

test('edits made while it counts are applied on top; a save underneath starts the count again', async () => {
  const many = Array.from({ length: 2000 }, (_, i) =>
    JSON.stringify(rec(`r${i}`, i % 2 ? 'pos' : 'neg', i % 3 ? 'pos' : 'neg')),
  );
  const ds = await JsonlDataset.open(fileWith(`${many.join('\n')}\n`));
  const recount = () => agreement(() => datasetLines(ds), { compare: [['human', 'suggestion']] });
  try {
    const live = new LiveAggregate(ds, spec, { workers: 1, taskBytes: 32 * 1024 });
    const counting = live.current();
    await new Promise((r) => setImmediate(r)); // the count has taken its snapshot and is in the workers
    live.applyEdits([relabel(ds, 1, 'neg'), relabel(ds, 2, 'neg')]);
    assert.deepEqual((await counting).report(), await recount());
    assert.equal(live.passes, 1);
    // A save while counting: the store re-bases on a new file (the old descriptor is closed); the count starts again.
    live.invalidate();
    const again = live.current();
    await new Promise((r) => setImmediate(r));
    live.applyEdits([relabel(ds, 5, 'neg')]);
    await ds.save();
    assert.deepEqual((await again).report(), await recount());
    assert.equal(live.passes, 3, 'counted again after the save');
    // Something changed with no edit to say so: the line count check catches it.
    ds.insertLine(0, rec('sneaky', 'pos', 'neg'));
    assert.equal((await live.current()).records, 2001);
    assert.equal(live.counts, 3);
  } finally {
    ds.close();
  }
});

test('the full count in worker threads equals the count in this thread', async () => {
  const many: string[] = [];
  for (let i = 0; i < 3000; i++)
    many.push(
      JSON.stringify(
        rec(`r${i}`, ['pos', 'neg', 'neu'][i % 3], i % 4 === 0 ? undefined : ['pos', 'neg', 'neu'][(i * 7) % 3], {
          judges: [
            { model: 'A', score: i % 10 },
            { model: 'B', score: (i * 3) % 10 },
          ],
        }),
      ),
    );
  many.splice(1234, 0, 'oops');
  const ds = await JsonlDataset.open(fileWith(`${many.join('\n')}\n`));
  try {
    ds.setField(10, ['label'], 'edited'); // an edited line: counted in this thread
    const pooled = new LiveAggregate(ds, spec, { workers: 2, taskBytes: 64 * 1024 });
    const here = new LiveAggregate(ds, spec, { workers: 0 });
    const a = (await pooled.current()).report();
    assert.ok(pooled.workersUsed > 0, 'the worker threads counted');
    assert.deepEqual(a, (await here.current()).report());
    assert.equal((await pooled.current()).lines, 3001);
  } finally {
    ds.close();
  }
});

test('the review queue count: sent to the queue, reviewed out of it', async () => {
  const ds = await JsonlDataset.open(fileWith(content));
  try {
    const live = new LiveAggregate(ds, { type: 'review-queue' });
    assert.equal((await live.current()).total, 0);
    const marks = markForReview([1, 3, 4], 'low-confidence').map((e) => ds.setField(e.index, e.path, e.value));
    live.applyEdits(marks);
    assert.deepEqual((await live.current()).counts(), [{ queue: 'low-confidence', count: 3 }]);
    // Reviewing r3 (relabel) takes it out: its status is no longer pending; the queue name stays.
    live.applyEdits([relabel(ds, 3, 'neg')]);
    assert.equal((await live.current()).total, 2);
    assert.equal(
      (ds.line(3).value as { annotations: { review: { queue: string } } }).annotations.review.queue,
      'low-confidence',
    );
    assert.equal(live.counts, 1);
  } finally {
    ds.close();
  }
});
