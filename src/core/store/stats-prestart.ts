// Stats workers started before the stats code has loaded. `curate stats` spends its first ~15 ms
// loading its bundle, opening the file and cutting it into pieces, and a worker thread takes about
// 25 ms to start (a V8 isolate, Node's bootstrap, scan-worker.js, the WebAssembly scanner): started
// from the CLI's dispatcher (src/cli/commands/index.ts) the worker starts meanwhile, on the other
// core, and joins the count sooner. The pool (stats-pool.ts) takes these first. The list is kept on
// globalThis under a registered symbol: the dispatcher and the stats command are separate bundles
// (scripts/build.mjs), each with its own copy of this module.
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startStoreWorker } from './worker-file';

/** Files smaller than this are counted in the calling thread (a worker's start costs more). */
export const POOL_MIN_BYTES = 32 * 1024 * 1024;

/** The cores stats use at most. */
export function statsCores(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

/**
 * Worker threads for a count of `bytes`: one per core (one fewer, but at least one, when the
 * calling thread counts too), none for small files. The prestart and the count ask this same
 * function, so that the count takes every worker started for it.
 */
export function statsWorkersFor(bytes: number, inThread: boolean): number {
  if (bytes < POOL_MIN_BYTES) return 0;
  const cores = statsCores();
  return inThread ? Math.max(1, cores - 1) : cores;
}

const KEY = Symbol.for('dataset-curator.prestarted-stats-workers');
type Holder = { [KEY]?: Worker[] };

function list(): Worker[] {
  const g = globalThis as Holder;
  return (g[KEY] ??= []);
}

/**
 * Starts the workers a count of `file` in this thread and worker threads will use
 * (statsWorkersFor), when it is big enough to use any. A file that cannot be read starts none (the
 * command then says why). Idle until taken: they hold no reference on the event loop.
 */
export function prestartStatsWorkers(file: string): void {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return;
    size = st.size;
  } catch {
    return;
  }
  const workers = list();
  for (let k = statsWorkersFor(size, true); k > 0; k--) {
    const w = startStoreWorker({ kind: 'stats' });
    if (!w) return;
    w.unref();
    // A worker that fails before it is taken leaves the list.
    const drop = () => {
      const at = workers.indexOf(w);
      if (at !== -1) workers.splice(at, 1);
    };
    w.once('error', drop);
    w.once('exit', drop);
    workers.push(w);
  }
}

/** A prestarted worker, its listeners removed (the caller adds its own), or undefined. */
export function takePrestarted(): Worker | undefined {
  const w = list().shift();
  w?.removeAllListeners('error');
  w?.removeAllListeners('exit');
  return w;
}

/** How many prestarted workers wait to be taken. */
export function prestartedCount(): number {
  return list().length;
}
