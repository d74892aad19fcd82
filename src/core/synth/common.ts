// What the four generation operations share: options, the host environment, the summary, job ids,
// output checks, reading seeds and prompts through the store, and the runner-based job (one input
// record in, zero or more generated records out) that responses, preferences and dialogues use.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { estimatePass, scaleEstimate } from '../estimate';
import { UserError, type Estimate, type EstimateContext, type OperationContext } from '../operation';
import { JsonlDataset } from '../store';
import { StoreRecordSource } from '../jobs/store-io';
import { retireJournal } from '../jobs/journal';
import { JobCancelledError, journalDirFor, journalPathFor, runJob, type JobSummary } from '../jobs/runner';
import type { LlmTask, RecordSource, SourceRecord } from '../jobs/types';
import { canonicalJson, type ResponseCache } from '../llm/cache';
import { effectivePrices } from '../llm/prices';
import { estimateTokens, type ChatMessage, type LlmClient, type SamplingParams, type Usage } from '../llm/client';
import { CommonOptions, openEngine } from '../llm/tasks';
import { Origin, withOrigin } from '../schema/annotation';
import { JournalOutputSink, OutputWriter, type GeneratedRecord, type Selector } from './output';
import { BatchApiClient } from '../llm/batch/api';
import { BatchAnswers, passOverRecords, prefetchAnswers } from '../llm/batch/answers';
import { finishBatchJob, writeBatchJobOptions } from '../llm/batch/job-options';
import { costOf as costOfUsage } from '../llm/batch/prices';
import { BatchCancelledError, type BatchRunSummary } from '../llm/batch/run';
import type { PollPolicy } from '../llm/batch/api';

/** How a generation runs as a batch (the registry's batch mode). */
export interface BatchModeOptions {
  /** Send the requests the batch left failed through the online path. */
  retryOnline?: boolean;
  poll?: Partial<PollPolicy>;
}

/** How a generation operation runs as a batch (registry.ts BatchMode). */
export interface SynthBatchMode<O> {
  estimate(options: O, ctx: EstimateContext): Promise<Estimate>;
  run(options: O, ctx: OperationContext, mode: BatchModeOptions): Promise<GenerateSummary>;
}

/** What a generation run as a batch sent, and where. */
export interface GenerateBatchInfo {
  /** Each model's batch job's journal. */
  journals: string[];
  /** Distinct requests in the batch job (all rounds, all runs). */
  requests: number;
  /** Sent by this run. */
  newRequests: number;
  batchesCreated: number;
  /** Rounds of batches this run sent (a step that depends on answers: the next round). */
  rounds: number;
  batches: Array<{ batchId?: string; status?: string; requests: number }>;
  /** Requests the batch left failed that were sent online (retryOnline). */
  retriedOnline: number;
  /** Stopped waiting for batches that go on at the provider. */
  waiting?: boolean;
}

export type SynthTask = 'instructions' | 'responses' | 'preferences' | 'dialogues';

/** Options every generation task takes: the LLM engine's, a required new output file, a seed. */
export const SynthOptions = CommonOptions.extend({
  /** The new file the generated records go to (never the input). */
  output: z.string().min(1),
  /** Generation samples: 0.7 unless told (a judge inside a task uses 0). */
  temperature: z.number().min(0).max(2).default(0.7),
  maxTokens: z.number().int().positive().default(1024),
  /** Seeds every random choice (demonstrations, personas, attributes, judge order) and the API's `seed`. */
  seed: z.number().int().default(0),
  /** Replace an existing output file that no unfinished run of this job is writing. */
  force: z.boolean().default(false),
});
export type SynthOptions = z.output<typeof SynthOptions>;

/** The per-record tasks' options (responses, preferences, dialogues). */
export const RecordTaskOptions = SynthOptions.extend({
  /** Where a record's prompt (or, for dialogues, its seed) is; default: the task's list of fields. */
  field: z.string().min(1).optional(),
  /** The assistant's system prompt (kept in the output). */
  system: z.string().max(100_000).optional(),
});

/** What the host (CLI or VS Code) supplies. */
export interface SynthEnv {
  /** From VS Code SecretStorage or the environment (OPENAI_API_KEY). Never an option. */
  apiKey(): string | undefined | Promise<string | undefined>;
  log?(line: string): void;
  /** After each write of the output file, with the records in it (VS Code opens the file then). */
  onOutput?(path: string, records: number): void;
  /** Opens the input records (default: openInput, at the estimate and again at the run); a host may open it once for both. */
  openInput?(o: SynthOptions): Promise<SynthInput>;
}

export type StopReason = 'done' | 'target' | 'low-acceptance' | 'rounds' | 'failures';

export interface Where {
  /** "line 12", "round 2, request 5". */
  where: string;
  /** 1-based input line, when there is one. */
  line?: number;
  reason: string;
}

export interface GenerateSummary {
  task: SynthTask;
  jobId: string;
  output: string;
  /** Records in the output file. */
  records: number;
  /** Input records read (responses, preferences, dialogues) or seed instructions (instructions). */
  inputs: number;
  /** Inputs that produced records; for instructions, the instructions accepted. */
  ok: number;
  failed: Where[];
  /** Deliberately not written: invalid input lines, preference ties, conversations already answered. */
  skipped: Where[];
  requests: number;
  /** Answers from the response cache (no request). */
  cached: number;
  /** Units of work taken from the journal of an earlier, interrupted run. */
  resumed: number;
  tokens: Usage;
  cost: number;
  elapsedMs: number;
  journal: string;
  complete: boolean;
  /** Why it stopped, in words for the user. */
  stop: { reason: StopReason; message: string };
  /** Run as a batch: what it sent and where (src/core/llm/batch/answers.ts). */
  batch?: GenerateBatchInfo;
  instructions?: {
    target: number;
    accepted: number;
    rejected: number;
    /** Rejections per reason: similar, duplicate, short, long, empty, target (left over when the target was reached). */
    rejectedBy: Record<string, number>;
    rounds: number;
    /** Accepted / examined over the whole run. */
    acceptanceRate: number;
    /** Seed plus accepted instructions. */
    pool: number;
    similarity: number;
  };
}

export class GenerateCancelledError extends Error {
  constructor(readonly summary: GenerateSummary) {
    super(`generation cancelled with ${summary.records} record(s) in ${summary.output}; run it again to resume`);
    this.name = 'AbortError';
  }
}

/** A job id from everything that shapes the output (so the same command resumes its own journal). */
export function synthJobId(task: SynthTask, o: SynthOptions & { seedFiles?: string[] }, promptHash: string): string {
  const {
    jobId: _j,
    limit: _l,
    concurrency: _c,
    requestsPerMinute: _r,
    tokensPerMinute: _t,
    timeoutSeconds: _ts,
    maxRetries: _m,
    retryFailed: _rf,
    force: _f,
    noCache: _n,
    cacheDir: _cd,
    pricePerMillionInputTokens: _pi,
    pricePerMillionOutputTokens: _po,
    retryAfterCapSeconds: _ra,
    ...rest
  } = o;
  const h = createHash('sha256')
    .update(
      canonicalJson({
        task,
        input: resolve(o.input),
        seedFiles: (o.seedFiles ?? []).map((f) => resolve(f)),
        output: resolve(o.output),
        rest,
        prompt: promptHash,
      }),
    )
    .digest('hex');
  return `${task}-${h.slice(0, 12)}`;
}

/**
 * The job's journal and whether it resumes. The output must be a new file: not an input, and not
 * an existing file unless an unfinished run of this job wrote it (then it resumes) or `force`.
 */
export function prepareOutput(
  o: SynthOptions,
  jobId: string,
  inputs: string[],
): { journalDir: string; journalPath: string; resuming: boolean } {
  const out = resolve(o.output);
  for (const f of inputs)
    if (resolve(f) === out)
      throw new UserError(`the output ${o.output} is an input: generated records go to a new file`);
  const journalDir = journalDirFor(o.output);
  const journalPath = journalPathFor(journalDir, jobId);
  const resuming = existsSync(journalPath);
  if (!resuming && existsSync(o.output) && !o.force) {
    throw new UserError(
      `${o.output} exists and no unfinished run of this job is writing it; choose a new file, or replace it`,
      2,
      'force',
    );
  }
  return { journalDir, journalPath, resuming };
}

export interface LlmDeps {
  client: LlmClient;
  cache?: ResponseCache;
  log: (line: string) => void;
}

export async function withLlm<T>(
  o: SynthOptions,
  env: SynthEnv,
  ctx: Pick<OperationContext, 'log'>,
  fn: (deps: LlmDeps) => Promise<T>,
): Promise<T> {
  const { client, cache, log, close } = await openEngine(o, env, ctx);
  try {
    return await fn({ client, cache, log });
  } finally {
    close();
  }
}

export function samplingFor(o: SynthOptions, sample: number, temperature = o.temperature): SamplingParams {
  const p: SamplingParams = { temperature, max_tokens: o.maxTokens, seed: o.seed + sample };
  if (o.topP !== undefined) p.top_p = o.topP;
  return p;
}

export function addUsage(a: Usage, b: Usage): Usage {
  return { input_tokens: a.input_tokens + b.input_tokens, output_tokens: a.output_tokens + b.output_tokens };
}

export const ZERO_USAGE: Usage = { input_tokens: 0, output_tokens: 0 };

export function messagesTokens(messages: readonly ChatMessage[]): number {
  let n = 0;
  for (const m of messages) n += estimateTokens(m.content) + 4;
  return n;
}

export function costOf(o: SynthOptions, inputTokens: number, outputTokens: number): number {
  const p = pricesOf(o);
  return (inputTokens * p.input + outputTokens * p.output) / 1e6;
}

/** The prices of a job's model: the options' when set, else the table's (../llm/prices.ts), else 0. */
export function pricesOf(o: SynthOptions): { input: number; output: number } {
  const p = effectivePrices(o.model, { input: o.pricePerMillionInputTokens, output: o.pricePerMillionOutputTokens });
  return { input: p.input, output: p.output };
}

/** A generated record, marked machine-generated with where it came from. */
export function generated(record: GeneratedRecord, origin: Omit<Origin, 'type'>): GeneratedRecord {
  return withOrigin(record, {
    type: 'model',
    ...origin,
    time: typeof origin.time === 'string' ? origin.time : new Date().toISOString(),
  });
}

// ---- inputs ----------------------------------------------------------------------------------

const TEXT_LIST = new Set(['.txt', '.md', '.text']);

/**
 * The strings of a seed list: a text file (one per non-empty line, `#` lines are comments) or a
 * JSONL file (the first of `fields` that is a non-empty string in each record), read a line at a
 * time. Each with its 1-based line.
 */
export async function readSeedList(
  file: string,
  fields: readonly string[],
  signal?: AbortSignal,
): Promise<{ text: string; line: number }[]> {
  if (!existsSync(file)) throw new UserError(`no such file: ${file}`);
  const out: { text: string; line: number }[] = [];
  if (TEXT_LIST.has(extname(file).toLowerCase())) {
    const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    let n = 0;
    for await (const raw of rl) {
      n++;
      const t = raw.trim();
      if (t && !t.startsWith('#')) out.push({ text: t, line: n });
    }
    return out;
  }
  const ds = await JsonlDataset.open(file, { signal });
  try {
    await ds.ready;
    for (let i = 0; i < ds.lineCount; i++) {
      const v = ds.line(i).value;
      if (!v) continue;
      const text = seedText(v, fields);
      if (text) out.push({ text, line: i + 1 });
    }
  } finally {
    ds.close();
  }
  return out;
}

/** The first of `fields` that is a non-empty string (`messages`: its first user message). */
export function seedText(v: Record<string, unknown>, fields: readonly string[]): string | undefined {
  for (const f of fields) {
    const x = v[f];
    if (typeof x === 'string' && x.trim()) return x.trim();
    if (f === 'messages' && Array.isArray(x)) {
      const first = x.find(
        (m): m is { role: string; content: string } =>
          !!m &&
          typeof m === 'object' &&
          (m as { role?: unknown }).role === 'user' &&
          typeof (m as { content?: unknown }).content === 'string',
      );
      if (first?.content.trim()) return first.content.trim();
    }
  }
  return undefined;
}

/** Where a record's prompt is, in order, when no field is named. */
export const PROMPT_FIELDS = ['messages', 'instruction', 'prompt', 'question', 'query', 'input', 'text'] as const;

export interface PromptOf {
  /** The conversation to answer (ends with a user message). */
  messages: ChatMessage[];
  /** The last user message's text (distilabel's `prompt`). */
  text: string;
  /** The field it came from. */
  field: string;
}

const Message = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });

/** The prompt of a record (the named field, or the first of PROMPT_FIELDS), or why there is none. */
export function promptOf(record: Record<string, unknown>, field?: string, system?: string): PromptOf | string {
  const fields = field ? [field] : PROMPT_FIELDS;
  for (const f of fields) {
    const v = record[f];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) {
      const parsed = z.array(Message).min(1).safeParse(v);
      if (!parsed.success) return `"${f}" is not a list of {role: system|user|assistant, content: string} messages`;
      const msgs: ChatMessage[] = parsed.data;
      const last = msgs[msgs.length - 1] as ChatMessage;
      if (last.role !== 'user')
        return `the conversation in "${f}" ends with ${last.role === 'assistant' ? 'an assistant' : 'a system'} message: there is no user turn to answer`;
      if (!last.content.trim()) return `the last user message in "${f}" is empty`;
      const withSystem =
        system && !msgs.some((m) => m.role === 'system')
          ? [{ role: 'system' as const, content: system }, ...msgs]
          : msgs;
      return { messages: withSystem, text: last.content, field: f };
    }
    if (typeof v === 'string') {
      if (!v.trim()) {
        if (field) return `"${f}" is empty`;
        continue;
      }
      const input =
        f === 'instruction' && typeof record.input === 'string' && record.input.trim() ? record.input : undefined;
      const text = input ? `${v}\n\n${input}` : v;
      const messages: ChatMessage[] = [
        ...(system ? [{ role: 'system' as const, content: system }] : []),
        { role: 'user', content: text },
      ];
      return { messages, text, field: f };
    }
    if (field) return `"${f}" is neither text nor a list of messages`;
  }
  return field
    ? `the record has no "${field}" field`
    : `the record has none of the fields ${PROMPT_FIELDS.join(', ')} to take a prompt from`;
}

/** The record without annotation fields (a generated record starts from its input's own fields). */
export function inputFields(record: Record<string, unknown>): Record<string, unknown> {
  const { label: _l, rationale: _r, judge: _j, judges: _js, annotations: _a, ...rest } = record;
  return rest;
}

/** The input record's origin, if it had one (for a chain of generations). */
export function inputOrigin(record: Record<string, unknown>): unknown {
  const a = record.annotations;
  return a && typeof a === 'object' && !Array.isArray(a) ? (a as { origin?: unknown }).origin : undefined;
}

// ---- runner-based tasks ----------------------------------------------------------------------

/** What a per-record generation task returns for one input record. */
export interface GenResult {
  records: GeneratedRecord[];
}

/** Output order: input order (the job's record index). */
export const byRecordIndex: Selector = (e) => {
  if (e.type !== 'record' || e.status !== 'ok' || typeof e.i !== 'number') return undefined;
  const r = e.result as GenResult | undefined;
  return { key: e.i, records: Array.isArray(r?.records) ? r.records : [] };
};

/** A text file's lines as records `{text}` (one per non-empty line that is not a `#` comment). */
export class TextLinesSource implements RecordSource {
  constructor(private readonly lines: { text: string; line: number }[]) {}
  count(): number {
    return this.lines.length;
  }
  get(i: number): SourceRecord {
    const t = this.lines[i];
    if (!t) throw new RangeError(`line ${i} out of range`);
    return { lineNumber: t.line, value: { text: t.text } };
  }
}

export interface SynthInput {
  source: RecordSource;
  close(): void;
  count: number;
}

/** The input records: a JSONL file through the store, or a text file's lines (a list of topics or prompts). */
export async function openInput(o: SynthOptions): Promise<SynthInput> {
  if (!existsSync(o.input)) throw new UserError(`no such file: ${o.input}`);
  if (TEXT_LIST.has(extname(o.input).toLowerCase())) {
    const source = new TextLinesSource(await readSeedList(o.input, []));
    return { source, close: () => {}, count: Math.min(source.count(), o.limit ?? Infinity) };
  }
  const ds = await JsonlDataset.open(o.input);
  try {
    await ds.ready;
  } catch (err) {
    ds.close();
    throw err;
  }
  const inner = new StoreRecordSource(ds);
  const count = Math.min(inner.count(), o.limit ?? Infinity);
  return { source: inner, close: () => ds.close(), count };
}

/** An input opener for a host that estimates then runs: the input is opened once, closed by close(). */
export function sharedInput(): { openInput(o: SynthOptions): Promise<SynthInput>; close(): Promise<void> } {
  let input: Promise<SynthInput> | undefined;
  return {
    openInput: (o) => (input ??= openInput(o)).then((i) => ({ ...i, close: () => {} })),
    close: async () => (await input?.catch(() => undefined))?.close(),
  };
}

/**
 * Estimates a per-record task over the input: each record's requests and tokens (a sample of the
 * records past a size, estimate.ts), with progress, stopped by the signal.
 */
export async function estimateRecords(
  o: SynthOptions,
  perRecord: (
    record: Record<string, unknown>,
  ) => { requests: number; inputTokens: number; outputTokens: number } | undefined,
  ctx: EstimateContext,
  env?: SynthEnv,
): Promise<Estimate> {
  const input = await (env?.openInput ?? openInput)(o);
  try {
    const e: Estimate = { records: input.count, requests: 0, inputTokens: 0, outputTokens: 0 };
    const pass = await estimatePass(input.count, ctx, true, async (i) => {
      const rec: SourceRecord = await input.source.get(i);
      const r = rec.value ? perRecord(rec.value) : undefined;
      if (!r) return;
      e.requests += r.requests;
      e.inputTokens += r.inputTokens;
      e.outputTokens += r.outputTokens;
    });
    const scaled = scaleEstimate(e, pass);
    scaled.cost = costOf(o, scaled.inputTokens, scaled.outputTokens);
    return scaled;
  } finally {
    input.close();
  }
}

function where(x: { line: number; reason: string }): Where {
  return { where: `line ${x.line}`, line: x.line, reason: x.reason };
}

function toSummary(task: SynthTask, s: JobSummary, output: string, records: number): GenerateSummary {
  return {
    task,
    jobId: s.jobId,
    output,
    records,
    inputs: s.total,
    ok: s.ok,
    failed: s.failed.map(where),
    skipped: s.skipped.map(where),
    requests: s.requests,
    cached: s.cached,
    resumed: s.resumed,
    tokens: s.tokens,
    cost: s.cost,
    elapsedMs: s.elapsedMs,
    journal: s.journal,
    complete: s.complete,
    stop: s.complete
      ? {
          reason: 'done',
          message: `every input record was processed: ${records} record(s) written${s.failed.length ? `; ${s.failed.length} failed: run the same command again to retry them` : ''}`,
        }
      : { reason: 'done', message: 'stopped before every record was processed' },
  };
}

/**
 * Runs a per-record generation task as a journaled job: each finished input record's generated
 * records go to the journal, the output file is written from it (in input order).
 */
export async function runRecordJob(
  taskId: SynthTask,
  o: SynthOptions,
  env: SynthEnv,
  ctx: OperationContext,
  build: (deps: LlmDeps) => LlmTask<GenResult>,
  batch?: BatchModeOptions,
): Promise<GenerateSummary> {
  return withLlm(o, env, ctx, async (llm) => {
    const jobId = o.jobId ?? synthJobId(taskId, o, build(llm).promptHash);
    const { journalDir, journalPath, resuming } = prepareOutput(o, jobId, [o.input]);
    if (resuming) llm.log(`resuming ${taskId} into ${o.output} (job ${jobId})`);
    // As a batch, its options beside its journals: VS Code resumes it on activation (batchJobs.ts).
    if (batch) writeBatchJobOptions(journalDir, jobId, `generate-${taskId}`, o);
    const input = await (env.openInput ?? openInput)(o);
    // As a batch: the answers are collected from a batch job first (src/core/llm/batch/answers.ts),
    // then the job runs as online with every answer from the batch.
    let deps = llm;
    let answered: { client: BatchAnswers; info: GenerateBatchInfo } | undefined;
    if (batch) {
      try {
        answered = await prefetchRecordAnswers(taskId, o, env, ctx, llm, build, input.source, journalDir, jobId, batch);
      } catch (err) {
        input.close();
        if (err instanceof BatchCancelledError)
          throw new GenerateCancelledError({
            ...toSummary(taskId, emptyJobSummary(jobId, taskId, o.model), o.output, 0),
            batch: { ...batchInfoOf([err.summary], 0, 0), waiting: true },
          });
        throw err;
      }
      deps = { ...llm, client: answered.client };
    }
    const task = build(deps);
    const writer = new OutputWriter(journalPath, o.output, byRecordIndex, {
      log: deps.log,
      onWrite: (n) => env.onOutput?.(o.output, n),
    });
    try {
      const s = await runJob<GenResult>({
        jobId,
        journalDir,
        task,
        source: input.source,
        sink: new JournalOutputSink<GenResult>(writer),
        concurrency: o.concurrency,
        signal: ctx.signal,
        progress: ctx.progress,
        log: deps.log,
        prices: pricesOf(o),
        retryFailed: o.retryFailed,
        limit: o.limit,
        replay: false,
        keepJournal: true,
      });
      // With failures the journal stays: running the same command again retries only those.
      if (s.failed.length === 0) s.journal = retireJournal(s.journal);
      const summary = toSummary(taskId, s, o.output, writer.records);
      if (answered) {
        // the answers from the batch cost the batch price; those sent online (retryOnline) the online one
        const c = answered.client;
        summary.cost = costOfUsage(c.fromBatch, pricesOf(o), 'batch') + costOfUsage(c.fromOnline, pricesOf(o));
        summary.batch = { ...answered.info, retriedOnline: c.onlineRequests };
        // every round's answers applied: the job is no longer resumed on activation
        finishBatchJob(journalDir, jobId);
      }
      return summary;
    } catch (err) {
      if (err instanceof JobCancelledError)
        throw new GenerateCancelledError(toSummary(taskId, err.summary, o.output, writer.records));
      throw err;
    } finally {
      input.close();
    }
  });
}

/** What a generation's batch jobs sent (their last runs' parts), for its summary. */
export function batchInfoOf(
  jobs: BatchRunSummary[],
  newRequests: number,
  batchesCreated: number,
  rounds = 0,
): GenerateBatchInfo {
  return {
    journals: jobs.map((b) => b.journal),
    requests: jobs.reduce((n, b) => n + b.requests, 0),
    newRequests,
    batchesCreated,
    rounds,
    batches: jobs.flatMap((b) =>
      b.parts.map((p) => ({
        ...(p.batchId ? { batchId: p.batchId } : {}),
        ...(p.status ? { status: p.status } : {}),
        requests: p.requests,
      })),
    ),
    retriedOnline: 0,
  };
}

function emptyJobSummary(jobId: string, task: string, model: string): JobSummary {
  return {
    jobId,
    task,
    model,
    total: 0,
    ok: 0,
    failed: [],
    skipped: [],
    cached: 0,
    resumed: 0,
    requests: 0,
    tokens: { ...ZERO_USAGE },
    cost: 0,
    elapsedMs: 0,
    journal: '',
    complete: false,
  };
}

/**
 * The answers of a per-record generation, from a batch job (`<output>.curator-journal/<job>.batch.jsonl`):
 * pass after pass over the input records with a client that notes the requests it has no answer
 * for, each pass's new requests one round of batches (a preference's judge after its responses, a
 * dialogue's next turn after the last), until a pass asks for nothing new.
 */
async function prefetchRecordAnswers(
  taskId: SynthTask,
  o: SynthOptions,
  env: SynthEnv,
  ctx: OperationContext,
  llm: LlmDeps,
  build: (deps: LlmDeps) => LlmTask<GenResult>,
  source: RecordSource,
  journalDir: string,
  jobId: string,
  mode: BatchModeOptions,
): Promise<{ client: BatchAnswers; info: GenerateBatchInfo }> {
  const client = new BatchAnswers(llm.client, mode.retryOnline === true);
  const task = build({ ...llm, client });
  const n = Math.min(source.count(), o.limit ?? Infinity);
  llm.log(`${taskId} with ${o.model} as a batch job (${jobId})`);
  const r = await prefetchAnswers({
    api: new BatchApiClient({ baseURL: o.baseURL, apiKey: await env.apiKey(), log: llm.log }),
    journalDir,
    job: jobId,
    client,
    ...(mode.poll ? { poll: mode.poll } : {}),
    signal: ctx.signal,
    progress: ctx.progress,
    log: llm.log,
    pass: () => passOverRecords(task, source, n, ctx.signal),
  });
  return { client, info: batchInfoOf(r.jobs, r.newRequests, r.batchesCreated, r.rounds) };
}

/** Hash of a prompt's parts, in the `sha256:` form the annotation layout uses. */
export function hashOf(parts: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(parts)).digest('hex')}`;
}
