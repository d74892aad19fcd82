import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  clusterSignatures,
  computeSignatures,
  estimatedJaccard,
  exactDuplicates,
  mulberry32,
  nearDuplicates,
  normalizeText,
  optimalBands,
  semanticDuplicates,
  UnionFind,
  type DedupItem,
  type DupCluster,
} from '../../src/core/filter/dedup';

/** A planted corpus: `bases` distinct texts; some get exact copies (case/space changes), some near copies (a few word edits). */
function planted(seed: number, bases: number, words = 120) {
  const rnd = mulberry32(seed);
  const vocab = Array.from({ length: 3000 }, (_, i) => {
    let w = '';
    const len = 3 + Math.floor(rnd() * 7);
    for (let j = 0; j < len; j++) w += String.fromCharCode(97 + Math.floor(rnd() * 26));
    return w + (i % 7 === 0 ? ',' : '');
  });
  const pick = () => vocab[Math.floor(rnd() * vocab.length)] as string;
  const items: DedupItem[] = [];
  const group: number[] = []; // the base each item came from
  const kind: ('base' | 'exact' | 'near')[] = [];
  const push = (text: string, g: number, k: 'base' | 'exact' | 'near') => {
    items.push({ index: items.length, text });
    group.push(g);
    kind.push(k);
  };
  for (let b = 0; b < bases; b++) {
    const toks = Array.from({ length: words }, pick);
    push(toks.join(' '), b, 'base');
    if (b % 5 === 0) push(`  ${toks.join('   ').toUpperCase()} `, b, 'exact');
    if (b % 3 === 0) {
      for (let c = 0; c < 2; c++) {
        const t = [...toks];
        for (let e = 0; e < 2; e++) t[Math.floor(rnd() * t.length)] = pick(); // 2 substitutions
        push(t.join(' '), b, 'near');
      }
    }
  }
  // shuffle (deterministically) so clusters are not adjacent
  const order = items.map((_, i) => i).sort(() => 0);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return {
    items: order.map((o, i) => ({ index: i, text: (items[o] as DedupItem).text })),
    group: order.map((o) => group[o] as number),
    kind: order.map((o) => kind[o] as 'base' | 'exact' | 'near'),
  };
}

/** Planted pairs recovered, and clusters mixing different bases (false merges). */
function score(clusters: DupCluster[], group: number[], _kinds: readonly string[]) {
  const inCluster = new Map<number, number>();
  for (const c of clusters) for (const m of c.members) inCluster.set(m, c.id);
  const byGroup = new Map<number, number[]>();
  group.forEach((g, i) => {
    const l = byGroup.get(g) ?? [];
    l.push(i);
    byGroup.set(g, l);
  });
  let pairs = 0;
  let found = 0;
  for (const members of byGroup.values()) {
    for (let i = 0; i < members.length; i++)
      for (let j = i + 1; j < members.length; j++) {
        pairs++;
        const a = inCluster.get(members[i] as number);
        if (a !== undefined && a === inCluster.get(members[j] as number)) found++;
      }
  }
  const falseMerges = clusters.filter((c) => new Set(c.members.map((m) => group[m])).size > 1).length;
  return { recall: pairs === 0 ? 1 : found / pairs, falseMerges, pairs };
}

test('normalizeText: NFKC, case, whitespace, optional punctuation', () => {
  assert.equal(normalizeText('  Ｈｅｌｌｏ,\n  WORLD! '), 'hello, world!');
  assert.equal(normalizeText('Hello,  world!', true), 'hello world');
  assert.equal(normalizeText('ﬁne'), 'fine');
});

test('exact duplicates: clusters, representative = first or highest score', async () => {
  const items: DedupItem[] = [
    { index: 0, text: 'Hello world', score: 3 },
    { index: 1, text: 'something else' },
    { index: 2, text: 'hello   WORLD', score: 9 },
    { index: 3, text: 'Hello, world!' },
    { index: 5, text: 'something  else ' },
  ];
  const r = await exactDuplicates(items);
  assert.deepEqual(r.clusters, [
    { id: 0, members: [0, 2], representative: 0, kind: 'exact', similarity: 1 },
    { id: 1, members: [1, 5], representative: 1, kind: 'exact', similarity: 1 },
  ]);
  assert.deepEqual(r.drop, [2, 5]);
  const p = await exactDuplicates(items, { stripPunctuation: true, keep: 'highest-score' });
  assert.deepEqual(p.clusters[0]?.members, [0, 2, 3]);
  assert.equal(p.clusters[0].representative, 2);
  assert.deepEqual(p.drop, [0, 3, 5]);
});

test('optimalBands matches the S-curve intuition', () => {
  // 0.8 with 128 permutations, equal weights: 9 bands of 13 rows (datasketch picks the same).
  assert.deepEqual(optimalBands(0.8, 128, 0.5, 0.5), { bands: 9, rows: 13 });
  // P(candidate) at s = 0.95: 1 - (1 - 0.95^13)^9 = 1 - 0.487^9 ≈ 0.998; at s = 0.6: 1 - (1 - 0.6^13)^9 ≈ 0.012
  const at = (s: number, b: number, r: number) => 1 - (1 - s ** r) ** b;
  assert.ok(at(0.95, 9, 13) > 0.99 && at(0.6, 9, 13) < 0.05);
  // the default favours recall: 14 x 9; at s = 0.9: 1 - (1 - 0.9^9)^14 = 1 - 0.613^14 ≈ 0.999
  const { bands, rows } = optimalBands(0.8, 128);
  assert.deepEqual({ bands, rows }, { bands: 14, rows: 9 });
  assert.ok(at(0.9, bands, rows) > 0.99);
});

test('MinHash estimates Jaccard; workers and main thread agree; deterministic with the seed', async () => {
  // word 1-shingles of sets with known Jaccard: A = w0..w99, B = w20..w119 -> |A∩B| = 80, |A∪B| = 120, J = 2/3
  const a = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');
  const b = Array.from({ length: 100 }, (_, i) => `w${i + 20}`).join(' ');
  const items = [
    { index: 0, text: a },
    { index: 1, text: b },
    { index: 2, text: '' },
    { index: 3, text: '... ,,, !!' },
  ];
  const opts = { shingleSize: 1, numPerm: 256, seed: 7 };
  const s0 = await computeSignatures(items, { ...opts, workers: 0 });
  const s2 = await computeSignatures(items, { ...opts, workers: 2, chunkSize: 1 });
  assert.deepEqual(s0.sig, s2.sig);
  assert.deepEqual([...s0.counts], [100, 100, 0, 0], 'no shingles in an empty or punctuation-only text');
  const j = estimatedJaccard(s0, 0, 1);
  assert.ok(Math.abs(j - 2 / 3) < 0.08, `estimate ${j}`);
  const s3 = await computeSignatures(items, { ...opts, workers: 0, seed: 8 });
  assert.notDeepEqual(s3.sig, s0.sig);
  const again = await computeSignatures(items, { ...opts, workers: 0 });
  assert.deepEqual(again.sig, s0.sig);
  // empty texts never cluster
  assert.deepEqual(clusterSignatures(s0, { threshold: 0.5, numPerm: 256 }).clusters.length, 1);
});

test('near duplicates recover planted clusters without false merges (words and chars)', async () => {
  const { items, group, kind } = planted(42, 300);
  for (const shingle of ['words', 'chars'] as const) {
    const r = await nearDuplicates(items, { shingle, threshold: 0.7, seed: 3, workers: 2, chunkSize: 64 });
    const s = score(r.clusters, group, kind);
    assert.ok(s.recall >= 0.95, `${shingle}: recall ${s.recall} of ${s.pairs} pairs`);
    assert.equal(s.falseMerges, 0, shingle);
    for (const c of r.clusters) {
      assert.equal(c.kind, 'near');
      assert.ok(c.similarity >= 0.7 || c.members.length > 2);
      assert.ok(c.members.includes(c.representative));
    }
    assert.equal(
      r.drop.length,
      r.clusters.reduce((n, c) => n + c.members.length - 1, 0),
    );
  }
  // the exact pass finds exactly the exact copies
  const ex = await exactDuplicates(items);
  const planted2 = kind.filter((k) => k === 'exact').length;
  assert.equal(ex.drop.length, planted2);
  assert.equal(score(ex.clusters, group, kind).falseMerges, 0);
});

test('near duplicates: keep the highest score; explicit bands/rows; deterministic', async () => {
  const base = 'the quick brown fox jumps over the lazy dog and then runs far away into the deep dark forest';
  const items: DedupItem[] = [
    { index: 10, text: base, score: 2 },
    { index: 11, text: base.replace('lazy', 'sleepy'), score: 8 },
    { index: 12, text: 'completely unrelated words about quarterly tax filing deadlines in several countries' },
  ];
  const r = await nearDuplicates(items, {
    shingleSize: 2,
    threshold: 0.6,
    keep: 'highest-score',
    bands: 32,
    rows: 4,
    workers: 0,
  });
  assert.equal(r.clusters.length, 1);
  assert.deepEqual(r.clusters[0]?.members, [10, 11]);
  assert.equal(r.clusters[0].representative, 11);
  assert.deepEqual(r.drop, [10]);
  const r2 = await nearDuplicates(items, {
    shingleSize: 2,
    threshold: 0.6,
    keep: 'highest-score',
    bands: 32,
    rows: 4,
    workers: 0,
  });
  assert.deepEqual(r2, r);
  await assert.rejects(nearDuplicates(items, { bands: 100, rows: 2, workers: 0 }), /at most numPerm/);
});

test('aborting stops the signature pass', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(nearDuplicates([{ index: 0, text: 'a b c' }], { workers: 0 }, ac.signal), {
    name: 'AbortError',
  });
});

test('semantic duplicates: cosine over embeddings with hyperplane blocking', async () => {
  const rnd = mulberry32(5);
  const dims = 32;
  const centers = Array.from({ length: 20 }, () => Array.from({ length: dims }, () => rnd() * 2 - 1));
  const items: DedupItem[] = [];
  const vec = new Map<string, number[]>();
  const group: number[] = [];
  centers.forEach((c, g) => {
    const copies = g % 4 === 0 ? 3 : 1;
    for (let k = 0; k < copies; k++) {
      const text = `t${items.length}`;
      vec.set(
        text,
        c.map((x) => x + (k === 0 ? 0 : (rnd() - 0.5) * 0.05)),
      );
      items.push({ index: items.length, text });
      group.push(g);
    }
  });
  let calls = 0;
  const embed = async (texts: string[]) => {
    calls++;
    return texts.map((t) => vec.get(t) as number[]);
  };
  const r = await semanticDuplicates(items, embed, { threshold: 0.98, batchSize: 8 });
  assert.equal(calls, Math.ceil(items.length / 8));
  const s = score(r.clusters, group, ['near']);
  assert.equal(s.recall, 1);
  assert.equal(s.falseMerges, 0);
  assert.equal(r.clusters.length, 5);
  assert.ok(r.clusters.every((c) => c.kind === 'semantic' && c.similarity >= 0.98));
  assert.ok((r.candidates ?? 0) < (items.length * (items.length - 1)) / 2, 'blocking avoids comparing every pair');
});

test('union-find', () => {
  const uf = new UnionFind(5);
  uf.union(0, 1);
  uf.union(3, 4);
  uf.union(1, 4);
  assert.equal(uf.find(0), uf.find(3));
  assert.notEqual(uf.find(2), uf.find(0));
});
