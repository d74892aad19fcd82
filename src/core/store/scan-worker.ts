// Worker thread of the store, bundled to dist/scan-worker.js by scripts/build.mjs. Two jobs:
//   - scan (default): finds the line starts of a byte range and posts them in batches
//     (transferred, not copied); stops early when the shared flag is set;
//   - stats: counts pieces of a file (stats-core.ts), claimed through a shared counter, and posts
//     each piece's partial result (stats-pool.ts); stays up for the next count.
// The live aggregates have a worker of their own (aggregate-worker.ts): they bring zod and the
// filters, and this bundle's load is part of every open and every count (44 KB loads in about
// 3 ms; with them, 500 KB took 22-30 ms, most of a cold worker's start).
import { closeSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { batchCapacity, scanRange } from './scan';
import { statsOfRange, type PartialStats, type StatsFields } from './stats-core';

export interface ScanJob {
  kind?: 'scan';
  path: string;
  from: number;
  to: number;
  chunkSize?: number;
  /** Int32 [0]: non-zero asks the worker to stop; Uint32 [1]: offsets written into `into` (see there). */
  stop: SharedArrayBuffer;
  /**
   * The index's own offsets (Offsets.share): the line starts are written there from `at` on, and
   * only told (`written`), not sent; those past its end are sent (`starts`). Without it, all are sent.
   */
  into?: { offsets: SharedArrayBuffer; at: number };
}

export type ScanMessage =
  | { starts: Float64Array; scannedTo: number }
  | { written: number; scannedTo: number }
  | { done: true; scannedTo: number }
  | { error: string };

/** A piece of a file for the stats workers: from a line start to a line end (or EOF). */
export interface StatsPiece {
  from: number;
  to: number;
  /** The 1-based number of its first line (pieces of a file without an index count from 1). */
  firstLine: number;
}

/**
 * One count (stats-pool.ts): the worker claims pieces through `shared` ([0]: the next piece, taken
 * with Atomics.add; [1]: non-zero asks to stop), posts each piece's result, then `done`.
 */
export interface StatsRun {
  run: number;
  /** The dataset's open file descriptor (worker threads share the process's): reads the indexed version. */
  fd: number;
  pieces: StatsPiece[];
  fields: StatsFields;
  maxListed: number;
  maxLineBytes: number;
  shared: SharedArrayBuffer;
}

export interface StatsJob {
  kind: 'stats';
}

export type StatsRunMessage =
  { run: number; id: number; result: PartialStats } | { run: number; done: true } | { run: number; error: string };

function runScan(job: ScanJob): void {
  const stop = new Int32Array(job.stop);
  const post = (m: ScanMessage, transfer: ArrayBuffer[] = []) => parentPort?.postMessage(m, transfer);
  // Into the index's shared offsets while they have room: nothing is allocated for the starts, in
  // this thread or in the receiver's (each batch sent was memory outside its heap, 8 MB for 1 GB,
  // whose growth set off major collections in the editor's extension host).
  const shared = job.into ? new Float64Array(job.into.offsets) : undefined;
  const written = new Uint32Array(job.stop, 4, 1);
  const base = job.into?.at ?? 0;
  let at = base;
  const emit = (starts: Float64Array, scannedTo: number) => {
    let rest = starts;
    if (shared && at < shared.length) {
      const n = Math.min(rest.length, shared.length - at);
      shared.set(rest.subarray(0, n), at);
      at += n;
      rest = rest.subarray(n);
      Atomics.store(written, 0, at - base); // (the starts above are visible to whoever loads it)
      // Scanned to the '\n' of the first start not written, if some are left: a scan that goes on
      // from what was said (should this worker die now) finds them again.
      post({ written: at - base, scannedTo: rest.length > 0 ? rest[0]! - 1 : scannedTo });
      if (rest.length === 0) return;
    }
    // A copy: with `shared`, the scan's batch is used again.
    const copy = shared ? rest.slice() : rest;
    post({ starts: copy, scannedTo }, [copy.buffer as ArrayBuffer]);
  };
  let fd = -1;
  try {
    fd = openSync(job.path, 'r');
    const end = scanRange(fd, job.from, job.to, emit, {
      chunkSize: job.chunkSize,
      shouldStop: () => Atomics.load(stop, 0) !== 0,
      ...(shared ? { batch: new Float64Array(batchCapacity(job.chunkSize)) } : {}),
    });
    post({ done: true, scannedTo: end });
  } catch (err) {
    post({ error: err instanceof Error ? err.message : String(err) });
  } finally {
    if (fd !== -1) closeSync(fd);
  }
}

function runStats(): void {
  parentPort?.on('message', (t: StatsRun) => {
    const cell = new Int32Array(t.shared);
    const stop = () => Atomics.load(cell, 1) !== 0;
    try {
      for (;;) {
        const k = Atomics.add(cell, 0, 1);
        if (k >= t.pieces.length || stop()) break;
        const p = t.pieces[k]!;
        const result = statsOfRange(t.fd, p.from, p.to, p.firstLine, t.fields, t.maxListed, t.maxLineBytes, stop);
        parentPort?.postMessage({ run: t.run, id: k, result } satisfies StatsRunMessage);
      }
      parentPort?.postMessage({ run: t.run, done: true } satisfies StatsRunMessage);
    } catch (err) {
      parentPort?.postMessage({
        run: t.run,
        error: err instanceof Error ? err.message : String(err),
      } satisfies StatsRunMessage);
    }
  });
}

const job = workerData as ScanJob | StatsJob;
if (job.kind === 'stats') runStats();
else runScan(job);
