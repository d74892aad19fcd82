// Shared by the benchmarks: a result table (figure, value, baseline measured in the same run,
// ratio, target) printed and written to bench/results/<name>.json.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { TableRow } from './run';

export interface Row {
  figure: string;
  value: number;
  unit: string;
  baseline: number;
  baselineLabel: string;
  /** value / baseline (or the inverse when `higherIsBetter`), as the target is phrased. */
  ratio: number;
  target: string;
  /** Left out where there is no target (the table's "met" column is empty then). */
  pass?: boolean;
}

export function report(name: string, rows: Row[], extra: Record<string, unknown> = {}): void {
  const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(3));
  const table = rows.map((r) => [
    r.figure,
    `${fmt(r.value)} ${r.unit}`,
    `${fmt(r.baseline)} (${r.baselineLabel})`,
    `${r.ratio.toFixed(2)}x`,
    r.target,
    r.pass === undefined ? '' : r.pass ? 'pass' : 'MISS',
  ]);
  printTable(['figure', 'value', 'baseline (same run)', 'ratio', 'target', ''], table);
  writeFileSync(resultsFile(name), JSON.stringify({ name, date: new Date().toISOString(), rows, ...extra }, null, 2));
}

/** Prints a Markdown table, each column as wide as its widest cell. */
function printTable(head: string[], table: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const t of table) console.log(line(t));
}

/** bench/results/<name>.json (the folder made when missing). */
function resultsFile(name: string): string {
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.json`);
}

export function time<T>(fn: () => T): { ms: number; value: T } {
  const t0 = process.hrtime.bigint();
  const value = fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

export async function timeAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

/** One row of a results file in the shape bench/run.ts tabulates; no target: `target: ''`, `pass` left out (the table's "met" column stays empty). */
export interface TableRowOut extends Omit<TableRow, 'pass'> {
  pass?: boolean;
  /** The 1-minute load average when the figure was taken (2 cores shared with other work). */
  load?: number;
}

/** Writes bench/results/<name>.json and prints its rows with the load average beside each. */
export function writeResults(name: string, rows: TableRowOut[], extra: Record<string, unknown> = {}): void {
  const fmt = (x: number | null) =>
    x === null || !Number.isFinite(x)
      ? '-'
      : Math.abs(x) >= 100
        ? x.toFixed(0)
        : Math.abs(x) >= 10
          ? x.toFixed(1)
          : x.toFixed(3);
  const table = rows.map((r) => [
    r.figure,
    `${fmt(r.value)} ${r.unit}`,
    r.baseline === null ? '-' : `${fmt(r.baseline)} (${r.baselineLabel})`,
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`,
    r.target,
    r.pass === undefined ? '' : r.pass ? 'met' : 'MISS',
    r.load === undefined ? '' : `load ${r.load.toFixed(1)}`,
  ]);
  printTable(['figure', 'value', 'baseline (same run)', 'ratio', 'target', '', ''], table);
  writeFileSync(
    resultsFile(name),
    `${JSON.stringify({ name, date: new Date().toISOString(), rows, ...extra }, null, 2)}\n`,
  );
}

/**
 * spawnSync's result as it is at run time: no stdout or stderr when that stream is ignored or the
 * command could not be started (node's types say a Buffer always).
 */
export type SpawnSyncResult = Omit<SpawnSyncReturns<Buffer>, 'stdout' | 'stderr'> & {
  stdout: Buffer | null;
  stderr: Buffer | null;
};

/**
 * Runs a command; its wall time in ms (stdout kept when asked) and, through GNU time when it is
 * there, its CPU time (user + system, ms) and peak memory (MB). On a shared machine the CPU time
 * says more than the wall time: a process that sleeps often gets the CPU sooner than one that
 * computes, so wall-time ratios under load favour the slower tools.
 */
export function run(
  cmd: string,
  args: string[],
  opts: { stdout?: boolean; env?: NodeJS.ProcessEnv } = {},
): { ms: number; stdout: Buffer; cpuMs?: number; maxRssMb?: number } {
  const gnuTime = existsSync('/usr/bin/time');
  const t = performance.now();
  const r: SpawnSyncResult = gnuTime
    ? spawnSync('/usr/bin/time', ['-f', '\n%U %S %M', cmd, ...args], {
        stdio: ['ignore', opts.stdout ? 'pipe' : 'ignore', 'pipe'],
        maxBuffer: 1 << 28,
        env: opts.env ?? process.env,
      })
    : spawnSync(cmd, args, {
        stdio: ['ignore', opts.stdout ? 'pipe' : 'ignore', 'pipe'],
        maxBuffer: 1 << 28,
        env: opts.env ?? process.env,
      });
  const ms = performance.now() - t;
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr?.toString() ?? r.error?.message}`,
    );
  const m = gnuTime ? /(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)\s*$/.exec(r.stderr?.toString() ?? '') : null;
  return {
    ms,
    stdout: r.stdout ?? Buffer.alloc(0),
    ...(m ? { cpuMs: (Number(m[1]) + Number(m[2])) * 1000, maxRssMb: Number(m[3]) / 1024 } : {}),
  };
}

/** The 1-minute load average. */
export function load1(): number {
  return loadavg()[0]!;
}

/** The built CLI (dist/cli.js), built first when missing. */
export function builtCli(): string {
  const root = join(__dirname, '..');
  const cli = join(root, 'dist', 'cli.js');
  if (!existsSync(cli)) run(process.execPath, [join(root, 'scripts', 'build.mjs')]);
  return cli;
}
