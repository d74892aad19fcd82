// An LLM task's operation run as a Batch API job: the registry's "batch" mode of label, rationale,
// judge and critique (the tasks with a batch facet: one request a record) and consistency (k
// samples a record: k requests, samples.ts). The same options, the same records and the
// same sink as the online run; the requests go through runBatchJob (journaled: the same command
// run again resumes the same batches, never a second batch for the same requests), the estimate is
// at the Batch API's price, and `retryOnline` sends the requests the batch left failed through the
// online path for those records. Several models (judges): one batch job per model, one after the
// other.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { estimatePass, LeftSample, scaleEstimate } from '../../estimate';
import type { Estimate, EstimateContext, OperationContext } from '../../operation';
import { UserError } from '../../operation';
import {
  JobCancelledError,
  journalDirFor,
  mergeSummaries,
  runJob,
  type BatchJobInfo,
  type JobSummary,
} from '../../jobs/runner';
import { openJobTarget, SINK_BATCH, StoreRecordSource, StoreResultSink } from '../../jobs/store-io';
import type { LlmTask, RecordSource, ResultSink, SourceRecord } from '../../jobs/types';
import { defaultFields } from '../../schema/annotation';
import type { JsonlDataset } from '../../store';
import type { TaskResult } from '../apply-result';
import type { Usage } from '../client';
import { DialoguesOptions } from '../../synth/dialogues';
import { InstructionsOptions } from '../../synth/instructions';
import { PreferencesOptions } from '../../synth/preferences';
import { ResponsesOptions } from '../../synth/responses';
import type { TaskId } from '../prompts';
import {
  annotationKeys,
  clientFor,
  createTask,
  jobIdOf,
  modelsOf,
  openEngine,
  pricesOf,
  targetPath,
  ConsistencyOptions,
  CritiqueOptions,
  JudgeOptions,
  LabelOptions,
  RationaleOptions,
  type LlmEnv,
  type TaskOptionsById,
} from '../tasks';
import { BatchAnswers, passOverRecords, prefetchAnswers } from './answers';
import { BatchApiClient, type PollPolicy } from './api';
import { batchFacet, samplesFacet, type SamplesFacet } from './facet';
import { readInputIds } from './format';
import { batchJobState, finishBatchJob, jobOfJournal, jobOptionsPath, writeBatchJobOptions } from './job-options';
import { readBatchJournal } from './journal';
import { runBatchJob } from './job';
import { costOf } from './prices';
import { customIdFor, messagesKey, taskAdapter, type BatchTaskAdapter } from './records';
import { BatchCancelledError, batchFilesDir, batchJournalPath, listBatchJobs } from './run';
import { missingSamplesTask, runSamplesBatchJob, sampleRequestsOf, type SampleApplier } from './samples';
import { CompareConfidenceOptions } from './compare-run';

/** The tasks that run as a batch: one request per record, and consistency's k samples as k requests. */
export const BATCH_TASKS = ['label', 'rationale', 'judge', 'critique', 'consistency'] as const;
export type BatchTaskId = (typeof BATCH_TASKS)[number];

export function isBatchTask(id: string): id is BatchTaskId {
  return (BATCH_TASKS as readonly string[]).includes(id);
}

export interface BatchModeOptions {
  /** Send the requests the batch left failed through the online path (those records only). */
  retryOnline?: boolean;
  /** How often the batches are polled (default: 5 s growing to 60 s). */
  poll?: Partial<PollPolicy>;
}

const noBatchForm = (id: TaskId): UserError =>
  new UserError(`this ${id} job cannot run as a batch (a question of its type has no batch form); run it online`);

/** A k-sample task's batch facet (consistency of a label question), or undefined for a one-request task. */
function samplesOf(id: TaskId, task: ReturnType<typeof createTask>): SamplesFacet | undefined {
  return id === 'consistency' ? samplesFacet(task) : undefined;
}

/** A task's batch adapter (its facet; logprob confidence for a label task that asks for it). */
function adapterOf(id: TaskId, task: ReturnType<typeof createTask>, o: TaskOptionsById[TaskId]): BatchTaskAdapter {
  const facet = batchFacet(task);
  if (!facet) throw noBatchForm(id);
  const labels = id === 'label' ? (o as LabelOptions).labels : [];
  const key = task.key?.bind(task);
  const logprobs = id === 'label' && (o as LabelOptions).confidence === 'logprobs';
  return taskAdapter(facet, { labels, ...(key ? { key } : {}), ...(logprobs ? { confidence: 'logprobs' } : {}) });
}

/** The custom_ids an earlier run of a batch job already put in its input files (none for a new job). */
function sentRequests(journalPath: string): Set<string> {
  const sent = new Set<string>();
  if (!existsSync(journalPath)) return sent;
  const dir = batchFilesDir(journalPath);
  for (const p of readBatchJournal(journalPath).parts.values()) {
    const path = join(dir, p.file);
    if (existsSync(path)) readInputIds(path, (id) => sent.add(id));
  }
  return sent;
}

/**
 * The estimate of a batch run: the requests not sent yet (a resumed job's batches are not paid
 * again), their tokens, at the Batch API's price (prices.ts).
 */
export async function estimateBatch<K extends BatchTaskId>(
  id: K,
  o: TaskOptionsById[K],
  env: LlmEnv,
  ctx: EstimateContext,
): Promise<Estimate> {
  let opened: JsonlDataset | undefined;
  let source: RecordSource;
  if (env.openSource) source = await env.openSource(o);
  else {
    opened = await openJobTarget(o.input);
    source = new StoreRecordSource(opened);
  }
  const client = clientFor(o, undefined);
  try {
    const models = modelsOf(id, o);
    const jobs = models.map((model, k) => {
      const om = { ...o, model } as TaskOptionsById[K];
      const task = createTask(id, om, { client });
      const samples = samplesOf(id, task);
      const adapter = samples || !batchFacet(task) ? undefined : adapterOf(id, task, om);
      const key = task.key?.bind(task);
      const journal = batchJournalPath(
        journalDirFor(targetPath(om, id)),
        jobIdOf(id, om, k, models.length, task.promptHash),
      );
      return {
        task,
        adapter,
        samples,
        key,
        sent: sentRequests(journal),
        prices: pricesOf(om),
        ids: new Set<string>(),
      };
    });
    const n = Math.min(source.count(), o.limit ?? Infinity);
    const e: Estimate = { records: n, requests: 0, inputTokens: 0, outputTokens: 0, cost: 0 };
    let cost = 0;
    let pending = 0;
    let sentBefore = 0; // requests an earlier run sent (a resume)
    // A first run (nothing sent yet) past a size: a sample of the records (estimate.ts); a resume
    // reads every record and counts the tokens of a sample of the records left.
    const first = jobs.every((j) => j.sent.size === 0);
    const counted = first ? undefined : new LeftSample(n - Math.min(...jobs.map((j) => j.sent.size)));
    const pass = await estimatePass(n, ctx, first, async (i) => {
      const rec = await source.get(i);
      if (!rec.value) return;
      let left = false;
      const todo: Array<{ j: (typeof jobs)[number]; share: number }> = [];
      for (const j of jobs) {
        // the record's request ids (k of them for a k-sample task), the share of them not sent yet
        let cids: string[];
        if (j.samples) {
          const r = sampleRequestsOf(j.samples, rec.value, j.key);
          if ('skip' in r) continue;
          cids = r.requests.map((x) => x.custom_id);
        } else if (j.adapter) {
          const r = j.adapter.request(rec.value);
          if ('skip' in r) continue;
          cids = [customIdFor(r.body, j.adapter.key ? j.adapter.key(rec.value) : messagesKey(r.messages))];
        } else cids = [`record:${j.key ? j.key(rec.value) : String(i)}`]; // a task without a batch form: by its requests (answers.ts)
        const unsent = cids.filter((c) => !j.sent.has(c));
        sentBefore += cids.length - unsent.length;
        if (unsent.length === 0) continue;
        left = true;
        // identical records share one request
        if (j.ids.has(cids[0] as string)) continue;
        j.ids.add(cids[0] as string);
        todo.push({ j, share: unsent.length / cids.length });
      }
      if (left) pending++;
      if (todo.length === 0 || (counted && !counted.take(i))) return;
      for (const { j, share } of todo) {
        const t = j.task.estimate(rec.value);
        const inputTokens = Math.round(t.inputTokens * share);
        const outputTokens = Math.round(t.outputTokens * share);
        e.requests += Math.round(t.requests * share);
        e.inputTokens += inputTokens;
        e.outputTokens += outputTokens;
        cost += costOf({ input_tokens: inputTokens, output_tokens: outputTokens }, j.prices, 'batch');
      }
    });
    e.cost = cost;
    if (sentBefore > 0) e.remaining = pending;
    const scaled = scaleEstimate(e, pass);
    return counted ? counted.scale(scaled) : scaled;
  } finally {
    client.close();
    opened?.close();
  }
}

/** The records at chosen indices of a source, as a source of their own (an online retry's). */
class Subset implements RecordSource {
  constructor(
    private readonly inner: RecordSource,
    readonly indices: readonly number[],
  ) {}
  count(): number {
    return this.indices.length;
  }
  get(i: number): SourceRecord | Promise<SourceRecord> {
    return this.inner.get(this.indices[i] as number);
  }
}

const addUsage = (a: Usage, b: Usage): void => {
  a.input_tokens += b.input_tokens;
  a.output_tokens += b.output_tokens;
};

/** What a batch job over some records needs (a task's run over a file, or a cascade's stage). */
export interface BatchOver<K extends BatchTaskId> {
  id: K;
  o: TaskOptionsById[K];
  task: LlmTask;
  env: LlmEnv;
  ctx: OperationContext;
  mode: BatchModeOptions;
  jobId: string;
  journalDir: string;
  source: RecordSource;
  sink: ResultSink;
  log: (line: string) => void;
}

/**
 * A task over a source's records as one batch job (`runBatchJob`), the summary in the online
 * runner's terms, and with `retryOnline` what it left failed through the online path.
 */
export async function runBatchOver<K extends BatchTaskId>(a: BatchOver<K>): Promise<JobSummary> {
  const { id, o, task, env, ctx, mode, jobId, source, sink, log } = a;
  const journals = a.journalDir;
  const started = performance.now();
  const samples = samplesOf(id, task);
  const inner = samples ? undefined : adapterOf(id, task, o);
  // The tokens of every answer (also those replayed from an earlier run's parts: the job's cost).
  const tokens: Usage = { input_tokens: 0, output_tokens: 0 };
  const adapter: BatchTaskAdapter | undefined = inner && {
    ...inner,
    accept(answer) {
      addUsage(tokens, answer.usage);
      return inner.accept(answer);
    },
  };
  const key = task.key?.bind(task);
  let applied = 0;
  const counted: ResultSink = {
    apply: (i, r, bound) => {
      applied++;
      return sink.apply(i, r, bound);
    },
    flush: () => sink.flush(),
    ...(sink.applyMany
      ? {
          applyMany: (items: ReadonlyArray<{ i: number; result: TaskResult }>) => {
            applied += items.length;
            return (sink.applyMany as NonNullable<ResultSink['applyMany']>)(items);
          },
        }
      : {}),
  };
  const prices = pricesOf(o);
  const info = (): BatchJobInfo => ({
    journals: [batchJournalPath(journals, jobId)],
    requests: 0,
    newRequests: 0,
    batchesCreated: 0,
    batches: [],
    stale: 0,
    retriedOnline: 0,
    batchCost: costOf(tokens, prices, 'batch'),
  });
  const total = Math.min(source.count(), o.limit ?? Infinity);
  log(`${id} with ${o.model} as a batch job (${jobId}): ${task.promptSource ?? task.promptHash}`);
  let r;
  let sampleSets: SampleApplier | undefined;
  try {
    const common = {
      api: new BatchApiClient({ baseURL: o.baseURL, apiKey: await env.apiKey(), log }),
      source,
      sink: counted,
      journalDir: journals,
      job: jobId,
      model: o.model,
      ...(o.limit !== undefined ? { limit: o.limit } : {}),
      ...(mode.poll ? { poll: mode.poll } : {}),
      signal: ctx.signal,
      progress: ctx.progress,
      log,
    };
    if (samples) {
      // k samples a record: k requests (samples.ts)
      const s = await runSamplesBatchJob({
        ...common,
        facet: samples,
        ...(key ? { key } : {}),
        onAnswer: (u) => addUsage(tokens, u),
      });
      sampleSets = s.applier;
      r = s;
    } else r = await runBatchJob({ ...common, adapter: adapter as BatchTaskAdapter });
  } catch (err) {
    if (!(err instanceof BatchCancelledError)) throw err;
    // Stopped waiting: the parts applied so far are saved; the batches go on at the provider.
    const b = err.summary;
    throw new JobCancelledError({
      jobId,
      task: id,
      model: o.model,
      total,
      ok: applied,
      failed: [],
      skipped: [],
      cached: 0,
      resumed: 0,
      requests: b.newRequests,
      tokens,
      cost: costOf(tokens, prices, 'batch'),
      elapsedMs: performance.now() - started,
      journal: b.journal,
      complete: false,
      batch: {
        ...info(),
        requests: b.requests,
        newRequests: b.newRequests,
        batchesCreated: b.batchesCreated,
        waiting: true,
      },
    });
  }
  const { batch: b, records } = r;
  const batchCost = costOf(tokens, prices, 'batch');
  const summary: JobSummary = {
    jobId,
    task: id,
    model: o.model,
    total,
    ok: records.applied,
    failed: [
      ...records.failed.map((f) => ({ i: f.i, line: f.line, reason: f.reason })),
      ...records.redo.map((f) => ({
        i: f.i,
        line: f.line,
        reason: 'no answer yet: the record changed after its request was sent (the next run sends it)',
      })),
    ].sort((x, y) => x.i - y.i),
    skipped: records.skipped,
    cached: 0,
    resumed: records.resumed,
    requests: b.newRequests,
    tokens: { ...tokens },
    cost: batchCost,
    elapsedMs: 0,
    journal: b.journal,
    complete: b.complete,
    batch: {
      ...info(),
      requests: b.requests,
      newRequests: b.newRequests,
      batchesCreated: b.batchesCreated,
      batches: b.parts.map((p) => ({
        part: p.part,
        round: p.round,
        ...(p.batchId ? { batchId: p.batchId } : {}),
        ...(p.status ? { status: p.status } : {}),
        requests: p.requests,
      })),
      stale: records.stale.length,
      batchCost,
    },
  };
  if (records.stale.length > 0)
    log(`${records.stale.length} answer(s) not applied: their records changed after the requests were sent`);
  const failed = summary.failed;
  if (failed.length > 0 && !mode.retryOnline)
    log(
      `${failed.length} record(s) failed in the batch; run the same command with retryOnline to send them through the online path`,
    );
  if (failed.length > 0 && mode.retryOnline) {
    // The records the batch left failed, online (their own journal: a killed retry resumes too).
    const subset = new Subset(
      source,
      failed.map((f) => f.i),
    );
    log(
      samples
        ? `${failed.length} record(s) the batch left without all ${samples.k} samples: their missing samples go through the online path`
        : `${failed.length} record(s) the batch left failed go through the online path`,
    );
    const online = await runJob({
      jobId: `${jobId}.online`,
      journalDir: journals,
      // a k-sample task: only the samples the batch left missing, aggregated with the batch's
      task: samples && sampleSets ? missingSamplesTask(task, samples, sampleSets, key) : task,
      source: subset,
      sink: {
        apply: (i, res, bound) => counted.apply(subset.indices[i] as number, res, bound),
        flush: () => counted.flush(),
      },
      concurrency: o.concurrency,
      signal: ctx.signal,
      progress: ctx.progress,
      log,
      prices,
      retryFailed: true,
    });
    summary.ok += online.ok;
    summary.failed = online.failed.map((f) => ({ ...f, i: subset.indices[f.i] as number }));
    summary.skipped = [...summary.skipped, ...online.skipped.map((f) => ({ ...f, i: subset.indices[f.i] as number }))];
    summary.cached += online.cached;
    summary.requests += online.requests;
    addUsage(summary.tokens, online.tokens);
    summary.cost += online.cost;
    (summary.batch as BatchJobInfo).retriedOnline = failed.length;
  }
  summary.elapsedMs = performance.now() - started;
  return summary;
}

/**
 * A task without a batch form (a question of another type: multi-label, rating, ranking, spans,
 * text; their self-consistency) as a batch job by its requests (answers.ts): passes over the
 * records collect the requests the task makes, each pass's new ones a round of batches; then the
 * job runs as online (its journal, validation, the same sink) with every answer from the batch.
 */
async function runByAnswers<K extends BatchTaskId>(
  a: BatchOver<K>,
  client: ReturnType<typeof clientFor>,
  cache: Parameters<typeof createTask>[2]['cache'],
): Promise<JobSummary> {
  const { id, o, env, ctx, mode, jobId, source, sink, log } = a;
  const started = performance.now();
  const answers = new BatchAnswers(client, mode.retryOnline === true);
  const task = createTask(id, o, { client: answers, ...(cache ? { cache } : {}) });
  const prices = pricesOf(o);
  const n = Math.min(source.count(), o.limit ?? Infinity);
  log(`${id} with ${o.model} as a batch job by its requests (${jobId}): ${task.promptSource ?? task.promptHash}`);
  let pre;
  try {
    pre = await prefetchAnswers({
      api: new BatchApiClient({ baseURL: o.baseURL, apiKey: await env.apiKey(), log }),
      journalDir: a.journalDir,
      job: jobId,
      primaryModel: o.model,
      client: answers,
      ...(mode.poll ? { poll: mode.poll } : {}),
      signal: ctx.signal,
      progress: ctx.progress,
      log,
      pass: () => passOverRecords(task, source, n, ctx.signal),
    });
  } catch (err) {
    if (!(err instanceof BatchCancelledError)) throw err;
    const b = err.summary;
    throw new JobCancelledError({
      jobId,
      task: id,
      model: o.model,
      total: n,
      ok: 0,
      failed: [],
      skipped: [],
      cached: 0,
      resumed: 0,
      requests: b.newRequests,
      tokens: { input_tokens: 0, output_tokens: 0 },
      cost: 0,
      elapsedMs: performance.now() - started,
      journal: b.journal,
      complete: false,
      batch: {
        journals: [b.journal],
        requests: b.requests,
        newRequests: b.newRequests,
        batchesCreated: b.batchesCreated,
        batches: [],
        stale: 0,
        retriedOnline: 0,
        batchCost: 0,
        waiting: true,
      },
    });
  }
  const s = await runJob({
    jobId,
    journalDir: a.journalDir,
    task,
    source,
    sink,
    concurrency: o.concurrency,
    signal: ctx.signal,
    progress: ctx.progress,
    log,
    prices,
    // records the batch left failed are tried again when run again (with retryOnline: online)
    retryFailed: true,
    limit: o.limit,
  });
  const batchCost = costOf(answers.fromBatch, prices, 'batch');
  s.cost = batchCost + costOf(answers.fromOnline, prices);
  s.batch = {
    journals: pre.jobs.map((j) => j.journal),
    requests: pre.jobs.reduce((x, j) => x + j.requests, 0),
    newRequests: pre.newRequests,
    batchesCreated: pre.batchesCreated,
    batches: pre.jobs.flatMap((j) =>
      j.parts.map((p) => ({
        part: p.part,
        round: p.round,
        ...(p.batchId ? { batchId: p.batchId } : {}),
        ...(p.status ? { status: p.status } : {}),
        requests: p.requests,
      })),
    ),
    stale: 0,
    retriedOnline: answers.onlineRequests,
    batchCost,
  };
  s.elapsedMs = performance.now() - started;
  return s;
}

/** One model's batch job over the file, and the online retry of what it left failed. */
async function runOneBatch<K extends BatchTaskId>(
  id: K,
  o: TaskOptionsById[K],
  env: LlmEnv,
  ctx: OperationContext,
  mode: BatchModeOptions,
  k: number,
  count: number,
): Promise<JobSummary> {
  const { client, cache, log, close } = await openEngine(o, env, ctx);
  const target = targetPath(o, id);
  let opened: JsonlDataset | undefined;
  try {
    const task = createTask(id, o, { client, cache });
    const jobId = jobIdOf(id, o, k, count, task.promptHash);
    writeJobOptions(journalDirFor(target), jobId, id, o);
    let source: RecordSource;
    let sink: ResultSink;
    if (env.openSource) {
      source = await env.openSource(o);
      if (!env.openSink) throw new UserError('a custom record source needs a custom result sink (env.openSink)');
      sink = await env.openSink(source, o, id);
    } else {
      opened = await openJobTarget(o.input, target === o.input ? undefined : target, {
        annotationKeys: annotationKeys(o.fields),
        log,
      });
      source = new StoreRecordSource(opened);
      sink = new StoreResultSink(opened, {
        fields: o.fields ?? defaultFields,
        replace: o.replaceExisting,
        batchSize: SINK_BATCH,
      });
    }
    // a task without a batch form (a question of another type): run by its requests (answers.ts)
    if (!batchFacet(task) && !samplesOf(id, task)) {
      const s = await runByAnswers(
        { id, o, task, env, ctx, mode, jobId, journalDir: journalDirFor(target), source, sink, log },
        client,
        cache,
      );
      finishBatchJob(journalDirFor(target), jobId);
      return s;
    }
    const s = await runBatchOver({
      id,
      o,
      task,
      env,
      ctx,
      mode,
      jobId,
      journalDir: journalDirFor(target),
      source,
      sink,
      log,
    });
    finishBatchJob(journalDirFor(target), jobId);
    return s;
  } finally {
    close();
    opened?.close();
  }
}

// ---- resuming -------------------------------------------------------------------------------

/**
 * The options of a batch job, beside its journal (`<job>.batch.op.json`, job-options.ts): what a
 * face needs to resume it later without asking again (VS Code on activation). Each model's run is
 * its own job here (runTaskAsBatch), so the lists of models are left out.
 */
function writeJobOptions(dir: string, jobId: string, task: BatchTaskId, o: TaskOptionsById[BatchTaskId]): void {
  writeBatchJobOptions(dir, jobId, task, {
    ...o,
    ...('judgeModels' in o ? { judgeModels: [] } : {}),
    ...('models' in o ? { models: [] } : {}),
  });
}

const SCHEMAS = {
  label: LabelOptions,
  rationale: RationaleOptions,
  judge: JudgeOptions,
  critique: CritiqueOptions,
  consistency: ConsistencyOptions,
  // the generators run as a batch (answers.ts through synth/common.ts runRecordJob)
  'generate-instructions': InstructionsOptions,
  'generate-responses': ResponsesOptions,
  'generate-preferences': PreferencesOptions,
  'generate-dialogues': DialoguesOptions,
  // the comparison of logprob confidence with self-consistency (compare-run.ts), its answers a batch
  confidence: CompareConfidenceOptions,
};

/** The registry ids whose batch jobs a face can resume from the options beside their journals. */
export type ResumableBatchTask = keyof typeof SCHEMAS;

function isResumable(id: string): id is ResumableBatchTask {
  return Object.hasOwn(SCHEMAS, id);
}

/** A batch job an earlier run left unfinished, with what resumes it. */
export interface PendingBatchJob {
  /** The operation's job id (a generator's batch jobs are `<job>~<model>`, one per model). */
  job: string;
  /** The first unfinished batch journal of the job. */
  journal: string;
  /** The registry id (label, ..., generate-responses, ...). */
  task: ResumableBatchTask;
  /** The operation's options (raw, for the registry's prepare), with the job's id. */
  options: Record<string, unknown>;
  /** The endpoint the job's batches are at. */
  baseURL: string;
  model: string;
}

/**
 * The unfinished batch jobs of a dataset (its journal folder) that can be resumed: a journal has
 * parts not applied, or every journal of the job is ended but its options say it is still running
 * (stopped between two rounds: job-options.ts); and the job's options are beside it and valid for
 * its task. A file of options that does not parse is left out (`problems`). A job with several
 * models' batch journals (`<job>~<model>`) is one pending job.
 */
export function pendingBatchJobs(dataset: string, problems?: (job: string, why: string) => void): PendingBatchJob[] {
  const out: PendingBatchJob[] = [];
  const seen = new Set<string>();
  const journals = listBatchJobs(dataset);
  // the first unfinished journal of a job stands for it; else (between rounds) its first journal
  const candidates = [
    ...journals.filter((j) => j.unfinished),
    ...journals.filter((j) => !j.unfinished && batchJobState(jobOptionsPath(j.path)) === 'running'),
  ];
  for (const j of candidates) {
    const path = jobOptionsPath(j.path);
    if (seen.has(path)) continue;
    seen.add(path);
    const job = jobOfJournal(j.path);
    if (!existsSync(path)) {
      problems?.(job, 'no options beside its journal (run the same command again to resume it)');
      continue;
    }
    try {
      const raw = JSON.parse(readFileSync(path, 'utf8')) as { task?: unknown; options?: unknown };
      const task = typeof raw.task === 'string' && isResumable(raw.task) ? raw.task : undefined;
      if (!task) throw new Error(`unknown task ${JSON.stringify(raw.task)}`);
      const options = SCHEMAS[task].parse(raw.options);
      if (options.jobId !== job) throw new Error(`the options are of job ${options.jobId ?? '?'}`);
      out.push({
        job,
        journal: j.path,
        task,
        options: raw.options as Record<string, unknown>,
        baseURL: options.baseURL,
        model: options.model,
      });
    } catch (err) {
      problems?.(job, err instanceof Error ? err.message : String(err));
    }
  }
  return out;
}

/** Runs a task as a batch job (one per model, one after the other). */
export async function runTaskAsBatch<K extends BatchTaskId>(
  id: K,
  o: TaskOptionsById[K],
  env: LlmEnv,
  ctx: OperationContext,
  mode: BatchModeOptions = {},
): Promise<JobSummary> {
  const models = modelsOf(id, o);
  if (models.length === 1) return runOneBatch(id, { ...o, model: models[0] as string }, env, ctx, mode, 0, 1);
  const parts: JobSummary[] = [];
  const merged = (): JobSummary => {
    const s = mergeSummaries(parts);
    const infos = parts.flatMap((p) => (p.batch ? [p.batch] : []));
    const sum = (f: (b: BatchJobInfo) => number): number => infos.reduce((n, b) => n + f(b), 0);
    s.batch = {
      journals: infos.flatMap((b) => b.journals),
      requests: sum((b) => b.requests),
      newRequests: sum((b) => b.newRequests),
      batchesCreated: sum((b) => b.batchesCreated),
      batches: infos.flatMap((b) => b.batches),
      stale: sum((b) => b.stale),
      retriedOnline: sum((b) => b.retriedOnline),
      batchCost: sum((b) => b.batchCost),
      ...(infos.some((b) => b.waiting) ? { waiting: true } : {}),
    };
    return s;
  };
  for (const [k, model] of models.entries()) {
    const progress = (p: Parameters<OperationContext['progress']>[0]): void =>
      ctx.progress({
        ...p,
        message: `${id === 'judge' ? 'judge' : 'model'} ${k + 1} of ${models.length} (${model}) · ${p.message ?? ''}`,
      });
    try {
      parts.push(await runOneBatch(id, { ...o, model }, env, { ...ctx, progress }, mode, k, models.length));
    } catch (err) {
      if (err instanceof JobCancelledError) {
        parts.push(err.summary);
        throw new JobCancelledError(merged());
      }
      throw err;
    }
  }
  return merged();
}
