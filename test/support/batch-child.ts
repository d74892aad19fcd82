// A child process that runs a label task over a dataset (in place) as a batch job (used by the
// kill -9 / resume tests):
//   node --import tsx test/support/batch-child.ts <baseURL> <input> <journalDir> <job> <maxRequests> [pause]
// `pause` makes it stop (and print "paused <where>") at a chosen point so the test can kill it:
//   build:<i>   while writing the input files, before record i's request
//   apply:<n>   while applying results, after n records were applied (nothing saved yet)
//   saved       after a part's results were saved, before the journal marks it applied
//   write       (DC_BATCH_MODE=file) every part applied, before the one-pass write into the file
// DC_BATCH_MODE=file runs it as runFileBatchJob (the file rewritten in one pass at the end) instead
// of through the dataset store. Prints a JSON summary on stdout when it finishes.
import { writeSync } from 'node:fs';
import { openJobTarget, StoreRecordSource, StoreResultSink } from '../../src/core/jobs/store-io';
import type { RecordSource, ResultSink } from '../../src/core/jobs/types';
import type { TaskResult } from '../../src/core/llm/apply-result';
import { LlmClient } from '../../src/core/llm/client';
import { BatchApiClient } from '../../src/core/llm/batch/api';
import { batchFacet } from '../../src/core/llm/batch/facet';
import { runBatchJob, runFileBatchJob, type BatchJobSummary } from '../../src/core/llm/batch/job';
import { taskAdapter } from '../../src/core/llm/batch/records';
import { createTask, LabelOptions } from '../../src/core/llm/tasks';

const forever = (where: string): Promise<never> => {
  process.stdout.write(`paused ${where}\n`);
  return new Promise<never>(() => setInterval(() => undefined, 1000));
};

async function main(): Promise<void> {
  const [baseURL, input, journalDir, job, maxRequests, pause] = process.argv.slice(2) as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  const client = new LlmClient({ baseURL, apiKey: 'sk-child', model: 'm' });
  const options = LabelOptions.parse({ input, baseURL, model: 'm', labels: ['positive', 'negative'] });
  const task = createTask('label', options, { client });
  const facet = batchFacet(task);
  if (!facet) throw new Error('the label task has no batch facet');
  const dataset = await openJobTarget(input);
  const store = new StoreRecordSource(dataset);
  const storeSink = new StoreResultSink(dataset);
  let building = true;
  const source: RecordSource = {
    count: () => store.count(),
    get: async (i) => {
      if (building && pause === `build:${i}`) await forever(pause);
      return store.get(i);
    },
  };
  let applied = 0;
  const sink: ResultSink = {
    apply: async (i: number, r: TaskResult) => {
      building = false;
      await storeSink.apply(i, r);
      applied++;
      if (pause === `apply:${applied}`) await forever(pause);
    },
    flush: async () => {
      await storeSink.flush();
      if (pause === 'saved' && applied > 0) await forever(pause);
    },
  };
  const api = new BatchApiClient({ baseURL, apiKey: 'sk-child', maxRetries: 2 });
  const common = {
    api,
    adapter: taskAdapter(facet),
    journalDir,
    job,
    model: 'm',
    limits: { maxRequests: Number(maxRequests) },
    poll: { initialMs: 10, maxMs: 50, factor: 1.5 },
    log: (l: string) => process.stderr.write(`${l}\n`),
  };
  let summary: BatchJobSummary;
  if (process.env.DC_BATCH_MODE === 'file') {
    dataset.close();
    summary = await runFileBatchJob({
      ...common,
      input,
      progress: (p) => {
        if (pause === 'write' && /^writing \d/.test(p.message ?? '')) {
          // block right here (a progress callback is synchronous): the write has not started
          writeSync(1, 'paused write\n');
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
        }
      },
    });
  } else summary = await runBatchJob({ ...common, source, sink });
  client.close();
  dataset.close();
  process.stdout.write(
    `${JSON.stringify({ ok: summary.batch.ok, created: summary.batch.batchesCreated, adopted: summary.batch.batchesAdopted, applied: summary.records.applied, resumed: summary.records.resumed, failed: summary.records.failed.length, redo: summary.records.redo.length, stale: summary.records.stale.length, complete: summary.batch.complete })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
