// Near duplicates (MinHash, one permutation hashing with densification, + LSH) on realistic
// texts (bench/records.ts: review texts from a Zipf-like vocabulary), two ways:
//   - in process: N texts with planted groups (an exact copy with case and spacing changed, near
//     copies with one and two words replaced); time, recall of the planted pairs whose true
//     Jaccard is at least 0.85, clusters that mix groups; baseline in the same run: the exact-hash
//     pass over the same texts
//   - the CLI a user runs, `curate filter FILE --dedup near --dry-run --json`, on a records file
//     with a planted near copy every 50 records: wall time, CPU time and peak memory (GNU time);
//     baseline in the same run: `curate filter FILE --dedup exact --dry-run` (and, in the JSON,
//     the same filter with no duplicate search: what reading and parsing the records costs)
// CPU time (every thread) is given beside wall time: it moves less with the machine's load.
// Targets (issue 19): 1M records in 30 s or less, within 1 GB.
//
//   node --import tsx bench/dedup.ts [--full] [--records 100000] [--workers 2] [--threshold 0.8] [--num-perm 128]
//
// --full: 1M records in process and the 1.1 GB file. Writes bench/results/dedup.json.
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { exactDuplicates, mulberry32, nearDuplicates, type DedupItem } from '../src/core/filter/dedup';
import { builtCli, load1, writeResults, type TableRowOut } from './lib';
import { FULL_SIZES, makeText, nearCopy, recordsFile } from './records';

/** The kernel's 5-word shingles, approximately (ASCII letters and digits or any non-ASCII form words). */
function shingles(text: string): Set<string> {
  const w = text
    .toLowerCase()
    .split(/[^a-z0-9\u0080-\uffff]+/)
    .filter(Boolean);
  const out = new Set<string>();
  if (w.length < 5) out.add(w.join(' '));
  for (let i = 0; i + 5 <= w.length; i++) out.add(w.slice(i, i + 5).join(' '));
  return out;
}

function jaccard(a: string, b: string): number {
  const x = shingles(a);
  const y = shingles(b);
  let inter = 0;
  for (const s of x) if (y.has(s)) inter++;
  return inter / (x.size + y.size - inter || 1);
}

/** GNU time around a command: wall seconds, CPU seconds (user + system, every thread) and max RSS in MB. */
function timed(args: string[]): { seconds: number; cpuSeconds: number; maxRssMb: number; stdout: string } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  const m = /(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)\s*$/.exec(r.stderr);
  if (!m) throw new Error(`no GNU time figures in: ${r.stderr}`);
  return {
    seconds: Number(m[1]),
    cpuSeconds: Number(m[2]) + Number(m[3]),
    maxRssMb: Number(m[4]) / 1024,
    stdout: r.stdout,
  };
}

/** CPU seconds of this process (every thread: the workers' too) since `from`. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1e6;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      full: { type: 'boolean' },
      records: { type: 'string' },
      workers: { type: 'string' },
      threshold: { type: 'string' },
      'num-perm': { type: 'string' },
    },
  });
  const N = values.records ? Number(values.records) : values.full ? 1_000_000 : 100_000;
  const workers = values.workers ? Number(values.workers) : Math.min(2, availableParallelism());
  const threshold = values.threshold ? Number(values.threshold) : 0.8;
  const numPerm = values['num-perm'] ? Number(values['num-perm']) : 128;
  const target = 30 * (N / 1_000_000);
  const rows: TableRowOut[] = [];

  // ---- in process: planted groups among realistic texts, shuffled
  const rnd = mulberry32(2026);
  const texts: string[] = [];
  const group: number[] = [];
  let groups = 0;
  for (let i = 0; texts.length < N; i++) {
    const t = makeText(rnd, 60 + Math.floor(rnd() * 140), i);
    texts.push(t);
    group.push(-1);
    if (i % 50 === 0 && texts.length + 3 <= N) {
      const g = groups++;
      group[group.length - 1] = g;
      for (const c of [`  ${t.toUpperCase().replace(/ /g, '  ')}`, nearCopy(t, rnd, 1), nearCopy(t, rnd, 2)]) {
        texts.push(c);
        group.push(g);
      }
    }
  }
  const perm = Array.from({ length: N }, (_, i) => i);
  for (let i = N - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const items: DedupItem[] = perm.map((src, i) => ({ index: i, text: texts[src]! }));
  const groupOf = perm.map((src) => group[src]!);
  const chars = items.reduce((n, it) => n + it.text.length, 0);
  console.log(
    `${N.toLocaleString()} texts, ${Math.round(chars / N)} characters on average, ${groups} planted groups of 4`,
  );

  let t = performance.now();
  let cpu = process.cpuUsage();
  await exactDuplicates(items, { workers });
  const exactSeconds = (performance.now() - t) / 1000;
  const exactCpu = cpuSince(cpu);
  const exactLoad = load1();
  t = performance.now();
  cpu = process.cpuUsage();
  const near = await nearDuplicates(items, { workers, threshold, numPerm, seed: 1 });
  const nearSeconds = (performance.now() - t) / 1000;
  const nearCpu = cpuSince(cpu);
  const nearLoad = load1();

  const clusterOf = new Int32Array(N).fill(-1);
  for (const c of near.clusters) for (const m of c.members) clusterOf[m] = c.id;
  const members = new Map<number, number[]>();
  groupOf.forEach((g, i) => {
    if (g >= 0) members.set(g, [...(members.get(g) ?? []), i]);
  });
  let pairs = 0;
  let found = 0;
  for (const l of members.values()) {
    for (let i = 0; i < l.length; i++)
      for (let j = i + 1; j < l.length; j++) {
        const a = l[i]!;
        const b = l[j]!;
        if (jaccard(items[a]!.text, items[b]!.text) < 0.85) continue;
        pairs++;
        if (clusterOf[a]! >= 0 && clusterOf[a] === clusterOf[b]) found++;
      }
  }
  const recall = pairs ? found / pairs : 1;
  const falseMerges = near.clusters.filter((c) => {
    const gs = new Set(c.members.map((m) => groupOf[m]));
    return gs.size > 1 || gs.has(-1);
  }).length;
  rows.push({
    figure: `near duplicates in process, ${N.toLocaleString()} texts`,
    value: nearSeconds,
    unit: 's',
    baseline: exactSeconds,
    baselineLabel: 'exact-hash pass, s',
    ratio: nearSeconds / exactSeconds,
    target: `<= ${target} s`,
    pass: nearSeconds <= target,
    load: nearLoad,
  });
  // CPU time moves less with the machine's load than wall time (other work shares the cores).
  rows.push({
    figure: `near duplicates in process, CPU (all threads), ${N.toLocaleString()} texts`,
    value: nearCpu,
    unit: 's',
    baseline: exactCpu,
    baselineLabel: 'exact-hash pass, CPU s',
    ratio: nearCpu / exactCpu,
    target: '',
    load: nearLoad,
  });
  rows.push({
    figure: 'recall of planted pairs (true Jaccard >= 0.85)',
    value: recall,
    unit: '',
    baseline: null,
    baselineLabel: `${pairs} pairs`,
    ratio: null,
    target: '>= 0.95',
    pass: recall >= 0.95,
    load: exactLoad,
  });
  rows.push({
    figure: 'clusters mixing planted groups',
    value: falseMerges,
    unit: '',
    baseline: null,
    baselineLabel: `${near.clusters.length} clusters`,
    ratio: null,
    target: '0',
    pass: falseMerges === 0,
  });
  items.length = 0;

  // ---- the CLI on a realistic records file with planted near copies
  const cli = builtCli();
  const file = recordsFile({
    bytes: values.full ? FULL_SIZES[1]! : Math.round((FULL_SIZES[1]! * N) / 1_000_000),
    nearDupEvery: 50,
  });
  spawnSync('cat', [file], { stdio: 'ignore' });
  // Reading and parsing the records alone (no duplicate search): the floor under both.
  const none = timed([process.execPath, cli, 'filter', file, '--dry-run', '--json']);
  const exact = timed([process.execPath, cli, 'filter', file, '--dedup', 'exact', '--dry-run', '--json']);
  const exactCliLoad = load1();
  const cliNear = timed([
    process.execPath,
    cli,
    'filter',
    file,
    '--dedup',
    'near',
    '--threshold',
    String(threshold),
    '--dry-run',
    '--json',
  ]);
  const nearCliLoad = load1();
  const report = JSON.parse(cliNear.stdout) as { total?: number; dedup?: { clusters: unknown[]; dropped: number } };
  const records = report.total ?? 0;
  const cliTarget = 30 * (records / 1_000_000);
  const tag = `${(records / 1e6).toFixed(2)}M records`;
  rows.push({
    figure: `curate filter --dedup near, ${tag}`,
    value: cliNear.seconds,
    unit: 's',
    baseline: exact.seconds,
    baselineLabel: 'curate filter --dedup exact, s',
    ratio: cliNear.seconds / exact.seconds,
    target: `<= ${cliTarget.toFixed(0)} s`,
    pass: cliNear.seconds <= cliTarget,
    load: nearCliLoad,
  });
  rows.push({
    figure: `curate filter --dedup near, CPU (all threads), ${tag}`,
    value: cliNear.cpuSeconds,
    unit: 's',
    baseline: exact.cpuSeconds,
    baselineLabel: 'curate filter --dedup exact, CPU s',
    ratio: cliNear.cpuSeconds / exact.cpuSeconds,
    target: '',
    load: nearCliLoad,
  });
  rows.push({
    figure: `curate filter --dedup near, peak memory, ${tag}`,
    value: cliNear.maxRssMb,
    unit: 'MB',
    baseline: exact.maxRssMb,
    baselineLabel: '--dedup exact, MB',
    ratio: cliNear.maxRssMb / exact.maxRssMb,
    target: '<= 1024 MB',
    pass: cliNear.maxRssMb <= 1024,
    load: exactCliLoad,
  });
  writeResults('dedup', rows, {
    records: N,
    avgChars: Math.round(chars / N),
    workers,
    numPerm,
    threshold,
    plantedGroups: groups,
    cpus: cpus().length,
    cli: {
      file,
      records,
      clusters: report.dedup?.clusters.length,
      dropped: report.dedup?.dropped,
      plantedNearCopies: Math.floor(records / 50),
      readOnly: { seconds: none.seconds, cpuSeconds: none.cpuSeconds, maxRssMb: none.maxRssMb },
      exact: { seconds: exact.seconds, cpuSeconds: exact.cpuSeconds, maxRssMb: exact.maxRssMb },
      near: { seconds: cliNear.seconds, cpuSeconds: cliNear.cpuSeconds, maxRssMb: cliNear.maxRssMb },
    },
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
