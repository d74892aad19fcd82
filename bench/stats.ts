// Dataset statistics against what a user would run instead, on the same file in the same run:
//   - `curate stats FILE --json` (the built CLI, a process, both cores) and the Datasets view's
//     counts (summarizeFile, in process: best of the rounds, on warm workers, and its first count)
//   - DuckDB (@duckdb/node-api, in process, instance ready before the clock starts: its fastest
//     form), read_json with only the needed columns, the same figures (labels, score histogram,
//     reviewed / human / suggested / generated counts)
//   - a naive Node loop: readline + JSON.parse, the same figures, one core
//   - the floor of any JS scanner: reading the file, the UTF-8 check and the line split alone
//     (native code), one thread
//   - jq's fastest form, `jq -n 'reduce inputs as $r ({}; .[$r.label|tostring] += 1)'` (label
//     counts only: less work than the others)
// Records: bench/records.ts (the sample's layout, ~1 KB each). Rounds are interleaved; each
// figure is the best of its rounds, with the load average at that moment (2 shared cores).
// The CLI and the naive loop run on Node 24 (the active LTS, the one the harness installs), which
// carries the target, and on the Node running the bench when it is another one (this machine's
// Node 20, past its end of life), and on that one again without NODE_EXTRA_CA_CERTS when the
// environment sets it (Node 20 reads that file as it starts); each Node's own start (`node -e 0`)
// is reported beside them, with and without that variable.
//
//   node --import tsx bench/stats.ts [--full] [--size-mb 64] [--rounds 3]
//
// --full: 200 MB and 1.1 GB (the sizes). Writes bench/results/stats.json.
import { spawnSync } from 'node:child_process';
import { isUtf8 } from 'node:buffer';
import { closeSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { summarizeFile } from '../src/extension/summaries';
import { endIdleWorkers } from '../src/core/store/stats-pool';
import { ensureTools } from '../test/harness/vscode';
import { builtCli, load1, run, writeResults, type TableRowOut } from './lib';
import { FULL_SIZES, MB, recordsFile } from './records';

interface Figures {
  records: number;
  labels: Record<string, number>;
  scored: number;
  histogram: Record<string, number>;
  reviewed: number;
  humanLabeled: number;
  suggested: number;
  generated: number;
}

/** The naive loop a user writes: readline + JSON.parse, the same figures as curate stats. */
const NAIVE = String.raw`
const fs = require('node:fs');
const readline = require('node:readline');
(async () => {
  const f = { records: 0, labels: {}, scored: 0, histogram: {}, reviewed: 0, humanLabeled: 0, suggested: 0, generated: 0 };
  const rl = readline.createInterface({ input: fs.createReadStream(process.argv[2]), crlfDelay: Infinity });
  for await (const line of rl) {
    let r;
    try { r = JSON.parse(line); } catch { continue; }
    if (r === null || typeof r !== 'object' || Array.isArray(r)) continue;
    f.records++;
    if (typeof r.label === 'string' && r.label !== '') f.labels[r.label] = (f.labels[r.label] || 0) + 1;
    const j = r.judge;
    if (j && typeof j.score === 'number') {
      f.scored++;
      const hi = Array.isArray(j.scale) ? j.scale[1] : undefined;
      const b = typeof hi === 'number' && hi <= 1 ? (Math.min(Math.floor(j.score * 10), 10) / 10).toFixed(1) : String(Math.round(j.score));
      f.histogram[b] = (f.histogram[b] || 0) + 1;
    }
    const a = r.annotations;
    if (a && typeof a === 'object') {
      if (a.review && typeof a.review.status === 'string' && a.review.status !== 'pending') f.reviewed++;
      if (a.human && a.human.label && typeof a.human.label === 'object') f.humanLabeled++;
      if (a.suggestions && Array.isArray(a.suggestions.label) && a.suggestions.label.length > 0) f.suggested++;
      if (a.origin && a.origin.type === 'model') f.generated++;
    }
  }
  process.stdout.write(JSON.stringify(f));
})();
`;

const DUCK_COLUMNS =
  "{label: 'VARCHAR', judge: 'STRUCT(score DOUBLE, scale DOUBLE[])', annotations: 'STRUCT(review STRUCT(status VARCHAR), human STRUCT(label JSON), suggestions STRUCT(label JSON[]), origin STRUCT(type VARCHAR))'}";

function duckQuery(file: string): string {
  return `SELECT label,
    CASE WHEN judge.score IS NULL THEN NULL WHEN judge.scale[2] <= 1 THEN least(floor(judge.score * 10), 10) / 10 ELSE round(judge.score) END AS bucket,
    coalesce(annotations.review.status <> 'pending', false) AS reviewed,
    annotations.human.label IS NOT NULL AS human,
    coalesce(len(annotations.suggestions.label) > 0, false) AS suggested,
    coalesce(annotations.origin.type = 'model', false) AS generated,
    count(*)::DOUBLE AS n
  FROM read_json('${file.replace(/'/g, "''")}', format = 'newline_delimited', ignore_errors = true, columns = ${DUCK_COLUMNS})
  GROUP BY ALL`;
}

function duckFigures(rows: Record<string, unknown>[]): Figures {
  const f: Figures = {
    records: 0,
    labels: {},
    scored: 0,
    histogram: {},
    reviewed: 0,
    humanLabeled: 0,
    suggested: 0,
    generated: 0,
  };
  for (const r of rows) {
    const n = Number(r.n);
    f.records += n;
    if (typeof r.label === 'string' && r.label !== '') f.labels[r.label] = (f.labels[r.label] ?? 0) + n;
    if (r.bucket !== null && r.bucket !== undefined) {
      f.scored += n;
      const b = String(Number(r.bucket));
      f.histogram[b] = (f.histogram[b] ?? 0) + n;
    }
    if (r.reviewed) f.reviewed += n;
    if (r.human) f.humanLabeled += n;
    if (r.suggested) f.suggested += n;
    if (r.generated) f.generated += n;
  }
  return f;
}

function oursFigures(s: {
  records: number;
  labels: Record<string, number>;
  scored: number;
  scoreHistogram: { bucket: string; count: number }[];
  reviewed: number;
  humanLabeled: number;
  suggested: number;
  generated: number;
}): Figures {
  const histogram: Record<string, number> = {};
  for (const b of s.scoreHistogram) histogram[b.bucket] = b.count;
  return {
    records: s.records,
    labels: { ...s.labels },
    scored: s.scored,
    histogram,
    reviewed: s.reviewed,
    humanLabeled: s.humanLabeled,
    suggested: s.suggested,
    generated: s.generated,
  };
}

const sortKeys = (f: Figures) =>
  JSON.stringify({
    ...f,
    labels: Object.fromEntries(Object.entries(f.labels).sort()),
    histogram: Object.fromEntries(Object.entries(f.histogram).sort()),
  });

/**
 * The floor of any JS scanner on this file, one thread: reading it in 1 MB chunks, the UTF-8
 * check and splitting lines with indexOf(10) (native code, no per-byte JS), in ms.
 */
function bareFloor(file: string): number {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  const t = performance.now();
  let lines = 0;
  for (let pos = 0; ;) {
    const got = readSync(fd, buf, 0, buf.length, pos);
    if (got <= 0) break;
    const view = buf.subarray(0, got);
    if (isUtf8(view)) for (let i = view.indexOf(10); i !== -1; i = view.indexOf(10, i + 1)) lines++;
    pos += got;
  }
  const ms = performance.now() - t;
  closeSync(fd);
  if (lines === 0) throw new Error(`no lines in ${file}`);
  return ms;
}

interface Best {
  ms: number;
  load: number;
}
const better = (b: Best | undefined, ms: number): Best => (b && b.ms <= ms ? b : { ms, load: load1() });

/** A Node that runs the CLI and the naive loop (the target is judged on the first one). */
interface Runtime {
  /** "Node 24.21.0", and why it is here. */
  label: string;
  node: string;
  version: string;
  /** The environment it runs in, when not this process's. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The Nodes `curate stats` runs on: Node 24, the active LTS (the harness's, test/harness/setup.sh),
 * which carries the target; and the Node that runs this bench (the machine's `node`) when it is
 * another version, also without NODE_EXTRA_CA_CERTS when the environment sets it (Node 20 reads
 * that file as it starts: the same CLI, without that cost). Node 20 reached its end of life on
 * 2026-04-30.
 */
function runtimes(noCa: NodeJS.ProcessEnv | undefined): Runtime[] {
  const own: Runtime = {
    label: `Node ${process.version.slice(1)}, this machine's node`,
    node: process.execPath,
    version: process.version,
  };
  let node24: string | undefined;
  try {
    node24 = ensureTools().node24;
  } catch (err) {
    console.error(
      `Node 24 is not there (${err instanceof Error ? err.message : String(err)}): the machine's node only`,
    );
  }
  if (!node24) return [own];
  const v = spawnSync(node24, ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (v === process.version) return [{ ...own, node: node24 }];
  const list: Runtime[] = [{ label: `Node ${v.slice(1)}, active LTS`, node: node24, version: v }, own];
  if (noCa) list.push({ ...own, label: `${own.label}, NODE_EXTRA_CA_CERTS unset`, env: noCa });
  return list;
}

/** Node's own start, `node -e 0`, best of five (ms), in `env`. */
function nodeStart(node: string, env: NodeJS.ProcessEnv): Best {
  let b: Best | undefined;
  for (let k = 0; k < 5; k++) b = better(b, run(node, ['-e', '0'], { env }).ms);
  return b!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { full: { type: 'boolean' }, 'size-mb': { type: 'string' }, rounds: { type: 'string' } },
  });
  const sizes = values.full ? FULL_SIZES : [Number(values['size-mb'] ?? 64) * MB];
  const rounds = Number(values.rounds ?? 3);
  const cli = builtCli();
  // Node's own start on each runtime, and without NODE_EXTRA_CA_CERTS when it is set (Node 20
  // reads that file as it starts; Node 24 when it first needs it).
  const caSet = process.env.NODE_EXTRA_CA_CERTS !== undefined;
  const noCa = { ...process.env };
  delete noCa.NODE_EXTRA_CA_CERTS;
  const nodes = runtimes(caSet ? noCa : undefined);
  const naive = join(tmpdir(), `dc-bench-naive-${process.pid}.js`);
  writeFileSync(naive, NAIVE);
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  const rows: TableRowOut[] = [];
  const checks: Record<string, unknown> = {};
  const starts = nodes
    .filter((n) => !n.env)
    .map((n) => ({
      n,
      start: nodeStart(n.node, process.env),
      startNoCa: caSet ? nodeStart(n.node, noCa) : undefined,
    }));
  for (const bytes of sizes) {
    const file = recordsFile({ bytes });
    const size = readFileSync(file).length;
    const tag = size >= 1e9 ? `${(size / 1e9).toFixed(2)} GB` : `${Math.round(size / 1e6)} MB`;
    // Warm the page cache: every tool reads the file from memory.
    spawnSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] });
    // Per runtime: curate stats and the naive loop, best of the rounds, and their CPU times.
    const per = nodes.map(() => ({
      ours: undefined as Best | undefined,
      naive: undefined as Best | undefined,
      cpu: Infinity,
      naiveCpu: Infinity,
    }));
    let view: Best | undefined;
    let viewFirst: Best | undefined;
    let floor: Best | undefined;
    // The first view count of each size starts its workers (the later ones reuse them, warm).
    endIdleWorkers();
    let duckBest: Best | undefined;
    let jqBest: Best | undefined;
    // CPU time (user + system) of the same runs: best of the rounds.
    const cpu = { duckdb: Infinity, jq: Infinity };
    const figures: Record<string, Figures> = {};
    for (let r = 0; r < rounds; r++) {
      nodes.forEach((n, k) => {
        const o = run(n.node, [cli, 'stats', file, '--json'], { stdout: true, env: n.env });
        per[k]!.ours = better(per[k]!.ours, o.ms);
        per[k]!.cpu = Math.min(per[k]!.cpu, o.cpuMs ?? NaN);
        figures[`curate (${n.label})`] = oursFigures(
          JSON.parse(o.stdout.toString('utf8')) as Parameters<typeof oursFigures>[0],
        );
      });

      let t = performance.now();
      const s = await summarizeFile(file, { signal: new AbortController().signal, onProgress: () => undefined });
      view = better(view, performance.now() - t);
      if (r === 0) viewFirst = view;
      floor = better(floor, bareFloor(file));
      figures.view = oursFigures({ ...s, scoreHistogram: s.scoreHistogram });

      t = performance.now();
      const c0 = process.cpuUsage();
      const d = await duck.runAndReadAll(duckQuery(file));
      duckBest = better(duckBest, performance.now() - t);
      const c1 = process.cpuUsage(c0);
      cpu.duckdb = Math.min(cpu.duckdb, (c1.user + c1.system) / 1000);
      figures.duckdb = duckFigures(d.getRowObjects());

      nodes.forEach((n, k) => {
        const o = run(n.node, [naive, file], { stdout: true, env: n.env });
        per[k]!.naive = better(per[k]!.naive, o.ms);
        per[k]!.naiveCpu = Math.min(per[k]!.naiveCpu, o.cpuMs ?? NaN);
        figures[`naive (${n.label})`] = JSON.parse(o.stdout.toString('utf8')) as Figures;
      });

      // jq is slow: one round at 1 GB.
      if (r === 0 || size < 500e6) {
        const j = run('jq', ['-n', 'reduce inputs as $r ({}; .[$r.label|tostring] += 1)', file]);
        jqBest = better(jqBest, j.ms);
        cpu.jq = Math.min(cpu.jq, j.cpuMs ?? NaN);
      }
    }
    const first = `curate (${nodes[0]!.label})`;
    const same = Object.fromEntries(
      Object.entries(figures).map(([k, f]) => [k, sortKeys(f) === sortKeys(figures[first]!)]),
    );
    checks[tag] = same;
    if (Object.values(same).some((x) => !x))
      console.error(`figures differ at ${tag}:`, JSON.stringify(figures, null, 1));
    nodes.forEach((n, k) => {
      const o = per[k]!.ours!;
      const nv = per[k]!.naive!;
      // The target is judged on the first runtime (the active LTS); the others are reported.
      const judged = k === 0;
      const on = nodes.length > 1 ? ` (${n.label})` : '';
      rows.push({
        figure: `curate stats, ${tag}${on}`,
        value: o.ms,
        unit: 'ms',
        baseline: duckBest!.ms,
        baselineLabel: 'DuckDB read_json, same figures, ms',
        ratio: o.ms / duckBest!.ms,
        target: judged ? '<= 1x DuckDB' : '',
        ...(judged ? { pass: o.ms <= duckBest!.ms } : {}),
        load: o.load,
      });
      rows.push({
        figure: `curate stats vs a naive Node loop, ${tag}${on}`,
        value: o.ms,
        unit: 'ms',
        baseline: nv.ms,
        baselineLabel: 'readline + JSON.parse, same figures, ms',
        ratio: nv.ms / o.ms,
        target: '>= 3x faster',
        pass: nv.ms / o.ms >= 3,
        load: nv.load,
      });
      if (Number.isFinite(per[k]!.cpu)) {
        rows.push({
          figure: `curate stats CPU time (user + system), ${tag}${on}`,
          value: per[k]!.cpu,
          unit: 'ms',
          baseline: cpu.duckdb,
          baselineLabel: 'DuckDB CPU, ms',
          ratio: per[k]!.cpu / cpu.duckdb,
          target: '',
          load: o.load,
        });
        rows.push({
          figure: `curate stats CPU time vs the naive loop, ${tag}${on}`,
          value: per[k]!.cpu,
          unit: 'ms',
          baseline: per[k]!.naiveCpu,
          baselineLabel: 'naive Node CPU, ms',
          ratio: per[k]!.naiveCpu / per[k]!.cpu,
          target: '',
          load: o.load,
        });
      }
    });
    const o = per[0]!.ours!;
    rows.push({
      figure: `curate stats vs jq, ${tag}`,
      value: o.ms,
      unit: 'ms',
      baseline: jqBest!.ms,
      baselineLabel: 'jq -n reduce inputs (labels only), ms',
      ratio: jqBest!.ms / o.ms,
      target: '',
      load: jqBest!.load,
    });
    if (Number.isFinite(per[0]!.cpu))
      rows.push({
        figure: `jq CPU time, ${tag}`,
        value: cpu.jq,
        unit: 'ms',
        baseline: per[0]!.cpu,
        baselineLabel: 'curate stats CPU, ms',
        ratio: cpu.jq / per[0]!.cpu,
        target: '',
        load: jqBest!.load,
      });
    rows.push({
      figure: `Datasets view counts, ${tag}`,
      value: view!.ms,
      unit: 'ms',
      baseline: duckBest!.ms,
      baselineLabel: 'DuckDB, ms',
      ratio: view!.ms / duckBest!.ms,
      target: '<= 1x DuckDB',
      pass: view!.ms <= duckBest!.ms,
      load: view!.load,
    });
    rows.push({
      figure: `Datasets view counts, first count (its workers started), ${tag}`,
      value: viewFirst!.ms,
      unit: 'ms',
      baseline: duckBest!.ms,
      baselineLabel: 'DuckDB, ms',
      ratio: viewFirst!.ms / duckBest!.ms,
      target: '',
      load: viewFirst!.load,
    });
    rows.push({
      figure: `floor: read + UTF-8 check + indexOf(10) line split, one thread, no JSON, ${tag}`,
      value: floor!.ms,
      unit: 'ms',
      baseline: duckBest!.ms,
      baselineLabel: 'DuckDB, ms',
      ratio: floor!.ms / duckBest!.ms,
      target: '',
      load: floor!.load,
    });
  }
  // Where the runtimes differ before any of the CLI's code runs.
  for (const { n, start, startNoCa } of starts) {
    rows.push({
      figure: `Node's own start, node -e 0 (${n.label})`,
      value: start.ms,
      unit: 'ms',
      baseline: startNoCa?.ms ?? null,
      baselineLabel: 'the same without NODE_EXTRA_CA_CERTS, set here, ms',
      ratio: startNoCa ? start.ms / startNoCa.ms : null,
      target: '',
      load: start.load,
    });
  }
  duck.closeSync();
  rmSync(naive, { force: true });
  writeResults('stats', rows, {
    rounds,
    figuresAgree: checks,
    runtimes: nodes.map((n) => ({ label: n.label, version: n.version })),
    extraCaCertsSet: caSet,
  });
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
