// A task over a dataset as a batch job: the records' requests (bound to their content) go through
// the Batch API (run.ts) and the outcomes are applied to the records they were computed from
// (records.ts). The sink saves after each part (`flush`), before the journal marks it applied, so
// a killed job never loses an applied part and never applies one twice.
import type { RecordSource, ResultSink } from '../../jobs/types';
import type { Progress } from '../../operation';
import type { BatchApiClient, PollPolicy } from './api';
import type { SplitLimits } from './input-files';
import { BatchApplier, recordRequests, type ApplySummary, type BatchTaskAdapter } from './records';
import { batchJournalPath, runBatch, type BatchRunSummary } from './run';

export interface BatchJobOptions {
  api: BatchApiClient;
  source: RecordSource;
  sink: ResultSink;
  adapter: BatchTaskAdapter;
  /** `<target>.curator-journal` (journalDirFor). */
  journalDir: string;
  job: string;
  model: string;
  limit?: number;
  limits?: Partial<SplitLimits>;
  poll?: Partial<PollPolicy>;
  followUpRounds?: number;
  submitOnly?: boolean;
  signal?: AbortSignal;
  progress?(p: Progress): void;
  log?(line: string): void;
}

export interface BatchJobSummary {
  batch: BatchRunSummary;
  records: ApplySummary;
}

export async function runBatchJob(o: BatchJobOptions): Promise<BatchJobSummary> {
  const applier = new BatchApplier(o.source, o.sink, o.adapter, { ...(o.limit !== undefined ? { limit: o.limit } : {}) });
  const batch = await runBatch({
    api: o.api,
    journalPath: batchJournalPath(o.journalDir, o.job),
    job: o.job,
    model: o.model,
    requests: () => recordRequests(o.source, o.adapter, { ...(o.limit !== undefined ? { limit: o.limit } : {}) }),
    onOutcome: (outcome, ctx) => applier.apply(outcome, ctx),
    onPartApplied: async () => {
      await applier.flush();
      await o.sink.flush();
    },
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.poll ? { poll: o.poll } : {}),
    ...(o.followUpRounds !== undefined ? { followUpRounds: o.followUpRounds } : {}),
    ...(o.submitOnly ? { submitOnly: true } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.progress ? { progress: o.progress } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
  if (o.submitOnly) return { batch, records: applier.summary };
  await applier.flush();
  await o.sink.flush();
  return { batch, records: applier.finish() };
}
