// The curation editor's live figures (agreement report, review-queue count) over a big file:
//   - the full count once (LiveAggregate over the store: untouched byte ranges in the store's worker
//     threads) against computeStats over the same dataset in the same run (the editor's Stats);
//   - the report after one relabel (the edit applied as "take the old line back, count the new one",
//     then the report built) against a full recount in the same run.
//
//   node --import tsx bench/live.ts [--size-mb 1024] [--edits 200]
//
// Prints a table and writes bench/results/live.json. A bench never fails the test suite.
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { report, timeAsync } from './lib';
import { MB, recordsFile } from './records';
import { JsonlDataset, computeStats } from '../src/core/store';
import { LiveAggregate } from '../src/core/metrics/live';
import { annotationFieldEdits } from '../src/core/annotate-edits';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

async function main(): Promise<void> {
  const sizeMb = arg('size-mb', 1024);
  const edits = arg('edits', 200);
  // The shared realistic records (bench/records.ts), generated once per size.
  const file = recordsFile({ bytes: sizeMb * MB });
  const bytes = statSync(file).size;
  const ds = await JsonlDataset.open(file);
  await ds.ready;
  try {
    const spec = {
      type: 'agreement' as const,
      spec: { question: 'label', compare: [['human', 'suggestion']] as [['human', 'suggestion']], judges: true },
    };
    const stats = await timeAsync(() => computeStats(ds));
    const live = new LiveAggregate(ds, spec);
    const full = await timeAsync(async () => (await live.current()).report());
    // A person relabels records here and there; each time the report is rebuilt.
    const step = Math.max(1, Math.floor(ds.lineCount / edits));
    const per: number[] = [];
    for (let k = 0; k < edits; k++) {
      const i = (k * step) % ds.lineCount;
      const v = ds.line(i).value;
      if (!v) continue;
      const e = ds.setFields(
        i,
        annotationFieldEdits(v, { op: 'relabel', index: i, label: k % 2 ? 'positive' : 'negative' }),
      );
      const t = await timeAsync(async () => {
        live.applyEdits([e]);
        return (await live.current()).report();
      });
      per.push(t.ms);
    }
    per.sort((a, b) => a - b);
    const p95 = per[Math.floor(per.length * 0.95)] ?? 0;
    const recount = await timeAsync(async () => (await new LiveAggregate(ds, spec).current()).report());
    if (live.counts !== 1) throw new Error(`edits caused ${live.counts - 1} recount(s)`);
    const mbps = (ms: number) => bytes / 1e6 / (ms / 1000);
    report(
      'live',
      [
        {
          figure: `full agreement count, ${(bytes / 1e9).toFixed(2)} GB, ${ds.lineCount} records (${live.workersUsed} workers)`,
          value: full.ms / 1000,
          unit: `s (${mbps(full.ms).toFixed(0)} MB/s)`,
          baseline: stats.ms / 1000,
          baselineLabel: 'computeStats',
          ratio: full.ms / stats.ms,
          target: '<= 1.5x',
          pass: full.ms / stats.ms <= 1.5,
        },
        {
          figure: `report after one relabel, p95 of ${per.length}`,
          value: p95,
          unit: 'ms',
          baseline: recount.ms,
          baselineLabel: 'full recount (ms)',
          ratio: p95 / recount.ms,
          target: '<= 50 ms',
          pass: p95 <= 50,
        },
      ],
      { bytes, records: ds.lineCount, load: loadavg() },
    );
  } finally {
    ds.close();
  }
}

void main();
