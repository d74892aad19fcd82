// `npm run bench`: runs every benchmark in bench/ (store, stats, cli, llm, dedup, live, synth, editor, batch,
// parquet, gitdiff), one after the
// other, each writing bench/results/<name>.json (figure, value, baseline measured in the same run,
// ratio, target); then writes one table, bench/results/TABLE.md, and puts it in
// docs/benchmarks.md between the `bench:begin` and `bench:end` markers (the README is the
// Marketplace page: the figures live in the docs).
//
//   npm run bench                         every benchmark at full size (1 GB files, 1M records)
//   npm run bench -- --only store,llm     some of them
//   npm run bench -- --quick              small sizes (a smoke run; docs/benchmarks.md keeps full-size figures unless --readme)
//   npm run bench -- --table-only         no run: the table and docs/benchmarks.md from the results on disk
//
// A benchmark that fails is reported and the others still run; the table keeps the last
// results of each.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(__dirname, '..');
const results = join(__dirname, 'results');

interface Bench {
  name: string;
  file: string;
  what: string;
  full: string[];
  quick: string[];
}

const benches: Bench[] = [
  {
    name: 'store',
    file: 'bench/store.ts',
    what: 'dataset store, 1 GB file',
    full: ['--size-mb', '1024'],
    quick: ['--size-mb', '64'],
  },
  {
    name: 'stats',
    file: 'bench/stats.ts',
    what: "dataset statistics vs DuckDB, a naive Node loop and jq, realistic records, 200 MB and 1.1 GB, the CLI on Node 24 and on the machine's Node",
    full: ['--full'],
    quick: ['--size-mb', '32', '--rounds', '1'],
  },
  {
    name: 'cli',
    file: 'bench/cli.ts',
    what: 'CLI start, get and set vs node -e 0, head and cp + sync, 1.1 GB of realistic records',
    full: ['--full'],
    quick: ['--size-mb', '32', '--rounds', '2'],
  },
  {
    name: 'llm',
    file: 'bench/llm.ts',
    what: 'LLM engine, loopback server, 50 ms latency, medians of 5 rounds, the floor by hand over node:http',
    full: [],
    quick: ['--seconds', '1', '--rounds', '1'],
  },
  {
    name: 'dedup',
    file: 'bench/dedup.ts',
    what: 'near-duplicates, 1M records',
    full: ['--records', '1000000'],
    quick: ['--records', '100000'],
  },
  {
    name: 'live',
    file: 'bench/live.ts',
    what: 'live agreement report, 1 GB file',
    full: ['--size-mb', '1024'],
    quick: ['--size-mb', '64', '--edits', '20'],
  },
  { name: 'synth', file: 'bench/synth.ts', what: 'self-instruct pool check, 20,000 instructions', full: [], quick: [] },
  {
    name: 'editor',
    file: 'bench/editor.ts',
    what: 'curation editor in the real workbench, 1 GB file',
    full: ['--size-mb', '1024'],
    quick: ['--size-mb', '64', '--steps', '20'],
  },
  {
    name: 'batch',
    file: 'bench/batch.ts',
    what: 'a label task through Batch API files, 100,000 records, loopback server',
    full: [],
    quick: ['--records', '5000', '--online', '200'],
  },
  {
    name: 'parquet',
    file: 'bench/parquet.ts',
    what: 'Parquet conversion both ways vs DuckDB, ~1 KB records',
    full: [],
    quick: ['--records', '5000'],
  },
  {
    name: 'gitdiff',
    file: 'bench/gitdiff.ts',
    what: 'semantic diff and merge driver vs git diff and git merge-file, 256 MB',
    full: [],
    quick: ['--size-mb', '16'],
  },
];

/** One row of the table, whatever shape a benchmark's JSON has. */
export interface TableRow {
  figure: string;
  value: number;
  unit: string;
  baseline: number | null;
  baselineLabel: string;
  ratio: number | null;
  target: string;
  pass: boolean | null;
}

type Json = Record<string, unknown>;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Rows from a results file: each benchmark's `rows`, with what is missing filled in. */
export function rowsOf(name: string, json: Json): TableRow[] {
  const rows = Array.isArray(json.rows) ? (json.rows as Json[]) : [];
  return rows.map((r) => {
    const figure = str(r.figure);
    const value = num(r.value) ?? NaN;
    const baseline = num(r.baseline);
    let unit = str(r.unit);
    let baselineLabel = str(r.baselineLabel) || str(r.baselineWhat) || str(r.baselineName);
    if (name === 'llm') {
      // bench/llm.ts writes bare numbers: its units follow from the figure.
      unit = /share/.test(figure) ? 'of ideal' : /CPU/.test(figure) ? 'ms' : 'req/s';
      baselineLabel ||= 'bare openai SDK';
    }
    const ratio = num(r.ratio) ?? (baseline ? value / baseline : null);
    const pass = typeof r.pass === 'boolean' ? r.pass : null;
    return { figure, value, unit, baseline, baselineLabel, ratio, target: str(r.target), pass };
  });
}

function fmt(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  return a >= 1000
    ? Math.round(v).toLocaleString('en-US')
    : a >= 100
      ? v.toFixed(0)
      : a >= 10
        ? v.toFixed(1)
        : a >= 1
          ? v.toFixed(2)
          : v.toFixed(3);
}

export function table(all: { bench: Bench; json: Json | undefined }[]): string {
  const out = [
    '| benchmark | figure | value | baseline (same run) | ratio | target | met |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const { bench, json } of all) {
    if (!json) {
      out.push(`| \`bench/${bench.name}.ts\` (${bench.what}) | not run yet | | | | | |`);
      continue;
    }
    const when = str(json.date).slice(0, 10);
    rowsOf(bench.name, json).forEach((r, i) => {
      const head = i === 0 ? `\`bench/${bench.name}.ts\` (${bench.what}${when ? `, ${when}` : ''})` : '';
      const base = r.baseline === null ? '' : `${fmt(r.baseline)}${r.baselineLabel ? ` (${r.baselineLabel})` : ''}`;
      const met = r.pass === null ? '' : r.pass ? 'yes' : 'no';
      out.push(
        `| ${head} | ${r.figure} | ${fmt(r.value)} ${r.unit} | ${base} | ${r.ratio === null ? '' : `${fmt(r.ratio)}x`} | ${r.target} | ${met} |`,
      );
    });
  }
  return `${out.join('\n')}\n`;
}

/** Where the table goes: the file with the markers below (one constant: the table may move). */
export const TABLE_FILE = 'docs/benchmarks.md';

const BEGIN = '<!-- bench:begin (generated by `npm run bench` from bench/results; do not edit) -->';
const END = '<!-- bench:end -->';

/** Puts the table between the markers of docs/benchmarks.md. */
export function updateReadme(readme: string, tableText: string): string {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a === -1 || b === -1 || b < a) throw new Error(`docs/benchmarks.md has no ${BEGIN} ... ${END} section`);
  return `${readme.slice(0, a + BEGIN.length)}\n${tableText}${readme.slice(b)}`;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean' },
      'table-only': { type: 'boolean' },
      readme: { type: 'boolean' },
    },
  });
  const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : undefined;
  for (const n of only ?? [])
    if (!benches.some((b) => b.name === n))
      throw new Error(`no benchmark "${n}"; there are ${benches.map((b) => b.name).join(', ')}`);
  const failed: string[] = [];
  if (!values['table-only']) {
    for (const b of benches.filter((x) => !only || only.has(x.name))) {
      const args = values.quick ? b.quick : b.full;
      console.log(
        `\n# ${b.name}: node --import tsx ${b.file} ${args.join(' ')} (load average ${loadavg()
          .map((x) => x.toFixed(1))
          .join(' ')}, ${cpus().length} cores)`,
      );
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, b.file), ...args], {
        cwd: root,
        stdio: 'inherit',
      });
      if (r.status !== 0) failed.push(b.name);
    }
  }
  const all = benches.map((bench) => {
    const f = join(results, `${bench.name}.json`);
    return { bench, json: existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Json) : undefined };
  });
  const text = table(all);
  writeFileSync(join(results, 'TABLE.md'), text);
  console.log(`\n${text}\nwrote bench/results/TABLE.md`);
  // A quick run measures small sizes: docs/benchmarks.md keeps the full-size table unless asked.
  if (!values.quick || values.readme) {
    const readmePath = join(root, TABLE_FILE);
    writeFileSync(readmePath, updateReadme(readFileSync(readmePath, 'utf8'), text));
    console.log(`updated the benchmark table in ${TABLE_FILE}`);
  }
  if (failed.length) {
    console.log(`failed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

if (require.main === module) main();
