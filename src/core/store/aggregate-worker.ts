// Worker thread of the live aggregates (src/core/metrics/live.ts through range-pool.ts), bundled to
// dist/aggregate-worker.js by scripts/build.mjs: counts an aggregate (metrics/accumulators.ts) over
// a byte range of the indexed file and posts its state. Apart from scan-worker.ts because the
// accumulators bring zod and the filters, which the scans and stats counts do not need.
import { parentPort, workerData } from 'node:worker_threads';
import { createAccumulator, type AccumulatorSpec } from '../metrics/accumulators';
import { visitRange } from './stats-core';

export interface AggregateTask {
  id: number;
  fd: number;
  from: number;
  to: number;
  accumulator: AccumulatorSpec;
  maxLineBytes: number;
}

export interface AggregateJob {
  kind: 'aggregate';
  stop: SharedArrayBuffer;
}

const job = workerData as AggregateJob;
const stop = new Int32Array(job.stop);
parentPort?.on('message', (t: AggregateTask) => {
  try {
    const acc = createAccumulator(t.accumulator);
    visitRange(
      t.fd,
      t.from,
      t.to,
      1,
      { record: (v) => acc.add(v, 1), invalid: () => acc.add(undefined, 1) },
      t.maxLineBytes,
      () => Atomics.load(stop, 0) !== 0,
    );
    parentPort?.postMessage({ id: t.id, result: acc.state() });
  } catch (err) {
    parentPort?.postMessage({ id: t.id, error: err instanceof Error ? err.message : String(err) });
  }
});
