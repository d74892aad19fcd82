// Starts a store worker thread (scan-worker.ts: line scans and stats counts; aggregate-worker.ts:
// live aggregates). Bundled, it is dist/<entry>.js beside the bundle that imports the store. From TypeScript (tests, benches
// under tsx) the .ts file is loaded through tsx's CommonJS hook from a tiny eval'd bootstrap:
// `execArgv: ['--import', 'tsx']` does not reach worker threads on Node 20 (the worker fails with
// ERR_UNKNOWN_FILE_EXTENSION), so it is not used.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';

export type StoreWorkerEntry = 'scan-worker' | 'aggregate-worker';

export function startStoreWorker(
  workerData: unknown,
  resourceLimits?: ResourceLimits,
  entry: StoreWorkerEntry = 'scan-worker',
): Worker | undefined {
  const js = join(__dirname, `${entry}.js`);
  if (existsSync(js)) return new Worker(js, { workerData, ...(resourceLimits ? { resourceLimits } : {}) });
  const ts = join(__dirname, `${entry}.ts`);
  if (!existsSync(ts)) return undefined;
  let tsx: string;
  try {
    tsx = require.resolve('tsx/cjs');
  } catch {
    return undefined;
  }
  const boot = `require(${JSON.stringify(tsx)}); require(${JSON.stringify(ts)});`;
  return new Worker(boot, { eval: true, workerData, ...(resourceLimits ? { resourceLimits } : {}) });
}
