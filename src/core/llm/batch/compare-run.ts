// How logprob confidence agrees with self-consistency on the same records (issue 16: "Report how
// the logprob confidence agrees with self-consistency on the same records"). Both measures run
// over the file's records: the label task with `confidence: 'logprobs'` (one request per record,
// the chosen label's probability normalised over the label set: logprobs.ts) and self-consistency
// (k samples, the majority's share). Nothing is written to the file: the results are collected and
// compared (`compareConfidences`: the share with the same label, Pearson and Spearman of the two
// confidences, their mean absolute difference, the share where both are below a threshold). The
// answers go through the response cache as any job's, so the same command run again asks nothing.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { Estimate, EstimateContext, OperationContext, Progress } from '../../operation';
import { defineOperation, UserError } from '../../operation';
import { runJob, type JobSummary } from '../../jobs/runner';
import { openJobTarget, StoreRecordSource } from '../../jobs/store-io';
import type { ResultSink } from '../../jobs/types';
import type { TaskResult } from '../apply-result';
import {
  annotationKeys,
  ConsistencyOptions,
  createTask,
  LabelOptions,
  llmOperations,
  openEngine,
  pricesOf,
  type LlmEnv,
} from '../tasks';
import { compareConfidences, type ConfidenceComparison, type ConfidencePair } from './logprobs';
import { BatchAnswers, prefetchAnswers } from './answers';
import { BatchApiClient, type PollPolicy } from './api';
import { costOf } from './prices';
import { finishBatchJob, writeBatchJobOptions } from './job-options';
import { journalDirFor } from '../../jobs/runner';

export const CompareConfidenceOptions = ConsistencyOptions.extend({
  /** The confidence below which a record counts as unsure (the cascade's escalate-below). */
  threshold: z.number().min(0).max(1).default(0.8),
});
export type CompareConfidenceOptions = z.output<typeof CompareConfidenceOptions>;

/** One record measured both ways. */
export interface ConfidenceRow extends ConfidencePair {
  /** 1-based line number in the file. */
  line: number;
}

export interface ConfidenceReport {
  model: string;
  labels: string[];
  /** Samples per record of self-consistency. */
  k: number;
  /** Records of the file (valid JSON objects, up to `limit`). */
  total: number;
  /** Records with both measures (the comparison is over these). */
  compared: number;
  /** Records whose label answer came without logprobs (the endpoint gave none): not compared. */
  noLogprobs: number;
  /** Records one of the two measures failed on, with why. */
  failed: Array<{ line: number; measure: 'logprobs' | 'consistency'; reason: string }>;
  comparison: ConfidenceComparison;
  rows: ConfidenceRow[];
  /** Both jobs: requests sent (not from the cache), answers from the cache, tokens, cost. */
  requests: number;
  cached: number;
  tokens: { input_tokens: number; output_tokens: number };
  cost: number;
}

/** How the comparison runs as a Batch API job (`curate confidence --batch`). */
export interface CompareBatchMode {
  /** Send the requests the batch left failed online. */
  retryOnline?: boolean;
  poll?: Partial<PollPolicy>;
}

/** Both measures' estimate: the label task (one request per record) and self-consistency (k per record); `batch`: at the Batch API's price. */
export async function estimateCompareConfidence(
  o: CompareConfidenceOptions,
  env: LlmEnv,
  ctx: EstimateContext,
  batch = false,
): Promise<Estimate> {
  const ops = llmOperations(env);
  const none: Estimate = { records: 0, requests: 0, inputTokens: 0, outputTokens: 0, cost: 0 };
  const lo = LabelOptions.parse({ ...o, confidence: 'logprobs', temperature: 0 });
  const a = (await ops.label.estimate?.(lo, ctx)) ?? none;
  const b = (await ops.consistency.estimate?.(o, ctx)) ?? none;
  return {
    records: a.records,
    requests: a.requests + b.requests,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cost: ((a.cost ?? 0) + (b.cost ?? 0)) * (batch ? 0.5 : 1),
    ...(a.sampled !== undefined ? { sampled: a.sampled } : {}),
  };
}

/** Runs both measures over the file's records and compares them; writes nothing to the file. */
export async function compareConfidenceRun(
  o: CompareConfidenceOptions,
  env: LlmEnv,
  ctx: OperationContext,
  batch?: CompareBatchMode,
): Promise<ConfidenceReport> {
  if (o.labels.length < 2) throw new UserError('give the label set: at least two labels', 2, 'labels');
  // The label answer at temperature 0 (its probabilities are the model's); the samples at o.temperature.
  const lo = LabelOptions.parse({ ...o, confidence: 'logprobs', temperature: 0 });
  const ds = await openJobTarget(o.input, undefined, { annotationKeys: annotationKeys(o.fields) });
  // The jobs' journals in a folder of their own, removed at the end: the file's folder gets nothing.
  const journalDir = mkdtempSync(join(tmpdir(), 'dc-confidence-'));
  const engine = await openEngine(o, env, ctx);
  try {
    const source = new StoreRecordSource(ds);
    const n = Math.min(source.count(), o.limit ?? Infinity);
    const lines = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const r = source.get(i);
      if (r.value) lines.set(i, r.lineNumber);
    }
    let deps = { client: engine.client, ...(engine.cache ? { cache: engine.cache } : {}) };
    // As a batch: both measures' requests collected from a batch job first (answers.ts), whose
    // journal is beside the file (a killed run resumes the same batches); then both run as online.
    let answers: BatchAnswers | undefined;
    let batchJob: string | undefined;
    if (batch) {
      answers = new BatchAnswers(engine.client, batch.retryOnline === true);
      const bdeps = { ...deps, client: answers };
      const tasks = [createTask('label', lo, bdeps), createTask('consistency', o, bdeps)];
      const what = [o.model, o.labels, o.k, o.temperature, o.seed ?? null, tasks.map((t) => t.promptHash)];
      // The id of a resumed job is the one its options were written with (the same hash).
      const job = (batchJob =
        o.jobId ?? `confidence-${createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 12)}`);
      engine.log(`confidence with ${o.model} as a batch job (${job})`);
      // Its options beside its journal: VS Code resumes it on activation (operation.ts pendingBatchJobs).
      writeBatchJobOptions(journalDirFor(o.input), job, 'confidence', { ...o, jobId: job });
      await prefetchAnswers({
        api: new BatchApiClient({ baseURL: o.baseURL, apiKey: await env.apiKey(), log: engine.log }),
        journalDir: journalDirFor(o.input),
        job,
        primaryModel: o.model,
        client: answers,
        ...(batch.poll ? { poll: batch.poll } : {}),
        signal: ctx.signal,
        progress: ctx.progress,
        log: engine.log,
        async pass() {
          for (let i = 0; i < n; i++) {
            ctx.signal.throwIfAborted();
            const rec = source.get(i);
            if (!rec.value) continue;
            for (const t of tasks)
              try {
                await t.run(rec.value, { signal: ctx.signal, index: i, line: rec.lineNumber });
              } catch {
                // no answer yet: the next round
                ctx.signal.throwIfAborted();
              }
          }
        },
      });
      deps = bdeps;
    }
    const collect = (into: Map<number, TaskResult>): ResultSink => ({
      apply: (i, r) => {
        into.set(i, r);
      },
      flush: () => Promise.resolve(),
    });
    const byLogprobs = new Map<number, TaskResult>();
    const byConsistency = new Map<number, TaskResult>();
    const run = (
      what: string,
      step: number,
      task: ReturnType<typeof createTask>,
      into: Map<number, TaskResult>,
      prices: { input: number; output: number },
    ): Promise<JobSummary> =>
      runJob({
        jobId: `confidence-${what}`,
        journalDir,
        task,
        source,
        sink: collect(into),
        concurrency: o.concurrency,
        signal: ctx.signal,
        progress: (p: Progress) => ctx.progress({ ...p, message: `${step} of 2 (${what}) · ${p.message ?? ''}` }),
        log: engine.log,
        prices,
        ...(o.limit !== undefined ? { limit: o.limit } : {}),
      });
    const a = await run('logprobs', 1, createTask('label', lo, deps), byLogprobs, pricesOf(lo));
    const b = await run('consistency', 2, createTask('consistency', o, deps), byConsistency, pricesOf(o));

    const rows: ConfidenceRow[] = [];
    let noLogprobs = 0;
    for (const [i, line] of lines) {
      const x = byLogprobs.get(i);
      const y = byConsistency.get(i);
      if (!x || !y) continue;
      const measured = 'confidence' in x.provenance && x.provenance.confidence === 'logprobs';
      if (!measured || typeof x.confidence !== 'number') {
        noLogprobs++;
        continue;
      }
      if (typeof y.confidence !== 'number') continue;
      rows.push({
        line,
        logprobs: { label: String(x.value), confidence: x.confidence },
        consistency: { label: String(y.value), confidence: y.confidence },
      });
    }
    const failed = [
      ...a.failed.map((f) => ({ line: f.line, measure: 'logprobs' as const, reason: f.reason })),
      ...b.failed.map((f) => ({ line: f.line, measure: 'consistency' as const, reason: f.reason })),
    ].sort((p, q) => p.line - q.line);
    // Every answer in: the batch job is no longer resumed.
    if (batchJob !== undefined) finishBatchJob(journalDirFor(o.input), batchJob);
    return {
      model: o.model,
      labels: o.labels,
      k: o.k,
      total: lines.size,
      compared: rows.length,
      noLogprobs,
      failed,
      comparison: compareConfidences(rows, { threshold: o.threshold }),
      rows,
      requests: a.requests + b.requests,
      cached: a.cached + b.cached,
      tokens: {
        input_tokens: a.tokens.input_tokens + b.tokens.input_tokens,
        output_tokens: a.tokens.output_tokens + b.tokens.output_tokens,
      },
      cost: answers
        ? costOf(answers.fromBatch, pricesOf(o), 'batch') + costOf(answers.fromOnline, pricesOf(o))
        : a.cost + b.cost,
    };
  } finally {
    engine.close();
    ds.close();
    rmSync(journalDir, { recursive: true, force: true });
  }
}

/**
 * The comparison as a registry operation (`confidence`: `curate confidence`, VS Code's "Compare
 * Logprob Confidence with Self-Consistency…"); its batch mode is registry.ts's.
 */
export function confidenceOperation(env: LlmEnv) {
  return defineOperation({
    id: 'confidence',
    title: 'Compare logprob confidence with self-consistency',
    description:
      "How the label's logprob confidence agrees with self-consistency on the same records (nothing is written to the file)",
    options: CompareConfidenceOptions,
    estimate: (o, ctx) => estimateCompareConfidence(o, env, ctx),
    run: (o, ctx) => compareConfidenceRun(o, env, ctx),
  });
}

/** The report in words (the CLI prints these lines; VS Code shows them). */
export function confidenceReportLines(r: ConfidenceReport): string[] {
  const c = r.comparison;
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '-');
  const pct = (v: number): string => (Number.isFinite(v) ? `${Math.round(v * 100)}%` : '-');
  const lines = [
    `${r.compared} of ${r.total} record(s) measured both ways with ${r.model}: logprobs (the label's probability over {${r.labels.join(', ')}}) and self-consistency (${r.k} samples)`,
    `same label: ${pct(c.sameLabel)}; Pearson ${f(c.pearson)}, Spearman ${f(c.spearman)}; mean absolute difference ${f(c.meanAbsDiff)}`,
  ];
  if (c.below)
    lines.push(
      `below ${c.below.threshold}: both ${pct(c.below.both)}, logprobs only ${pct(c.below.logprobsOnly)}, self-consistency only ${pct(c.below.consistencyOnly)}`,
    );
  if (r.noLogprobs)
    lines.push(`${r.noLogprobs} record(s) not compared: the endpoint gave no logprobs for their label answer`);
  lines.push(
    `${r.requests} request(s), ${r.cached} from cache, ${r.tokens.input_tokens} + ${r.tokens.output_tokens} tokens${r.cost ? `, $${r.cost.toFixed(4)}` : ''}`,
  );
  return lines;
}
