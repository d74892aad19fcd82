// ROUGE-L and the instruction pool: the values self-instruct's filter uses, and a pool check that
// agrees with comparing against every instruction while computing far fewer LCS tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lcsLength, rougeL, SimilarityPool, tokenize } from '../../src/core/synth/similarity';
import { rng, sample } from '../../src/core/synth/random';

test('tokens: lower-cased words and numbers; one token per character in Chinese, Japanese, Thai', () => {
  assert.deepEqual(tokenize('Write a Poem, about the SEA! (2 stanzas)'), [
    'write',
    'a',
    'poem',
    'about',
    'the',
    'sea',
    '2',
    'stanzas',
  ]);
  assert.deepEqual(tokenize('Écris un poème naïf'), ['écris', 'un', 'poème', 'naïf']);
  assert.deepEqual(tokenize('写一首诗 about 海'), ['写', '一', '首', '诗', 'about', '海']);
  assert.deepEqual(tokenize('  ...  '), []);
});

test('ROUGE-L is the LCS F-measure over tokens, 2 LCS / (|a| + |b|)', () => {
  assert.equal(lcsLength([1, 2, 3, 4], [1, 3, 4, 5]), 3);
  assert.equal(lcsLength([], [1]), 0);
  // LCS "the cat on the mat" = 5 tokens of 6 and 6
  assert.equal(rougeL('the cat sat on the mat', 'the cat is on the mat'), (2 * 5) / 12);
  assert.equal(rougeL('Write a poem about the sea', 'write a POEM about the sea.'), 1);
  assert.equal(rougeL('Explain recursion', 'List three fruits'), 0);
  assert.equal(rougeL('', 'anything'), 0);
  // order matters (a subsequence, not a bag of words)
  assert.ok(rougeL('a b c d e f', 'f e d c b a') < 0.4);
});

test('the pool rejects near-copies and keeps novel instructions', () => {
  const pool = new SimilarityPool(0.7);
  for (const s of ['Write a poem about the sea', 'Explain how a refrigerator works', 'List five uses of baking soda'])
    pool.add(s);
  const near = pool.check('Write a short poem about the sea');
  assert.equal(near.tooSimilar, true);
  assert.equal(near.nearest?.text, 'Write a poem about the sea');
  assert.ok(near.nearest.similarity >= 0.9);
  assert.equal(pool.check('Explain how a refrigerator works, please').tooSimilar, true);
  const novel = pool.check('Translate this sentence into German');
  assert.equal(novel.tooSimilar, false);
  assert.equal(pool.check('Describe the water cycle for a ten year old').tooSimilar, false);
  assert.throws(() => new SimilarityPool(0), /threshold/);
});

test('the pool check agrees with a brute-force comparison against every instruction, with a fraction of the LCS work', () => {
  const words =
    'write explain list the a of to sea poem recipe code story summary five three short long simple about for with'.split(
      ' ',
    );
  const r = rng('pool-property');
  const make = (): string => sample(r, words, 4 + Math.floor(r() * 8)).join(' ');
  const threshold = 0.7;
  const pool = new SimilarityPool(threshold);
  const kept: string[] = [];
  let agreedRejections = 0;
  for (let i = 0; i < 800; i++) {
    // a third are near-copies of something kept (a word added or dropped), the rest random
    let text = make();
    if (kept.length && r() < 0.33) {
      const base = (kept[Math.floor(r() * kept.length)] as string).split(' ');
      text = (r() < 0.5 ? [...base, 'please'] : base.slice(0, -1)).join(' ');
    }
    const brute = kept.reduce((m, k) => Math.max(m, rougeL(text, k)), 0);
    const c = pool.check(text);
    assert.equal(c.tooSimilar, brute >= threshold, `"${text}": pool ${c.tooSimilar}, brute force ${brute}`);
    if (c.tooSimilar) {
      agreedRejections++;
      assert.ok((c.nearest?.similarity ?? 0) >= threshold);
      assert.equal(rougeL(text, c.nearest?.text ?? ''), c.nearest?.similarity);
    } else {
      pool.add(text);
      kept.push(text);
    }
  }
  assert.ok(agreedRejections > 50, `${agreedRejections} rejections`);
  // brute force would compute one LCS per (check, kept instruction) pair
  const bruteLcs = pool.counters.checks * (kept.length / 2);
  assert.ok(
    pool.counters.lcs < bruteLcs / 5,
    `${pool.counters.lcs} LCS computed, brute force about ${Math.round(bruteLcs)}`,
  );
});

test('seeded sampling: the same parts give the same draws; k distinct items', () => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  const a = sample(rng(7, 'round', 1), items, 8);
  assert.deepEqual(sample(rng(7, 'round', 1), items, 8), a);
  assert.notDeepEqual(sample(rng(7, 'round', 2), items, 8), a);
  assert.equal(new Set(a).size, 8);
  assert.equal(sample(rng(1), items, 80).length, 50);
});
