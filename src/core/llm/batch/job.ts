// A task over a dataset as a batch job: the records' requests (bound to their content) go through
// the Batch API (run.ts) and the outcomes are applied to the records they were computed from
// (records.ts). The sink saves after each part (`flush`), before the journal marks it applied, so
// a killed job never loses an applied part and never applies one twice.
import type { RecordSource, ResultSink } from '../../jobs/types';
import type { FieldMap } from '../../schema/annotation';
import { FileApplier, fileRequests } from './file-apply';
import type { Progress } from '../../operation';
import type { BatchApiClient, PollPolicy } from './api';
import type { SplitLimits } from './input-files';
import { BatchApplier, recordRequests, type ApplySummary, type BatchTaskAdapter } from './records';
import { batchJournalPath, runBatch, type BatchRunOptions, type BatchRunSummary } from './run';

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
  progress?: (p: Progress) => void;
  log?: (line: string) => void;
}

export interface BatchJobSummary {
  batch: BatchRunSummary;
  records: ApplySummary;
}

/** `limit` when the job has one (the record requests and the appliers take it so). */
export function limitOf(o: { limit?: number }): { limit?: number } {
  return o.limit !== undefined ? { limit: o.limit } : {};
}

/** What runBatch is given as it is by both kinds of batch job (the journal, the model, limits, callbacks). */
export function runOptionsOf(
  o: Omit<BatchJobOptions, 'source' | 'sink' | 'adapter'>,
): Omit<BatchRunOptions, 'requests' | 'onOutcome' | 'onPartApplied'> {
  return {
    api: o.api,
    journalPath: batchJournalPath(o.journalDir, o.job),
    job: o.job,
    model: o.model,
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.poll ? { poll: o.poll } : {}),
    ...(o.followUpRounds !== undefined ? { followUpRounds: o.followUpRounds } : {}),
    ...(o.submitOnly ? { submitOnly: true } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.progress ? { progress: o.progress } : {}),
    ...(o.log ? { log: o.log } : {}),
  };
}

export async function runBatchJob(o: BatchJobOptions): Promise<BatchJobSummary> {
  const applier = new BatchApplier(o.source, o.sink, o.adapter, limitOf(o));
  const batch = await runBatch({
    ...runOptionsOf(o),
    requests: () => recordRequests(o.source, o.adapter, limitOf(o)),
    onOutcome: (outcome, ctx) => applier.apply(outcome, ctx),
    onPartApplied: async () => {
      await applier.flush();
      await o.sink.flush();
    },
  });
  if (o.submitOnly) return { batch, records: applier.summary };
  await applier.flush();
  await o.sink.flush();
  return { batch, records: applier.finish() };
}

export interface FileBatchJobOptions extends Omit<BatchJobOptions, 'source' | 'sink'> {
  /** The dataset (read as it is now at every run). */
  input: string;
  /** Where the result goes; default: `input` itself (in place). */
  output?: string;
  fields?: FieldMap;
}

/**
 * A task over a file as a batch job, applied in one pass at the end (file-apply.ts): for a file no
 * editor holds open (the CLI). Memory is the results, not the file. A resumed run gets the results
 * of parts applied before again (replayed from the files on disk), so a kill before the final
 * write loses nothing.
 */
export async function runFileBatchJob(o: FileBatchJobOptions): Promise<BatchJobSummary> {
  const applier = new FileApplier(o.adapter, {
    ...(o.fields ? { fields: o.fields } : {}),
    ...limitOf(o),
  });
  const batch = await runBatch({
    ...runOptionsOf(o),
    requests: () => fileRequests(o.input, o.adapter, limitOf(o)),
    onOutcome: (outcome, ctx) => applier.add(outcome, ctx),
  });
  const empty: ApplySummary = { applied: 0, resumed: 0, answers: 0, failed: [], stale: [], redo: [], skipped: [] };
  if (o.submitOnly) return { batch, records: empty };
  o.progress?.({
    done: 0,
    unit: 'records',
    message: `writing ${applier.size.toLocaleString('en-US')} result(s) into ${o.output ?? o.input}`,
  });
  const records = await applier.write(o.input, o.output ?? o.input, o.signal);
  return { batch, records };
}
