// Agreement figures per question type against reference values: scikit-learn's and scipy's
// documented examples, Krippendorff's own worked example, and small cases computed by hand (the
// arithmetic is in the comments).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classificationMetrics, krippendorffAlphaInterval } from '../../src/core/metrics/agreement-core';
import {
  kendallTauB,
  multiLabelAgreement,
  rankingAgreement,
  ratingAgreement,
  spanAgreement,
  textAgreement,
  tokenF1,
  weightedKappa,
} from '../../src/core/metrics/question-metrics';

const close = (a: number | null, b: number, eps = 1e-9, what = '') => {
  assert.ok(a !== null && Math.abs(a - b) < eps, `${what} ${a} is not ${b}`);
};

test("Cohen's kappa: scikit-learn's cohen_kappa_score docs example (0.6875)", () => {
  // https://scikit-learn.org/stable/modules/generated/sklearn.metrics.cohen_kappa_score.html, Examples
  const y1 = ['negative', 'positive', 'negative', 'neutral', 'positive'];
  const y2 = ['negative', 'positive', 'negative', 'neutral', 'negative'];
  close(classificationMetrics(y1.map((a, i) => [a, y2[i] as string] as const)).kappa, 0.6875);
});

test("multi-label Jaccard and Hamming: scikit-learn's jaccard_score and hamming_loss docs examples", () => {
  // jaccard_score docs: y_true = [[0, 1, 1], [1, 1, 0]], y_pred = [[1, 1, 1], [1, 0, 0]]
  //   average='samples' -> 0.5833..., average=None -> [0.5, 0.5, 1.]
  const labels = ['l0', 'l1', 'l2'];
  const sets = (rows: number[][]) => rows.map((r) => labels.filter((_, i) => r[i] === 1));
  const truth = sets([
    [0, 1, 1],
    [1, 1, 0],
  ]);
  const pred = sets([
    [1, 1, 1],
    [1, 0, 0],
  ]);
  const m = multiLabelAgreement(
    truth.map((t, i) => [t, pred[i] as string[]] as const),
    labels,
  );
  close(m.jaccard, 7 / 12, 1e-12, 'samples Jaccard');
  assert.deepEqual(
    m.perLabel.map((l) => l.jaccard),
    [0.5, 0.5, 1],
  );
  // hamming_loss docs: hamming_loss(np.array([[0, 1], [1, 1]]), np.zeros((2, 2))) -> 0.75
  const two = ['a', 'b'];
  const h = multiLabelAgreement(
    [
      [['b'], []],
      [['a', 'b'], []],
    ],
    two,
  );
  close(h.hamming, 0.75);
  // per-label kappa of "has the label", by hand for label b: a = [1, 1], b = [0, 0] -> p_e = 0*... both
  // sides constant but different: p_o = 0, p_e = (0·2 + 2·0)/4 = 0 -> kappa 0
  assert.equal(h.perLabel[1]?.kappa, 0);
  // two empty answers agree (Jaccard 1), exact match
  const e = multiLabelAgreement([[[], []]], two);
  assert.deepEqual([e.jaccard, e.hamming, e.exact], [1, 0, 1]);
});

test("weighted kappa, linear and quadratic (by hand; scikit-learn's definition with labels = the scale)", () => {
  // scale 1..3, pairs (1,1) (1,2) (2,2) (3,3) (3,1): rows r = (2, 1, 2), columns c = (2, 2, 1), n = 5
  // linear:    Σ w·O = |1-2| + |3-1| = 3;  Σ w·E = Σ |i-j| r_i c_j / n = (4 + 4 + 2 + 1 + 8 + 4) / 5 = 23/5
  //            kappa = 1 - 3 / (23/5) = 8/23
  // quadratic: Σ w·O = 1 + 4 = 5;          Σ w·E = (4 + 8 + 2 + 1 + 16 + 4) / 5 = 7
  //            kappa = 1 - 5 / 7 = 2/7
  const pairs: [number, number][] = [
    [1, 1],
    [1, 2],
    [2, 2],
    [3, 3],
    [3, 1],
  ];
  close(weightedKappa(pairs, 1, 3, 'linear'), 8 / 23);
  close(weightedKappa(pairs, 1, 3, 'quadratic'), 2 / 7);
  // perfect agreement: 1; the same pairs as ratingAgreement's figures
  close(
    weightedKappa(
      [
        [1, 1],
        [2, 2],
        [5, 5],
      ],
      1,
      5,
      'quadratic',
    ),
    1,
  );
  const r = ratingAgreement(pairs, 1, 3);
  assert.equal(r.exact, 3 / 5);
  assert.equal(r.meanAbsoluteDifference, 3 / 5);
  close(r.quadraticKappa, 2 / 7);
});

test('Krippendorff\'s alpha (interval): the worked example of Krippendorff, "Computing Krippendorff\'s Alpha-Reliability" (2011), 0.849', () => {
  // Four observers, twelve units, missing values (section C of the paper): interval alpha = 0.849
  const A = [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null];
  const B = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3];
  const C = [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null];
  const D = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null];
  const units = A.map((_, u) => [A[u], B[u], C[u], D[u]]);
  const alpha = krippendorffAlphaInterval(units);
  assert.ok(alpha !== null && Math.round(alpha * 1000) / 1000 === 0.849, `alpha ${alpha}`);
});

test("Kendall's tau-b: scipy.stats.kendalltau docs example (-0.47140452079103173), and rankings", () => {
  // https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.kendalltau.html, Examples
  close(kendallTauB([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]), -0.47140452079103173, 1e-12);
  // without ties tau-b is tau-a: one swapped pair of 3 -> (2 - 1) / 3
  close(kendallTauB([1, 2, 3], [1, 3, 2]), 1 / 3);
  const rank = (...ids: string[]) => new Map(ids.map((id, i) => [id, i + 1]));
  const r = rankingAgreement([
    [rank('a', 'b', 'c'), rank('a', 'c', 'b')], // tau 1/3, same best
    [rank('a', 'b'), rank('b', 'a')], // tau -1
    [rank('x', 'y', 'z'), rank('x', 'y', 'z')], // tau 1, same order
  ]);
  close(r.kendallTau, (1 / 3 - 1 + 1) / 3);
  close(r.top1, 2 / 3);
  close(r.exact, 1 / 3);
});

test('spans: exact and overlap F1 (by hand)', () => {
  // a: EMAIL 0-10, PHONE 20-30, EMAIL 40-50      b: EMAIL 0-10 (exact), PHONE 22-30 (overlaps), NAME 40-50 (other label), EMAIL 60-70
  // exact: tp 1, P 1/4, R 1/3, F1 2·(1/4)(1/3)/(7/12) = 2/7; overlap: tp 2, P 1/2, R 2/3, F1 4/7
  const a = [
    { label: 'EMAIL', start: 0, end: 10 },
    { label: 'PHONE', start: 20, end: 30 },
    { label: 'EMAIL', start: 40, end: 50 },
  ];
  const b = [
    { label: 'EMAIL', start: 0, end: 10 },
    { label: 'PHONE', start: 22, end: 30 },
    { label: 'NAME', start: 40, end: 50 },
    { label: 'EMAIL', start: 60, end: 70 },
  ];
  const m = spanAgreement([[a, b]]);
  close(m.exact.f1, 2 / 7);
  close(m.overlap.precision, 1 / 2);
  close(m.overlap.recall, 2 / 3);
  close(m.overlap.f1, 4 / 7);
  assert.deepEqual(
    m.perLabel.map((l) => [l.label, l.a, l.b]),
    [
      ['EMAIL', 2, 2],
      ['NAME', 0, 1],
      ['PHONE', 1, 1],
    ],
  );
  // one span on a side matches at most one on the other
  close(
    spanAgreement([
      [
        [{ label: 'X', start: 0, end: 10 }],
        [
          { label: 'X', start: 0, end: 4 },
          { label: 'X', start: 5, end: 10 },
        ],
      ],
    ]).overlap.precision,
    1 / 2,
  );
  // nobody marked anything: no figure, not a perfect one
  assert.equal(spanAgreement([[[], []]]).exact.f1, null);
});

test('text: exact match and token F1 (by hand)', () => {
  // "the cat sat" vs "the cat sat down": common 3, P 3/4, R 3/3, F1 6/7
  close(tokenF1('the cat sat', 'The cat sat down.'), 6 / 7);
  const t = textAgreement([
    ['same', ' same '],
    ['a b', 'c d'],
  ]);
  assert.equal(t.exact, 1 / 2);
  close(t.tokenF1, 1 / 2);
});
