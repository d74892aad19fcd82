// Dataset statistics: records, invalid lines with reasons, label counts, judge-score histogram,
// annotated and reviewed shares. The JSON keys of DatasetStats are stable (docs/cli.md).
import { z } from 'zod';
import { JsonlDataset } from './jsonl';
import { defineOperation } from './operation';
import { FieldMap, readAnnotation } from './schema/annotation';

export interface DatasetStats {
  file: string;
  /** Lines in the file, valid or not. */
  lines: number;
  records: number;
  invalid: number;
  /** The first invalid lines (1-based) with their reasons; `invalid` has the total. */
  invalidLines: { line: number; reason: string }[];
  /** Records a structured edit would re-serialize with loss (big integers...). */
  lossy: number;
  labels: Record<string, number>;
  annotated: number;
  annotatedShare: number;
  reviewed: number;
  reviewedShare: number;
  scored: number;
  meanScore: number | null;
  /** One bucket per integer score (per tenth on a 0..1 scale), ascending. */
  scoreHistogram: { bucket: string; count: number }[];
}

export interface StatsLine {
  value?: Record<string, unknown>;
  invalid?: { reason: string };
  lossy?: { reason: string };
}

const MAX_LISTED = 100;

export function collectStats(file: string, count: number, lineAt: (i: number) => StatsLine, fields?: FieldMap, signal?: AbortSignal): DatasetStats {
  const labels: Record<string, number> = {};
  const hist = new Map<string, number>();
  const invalidLines: { line: number; reason: string }[] = [];
  let records = 0;
  let invalid = 0;
  let lossy = 0;
  let annotated = 0;
  let reviewed = 0;
  let scoreSum = 0;
  let scored = 0;
  for (let i = 0; i < count; i++) {
    if ((i & 0xfff) === 0 && signal?.aborted) {
      const e = new Error('cancelled');
      e.name = 'AbortError';
      throw e;
    }
    const line = lineAt(i);
    if (line.invalid || !line.value) {
      invalid++;
      if (invalidLines.length < MAX_LISTED) invalidLines.push({ line: i + 1, reason: line.invalid?.reason ?? 'not a record' });
      continue;
    }
    records++;
    if (line.lossy) lossy++;
    const ann = readAnnotation(line.value, fields);
    if (ann.label !== undefined) {
      labels[ann.label] = (labels[ann.label] ?? 0) + 1;
      annotated++;
    }
    if (ann.reviewStatus && ann.reviewStatus !== 'pending') reviewed++;
    const score = ann.judge?.score;
    if (score !== undefined && Number.isFinite(score)) {
      scoreSum += score;
      scored++;
      const scale = ann.judge?.scale;
      const bucket = scale && scale[1] <= 1 ? (Math.floor(score * 10) / 10).toFixed(1) : String(Math.round(score));
      hist.set(bucket, (hist.get(bucket) ?? 0) + 1);
    }
  }
  return {
    file,
    lines: count,
    records,
    invalid,
    invalidLines,
    lossy,
    labels,
    annotated,
    annotatedShare: records ? annotated / records : 0,
    reviewed,
    reviewedShare: records ? reviewed / records : 0,
    scored,
    meanScore: scored ? scoreSum / scored : null,
    scoreHistogram: [...hist.entries()].sort((a, b) => Number(a[0]) - Number(b[0])).map(([bucket, c]) => ({ bucket, count: c })),
  };
}

export const StatsOptions = z.object({
  file: z.string().min(1),
  fields: FieldMap.optional(),
});

export const statsOperation = defineOperation({
  id: 'stats',
  title: 'Dataset statistics',
  description: 'Records, invalid lines, label counts, judge score histogram, annotated share.',
  options: StatsOptions,
  async run(options, ctx) {
    const ds = await JsonlDataset.open(options.file, {
      signal: ctx.signal,
      onProgress: (p) => ctx.progress({ done: p.bytes, total: p.totalBytes, unit: 'bytes', message: 'indexing' }),
    });
    try {
      await ds.ready;
      return collectStats(options.file, ds.lineCount, (i) => ds.line(i), options.fields, ctx.signal);
    } finally {
      ds.close();
    }
  },
});
