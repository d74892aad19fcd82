// A pool of the store's worker threads that run one kind of task over byte ranges of the indexed
// file (the live aggregates, aggregate-worker.ts): tasks are fed as workers free up,
// results come back in task order. Undefined means "do it in this thread instead" (the workers
// could not start, or an older bundle answered): the caller falls back, the result is the same.
import type { Worker } from 'node:worker_threads';
import { startStoreWorker, type StoreWorkerEntry } from './worker-file';
import { abortError } from './errors';

/** A task for a pool worker: `id` is its position in the task list. */
export interface RangeTask {
  id: number;
  from: number;
  to: number;
}

export async function runRangePool<T extends RangeTask, R>(
  job: { kind: string },
  tasks: T[],
  workers: number,
  signal: AbortSignal | undefined,
  onDone: (task: T) => void,
  entry: StoreWorkerEntry = 'scan-worker',
): Promise<R[] | undefined> {
  const stop = new SharedArrayBuffer(4);
  const results: (R | undefined)[] = new Array<R | undefined>(tasks.length);
  const started: Worker[] = [];
  let next = 0;
  let finished = 0;
  return await new Promise<R[] | undefined>((resolve, reject) => {
    let settled = false;
    const end = (err?: Error, fallback = false) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      Atomics.store(new Int32Array(stop), 0, 1);
      for (const w of started) void w.terminate();
      if (err) reject(err);
      else resolve(fallback ? undefined : (results as R[]));
    };
    const onAbort = () => end(abortError());
    if (signal?.aborted) {
      end(abortError());
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    if (tasks.length === 0) {
      end();
      return;
    }
    const feed = (w: Worker) => {
      if (next >= tasks.length) return;
      w.postMessage(tasks[next++]);
    };
    for (let k = 0; k < Math.min(workers, tasks.length); k++) {
      const w = startStoreWorker({ ...job, stop }, undefined, entry);
      if (!w) {
        end(undefined, true);
        return;
      }
      started.push(w);
      w.on('message', (m: Record<string, unknown>) => {
        if (settled) return;
        if (typeof m.id !== 'number') {
          // not our worker (an older bundle): count here instead
          end(undefined, true);
          return;
        }
        if (typeof m.error === 'string') {
          end(new Error(m.error));
          return;
        }
        results[m.id] = m.result as R;
        onDone(tasks[m.id]!);
        finished++;
        if (finished === tasks.length) end();
        else feed(w);
      });
      // A worker that cannot start or crashes: count in this thread instead (same result, slower).
      w.on('error', () => end(undefined, true));
      feed(w);
    }
  });
}
