// Worker thread: the stats of one byte range of a file.
import { parentPort, workerData } from 'node:worker_threads';
import { statsOfRange } from './stats';
import type { FieldMap } from './schema/annotation';

const job = workerData as { path: string; from: number; to: number; fields?: FieldMap };
try {
  let bytes = 0;
  let last = 0;
  const result = statsOfRange(job.path, job.from, job.to, job.fields, (n) => {
    bytes += n;
    if (bytes - last > 32 * 1024 * 1024) {
      last = bytes;
      parentPort?.postMessage({ bytes });
    }
  });
  parentPort?.postMessage({ bytes, result });
} catch (err) {
  parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
}
