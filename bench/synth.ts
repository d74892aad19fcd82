// The self-instruct pool check: is a new instruction too close (ROUGE-L >= 0.7) to any of N kept
// instructions? The pool's token-overlap bound and inverted index (src/core/synth/similarity.ts)
// against comparing with every instruction (one LCS each), measured in the same run on the same
// candidates, with the decisions checked equal. Instructions of 8-20 words from a Zipf-like
// vocabulary (a few very common words, as real instructions have: "the", "a", "write", "of"...);
// a third of the candidates are near-copies of a pool instruction.
//
//   node --import tsx bench/synth.ts [--pool 20000] [--candidates 2000]
//
// Target: a check at least 10x faster than comparing with every instruction (the same run, the same
// decisions); writes bench/results/synth.json.
import { report, time, type Row } from './lib';
import { rng } from '../src/core/synth/random';
import { lcsLength, SimilarityPool, tokenize } from '../src/core/synth/similarity';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const POOL = arg('pool', 20_000);
const CANDIDATES = arg('candidates', 2_000);
const THRESHOLD = 0.7;

const r = rng('bench-synth');
const common = [
  'the',
  'a',
  'of',
  'to',
  'and',
  'in',
  'for',
  'write',
  'explain',
  'list',
  'with',
  'about',
  'how',
  'what',
  'your',
  'an',
];
const vocab = Array.from({ length: 30_000 }, (_, i) => `w${i.toString(36)}`);
function word(): string {
  if (r() < 0.35) return common[Math.floor(r() * common.length)] as string;
  // Zipf-ish: small indices much more often
  return vocab[Math.floor(vocab.length * r() ** 3)] as string;
}
const sentence = (): string => Array.from({ length: 8 + Math.floor(r() * 13) }, word).join(' ');

const poolTexts = Array.from({ length: POOL }, sentence);
const candidates = Array.from({ length: CANDIDATES }, () => {
  if (r() < 0.33) {
    const base = (poolTexts[Math.floor(r() * POOL)] as string).split(' ');
    base.splice(Math.floor(r() * base.length), 1, word()); // one word changed
    return base.join(' ');
  }
  return sentence();
});

// The pool (checks only: the pool is not grown, so both sides see the same instructions).
const build = time(() => {
  const p = new SimilarityPool(THRESHOLD);
  for (const t of poolTexts) p.add(t);
  return p;
});
const pool = build.value;
const fast = time(() => candidates.map((c) => pool.check(c).tooSimilar));

// Brute force: one LCS per pool instruction (token ids shared, early exit at the first hit).
const ids = new Map<string, number>();
const enc = (t: string): Int32Array =>
  Int32Array.from(tokenize(t), (w) => ids.get(w) ?? (ids.set(w, ids.size), ids.size - 1));
const poolSeqs = poolTexts.map(enc);
const sample = candidates.slice(0, Math.min(CANDIDATES, 300));
const brute = time(() =>
  sample.map((c) => {
    const a = enc(c);
    for (const b of poolSeqs) if ((2 * lcsLength(a, b)) / (a.length + b.length) >= THRESHOLD) return true;
    return false;
  }),
);
const agree = brute.value.every((v, i) => v === fast.value[i]);
if (!agree) throw new Error('the pool check and the brute-force comparison disagree');

const fastPer = fast.ms / CANDIDATES;
const brutePer = brute.ms / sample.length;
const rejected = fast.value.filter(Boolean).length;
console.log(
  `pool of ${POOL.toLocaleString()} built in ${build.ms.toFixed(0)} ms; ${CANDIDATES} candidates, ${rejected} near-copies; LCS computed ${pool.counters.lcs} (brute force: up to ${(CANDIDATES * POOL).toLocaleString()})`,
);
const rows: Row[] = [
  {
    figure: `check against ${POOL.toLocaleString()} instructions`,
    value: fastPer,
    unit: 'ms',
    baseline: brutePer,
    baselineLabel: 'LCS with each',
    ratio: brutePer / fastPer,
    target: '>= 10x faster',
    pass: brutePer / fastPer >= 10,
  },
  {
    figure: 'LCS tables per check',
    value: pool.counters.lcs / CANDIDATES,
    unit: '',
    baseline: POOL,
    baselineLabel: 'one per instruction',
    ratio: POOL / Math.max(1e-9, pool.counters.lcs / CANDIDATES),
    target: 'fewer',
    pass: pool.counters.lcs / CANDIDATES < POOL,
  },
];
report('synth', rows, { pool: POOL, candidates: CANDIDATES, rejected, decisionsAgree: agree, buildMs: build.ms });
