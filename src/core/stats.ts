// Dataset statistics: records, invalid lines with reasons, label counts, judge-score histogram,
// annotated and reviewed shares. The JSON keys of DatasetStats are stable (docs/cli.md).
// Over a whole file, the work is split by byte ranges across worker threads, each reading its
// range sequentially in large chunks.
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { checkLine, type LineCheck } from './jsonl/check';
import { defineOperation } from './operation';
import { FieldMap, defaultFields, quickAnnotation } from './schema/annotation';

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

export type StatsLine = Pick<LineCheck, 'value' | 'invalid' | 'lossy'>;

const MAX_LISTED = 100;

/** Partial figures, mergeable across workers. */
export class StatsAccumulator {
  lines = 0;
  records = 0;
  invalid = 0;
  invalidLines: { line: number; reason: string }[] = [];
  lossy = 0;
  labels: Record<string, number> = {};
  hist: Record<string, number> = {};
  annotated = 0;
  reviewed = 0;
  scoreSum = 0;
  scored = 0;

  constructor(private readonly fields?: FieldMap) {}

  /** Adds line `lineNumber` (1-based). */
  add(lineNumber: number, line: StatsLine): void {
    this.lines++;
    if (line.invalid || !line.value) {
      this.invalid++;
      if (this.invalidLines.length < MAX_LISTED) this.invalidLines.push({ line: lineNumber, reason: line.invalid?.reason ?? 'not a record' });
      return;
    }
    this.records++;
    if (line.lossy) this.lossy++;
    const ann = quickAnnotation(line.value, this.fields ?? defaultFields);
    if (ann.label !== undefined) {
      this.labels[ann.label] = (this.labels[ann.label] ?? 0) + 1;
      this.annotated++;
    }
    if (ann.reviewStatus && ann.reviewStatus !== 'pending') this.reviewed++;
    const score = ann.score;
    if (score !== undefined && Number.isFinite(score)) {
      this.scoreSum += score;
      this.scored++;
      const scale = ann.scale;
      const bucket = scale && scale[1] <= 1 ? (Math.floor(score * 10) / 10).toFixed(1) : String(Math.round(score));
      this.hist[bucket] = (this.hist[bucket] ?? 0) + 1;
    }
  }

  /** Merges the figures of the byte range that follows this one. */
  merge(next: StatsAccumulatorData): void {
    const offset = this.lines;
    this.lines += next.lines;
    this.records += next.records;
    this.invalid += next.invalid;
    for (const l of next.invalidLines) if (this.invalidLines.length < MAX_LISTED) this.invalidLines.push({ line: l.line + offset, reason: l.reason });
    this.lossy += next.lossy;
    for (const [k, v] of Object.entries(next.labels)) this.labels[k] = (this.labels[k] ?? 0) + v;
    for (const [k, v] of Object.entries(next.hist)) this.hist[k] = (this.hist[k] ?? 0) + v;
    this.annotated += next.annotated;
    this.reviewed += next.reviewed;
    this.scoreSum += next.scoreSum;
    this.scored += next.scored;
  }

  data(): StatsAccumulatorData {
    const { fields: _f, ...rest } = this as unknown as StatsAccumulatorData & { fields: unknown };
    return rest;
  }

  result(file: string): DatasetStats {
    return {
      file,
      lines: this.lines,
      records: this.records,
      invalid: this.invalid,
      invalidLines: this.invalidLines,
      lossy: this.lossy,
      labels: this.labels,
      annotated: this.annotated,
      annotatedShare: this.records ? this.annotated / this.records : 0,
      reviewed: this.reviewed,
      reviewedShare: this.records ? this.reviewed / this.records : 0,
      scored: this.scored,
      meanScore: this.scored ? this.scoreSum / this.scored : null,
      scoreHistogram: Object.entries(this.hist)
        .sort((a, b) => Number(a[0]) - Number(b[0]))
        .map(([bucket, count]) => ({ bucket, count })),
    };
  }
}

export type StatsAccumulatorData = Omit<
  StatsAccumulator,
  'add' | 'merge' | 'data' | 'result' | 'fields'
>;

/** Stats over lines given one by one (an open dataset with its edits: the editor's view). */
export function collectStats(file: string, count: number, lineAt: (i: number) => StatsLine, fields?: FieldMap, signal?: AbortSignal): DatasetStats {
  const acc = new StatsAccumulator(fields);
  for (let i = 0; i < count; i++) {
    if ((i & 0xfff) === 0 && signal?.aborted) throw abortError();
    acc.add(i + 1, lineAt(i));
  }
  return acc.result(file);
}

function abortError(): Error {
  const e = new Error('cancelled');
  e.name = 'AbortError';
  return e;
}

/**
 * Reads [from, to) of a file sequentially (the range starts at a line start) and adds each line.
 * `to` is extended to the end of the line it falls in.
 */
export function statsOfRange(path: string, from: number, to: number, fields: FieldMap | undefined, onBytes?: (n: number) => void, stop?: () => boolean): StatsAccumulatorData {
  const acc = new StatsAccumulator(fields);
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    let carry = 0; // bytes of an unfinished line at the start of buf
    let pos = from;
    let line = 0;
    let done = false;
    while (!done && pos < size) {
      if (stop?.()) throw abortError();
      if (carry === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      const n = readSync(fd, buf, carry, buf.length - carry, pos);
      if (n <= 0) break;
      const end = carry + n;
      let s = 0;
      let nl = buf.indexOf(10, s);
      while (nl !== -1 && nl < end) {
        const lineStart = pos - carry + s;
        if (lineStart >= to) {
          done = true;
          break;
        }
        const e = nl > s && buf[nl - 1] === 13 ? nl - 1 : nl;
        acc.add(++line, checkLine(buf.subarray(s, e)));
        s = nl + 1;
        nl = buf.indexOf(10, s);
      }
      onBytes?.(n);
      pos += n;
      if (!done) {
        buf.copy(buf, 0, s, end);
        carry = end - s;
      }
    }
    // A last line without a final newline.
    if (!done && carry > 0 && pos - carry < to) acc.add(++line, checkLine(buf.subarray(0, carry)));
  } finally {
    closeSync(fd);
  }
  return acc.data();
}

/** Byte offsets splitting a file into `parts` ranges that each start at a line start. */
function splitRanges(path: string, parts: number): number[] {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const cuts = [0];
    const b = Buffer.allocUnsafe(64 * 1024);
    for (let k = 1; k < parts; k++) {
      let p = Math.floor((size * k) / parts);
      for (;;) {
        const n = readSync(fd, b, 0, b.length, p);
        if (n <= 0) {
          p = size;
          break;
        }
        const i = b.indexOf(10);
        if (i !== -1 && i < n) {
          p += i + 1;
          break;
        }
        p += n;
      }
      if (p > (cuts[cuts.length - 1] ?? 0) && p < size) cuts.push(p);
    }
    cuts.push(size);
    return cuts;
  } finally {
    closeSync(fd);
  }
}

function workerFile(): string | undefined {
  for (const f of [join(__dirname, 'stats-worker.js'), join(__dirname, 'stats-worker.ts')]) if (existsSync(f)) return f;
  return undefined;
}

/** Stats of a file on disk, in parallel across worker threads. */
export async function statsOfFile(
  path: string,
  opts: { fields?: FieldMap; signal?: AbortSignal; onProgress?: (bytes: number, total: number) => void; threads?: number } = {},
): Promise<DatasetStats> {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  closeSync(fd);
  const threads = Math.max(1, Math.min(opts.threads ?? availableParallelism(), Math.ceil(size / (8 * 1024 * 1024))));
  const file = workerFile();
  if (threads === 1 || !file) {
    let seen = 0;
    const data = statsOfRange(path, 0, size, opts.fields, (n) => opts.onProgress?.((seen += n), size), () => !!opts.signal?.aborted);
    const acc = new StatsAccumulator(opts.fields);
    acc.merge(data);
    return acc.result(path);
  }
  const cuts = splitRanges(path, threads);
  const progress = new Array<number>(cuts.length - 1).fill(0);
  const results = await Promise.all(
    cuts.slice(0, -1).map(
      (from, k) =>
        new Promise<StatsAccumulatorData>((resolve, reject) => {
          const workerData = { path, from, to: cuts[k + 1], fields: opts.fields };
          const w = file.endsWith('.ts')
            ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true, workerData })
            : new Worker(file, { workerData });
          const onAbort = () => void w.terminate().then(() => reject(abortError()));
          opts.signal?.addEventListener('abort', onAbort, { once: true });
          w.on('message', (m: { bytes?: number; result?: StatsAccumulatorData; error?: string }) => {
            if (m.bytes !== undefined) {
              progress[k] = m.bytes;
              opts.onProgress?.(progress.reduce((a, b) => a + b, 0), size);
            }
            if (m.error) reject(new Error(m.error));
            if (m.result) {
              opts.signal?.removeEventListener('abort', onAbort);
              resolve(m.result);
              void w.terminate();
            }
          });
          w.on('error', reject);
        }),
    ),
  );
  const acc = new StatsAccumulator(opts.fields);
  for (const r of results) acc.merge(r);
  return acc.result(path);
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
    return statsOfFile(options.file, {
      fields: options.fields,
      signal: ctx.signal,
      onProgress: (done, total) => ctx.progress({ done, total, unit: 'bytes' }),
    });
  },
});
