import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quietContext } from '../../src/core/operation';
import {
  confidence,
  judgeAgreement,
  judgeScore,
  markForReview,
  reviewQueue,
  reviewQueueOperation,
  ReviewQueueOperationOptions,
  thresholdChecks,
} from '../../src/core/filter/thresholds';
import { linesOf, parseLine } from '../../src/core/filter/source';

const sug = (value: string, score: number) => ({
  annotations: { suggestions: { label: [{ value, score, agent: 'm', type: 'model' }] } },
});

test('judge score, confidence and judge agreement', () => {
  assert.equal(judgeScore({ judge: { score: 7 } }), 7);
  assert.equal(judgeScore({ judges: [{ score: 4 }, { score: 6 }] }), 4);
  assert.equal(judgeScore({}), undefined);
  assert.equal(confidence(sug('a', 0.42)), 0.42);
  // the top model suggestion: highest score; human suggestions ignored
  assert.equal(
    confidence({
      annotations: {
        suggestions: {
          label: [
            { value: 'a', score: 0.3 },
            { value: 'b', score: 0.9 },
            { value: 'c', score: 1, type: 'human' },
          ],
        },
      },
    }),
    0.9,
  );
  // scores 2, 4, 9: mean 5, spread 7, variance ((−3)² + (−1)² + 4²)/3 = 26/3, stdev ≈ 2.944
  const a = judgeAgreement({ judges: [{ score: 2 }, { score: 4 }, { score: 9 }] });
  assert.equal(a?.mean, 5);
  assert.equal(a.spread, 7);
  assert.ok(Math.abs(a.stdev - Math.sqrt(26 / 3)) < 1e-12);
  assert.equal(judgeAgreement({ judge: { score: 3 } }), undefined);
});

test('threshold checks: missing figures fail score and confidence bounds, pass agreement bounds', () => {
  const checks = thresholdChecks({ minScore: 5, maxScore: 9, minConfidence: 0.8, maxJudgeSpread: 2 });
  assert.deepEqual(
    checks.map((c) => c.name),
    ['judge.score >= 5', 'judge.score <= 9', 'confidence(label) >= 0.8', 'judge spread <= 2'],
  );
  const pass = (v: Record<string, unknown>) => checks.map((c) => c.test(v));
  assert.deepEqual(pass({ judge: { score: 6 }, ...sug('a', 0.9) }), [true, true, true, true]);
  assert.deepEqual(pass({}), [false, false, false, true]);
  assert.deepEqual(pass({ judges: [{ score: 5 }, { score: 8 }], ...sug('a', 0.5) }), [true, true, false, false]);
});

test('review queue: low confidence, no confidence, judges disagreeing; decided records skipped', async () => {
  const lines = linesOf([
    sug('a', 0.95), // 0: automatic
    sug('a', 0.5), // 1: low confidence
    {}, // 2: no confidence
    { ...sug('a', 0.99), judges: [{ score: 2 }, { score: 9 }] }, // 3: judges disagree
    { annotations: { ...sug('a', 0.1).annotations, human: { label: { value: 'a', user: 'u' } } } }, // 4: decided
  ]);
  const q = await reviewQueue([...lines, parseLine(5, '{bad')], { minConfidence: 0.8, maxJudgeSpread: 3, queue: 'q1' });
  assert.deepEqual(q.indices, [1, 2, 3]);
  assert.deepEqual(q.reasons, { 1: ['low-confidence'], 2: ['no-confidence'], 3: ['judges-disagree'] });
  assert.equal(q.automatic, 1);
  assert.equal(q.skipped, 2);
  const q2 = await reviewQueue(lines, { minConfidence: 0.8, missing: 'skip', skipDecided: false });
  assert.deepEqual(q2.indices, [1, 4]);
  assert.deepEqual(markForReview([1, 3], 'q1'), [
    { index: 1, path: ['annotations', 'review', 'status'], value: 'pending' },
    { index: 1, path: ['annotations', 'review', 'queue'], value: 'q1' },
    { index: 3, path: ['annotations', 'review', 'status'], value: 'pending' },
    { index: 3, path: ['annotations', 'review', 'queue'], value: 'q1' },
  ]);
});

test('review-queue operation on the sample file', async () => {
  const file = join(__dirname, '..', '..', 'samples', 'reviews.jsonl');
  const r = await reviewQueueOperation.run(
    ReviewQueueOperationOptions.parse({ file, minConfidence: 0.9, mark: true, skipDecided: false }),
    quietContext(),
  );
  const lines = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const expected = lines.flatMap((v, i) => ((confidence(v) ?? -1) < 0.9 ? [i] : []));
  assert.deepEqual(r.indices, expected);
  assert.equal(r.edits.length, 2 * expected.length);
});
