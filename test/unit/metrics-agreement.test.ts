import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quietContext } from '../../src/core/operation';
import {
  agreement,
  agreementOperation,
  AgreementOperationOptions,
  averageRanks,
  classificationMetrics,
  judgesAgreement,
  krippendorffAlphaInterval,
  meanAbsoluteDifference,
  pearson,
  spearman,
} from '../../src/core/metrics/agreement';
import { linesOf } from '../../src/core/filter/source';

const close = (a: number | null | undefined, b: number, msg?: string) =>
  assert.ok(a !== null && a !== undefined && Math.abs(a - b) < 1e-9, `${msg ?? ''} ${a} != ${b}`);
const pairs = (ref: string, pred: string) => ref.split('').map((r, i) => [r, pred[i] as string] as const);

test('accuracy, kappa, per-label P/R/F1, macro/micro F1, confusion (hand-computed)', () => {
  // ref  a a a a a b b b b b
  // pred a a a a b b b b a a
  // confusion (rows ref, cols pred): a: [4, 1], b: [2, 3]
  // p_o = (4 + 3) / 10 = 0.7; ref totals a 5, b 5; pred totals a 6, b 4
  // p_e = 0.5·0.6 + 0.5·0.4 = 0.5; kappa = (0.7 − 0.5) / (1 − 0.5) = 0.4
  // a: P = 4/6, R = 4/5, F1 = 2·(2/3·4/5)/(2/3 + 4/5) = (16/15)/(22/15) = 8/11
  // b: P = 3/4, R = 3/5, F1 = 2·(9/20)/(27/20) = 2/3
  // macro F1 = (8/11 + 2/3) / 2 = 23/33; micro F1 = 7/10 (single-label: = accuracy)
  const m = classificationMetrics(pairs('aaaaabbbbb', 'aaaabbbbaa'));
  assert.equal(m.n, 10);
  assert.deepEqual(m.labels, ['a', 'b']);
  assert.deepEqual(m.confusion, [
    [4, 1],
    [2, 3],
  ]);
  close(m.accuracy, 0.7);
  close(m.expectedAgreement, 0.5);
  close(m.kappa, 0.4);
  close(m.perLabel[0]?.precision, 4 / 6);
  close(m.perLabel[0]?.recall, 4 / 5);
  close(m.perLabel[0]?.f1, 8 / 11);
  close(m.perLabel[1]?.precision, 3 / 4);
  close(m.perLabel[1]?.recall, 3 / 5);
  close(m.perLabel[1]?.f1, 2 / 3);
  assert.equal(m.perLabel[1]?.support, 5);
  close(m.macroF1, 23 / 33);
  close(m.microF1, 0.7);
});

test('kappa edge cases', () => {
  // Perfect agreement on one single category: p_o = 1, p_e = 1·1 = 1 → kappa = 0/0: null (undefined).
  const one = classificationMetrics(pairs('xxx', 'xxx'));
  assert.equal(one.accuracy, 1);
  assert.equal(one.expectedAgreement, 1);
  assert.equal(one.kappa, null);
  assert.equal(one.macroF1, 1);
  // Perfect agreement over two categories: p_o = 1, p_e = 0.5 → kappa = 1.
  close(classificationMetrics(pairs('ab', 'ab')).kappa, 1);
  // All disagree, symmetric: p_o = 0, p_e = 0.5·0.5 + 0.5·0.5 = 0.5 → kappa = −0.5/0.5 = −1.
  const swap = classificationMetrics(pairs('ab', 'ba'));
  close(swap.kappa, -1);
  assert.deepEqual(
    swap.perLabel.map((l) => l.f1),
    [0, 0],
    'tp = 0: P = R = F1 = 0',
  );
  // All disagree, one label each side: p_o = 0, p_e = 1·0 + 0·1 = 0 → kappa = 0.
  // a: never predicted → P = 0 (0/0 taken as 0), R = 0/2 = 0; b: never in the reference → R = 0 (0/0), P = 0/2 = 0.
  const apart = classificationMetrics(pairs('aa', 'bb'));
  close(apart.kappa, 0);
  assert.deepEqual(apart.perLabel, [
    { label: 'a', precision: 0, recall: 0, f1: 0, support: 2 },
    { label: 'b', precision: 0, recall: 0, f1: 0, support: 0 },
  ]);
  close(apart.macroF1, 0);
  // Empty input: everything undefined.
  const empty = classificationMetrics([]);
  assert.deepEqual(empty, {
    n: 0,
    accuracy: null,
    expectedAgreement: null,
    kappa: null,
    labels: [],
    confusion: [],
    perLabel: [],
    macroF1: null,
    microF1: null,
  });
});

test('Pearson, Spearman with ties (average ranks), mean absolute difference (hand-computed)', () => {
  const xs = [1, 2, 3, 4, 5];
  const ys = [2, 4, 5, 4, 5];
  // means 3 and 4; dx = −2 −1 0 1 2, dy = −2 0 1 0 1; Σdxdy = 4 + 0 + 0 + 0 + 2 = 6; Σdx² = 10; Σdy² = 6
  // r = 6 / √60 ≈ 0.7746
  close(pearson(xs, ys), 6 / Math.sqrt(60));
  // ranks of ys: 2 → 1; the two 4s share ranks 2, 3 → 2.5; the two 5s share 4, 5 → 4.5
  assert.deepEqual(averageRanks(ys), [1, 2.5, 4.5, 2.5, 4.5]);
  // rank dy = −2 −0.5 1.5 −0.5 1.5; Σdxdy = 4 + 0.5 + 0 − 0.5 + 3 = 7; Σdy² = 4 + 0.25 + 2.25 + 0.25 + 2.25 = 9
  // rho = 7 / √(10·9) ≈ 0.7379
  close(spearman(xs, ys), 7 / Math.sqrt(90));
  // |1−2| + |2−4| + |3−5| + 0 + 0 = 5 → 5/5 = 1
  close(meanAbsoluteDifference(xs, ys), 1);
  assert.equal(pearson([1], [2]), null, 'n < 2');
  assert.equal(pearson([1, 1, 1], [1, 2, 3]), null, 'zero variance');
  assert.equal(meanAbsoluteDifference([], []), null);
});

test("Krippendorff's alpha, interval (hand-computed)", () => {
  // units (1,2) (3,3) (5,4): n = 6 pairable values
  // D_o = (1/6)·[2·1² + 0 + 2·1²] / (2 − 1) = 4/6
  // Σv = 18, Σv² = 64; Σ_{i≠j}(v_i − v_j)² = 2(6·64 − 18²) = 120; D_e = 120 / (6·5) = 4
  // alpha = 1 − (4/6)/4 = 5/6
  close(
    krippendorffAlphaInterval([
      [1, 2],
      [3, 3],
      [5, 4],
    ]),
    5 / 6,
  );
  // a unit with a single value is not pairable and changes nothing; missing values are skipped
  close(
    krippendorffAlphaInterval([
      [1, 2],
      [3, 3],
      [5, 4],
      [9, null],
      [undefined, 7],
    ]),
    5 / 6,
  );
  close(
    krippendorffAlphaInterval([
      [1, 1],
      [2, 2],
    ]),
    1,
    'perfect',
  );
  assert.equal(
    krippendorffAlphaInterval([
      [3, 3],
      [3, 3],
    ]),
    null,
    'D_e = 0',
  );
  assert.equal(krippendorffAlphaInterval([]), null);
});

test('agreement between judges from judges[]', () => {
  const xs = [1, 2, 3, 4, 5];
  const ys = [2, 4, 5, 4, 5];
  const records = xs.map((x, i) => ({
    judges: [
      { model: 'B', score: ys[i] },
      { model: 'A', score: x },
    ],
  }));
  records.push({ judges: [{ model: 'A', score: 9 }] }); // one judge: left out
  const r = judgesAgreement(records);
  assert.deepEqual(r.raters, ['A', 'B']);
  assert.equal(r.records, 5);
  close(r.pairs[0]?.pearson, 6 / Math.sqrt(60));
  close(r.pairs[0]?.spearman, 7 / Math.sqrt(90));
  close(r.pairs[0]?.meanAbsoluteDifference, 1);
  // units (1,2) (2,4) (3,5) (4,4) (5,5): D_o = (1/10)·2·(1 + 4 + 4 + 0 + 0) = 1.8
  // Σv = 35, Σv² = 141: Σ_{i≠j} = 2(10·141 − 35²) = 370, D_e = 370/90; alpha = 1 − 1.8·90/370 = 208/370
  close(r.alpha, 208 / 370);
});

test('agreement from a file: human vs suggestion, gold file joined by id, gold field', async () => {
  const file = join(__dirname, '..', '..', 'samples', 'reviews.jsonl');
  const values = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const both = values.filter((v) => v.annotations?.human?.label && v.annotations?.suggestions?.label);
  const agreeing = both.filter(
    (v) => v.annotations.human.label.value === v.annotations.suggestions.label[0].value,
  ).length;
  const r = await agreementOperation.run(AgreementOperationOptions.parse({ file }), quietContext());
  assert.equal(r.records, values.length);
  const c = r.comparisons[0];
  assert.equal(c?.reference, 'human');
  assert.equal(c.metrics.n, both.length);
  assert.equal(c.missing, values.length - both.length);
  close(c.metrics.accuracy, agreeing / both.length);

  const recs = [
    {
      id: 'r1',
      label: 'pos',
      gold_label: 'pos',
      annotations: { suggestions: { label: [{ value: 'pos', score: 0.9 }] } },
    },
    {
      id: 'r2',
      label: 'neg',
      gold_label: 'pos',
      annotations: { suggestions: { label: [{ value: 'neg', score: 0.9 }] } },
    },
    {
      id: 'r3',
      label: 'neg',
      gold_label: 'neg',
      annotations: { suggestions: { label: [{ value: 'pos', score: 0.9 }] } },
    },
  ];
  const gold = linesOf([
    { id: 'r3', label: 'neg' },
    { id: 'r1', label: 'pos' },
    { id: 'r2', label: 'pos' },
  ]);
  const g = await agreement(linesOf(recs), { joinOn: 'id', judges: false }, gold);
  assert.deepEqual(
    g.comparisons.map((x) => [x.reference, x.prediction, x.metrics.accuracy, x.missing]),
    [
      ['gold', 'suggestion', 1 / 3, 0],
      ['gold', 'label', 2 / 3, 0],
      ['human', 'suggestion', null, 3],
    ],
  );
  const f = await agreement(linesOf(recs), { compare: [['field:gold_label', 'label']], judges: false });
  close(f.comparisons[0]?.metrics.accuracy, 2 / 3);
  await assert.rejects(agreement(linesOf(recs), { compare: [['gold', 'label']] }), /gold file/);
});
