// Worker thread: scans a file range for line starts and posts them in batches (transferred).
import { closeSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { scanRange } from './scan';

interface Job {
  path: string;
  from: number;
  to: number;
  chunkSize?: number;
  stop: SharedArrayBuffer;
}

const job = workerData as Job;
const stop = new Int32Array(job.stop);
const fd = openSync(job.path, 'r');
try {
  const end = scanRange(
    fd,
    job.from,
    job.to,
    (starts, scannedTo) => parentPort?.postMessage({ starts, scannedTo }, [starts.buffer as ArrayBuffer]),
    { chunkSize: job.chunkSize, shouldStop: () => Atomics.load(stop, 0) !== 0 },
  );
  parentPort?.postMessage({ done: true, scannedTo: end });
} catch (err) {
  parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
} finally {
  closeSync(fd);
}
