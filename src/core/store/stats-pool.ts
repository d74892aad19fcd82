// The stats workers: counts pieces of a file (byte ranges cut at line starts) on worker threads
// (scan-worker.ts) and, when asked, in this thread too. Why not the generic range pool:
//   - pieces are claimed through a shared counter (Atomics.add), not handed out by messages, so a
//     thread goes from one piece to the next without waiting for this thread's event loop, and the
//     threads finish together (small pieces at the end of the file, no piece left for one thread);
//   - the workers stay up between counts (idle ones unref'd, ended after IDLE_MS): the Datasets
//     view counts file after file, and a warm worker has its thread started, its bundle loaded
//     and the scanner already optimized by V8 (a cold worker's first ~30 MB run 2-4x slower);
//   - `inThread`: this thread claims pieces as well (the CLI, whose main thread would only wait):
//     one worker fewer to start, and the count starts at once.
// Undefined means "count here instead" (a worker could not start or failed): the caller falls
// back, the figures are the same.
import type { Worker } from 'node:worker_threads';
import { startStoreWorker } from './worker-file';
import { statsCores, takePrestarted } from './stats-prestart';
import { abortError } from './errors';
import { statsOfRange, type PartialStats, type StatsFields } from './stats-core';
import type { StatsPiece, StatsRun, StatsRunMessage } from './scan-worker';

/** How long an idle stats worker stays up. */
const IDLE_MS = 15_000;

const idle: Worker[] = [];
let idleTimer: NodeJS.Timeout | undefined;
let runs = 0;

function takeWorker(): { w: Worker; fresh: boolean } | undefined {
  const w = idle.pop();
  if (w) {
    w.ref();
    return { w, fresh: false };
  }
  const early = takePrestarted();
  if (early) early.ref();
  const fresh = early ?? startStoreWorker({ kind: 'stats' });
  if (!fresh) return undefined;
  // A worker that dies while idle leaves the list.
  fresh.on('error', () => dropIdle(fresh));
  fresh.on('exit', () => dropIdle(fresh));
  return { w: fresh, fresh: true };
}

function dropIdle(w: Worker): void {
  const k = idle.indexOf(w);
  if (k !== -1) idle.splice(k, 1);
}

function parkWorker(w: Worker): void {
  w.removeAllListeners('message');
  // Counts that ran at the same time may bring back more workers than cores: those end.
  if (idle.length >= statsCores()) {
    void w.terminate();
    return;
  }
  w.unref();
  idle.push(w);
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(endIdleWorkers, IDLE_MS);
  idleTimer.unref();
}

/** Ends the idle stats workers now (tests; an extension's deactivation). */
export function endIdleWorkers(): void {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  for (const w of idle.splice(0)) void w.terminate();
}

export interface PoolOptions {
  /** Worker threads to use. */
  workers: number;
  /** This thread counts pieces too (it yields between pieces, so aborts and messages get through). */
  inThread?: boolean;
  signal?: AbortSignal;
  /** Called as each piece is counted, with its byte length. */
  onPiece?: (bytes: number) => void;
  shouldStop?: () => boolean;
  /**
   * End the workers as soon as the count is done instead of keeping them for the next one: a
   * process that exits after one count (the CLI) has their teardown overlap its last work rather
   * than wait for it at its exit.
   */
  endWorkers?: boolean;
}

/** Counts `pieces` (each from a line start to a line end); results in piece order. */
export async function countPieces(
  fd: number,
  pieces: StatsPiece[],
  fields: StatsFields,
  maxListed: number,
  maxLineBytes: number,
  opts: PoolOptions,
): Promise<{ parts: PartialStats[]; workersUsed: number; workersStarted: number } | undefined> {
  if (opts.signal?.aborted) throw abortError();
  const shared = new SharedArrayBuffer(8);
  // [0]: the next piece to claim; [1]: non-zero asks every thread to stop.
  const cell = new Int32Array(shared);
  const results: (PartialStats | undefined)[] = new Array<PartialStats | undefined>(pieces.length);
  let counted = 0;
  const run = ++runs;
  const used: Worker[] = [];
  let started = 0;
  for (let k = 0; k < opts.workers; k++) {
    const t = takeWorker();
    if (!t) break;
    used.push(t.w);
    if (t.fresh) started++;
  }
  if (used.length === 0 && !opts.inThread) return undefined;
  const msg: StatsRun = { run, fd, pieces, fields, maxListed, maxLineBytes, shared };
  return await new Promise((resolve, reject) => {
    let settled = false;
    let live = used.length;
    let inThreadBusy = !!opts.inThread;
    // A worker that fails or exits during the count: count here instead (same figures, slower).
    const onError = () => end(undefined, true);
    const end = (err?: Error, fallback = false) => {
      if (settled) return;
      settled = true;
      Atomics.store(cell, 1, 1);
      opts.signal?.removeEventListener('abort', onAbort);
      for (const w of used) {
        w.removeListener('error', onError);
        w.removeListener('exit', onError);
        // After a count every worker has said it is done and waits for the next one; otherwise
        // (an error, an abort) one may be in the middle of a piece: it is ended.
        if (err || fallback || opts.endWorkers) {
          w.removeAllListeners('message');
          void w.terminate();
        } else parkWorker(w);
      }
      if (err) reject(err);
      else
        resolve(
          fallback
            ? undefined
            : { parts: results as PartialStats[], workersUsed: used.length, workersStarted: started },
        );
    };
    const onAbort = () => end(abortError());
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const done = (k: number, part: PartialStats) => {
      results[k] = part;
      counted++;
      opts.onPiece?.(pieces[k]!.to - pieces[k]!.from);
    };
    const maybeEnd = () => {
      if (counted === pieces.length && live === 0 && !inThreadBusy) end();
    };
    for (const w of used) {
      w.on('message', (m: StatsRunMessage) => {
        if (settled || m.run !== run) return;
        if ('error' in m) end(new Error(m.error));
        else if ('done' in m) {
          live--;
          maybeEnd();
        } else done(m.id, m.result);
      });
      w.once('error', onError);
      w.once('exit', onError);
      w.postMessage(msg);
    }
    if (opts.inThread) {
      void (async () => {
        try {
          for (;;) {
            if (Atomics.load(cell, 1) !== 0) return; // ended (an abort, an error)
            const k = Atomics.add(cell, 0, 1);
            if (k >= pieces.length) break;
            const p = pieces[k]!;
            done(
              k,
              statsOfRange(
                fd,
                p.from,
                p.to,
                p.firstLine,
                fields,
                maxListed,
                maxLineBytes,
                () => Atomics.load(cell, 1) !== 0,
              ),
            );
            // Lets an abort, the workers' messages and progress through.
            await new Promise((r) => setImmediate(r));
          }
          inThreadBusy = false;
          maybeEnd();
        } catch (err) {
          end(err instanceof Error ? err : new Error(String(err)));
        }
      })();
    }
  });
}
