// Near duplicates past 65,536 texts: signatures are kept in blocks of 65,536 texts (no array
// doubled to grow, no second copy); a pair of near copies on either side of a block boundary is
// found, and the block addressing reads the same components as the whole array.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  computeSignatures,
  clusterSignatures,
  estimatedJaccard,
  mulberry32,
  type DedupItem,
} from '../../src/core/filter/dedup';

test('a near-duplicate pair across the first block boundary is clustered', async () => {
  const rnd = mulberry32(9);
  const word = () => `w${Math.floor(rnd() * 50_000).toString(36)}`;
  const items: DedupItem[] = Array.from({ length: 70_000 }, (_, i) => ({
    index: i,
    text: Array.from({ length: 12 }, word).join(' '),
  }));
  const base = Array.from({ length: 60 }, word);
  items[10] = { index: 10, text: base.join(' ') };
  const copy = [...base];
  copy[30] = 'changed';
  items[65_540] = { index: 65_540, text: copy.join(' ') };
  const s = await computeSignatures(items, { workers: 2, chunkSize: 5000, seed: 4 });
  assert.equal(s.blocks.length, 2);
  assert.equal(s.sig.length, 70_000 * 128);
  // The blocks and the whole array agree.
  const P = s.numPerm;
  let eq = 0;
  for (let p = 0; p < P; p++) if (s.sig[10 * P + p] === s.sig[65_540 * P + p]) eq++;
  assert.equal(estimatedJaccard(s, 10, 65_540), eq / P);
  assert.ok(eq / P > 0.8);
  const r = clusterSignatures(s, { threshold: 0.8 });
  assert.deepEqual(
    r.clusters.map((c) => c.members),
    [[10, 65_540]],
  );
});
