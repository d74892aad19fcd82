// Dataset statistics: records, invalid lines (numbers and reasons), label counts, judge score
// histogram and mean, annotated / reviewed shares. Over the logical dataset (edits included):
// untouched byte ranges are counted by a pool of worker threads (one per core), edited lines here.
// The JSON keys of DatasetStats are stable (docs/cli.md).
import { DEFAULT_FIELD_NAMES, type FieldNames } from '../schema/field-names';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_MAX_LINE_BYTES } from './check';
import type { JsonlDataset } from './dataset';
import { NotADatasetError, abortError } from './errors';
import { addLine, emptyStats, mergeStats, statsOfRange, type PartialStats, type StatsFields } from './stats-core';
import { countPieces } from './stats-pool';
import { statsWorkersFor } from './stats-prestart';
import { lineCuts } from './scan';

export interface DatasetStats {
  file: string;
  /** Lines in the dataset, valid or not. */
  lines: number;
  records: number;
  invalid: number;
  /** The first invalid lines (1-based) with their reasons; `invalid` has the total. */
  invalidLines: { line: number; reason: string }[];
  labels: Record<string, number>;
  /** Records with a (non-empty) label. */
  annotated: number;
  annotatedShare: number;
  /** Records whose review status is set and not "pending". */
  reviewed: number;
  reviewedShare: number;
  /** Records with a human decision for the label question. */
  humanLabeled: number;
  /** Records with at least one suggestion for the label question. */
  suggested: number;
  /** Records with a numeric judge score. */
  scored: number;
  meanScore: number | null;
  /** One bucket per integer score (per tenth on a 0..1 scale), ascending. */
  scoreHistogram: { bucket: string; count: number }[];
  /** Records marked machine-generated (`annotations.origin.type == "model"`); the rest count as human-written. */
  generated: number;
  generatedShare: number;
}

export interface StatsOptions {
  signal?: AbortSignal;
  onProgress?: (p: { bytes: number; totalBytes: number }) => void;
  /** Worker threads to use; default: one per core, none for small files (under 32 MiB). */
  workers?: number;
  /** How many invalid lines to list (the total is always counted). Default 100. */
  maxListed?: number;
  /**
   * Filled in: how many worker threads counted (0 when all was counted in this thread), how many
   * of them had to be started (the others were idle ones, warm from an earlier count), and how
   * many records the WebAssembly scanner counted (the rest: the JS scanner or the full parse).
   */
  diagnostics?: { workersUsed?: number; workersStarted?: number; wasmRecords?: number };
  /**
   * Bytes per piece counted by one task (default: pieces that shrink toward the end of the file,
   * 32 MiB at most; tests make them small).
   */
  pieceBytes?: number;
  /**
   * This thread counts pieces too, beside the workers (it yields between pieces): for the CLI,
   * whose main thread would only wait. Not in the extension host, which must stay responsive.
   * With it the default is one worker fewer.
   */
  inThread?: boolean;
  /** The worker threads end when the count is done (stats-pool.ts PoolOptions.endWorkers): for a process about to exit. */
  endWorkers?: boolean;
}

/** The largest piece; the pieces of a deferred file shrink from it toward the end. */
const TASK_BYTES = 32 * 1024 * 1024;
/** Pieces of an indexed dataset (its segments). */
const SEGMENT_BYTES = 8 * 1024 * 1024;

/**
 * Guided pieces: each takes a share of what is left (1 / (2 x threads)), between 1 MiB and 32 MiB:
 * large pieces first (few messages), small ones last, so every thread finishes within about a
 * megabyte's work of the others (equal fixed pieces left one thread alone with the last one).
 */
function guidedPiece(threads: number): (left: number) => number {
  return (left) => Math.min(TASK_BYTES, Math.max(1024 * 1024, left / (2 * threads)));
}

/** Worker threads for a count of `bytes`: as asked, else statsWorkersFor. */
function workerCount(bytes: number, opts: StatsOptions): number {
  return opts.workers ?? statsWorkersFor(bytes, opts.inThread === true);
}

function statsFields(f: FieldNames): StatsFields {
  return { label: f.label, judge: f.judge, annotations: f.annotations, question: f.question };
}

export function finishStats(file: string, s: PartialStats): DatasetStats {
  s.invalidLines.sort((a, b) => a.line - b.line);
  const labels: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.labels).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
    Object.defineProperty(labels, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return {
    file,
    lines: s.lines,
    records: s.records,
    invalid: s.invalid,
    invalidLines: s.invalidLines,
    labels,
    annotated: s.annotated,
    annotatedShare: s.records ? s.annotated / s.records : 0,
    reviewed: s.reviewed,
    reviewedShare: s.records ? s.reviewed / s.records : 0,
    humanLabeled: s.humanLabeled,
    suggested: s.suggested,
    scored: s.scored,
    meanScore: s.scored ? s.scoreSum / s.scored : null,
    scoreHistogram: Object.entries(s.histogram)
      .sort((a, b) => Number(a[0]) - Number(b[0]))
      .map(([bucket, count]) => ({ bucket, count })),
    generated: s.generated,
    generatedShare: s.records ? s.generated / s.records : 0,
  };
}

type Range = { from: number; to: number; firstLine: number };
/**
 * Statistics of a dataset as it is now (overlay included). A dataset opened with `deferScan`
 * whose scan has not started is counted straight from its file, without building the line index
 * (which only edits need): pieces cut at line starts, counted on the worker pool, their line
 * numbers put together afterwards.
 */
export async function computeStats(
  ds: JsonlDataset,
  fields: FieldNames = DEFAULT_FIELD_NAMES,
  opts: StatsOptions = {},
): Promise<DatasetStats> {
  if (ds.scanDeferred)
    return statsOfFile(
      { path: ds.path, fd: ds.fileDescriptor, size: ds.byteLength, maxLineBytes: ds.maxLineBytes },
      fields,
      opts,
    );
  await ds.ready;
  const maxListed = opts.maxListed ?? 100;
  const f = statsFields(fields);
  const segments = ds.segments(opts.pieceBytes ?? SEGMENT_BYTES);
  const totalBytes = segments.reduce(
    (t, s) => t + (s.kind === 'orig' ? s.byteEnd - s.byteStart : s.lines.reduce((a, l) => a + l.bytes.length, 0)),
    0,
  );
  let doneBytes = 0;
  const progress = (b: number) => {
    doneBytes += b;
    opts.onProgress?.({ bytes: doneBytes, totalBytes });
  };
  const ranges: Range[] = [];
  for (const s of segments)
    if (s.kind === 'orig') ranges.push({ from: s.byteStart, to: s.byteEnd, firstLine: s.logicalStart + 1 });
  const origBytes = ranges.reduce((t, r) => t + r.to - r.from, 0);
  const nWorkers = workerCount(origBytes, opts);
  if (opts.diagnostics) opts.diagnostics.workersUsed = 0;
  const pooled =
    ranges.length > 0
      ? await poolParts(
          { fd: ds.fileDescriptor, maxLineBytes: ds.maxLineBytes },
          ranges,
          f,
          maxListed,
          nWorkers,
          opts,
          progress,
        )
      : undefined;
  const total = emptyStats();
  let k = 0;
  const fd = ds.fileDescriptor;
  {
    for (const s of segments) {
      if (opts.signal?.aborted) throw abortError();
      if (s.kind === 'orig') {
        let part = pooled?.[k];
        if (!part) {
          part = statsOfRange(
            fd,
            s.byteStart,
            s.byteEnd,
            s.logicalStart + 1,
            f,
            maxListed,
            ds.maxLineBytes,
            () => !!opts.signal?.aborted,
          );
          progress(s.byteEnd - s.byteStart);
          await new Promise((r) => setImmediate(r));
        }
        k++;
        mergeStats(total, part, maxListed);
      } else {
        const part = emptyStats();
        s.lines.forEach((l, i) => addLine(part, l.bytes, s.logicalStart + i + 1, f, maxListed, ds.maxLineBytes));
        progress(s.lines.reduce((a, l) => a + l.bytes.length, 0));
        mergeStats(total, part, maxListed);
      }
    }
  }
  if (opts.signal?.aborted) throw abortError();
  if (opts.diagnostics) opts.diagnostics.wasmRecords = total.wasmRecords;
  return finishStats(ds.path, total);
}

/**
 * The ranges counted on the warm worker pool (undefined when no worker is to be used or the pool
 * could not count them: the caller then counts in this thread); the diagnostics say how many.
 */
async function poolParts(
  ds: Pick<FileCounted, 'fd' | 'maxLineBytes'>,
  ranges: Range[],
  f: StatsFields,
  maxListed: number,
  nWorkers: number,
  opts: StatsOptions,
  progress: (bytes: number) => void,
): Promise<PartialStats[] | undefined> {
  if (nWorkers <= 0) return undefined;
  const got = await countPieces(ds.fd, ranges, f, maxListed, ds.maxLineBytes, {
    workers: Math.min(nWorkers, ranges.length),
    inThread: opts.inThread,
    endWorkers: opts.endWorkers,
    signal: opts.signal,
    onPiece: progress,
  });
  if (got && opts.diagnostics) {
    opts.diagnostics.workersUsed = got.workersUsed;
    opts.diagnostics.workersStarted = got.workersStarted;
  }
  return got?.parts;
}

/** A file counted as it is on disk: its path, an open descriptor, its size, the longest line parsed. */
interface FileCounted {
  path: string;
  fd: number;
  size: number;
  maxLineBytes: number;
}

/**
 * The statistics of the file at `path` as it is on disk, with no dataset opened (`curate stats`:
 * no index, no edits, nothing of the store's writing side to load). The same figures as
 * computeStats of a dataset opened on it. Throws NotADatasetError for a folder.
 */
export async function statsOfPath(
  path: string,
  fields: FieldNames = DEFAULT_FIELD_NAMES,
  opts: StatsOptions & { maxLineBytes?: number } = {},
): Promise<DatasetStats> {
  if (opts.signal?.aborted) throw abortError();
  const full = resolve(path);
  const fd = openSync(full, 'r');
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new NotADatasetError(full, 'is a folder, not a dataset file');
    return await statsOfFile(
      { path: full, fd, size: st.size, maxLineBytes: opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES },
      fields,
      opts,
    );
  } finally {
    closeSync(fd);
  }
}

/** computeStats of a pristine dataset whose index is not built: the file's bytes, cut at line starts. */
async function statsOfFile(ds: FileCounted, fields: FieldNames, opts: StatsOptions): Promise<DatasetStats> {
  const maxListed = opts.maxListed ?? 100;
  const f = statsFields(fields);
  const fd = ds.fd;
  const totalBytes = ds.size;
  const nWorkers = workerCount(totalBytes, opts);
  const threads = nWorkers + (opts.inThread ? 1 : 0);
  const cuts = lineCuts(fd, 0, totalBytes, opts.pieceBytes ?? (nWorkers > 0 ? guidedPiece(threads) : TASK_BYTES));
  const ranges: Range[] = [];
  // Each piece counts its lines from 1; they are renumbered below.
  for (let k = 0; k + 1 < cuts.length; k++)
    if (cuts[k + 1]! > cuts[k]!) ranges.push({ from: cuts[k]!, to: cuts[k + 1]!, firstLine: 1 });
  let doneBytes = 0;
  const progress = (b: number) => {
    doneBytes += b;
    opts.onProgress?.({ bytes: doneBytes, totalBytes });
  };
  if (opts.diagnostics) opts.diagnostics.workersUsed = 0;
  let parts = ranges.length > 1 ? await poolParts(ds, ranges, f, maxListed, nWorkers, opts, progress) : undefined;
  if (!parts) {
    parts = [];
    for (const r of ranges) {
      if (opts.signal?.aborted) throw abortError();
      parts.push(statsOfRange(fd, r.from, r.to, 1, f, maxListed, ds.maxLineBytes, () => !!opts.signal?.aborted));
      progress(r.to - r.from);
      await new Promise((r) => setImmediate(r));
    }
  }
  if (opts.signal?.aborted) throw abortError();
  const total = emptyStats();
  let before = 0;
  for (const part of parts) {
    for (const l of part.invalidLines) l.line += before;
    before += part.lines;
    mergeStats(total, part, maxListed);
  }
  if (opts.diagnostics) opts.diagnostics.wasmRecords = total.wasmRecords;
  return finishStats(ds.path, total);
}
