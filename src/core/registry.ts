// The operations the faces run, by one id each: the CLI subcommand and the VS Code command are
// derived from it (faceNames). An entry hides its options' schema behind `prepare`, which parses
// raw options once, so that a face runs any operation through one generic runner without casts:
// estimate, run with progress, a summary in neutral words, and what a cancelled run kept.
import type { z } from 'zod';
import type { Estimate, EstimateContext, Operation, OperationContext } from './operation';
import { JobCancelledError, type JobSummary } from './jobs/runner';
import { llmOperations, type LlmEnv } from './llm/tasks';
import type { TaskId } from './llm/prompts';
import {
  dialoguesBatchMode,
  instructionsBatchMode,
  preferencesBatchMode,
  responsesBatchMode,
  synthOperations,
  GenerateCancelledError,
  type GenerateSummary,
  type SynthEnv,
  type SynthTask,
} from './synth';
import { createFilterOperation, type FilterDeps, type FilterResult } from './filter/filter';
import {
  estimateBatch,
  isBatchTask,
  runTaskAsBatch,
  type BatchModeOptions,
  type BatchTaskId,
} from './llm/batch/operation';
import type { LabelOptions, TaskOptionsById } from './llm/tasks';
import { runCascade } from './llm/batch/cascade-run';
import {
  compareConfidenceRun,
  confidenceOperation,
  confidenceReportLines,
  estimateCompareConfidence,
  type ConfidenceReport,
} from './llm/batch/compare-run';

/** What a run did, in words for a person (no flag or setting names: the faces add those). */
export interface Summary {
  /** One line: "12 ok, 1 failed, ...". */
  headline: string;
  /** Lines after it (per judge, agreement, ...). */
  details: string[];
  failures: { where: string; reason: string }[];
  /** Records deliberately not done (invalid lines, ties), with why. */
  skipped: { where: string; reason: string }[];
  /** A closing line: why it stopped. */
  note?: string;
  /** ok: all done; incomplete: records failed or a target was not reached (exit 1, "Retry Failed"). */
  outcome: 'ok' | 'incomplete';
}

/** An operation with its options parsed: what a face's runner needs, whatever the options' type. */
export interface Prepared<R> {
  readonly id: string;
  readonly title: string;
  estimate(ctx: EstimateContext): Promise<Estimate | undefined>;
  run(ctx: OperationContext): Promise<R>;
  summarize(result: R): Summary;
  /** A cancelled run's partial result and what is kept, from the error it ended with. */
  cancelled(err: unknown): { result: R; kept: string } | undefined;
  /** The same operation as a Batch API job (half the price, results within 24 hours), when it has that mode. */
  batch?: PreparedBatch<R>;
}

/** An operation's batch mode with its options parsed: the estimate at batch prices, the run. */
export interface PreparedBatch<R> {
  estimate(ctx: EstimateContext): Promise<Estimate | undefined>;
  /** Submits (or, run again, resumes) the batches, waits for them, applies their results. */
  run(ctx: OperationContext, mode?: BatchModeOptions): Promise<R>;
}

/** How an operation runs as a batch, over its parsed options. */
export interface BatchMode<O, R> {
  estimate(options: O, ctx: EstimateContext): Promise<Estimate>;
  run(options: O, ctx: OperationContext, mode: BatchModeOptions): Promise<R>;
}

/** How an operation's results are told: a summary, and the partial result a cancelled run carries. */
export interface Reporting<R> {
  summarize(result: R): Summary;
  cancelled?(err: unknown): { result: R; kept: string } | undefined;
}

export interface OperationEntry<R> {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  /** Parses raw options (throws the schema's ZodError, which faces show per option). */
  prepare(raw: unknown): Prepared<R>;
  /** The operation can also run as a Batch API job (its prepared form has `batch`): "Run as Batch", --batch. */
  readonly batchable: boolean;
}

/** An operation as a registry entry: the options' schema stays inside. */
export function entry<S extends z.ZodType, R>(
  op: Operation<S, R>,
  reporting: Reporting<R>,
  batch?: BatchMode<z.output<S>, R>,
): OperationEntry<R> {
  return {
    id: op.id,
    title: op.title,
    description: op.description,
    batchable: batch !== undefined,
    prepare(raw) {
      const options: z.output<S> = op.options.parse(raw);
      return {
        id: op.id,
        title: op.title,
        estimate: async (ctx) => (op.estimate ? op.estimate(options, ctx) : undefined),
        run: (ctx) => op.run(options, ctx),
        summarize: (r) => reporting.summarize(r),
        cancelled: (err) => reporting.cancelled?.(err),
        ...(batch
          ? {
              batch: {
                estimate: (ctx: EstimateContext) => batch.estimate(options, ctx),
                run: (ctx: OperationContext, mode: BatchModeOptions = {}) => batch.run(options, ctx, mode),
              },
            }
          : {}),
      };
    },
  };
}

/**
 * The names of an operation on each face: the CLI subcommand (words: `generate-responses` is
 * `curate generate responses`) and the VS Code command (`datasetCurator.` + the id in camelCase;
 * a record's variant adds `Record`; its batch mode, "Run as Batch", adds `Batch`: `datasetCurator.labelBatch`).
 */
export function faceNames(id: string): { cli: string[]; vscode: string; vscodeRecord: string; vscodeBatch: string } {
  const words = id.split('-');
  const camel = words.map((w, i) => (i === 0 ? w : `${w[0]!.toUpperCase()}${w.slice(1)}`)).join('');
  return {
    cli: words[0] === 'generate' ? words : [id],
    vscode: `datasetCurator.${camel}`,
    vscodeRecord: `datasetCurator.${camel}Record`,
    vscodeBatch: `datasetCurator.${camel}Batch`,
  };
}

// ---------------------------------------------------------------------------------------------
// Reporting of the kinds of results

const money = (s: {
  requests: number;
  tokens: { input_tokens: number; output_tokens: number };
  cost: number;
}): string =>
  `${s.requests} request(s), ${s.tokens.input_tokens} + ${s.tokens.output_tokens} tokens${s.cost ? `, $${s.cost.toFixed(4)}` : ''}`;

/** The lines that say what a job run as a batch sent and where its batches are. */
function batchDetails(b: NonNullable<JobSummary['batch']>): string[] {
  const ids = b.batches.map((p) => `${p.batchId ?? `part ${p.part} (not submitted)`}${p.status ? ` ${p.status}` : ''}`);
  return [
    `batch: ${b.requests} request(s) in ${b.batches.length || 'its'} batch(es)${b.newRequests < b.requests ? `, ${b.requests - b.newRequests} sent by an earlier run` : ''}; ${b.batchesCreated} batch(es) created by this run; $${b.batchCost.toFixed(4)} at the Batch API's price`,
    ...(ids.length ? [`batches: ${ids.join(', ')}`] : []),
    ...(b.retriedOnline ? [`${b.retriedOnline} record(s) the batch left failed went through the online path`] : []),
    ...(b.stale ? [`${b.stale} answer(s) not applied: their records changed after the requests were sent`] : []),
  ];
}

/** Per stage of a cascade: records, accepted, escalated, to review, failed, tokens, cost. */
function cascadeDetails(c: NonNullable<JobSummary['cascade']>): string[] {
  return [
    ...c.stages.map(
      (st, k) =>
        `stage ${k + 1} ${st.model}${st.mode === 'batch' ? ' (batch)' : ''}: ${st.records} record(s), ${st.accepted} accepted (confidence >= ${c.threshold}), ${k === c.stages.length - 1 ? `${st.review} to review` : `${st.escalated} escalated`}, ${st.failed} failed; ${st.tokens.input_tokens} + ${st.tokens.output_tokens} tokens, $${st.cost.toFixed(4)}`,
    ),
    `cascade: ${c.accepted} record(s) labeled by a model, ${c.review} sent to the review queue "${c.queue}"; $${c.cost.toFixed(4)} (the strongest model alone: about $${c.strongestOnly.toFixed(4)})`,
  ];
}

/** An LLM job over a file's records (label, rationale, judge, consistency, critique). */
export const jobReporting: Reporting<JobSummary> = {
  summarize(s) {
    return {
      headline: `${s.ok} ok, ${s.failed.length} failed, ${s.skipped.length} skipped (invalid lines), ${s.cached} from cache, ${s.resumed} resumed; ${money(s)}`,
      details: [
        ...(s.parts ?? []).map(
          (p) => `${p.model}: ${p.ok} ok, ${p.failed.length} failed, ${p.cached} from cache, ${p.requests} request(s)`,
        ),
        ...(s.batch ? batchDetails(s.batch) : []),
        ...(s.cascade ? cascadeDetails(s.cascade) : []),
      ],
      failures: s.failed.map((f) => ({ where: `line ${f.line}${s.parts ? ` (${f.model})` : ''}`, reason: f.reason })),
      skipped: s.skipped.map((f) => ({ where: `line ${f.line}`, reason: f.reason })),
      outcome: s.failed.length > 0 ? 'incomplete' : 'ok',
    };
  },
  cancelled(err) {
    if (!(err instanceof JobCancelledError)) return undefined;
    const s = err.summary;
    if (s.batch?.waiting)
      return {
        result: s,
        kept: `stopped waiting for the batches, which go on at the provider (nothing was cancelled); ${s.ok} of ${s.total} records have their results`,
      };
    return { result: s, kept: `${s.ok + s.failed.length + s.skipped.length} of ${s.total} records are done and kept` };
  },
};

const REJECTED: Record<string, string> = {
  similar: 'near-copies',
  duplicate: 'duplicates',
  short: 'too short',
  long: 'too long',
  empty: 'empty',
};

/** A generation job writing a new file (instructions, responses, preferences, dialogues). */
export const generateReporting: Reporting<GenerateSummary> = {
  summarize(s) {
    let headline: string;
    if (s.instructions) {
      const i = s.instructions;
      const why = Object.entries(i.rejectedBy)
        .filter(([k]) => k !== 'target')
        .map(([k, n]) => `${n} ${REJECTED[k] ?? k}`)
        .join(', ');
      headline =
        `${i.accepted} of ${i.target} instruction(s) written to ${s.output} in ${i.rounds} round(s); ` +
        `${i.rejected} rejected${i.rejected ? ` (${why})` : ''}, acceptance ${Math.round(i.acceptanceRate * 100)}%` +
        `${i.rejectedBy.target ? `, ${i.rejectedBy.target} candidate(s) unused at the target` : ''}; ` +
        `${s.cached} answer(s) from cache, ${s.resumed} from the journal of an earlier run; ${money(s)}`;
    } else {
      headline =
        `${s.records} record(s) written to ${s.output}; ${s.inputs} input record(s): ${s.ok} ok, ${s.skipped.length} skipped, ${s.failed.length} failed; ` +
        `${s.cached} from cache, ${s.resumed} from the journal of an earlier run; ${money(s)}`;
    }
    const short = s.instructions !== undefined && s.stop.reason !== 'target';
    const b = s.batch;
    return {
      headline,
      details: b
        ? [
            `batch: ${b.requests} request(s) in ${b.batches.length} batch(es)${b.newRequests < b.requests ? `, ${b.requests - b.newRequests} sent by an earlier run` : ''}; ${b.batchesCreated} batch(es) created by this run in ${b.rounds} round(s); $${s.cost.toFixed(4)} at the Batch API's price`,
            ...(b.batches.length
              ? [
                  `batches: ${b.batches.map((x) => `${x.batchId ?? 'not submitted'}${x.status ? ` ${x.status}` : ''}`).join(', ')}`,
                ]
              : []),
            ...(b.retriedOnline
              ? [`${b.retriedOnline} request(s) the batch left failed went through the online path`]
              : []),
          ]
        : [],
      note: s.stop.message,
      failures: s.failed.map((f) => ({ where: f.where, reason: f.reason })),
      skipped: s.skipped.map((f) => ({ where: f.where, reason: f.reason })),
      outcome: s.failed.length > 0 || !s.complete || short ? 'incomplete' : 'ok',
    };
  },
  cancelled(err) {
    if (!(err instanceof GenerateCancelledError)) return undefined;
    if (err.summary.batch?.waiting)
      return {
        result: err.summary,
        kept: 'stopped waiting for the batches, which go on at the provider (nothing was cancelled); nothing is written until their results are in',
      };
    return {
      result: err.summary,
      kept: `${err.summary.records} generated record(s) are kept in ${err.summary.output}`,
    };
  },
};

/** The comparison of logprob confidence with self-consistency: the report's lines, the failures. */
export const confidenceReporting: Reporting<ConfidenceReport> = {
  summarize(r) {
    const [headline = '', ...details] = confidenceReportLines(r);
    return {
      headline,
      details,
      failures: r.failed.map((f) => ({ where: `line ${f.line} (${f.measure})`, reason: f.reason })),
      skipped: [],
      outcome: r.failed.length > 0 ? 'incomplete' : 'ok',
    };
  },
};

/** A filter run: what it keeps and drops, per rule. */
export const filterReporting: Reporting<FilterResult> = {
  summarize(r) {
    return {
      headline: `${r.kept} kept, ${r.dropped} dropped of ${r.total}${r.written !== undefined ? `; ${r.written} written to ${r.out}` : ''}`,
      details: r.rules.map((x) => `${x.rule}: drops ${x.dropped}`),
      failures: [],
      skipped: [],
      outcome: 'ok',
    };
  },
};

// ---------------------------------------------------------------------------------------------
// The registry

/** The LLM jobs over a file's records, by id (the task's: label, rationale, judge, consistency, critique). */
export function llmEntries(env: LlmEnv): { readonly [K in TaskId]: OperationEntry<JobSummary> } {
  const ops = llmOperations(env);
  // Every task also runs as a Batch API job (src/core/llm/batch/operation.ts; consistency's k samples as k requests).
  const batch = <K extends BatchTaskId>(id: K): BatchMode<TaskOptionsById[K], JobSummary> => ({
    estimate: (o, ctx) => estimateBatch(id, o, env, ctx),
    run: (o, ctx, mode) => runTaskAsBatch(id, o, env, ctx, mode),
  });
  // Label with `cascade`: the cheap model first, the strong one where it is unsure (cascade-run.ts).
  const label = ops.label;
  const cascading: typeof label = {
    ...label,
    estimate: async (o, ctx) =>
      (o.cascade ? cascadeEstimate(label, o, ctx) : label.estimate?.(o, ctx)) as Promise<Estimate>,
    run: (o, ctx) => (o.cascade ? runCascade(o, env, ctx, { batch: false }) : label.run(o, ctx)),
  };
  const labelBatch = batch('label');
  return {
    label: entry(cascading, jobReporting, {
      estimate: (o, ctx) => (o.cascade ? cascadeEstimate(labelBatch, o, ctx) : labelBatch.estimate(o, ctx)),
      run: (o, ctx, mode) =>
        o.cascade ? runCascade(o, env, ctx, { ...mode, batch: true }) : labelBatch.run(o, ctx, mode),
    }),
    rationale: entry(ops.rationale, jobReporting, batch('rationale')),
    judge: entry(ops.judge, jobReporting, batch('judge')),
    consistency: entry(ops.consistency, jobReporting, batch('consistency')),
    critique: entry(ops.critique, jobReporting, batch('critique')),
  };
}

/**
 * A cascade's estimate before it runs: the first model on every record, and (at worst) each
 * stronger one on every record too; how many escalate is known only as it runs.
 */
async function cascadeEstimate(
  op: { estimate?(o: LabelOptions, ctx: EstimateContext): Promise<Estimate | undefined> | undefined },
  o: LabelOptions,
  ctx: EstimateContext,
): Promise<Estimate> {
  const e: Estimate = { records: 0, requests: 0, inputTokens: 0, outputTokens: 0, cost: 0 };
  for (const model of o.cascade ?? []) {
    const x = await op.estimate?.({ ...o, model, cascade: undefined, escalateBelow: undefined }, ctx);
    if (!x) continue;
    e.records = x.records;
    e.requests += x.requests;
    e.inputTokens += x.inputTokens;
    e.outputTokens += x.outputTokens;
    e.cost = (e.cost ?? 0) + (x.cost ?? 0);
    if (x.sampled !== undefined) e.sampled = x.sampled;
  }
  return e;
}

/**
 * How logprob confidence agrees with self-consistency on the same records (compare-run.ts): both
 * measures online, or as one Batch API job (half the price; run again, it resumes its batches).
 */
export function confidenceEntry(env: LlmEnv): OperationEntry<ConfidenceReport> {
  return entry(confidenceOperation(env), confidenceReporting, {
    estimate: (o, ctx) => estimateCompareConfidence(o, env, ctx, true),
    run: (o, ctx, mode) => compareConfidenceRun(o, env, ctx, mode),
  });
}

/** The registry ids whose operation runs as a batch too (the faces' "Run as Batch" and --batch). */
export function batchableIds(): string[] {
  const env = { apiKey: () => undefined };
  return [...Object.values(llmEntries(env)), ...Object.values(generateEntries(env)), confidenceEntry(env)]
    .filter((e) => e.batchable && (isBatchTask(e.id) || e.id.startsWith('generate-') || e.id === 'confidence'))
    .map((e) => e.id);
}

/** The generation jobs, by task (their ids: generate-instructions, ...). */
export function generateEntries(env: SynthEnv): { readonly [K in SynthTask]: OperationEntry<GenerateSummary> } {
  const ops = synthOperations(env);
  // The generators also run as a Batch API job (src/core/llm/batch/answers.ts): each step that
  // needs the answers of the one before (a preference's judge, a dialogue's next turn, the next
  // round of instructions from the grown pool) one round of batches.
  return {
    instructions: entry(ops.instructions, generateReporting, instructionsBatchMode(env)),
    responses: entry(ops.responses, generateReporting, responsesBatchMode(env)),
    preferences: entry(ops.preferences, generateReporting, preferencesBatchMode(env)),
    dialogues: entry(ops.dialogues, generateReporting, dialoguesBatchMode(env)),
  };
}

/** The filter, over lines from `deps.open` (default: the file through the store; VS Code: the open document). */
export function filterEntry(deps: FilterDeps = {}): OperationEntry<FilterResult> {
  return entry(createFilterOperation(deps), filterReporting);
}

/** Every operation id in the registry (the faces' names are derived from them: faceNames). */
export function registeredIds(): string[] {
  const env = { apiKey: () => undefined };
  return [
    ...Object.values(llmEntries(env)),
    ...Object.values(generateEntries(env)),
    confidenceEntry(env),
    filterEntry(),
  ].map((e) => e.id);
}
