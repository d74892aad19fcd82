// Near-duplicate benchmark: MinHash + LSH over N generated records (~1 KB each) with planted
// exact and near-duplicate clusters. Reports time, records/s and recall of the planted clusters,
// against baselines measured in the same run (the exact-hash pass over the same records, and the
// signature pass in one thread on a sample). Target: 1M records within 60 s on 2 cores.
//
//   node --import tsx bench/dedup.ts [--records 1000000] [--workers 2] [--threshold 0.8] [--num-perm 128]
//
// Writes bench/results/dedup.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { computeSignatures, exactDuplicates, mulberry32, nearDuplicates, type DedupItem } from '../src/core/filter/dedup';

async function main(): Promise<void> {
function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}

const N = arg('records', 1_000_000);
const workers = arg('workers', Math.min(2, availableParallelism()));
const threshold = arg('threshold', 0.8);
const numPerm = arg('num-perm', 128);
const TARGET_SECONDS = 60 * (N / 1_000_000);

// ---- corpus: base texts of ~170 words (~1 KB) from a 20k-word vocabulary; every 50th base gets
// planted copies: one exact (case and spacing changed), two near (1 and 2 word substitutions in
// 170 words: each kills up to 5 of the 166 5-word shingles, so Jaccard ≈ 161/171 = 0.94 and
// 156/176 = 0.89: clearly above the 0.8 threshold, as a conservative setting should see them).
const rnd = mulberry32(2026);
const vocab: string[] = [];
for (let i = 0; i < 20000; i++) {
  let w = '';
  const len = 2 + Math.floor(rnd() * 8);
  for (let j = 0; j < len; j++) w += String.fromCharCode(97 + Math.floor(rnd() * 26));
  vocab.push(i % 11 === 0 ? `${w},` : i % 17 === 0 ? `${w}.` : w);
}
const word = () => vocab[Math.floor(rnd() * vocab.length)] as string;

console.log(`generating ${N.toLocaleString()} records...`);
const t0 = performance.now();
const items: DedupItem[] = new Array(N);
const plantedGroup = new Int32Array(N).fill(-1);
const plantedKind: ('exact' | 'near1' | 'near2')[] = [];
let n = 0;
let groups = 0;
let bytes = 0;
while (n < N) {
  const toks: string[] = new Array(170);
  for (let i = 0; i < 170; i++) toks[i] = word();
  const base = n;
  const text = toks.join(' ');
  items[n] = { index: n, text };
  bytes += text.length;
  n++;
  if (groups * 50 <= base && n + 3 <= N && base % 50 === 0) {
    const g = groups++;
    plantedGroup[base] = g;
    const copies: [string, 'exact' | 'near1' | 'near2'][] = [
      [`  ${text.toUpperCase().replace(/ /g, '  ')}`, 'exact'],
      [edit(toks, 1), 'near1'],
      [edit(toks, 2), 'near2'],
    ];
    for (const [t, k] of copies) {
      items[n] = { index: n, text: t };
      plantedGroup[n] = g;
      plantedKind.push(k);
      bytes += t.length;
      n++;
    }
  }
}
function edit(toks: string[], k: number): string {
  const t = [...toks];
  for (let e = 0; e < k; e++) t[Math.floor(rnd() * t.length)] = word();
  return t.join(' ');
}
// shuffle so that duplicates are far apart
const perm = new Int32Array(N);
for (let i = 0; i < N; i++) perm[i] = i;
for (let i = N - 1; i > 0; i--) {
  const j = Math.floor(rnd() * (i + 1));
  const t = perm[i] as number;
  perm[i] = perm[j] as number;
  perm[j] = t;
}
const shuffled: DedupItem[] = new Array(N);
const groupOf = new Int32Array(N);
for (let i = 0; i < N; i++) {
  const src = perm[i] as number;
  shuffled[i] = { index: i, text: (items[src] as DedupItem).text };
  groupOf[i] = plantedGroup[src] as number;
}
items.length = 0;
console.log(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${(bytes / N).toFixed(0)} chars/record avg, ${groups} planted clusters of 4`);

// ---- baseline 1: exact-hash pass (NFKC + lowercase + whitespace, md5) over the same records
let t = performance.now();
const exact = await exactDuplicates(shuffled);
const exactSeconds = (performance.now() - t) / 1000;

// ---- baseline 2: the signature pass in one thread, on a sample, extrapolated
const sampleN = Math.min(N, 50_000);
t = performance.now();
await computeSignatures(shuffled.slice(0, sampleN), { workers: 0, numPerm, seed: 1 });
const singleSeconds = ((performance.now() - t) / 1000) * (N / sampleN);

// ---- the measured run: signatures on the pool + LSH + verification + clusters
let sigDone = 0;
t = performance.now();
let tSig = 0;
const near = await nearDuplicates(shuffled, { workers, threshold, numPerm, seed: 1 }, undefined, (done, phase) => {
  if (phase === 'clustering') tSig = performance.now();
  sigDone = done;
});
const nearSeconds = (performance.now() - t) / 1000;
const sigSeconds = (tSig - t) / 1000;
void sigDone;

// ---- recall: planted pairs (within a group) that end in the same cluster; false merges: clusters across groups
const clusterOf = new Int32Array(N).fill(-1);
for (const c of near.clusters) for (const m of c.members) clusterOf[m] = c.id;
const members = new Map<number, number[]>();
for (let i = 0; i < N; i++) {
  const g = groupOf[i] as number;
  if (g < 0) continue;
  const l = members.get(g) ?? [];
  l.push(i);
  members.set(g, l);
}
let pairs = 0;
let found = 0;
for (const l of members.values()) {
  for (let i = 0; i < l.length; i++)
    for (let j = i + 1; j < l.length; j++) {
      pairs++;
      const a = clusterOf[l[i] as number] as number;
      if (a >= 0 && a === clusterOf[l[j] as number]) found++;
    }
}
const recall = pairs ? found / pairs : 1;
let falseMerges = 0;
for (const c of near.clusters) {
  const gs = new Set(c.members.map((m) => groupOf[m]));
  if (gs.size > 1 || gs.has(-1)) falseMerges++;
}
const fullyRecovered = [...members.values()].filter((l) => {
  const c = clusterOf[l[0] as number] as number;
  return c >= 0 && l.every((m) => clusterOf[m] === c);
}).length;

const rows = [
  { figure: 'near-dup total (s)', value: nearSeconds, unit: 's', baseline: exactSeconds, baselineName: 'exact-hash pass (s)', target: `<= ${TARGET_SECONDS}`, pass: nearSeconds <= TARGET_SECONDS },
  { figure: 'signatures, pool (s)', value: sigSeconds, unit: 's', baseline: singleSeconds, baselineName: '1 thread, extrapolated (s)', target: '', pass: undefined },
  { figure: 'records/s', value: N / nearSeconds, unit: 'records/s', baseline: N / exactSeconds, baselineName: 'exact-hash records/s', target: `>= ${Math.round(N / TARGET_SECONDS)}`, pass: N / nearSeconds >= N / TARGET_SECONDS },
  { figure: 'recall of planted pairs', value: recall, unit: '', baseline: exact.drop.length / groups, baselineName: 'exact pass: exact copies found / planted', target: '>= 0.95', pass: recall >= 0.95 },
  { figure: 'false merges (clusters)', value: falseMerges, unit: '', baseline: 0, baselineName: '', target: '0', pass: falseMerges === 0 },
];
const fmt = (v: number) => (Number.isInteger(v) ? v.toLocaleString() : v >= 100 ? Math.round(v).toLocaleString() : v.toFixed(3));
console.log(`\nnear-dup: ${N.toLocaleString()} records, ${workers} workers, numPerm ${numPerm}, threshold ${threshold}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);
console.log(['figure'.padEnd(26), 'value'.padStart(12), 'baseline'.padStart(12), 'ratio'.padStart(8), '  target', '  (baseline)'].join(''));
for (const r of rows) {
  const ratio = r.baseline ? r.value / r.baseline : NaN;
  console.log([r.figure.padEnd(26), fmt(r.value).padStart(12), fmt(r.baseline).padStart(12), (Number.isFinite(ratio) ? ratio.toFixed(2) : '-').padStart(8), `  ${r.target.padEnd(10)}`, `  ${r.baselineName}`].join(''));
}
console.log(`clusters: ${near.clusters.length} (planted ${groups}, fully recovered ${fullyRecovered}), candidates verified: ${near.candidates?.toLocaleString()}, dropped: ${near.drop.length.toLocaleString()}`);
console.log(`memory: rss ${(process.memoryUsage().rss / 1e9).toFixed(2)} GB`);
const pass = nearSeconds <= TARGET_SECONDS && recall >= 0.95 && falseMerges === 0;
console.log(pass ? 'PASS' : 'MISS');

const dir = join(__dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, 'dedup.json'),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      records: N,
      avgChars: Math.round(bytes / N),
      workers,
      numPerm,
      threshold,
      plantedClusters: groups,
      seconds: { nearTotal: nearSeconds, signatures: sigSeconds, exactBaseline: exactSeconds, singleThreadSignaturesExtrapolated: singleSeconds },
      recordsPerSecond: N / nearSeconds,
      recall,
      fullyRecovered,
      falseMerges,
      clusters: near.clusters.length,
      candidates: near.candidates,
      targetSeconds: TARGET_SECONDS,
      pass,
      // The same figures in the shape bench/run.ts tabulates.
      rows: rows.map((r) => ({ figure: r.figure, value: r.value, unit: r.unit, baseline: r.baseline, baselineLabel: r.baselineName, ratio: r.baseline ? r.value / r.baseline : null, target: r.target, pass: r.pass })),
    },
    null,
    2,
  ) + '\n',
);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
