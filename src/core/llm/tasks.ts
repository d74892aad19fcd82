// The LLM tasks as operations (label/annotate, rationale, judge, consistency, critique): zod options,
// an estimate, and a run that executes a journaled, resumable job. `createTask` binds a task to its
// options and a client (used by the operations, tests and any custom runner).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { estimatePass, LeftSample, scaleEstimate } from '../estimate';
import {
  defineOperation,
  UserError,
  type Estimate,
  type EstimateContext,
  type Operation,
  type Progress,
} from '../operation';
import {
  JobCancelledError,
  journalDirFor,
  journalPathFor,
  mergeSummaries,
  runJob,
  type JobSummary,
} from '../jobs/runner';
import { JOURNAL_VERSION, readJournal } from '../jobs/journal';
import { effectivePrices } from './prices';
import { openJobTarget, SINK_BATCH, StoreRecordSource, StoreResultSink } from '../jobs/store-io';
import type { LlmTask, RecordSource, ResultSink, TaskOutcome } from '../jobs/types';
import { defaultFields, FieldMap, readAnnotation } from '../schema/annotation';
import { assertDatasetFile, JsonlDataset } from '../store';
import { AnswerExamples, QuestionOptions, resolveQuestion } from '../questions/resolve';
import { questionTask } from '../questions/task';
import { questionConsistencyTask } from '../questions/consistency';
import type { TaskResult } from './apply-result';
import { canonicalJson, defaultCacheDir, ResponseCache } from './cache';
import { estimateTokens, LlmClient, LlmError, type ChatMessage, type SamplingParams, type Usage } from './client';
import {
  ANNOTATION_FIELDS,
  findPromptsDir,
  loadTemplate,
  promptHash,
  recordInput,
  renderMessages,
  renderTemplate,
  requestKey,
  type PromptTemplate,
  type TaskId,
} from './prompts';
import { checkStructured, structuredBody, structuredCall, structuredSpec, type StructuredSpec } from './structured';
import type { BatchFacet, SampleOutcome, SamplesFacet } from './batch/facet';
import type { ChatAnswer } from './batch/format';
import { withLogprobConfidence } from './batch/records';
import {
  consistencyTemplate,
  critiqueSchema,
  critiqueTemplate,
  judgeSchema,
  judgeTemplate,
  labelFewShot,
  labelSchema,
  labelTemplate,
  majority,
  rationaleSchema,
  rationaleTemplate,
  type FewShotExample,
} from './templates';

// ---- options ----------------------------------------------------------------------------------

export const CommonOptions = z.object({
  /** The dataset (JSONL). */
  input: z.string().min(1),
  /** Where results go: a copy of the input with the results. Default: `<input without .jsonl>.<task>.jsonl`. */
  output: z.string().optional(),
  /** Write the results into the input itself (its untouched lines stay byte for byte). */
  inPlace: z.boolean().default(false),
  /** Where the annotation lives in a record (field names); default: label, rationale, judge, judges, annotations. */
  fields: FieldMap.optional(),
  baseURL: z.url(),
  model: z.string().min(1),
  temperature: z.number().min(0).max(2).default(0),
  topP: z.number().min(0).max(1).optional(),
  maxTokens: z.number().int().positive().default(512),
  seed: z.number().int().optional(),
  concurrency: z.number().int().min(1).max(256).default(8),
  requestsPerMinute: z.number().int().min(0).default(0),
  tokensPerMinute: z.number().int().min(0).default(0),
  timeoutSeconds: z.number().positive().default(120),
  maxRetries: z.number().int().min(0).max(20).default(4),
  retryAfterCapSeconds: z.number().positive().default(30),
  pricePerMillionInputTokens: z.number().min(0).default(0),
  pricePerMillionOutputTokens: z.number().min(0).default(0),
  /** Response cache folder; default the per-user cache outside the workspace (see cache.ts). */
  cacheDir: z.string().optional(),
  noCache: z.boolean().default(false),
  /** Default: derived from task, input, model, prompt and parameters (so a re-run resumes). */
  jobId: z
    .string()
    .regex(/^[\w.-]{1,80}$/)
    .optional(),
  retryFailed: z.boolean().default(true),
  limit: z.number().int().positive().optional(),
  /** Workspace prompt overrides (`<dir>/<task>.md`). Default: the nearest `.curator/prompts` in the input's folder or above. */
  promptsDir: z.string().optional(),
  structuredMode: z.enum(['json_schema', 'json_object', 'prompt']).optional(),
  /** Fields shown to the model as `{{record}}`; default all but the annotation fields. */
  inputFields: z.array(z.string()).optional(),
  instructions: z.string().default(''),
  /**
   * Replace a label or rationale the record already has with the model's (the previous value is
   * kept in `annotations.history`). Default: an existing one stays and the model's answer is a
   * suggestion beside it. A label a person decided is never replaced.
   */
  replaceExisting: z.boolean().default(false),
});
export type CommonOptions = z.output<typeof CommonOptions>;

export const LabelOptions = CommonOptions.extend({
  labels: z.array(z.string().min(1)).default([]),
  /** The question the label answers; default: the layout's (`label`). */
  question: z.string().min(1).optional(),
  examples: z
    .array(z.object({ record: z.record(z.string(), z.unknown()), label: z.string(), rationale: z.string().optional() }))
    .default([]),
  /**
   * Several models in one run: one job per model over the same file, each model's answer a
   * suggestion of its own (side by side, by agent), so agreement can be measured per model and
   * between models. Empty: `model` alone.
   */
  models: z.array(z.string().min(1)).default([]),
  /**
   * A cost cascade (src/core/llm/batch/cascade-run.ts): the models from cheapest to strongest; the
   * first labels every record, each next one only the records whose confidence stayed below
   * `escalateBelow`; what the last leaves below it goes to the human review queue.
   */
  cascade: z.array(z.string().min(1)).min(2).optional(),
  escalateBelow: z.number().min(0).max(1).optional(),
  /**
   * How the label's confidence is measured: `verbal` (the model says it, the default) or
   * `logprobs` (the probability of the label's tokens, normalised over the label set, where the
   * endpoint gives logprobs; provenance says which measure a suggestion has).
   */
  confidence: z.enum(['verbal', 'logprobs']).optional(),
  // Other question types (multi-label, rating, ranking, text, span): declared in .curator/questions.json or given here (src/core/questions).
  ...QuestionOptions.shape,
  ...AnswerExamples.shape,
});
export const RationaleOptions = CommonOptions.extend({
  /** The field whose value is explained; default: the layout's label field. */
  labelField: z.string().min(1).optional(),
});
export const JudgeOptions = CommonOptions.extend({
  rubric: z.string().default('Overall quality as training data: correct, helpful, clear, safe.'),
  scaleMin: z.number().int().default(1),
  scaleMax: z.number().int().default(10),
  criteria: z.array(z.string().regex(/^[A-Za-z_][\w-]{0,63}$/)).default([]),
  /** Several judges: one job per model over the same file, each verdict in `judges[]`. Empty: `model` alone. */
  judgeModels: z.array(z.string().min(1)).default([]),
}).refine((o) => o.scaleMax > o.scaleMin, { error: 'scaleMax must be above scaleMin' });
export const ConsistencyOptions = LabelOptions.extend({
  k: z.number().int().min(2).max(50).default(5),
  temperature: z.number().min(0).max(2).default(0.7),
});
export const CritiqueOptions = CommonOptions.extend({
  /** The field to critique and refine; the refined version is a suggestion for that question, beside the original. */
  field: z.string().min(1).default('response'),
  /** The question the refined version is stored under; default: the field's name. */
  question: z.string().min(1).optional(),
});

export type LabelOptions = z.output<typeof LabelOptions>;
export type RationaleOptions = z.output<typeof RationaleOptions>;
export type JudgeOptions = z.output<typeof JudgeOptions>;
export type ConsistencyOptions = z.output<typeof ConsistencyOptions>;
export type CritiqueOptions = z.output<typeof CritiqueOptions>;

export interface TaskOptionsById {
  label: LabelOptions;
  rationale: RationaleOptions;
  judge: JudgeOptions;
  consistency: ConsistencyOptions;
  critique: CritiqueOptions;
}

/** Typical output tokens per request, for estimates (capped by maxTokens). */
export const TYPICAL_OUTPUT_TOKENS: Record<TaskId, number> = {
  label: 60,
  rationale: 80,
  judge: 150,
  consistency: 60,
  critique: 600,
};

// ---- tasks ------------------------------------------------------------------------------------

export interface TaskDeps {
  client: LlmClient;
  cache?: ResponseCache;
}

const ZERO: Usage = { input_tokens: 0, output_tokens: 0 };

function samplingParams(o: CommonOptions, temperature = o.temperature): SamplingParams {
  const p: SamplingParams = { temperature, max_tokens: o.maxTokens };
  if (o.topP !== undefined) p.top_p = o.topP;
  if (o.seed !== undefined) p.seed = o.seed;
  return p;
}

interface Prepared<T> {
  template: PromptTemplate;
  system: string;
  fewShot: ChatMessage[];
  spec: StructuredSpec<T>;
  hash: string;
  /** Fields left out of `{{record}}`: the annotation's, under their configured names. */
  exclude: ReadonlySet<string>;
}

/** The record keys that hold the annotation (not shown to the model as the record's content). */
export function annotationKeys(fields: FieldMap | undefined): ReadonlySet<string> {
  if (!fields) return ANNOTATION_FIELDS;
  const { question: _q, ...keys } = fields;
  return new Set([...ANNOTATION_FIELDS, ...Object.values(keys)]);
}

function prepare<T>(
  task: TaskId,
  builtIn: PromptTemplate,
  o: CommonOptions,
  vars: Record<string, unknown>,
  spec: StructuredSpec<T>,
  fewShot: ChatMessage[] = [],
): Prepared<T> {
  const template = loadTemplate(task, builtIn, o.promptsDir ?? findPromptsDir(o.input));
  const system = renderTemplate(template.system, { instructions: o.instructions, ...vars })
    .replace(/\n{3,}/g, '\n\n')
    .replace(/\n\n(?=\S)/g, '\n\n');
  const hash = promptHash(template, system, { fewShot, schema: spec.jsonSchema });
  return { template, system, fewShot, spec, hash, exclude: annotationKeys(o.fields) };
}

function promptSource(p: Prepared<unknown>): string {
  return `${p.template.source ?? `built-in ${p.template.id} prompt`} v${p.template.version} (${p.hash.slice(0, 19)})`;
}

function outputEstimate(task: TaskId, o: CommonOptions): number {
  return Math.min(o.maxTokens, TYPICAL_OUTPUT_TOKENS[task]);
}

/** Token counts of the long texts every request repeats (the system prompt, few-shot turns). */
const repeatedTokens = new Map<string, number>();

/**
 * The input tokens of a request's messages. All but the last (the record's) come from the prompt
 * and repeat in every request: each long one is counted once (a cost estimate over 100,000
 * records counted the same system prompt 100,000 times).
 */
function messagesTokens(messages: ChatMessage[]): number {
  let n = 0;
  for (let i = 0; i < messages.length; i++) {
    const text = (messages[i] as ChatMessage).content;
    const repeated = i < messages.length - 1 && text.length >= 256;
    let t = repeated ? repeatedTokens.get(text) : undefined;
    if (t === undefined) {
      t = estimateTokens(text);
      if (repeated) {
        if (repeatedTokens.size >= 64) repeatedTokens.clear();
        repeatedTokens.set(text, t);
      }
    }
    n += t + 4;
  }
  return n;
}

export function createTask<K extends TaskId>(id: K, options: TaskOptionsById[K], deps: TaskDeps): LlmTask {
  switch (id) {
    case 'label': {
      // A declared or given question of another type is its own task (src/core/questions/task.ts).
      const o = options as LabelOptions;
      const q = resolveQuestion(o);
      if (q && q.type !== 'label') return questionTask(q, o, deps);
      return labelTask(q ? { ...o, question: q.name, labels: o.labels.length ? o.labels : q.labels } : o, deps);
    }
    case 'rationale':
      return rationaleTask(options, deps);
    case 'judge':
      return judgeTask(options as JudgeOptions, deps);
    case 'consistency': {
      // A question of another type: k samples of its own task (src/core/questions/consistency.ts).
      const o = options as ConsistencyOptions;
      const q = resolveQuestion(o);
      if (q && q.type !== 'label') return questionConsistencyTask(q, o, deps);
      return consistencyTask(q ? { ...o, question: q.name, labels: o.labels.length ? o.labels : q.labels } : o, deps);
    }
    case 'critique':
      return critiqueTask(options as CritiqueOptions, deps);
  }
  throw new UserError(`unknown task ${String(id)}`);
}

function simpleTask<T>(
  id: TaskId,
  o: CommonOptions,
  deps: TaskDeps,
  p: Prepared<T>,
  opts: {
    check?: (record: Record<string, unknown>) => string | undefined;
    extra?: (record: Record<string, unknown>) => Record<string, unknown>;
    toResult: (value: T, provenance: TaskResult['provenance']) => TaskResult;
    /** More request parameters (logprobs), and what the online answer adds to the result (their confidence). */
    params?: Partial<SamplingParams>;
    answered?: (result: TaskResult, answer: ChatAnswer) => TaskResult;
  },
): LlmTask & { batch: BatchFacet } {
  const model = o.model;
  const params = { ...samplingParams(o), ...opts.params };
  const messagesFor = (record: Record<string, unknown>): ChatMessage[] =>
    renderMessages(p.template, p.system, record, {
      inputFields: o.inputFields,
      fewShot: p.fewShot,
      extra: opts.extra?.(record),
      exclude: p.exclude,
    });
  return {
    id,
    model,
    promptHash: p.hash,
    promptSource: promptSource(p),
    estimate: (record) => ({
      requests: 1,
      inputTokens: messagesTokens(messagesFor(record)),
      outputTokens: outputEstimate(id, o),
    }),
    key: (record) => requestKey(messagesFor(record)),
    async run(record, ctx): Promise<TaskOutcome> {
      const problem = opts.check?.(record);
      if (problem) return { ok: false, reason: problem, usage: ZERO, requests: 0 };
      const r = await structuredCall(deps.client, {
        messages: messagesFor(record),
        spec: p.spec,
        params,
        model,
        mode: o.structuredMode,
        cache: deps.cache,
        template: { id: p.template.id, version: p.template.version },
        sample: 0,
        signal: ctx.signal,
      });
      if (!r.ok) return { ok: false, reason: r.reason, usage: r.usage, raw: r.raw, requests: r.requests };
      const provenance = { model: r.model, prompt_hash: p.hash, time: r.time, usage: r.usage };
      const result = opts.toResult(r.value, provenance);
      return {
        ok: true,
        result: opts.answered
          ? opts.answered(result, {
              content: r.raw,
              refusal: null,
              finishReason: null,
              model: r.model,
              usage: r.usage,
              logprobs: r.logprobs,
            })
          : result,
        usage: r.usage,
        cached: r.cached,
        requests: r.requests,
      };
    },
    // The same request and validation for the Batch API and offline batch files (src/core/llm/batch).
    batch: {
      request(record) {
        const problem = opts.check?.(record);
        if (problem) return { skip: problem };
        const messages = messagesFor(record);
        return {
          body: structuredBody({ messages, spec: p.spec, params, model }, o.structuredMode ?? 'json_schema'),
          messages,
        };
      },
      accept(answer) {
        if (answer.refusal) return { ok: false, reason: `refused: ${answer.refusal}` };
        const v = checkStructured(p.spec, answer.content ?? '');
        if (!v.ok) return { ok: false, reason: `invalid answer: ${v.error}` };
        const provenance = {
          model: answer.model ?? model,
          prompt_hash: p.hash,
          time: new Date().toISOString(),
          usage: answer.usage,
        };
        return { ok: true, result: opts.toResult(v.value, provenance) };
      },
    },
  };
}

function labelTask(o: LabelOptions, deps: TaskDeps): LlmTask {
  const spec = structuredSpec(labelSchema(o.labels), 'label_answer');
  const p = prepare(
    'label',
    labelTemplate,
    o,
    { labels: o.labels.length ? o.labels.join(', ') : '(any short label that fits)' },
    spec,
    labelFewShot(o.examples, o.inputFields, annotationKeys(o.fields)),
  );
  const logprobs = o.confidence === 'logprobs';
  return simpleTask('label', o, deps, p, {
    // Confidence from logprobs (online; a batch gets it through its adapter, batch/records.ts).
    ...(logprobs
      ? {
          params: { logprobs: true, top_logprobs: 5 },
          answered: (result: TaskResult, answer: ChatAnswer) => withLogprobConfidence(result, answer, o.labels),
        }
      : {}),
    toResult: (v, provenance) => ({
      task: 'label',
      question: o.question ?? o.fields?.question ?? 'label',
      value: v.label,
      confidence: v.confidence,
      rationale: v.rationale,
      provenance,
    }),
  });
}

function rationaleTask(o: RationaleOptions, deps: TaskDeps): LlmTask {
  const spec = structuredSpec(rationaleSchema, 'rationale_answer');
  const p = prepare('rationale', rationaleTemplate, o, {}, spec);
  const field = o.labelField ?? o.fields?.label ?? 'label';
  return simpleTask('rationale', o, deps, p, {
    check: (r) => (r[field] === undefined || r[field] === null ? `no "${field}" to explain` : undefined),
    extra: (r) => ({ label: r[field] }),
    toResult: (v, provenance) => ({
      task: 'rationale',
      question: field,
      value: v.rationale,
      rationale: v.rationale,
      provenance,
    }),
  });
}

function judgeTask(o: JudgeOptions, deps: TaskDeps): LlmTask {
  const spec = structuredSpec(
    judgeSchema(o.scaleMin, o.scaleMax, o.criteria),
    `judge_answer_${o.scaleMin}_${o.scaleMax}_${o.criteria.join('_')}`.slice(0, 64),
  );
  const p = prepare(
    'judge',
    judgeTemplate,
    o,
    {
      rubric: o.rubric,
      min: o.scaleMin,
      max: o.scaleMax,
      criteria: o.criteria.length ? o.criteria.join(', ') : '(none: overall only)',
    },
    spec,
  );
  return simpleTask('judge', o, deps, p, {
    toResult: (v, provenance) => ({
      task: 'judge',
      question: 'judge',
      value: v.score,
      scores: v.criteria ?? {},
      scale: [o.scaleMin, o.scaleMax],
      reasons: v.reasons,
      provenance,
    }),
  });
}

function critiqueTask(o: CritiqueOptions, deps: TaskDeps): LlmTask {
  const spec = structuredSpec(critiqueSchema, 'critique_answer');
  const p = prepare('critique', critiqueTemplate, o, { field: o.field }, spec);
  return simpleTask('critique', o, deps, p, {
    check: (r) => (r[o.field] === undefined ? `the record has no "${o.field}" field to critique` : undefined),
    toResult: (v, provenance) => ({
      task: 'critique',
      question: o.question ?? o.field,
      value: v.refined,
      rationale: v.critique,
      provenance,
    }),
  });
}

function consistencyTask(o: ConsistencyOptions, deps: TaskDeps): LlmTask & { batchSamples: SamplesFacet } {
  const spec = structuredSpec(labelSchema(o.labels), 'label_answer');
  const p = prepare(
    'consistency',
    consistencyTemplate,
    o,
    { labels: o.labels.length ? o.labels.join(', ') : '(any short label that fits)' },
    spec,
    labelFewShot(o.examples, o.inputFields, annotationKeys(o.fields)),
  );
  const temperature = o.temperature > 0 ? o.temperature : 0.7;
  const messagesFor = (record: Record<string, unknown>): ChatMessage[] =>
    renderMessages(p.template, p.system, record, {
      inputFields: o.inputFields,
      fewShot: p.fewShot,
      exclude: p.exclude,
    });
  // each sample its own seed (base seed + index) and cache slot
  const paramsOf = (s: number): SamplingParams => ({ ...samplingParams(o, temperature), seed: (o.seed ?? 0) + s });
  const sampleCall = async (messages: ChatMessage[], s: number, signal: AbortSignal): Promise<SampleOutcome> => {
    const r = await structuredCall(deps.client, {
      messages,
      spec: p.spec,
      params: paramsOf(s),
      model: o.model,
      mode: o.structuredMode,
      cache: deps.cache,
      template: { id: p.template.id, version: p.template.version },
      sample: s,
      signal,
    });
    return r.ok
      ? {
          ok: true,
          value: r.value.label,
          confidence: r.value.confidence,
          rationale: r.value.rationale,
          model: r.model,
          time: r.time,
          usage: r.usage,
          cached: r.cached,
          requests: r.requests,
        }
      : { ok: false, reason: r.reason, usage: r.usage, requests: r.requests };
  };
  /** The k samples' aggregation: the majority label, the agreement share as its confidence (online and batch alike). */
  const resultOf = (
    outcomes: readonly SampleOutcome[],
  ): { ok: true; result: TaskResult } | { ok: false; reason: string } => {
    const usage = outcomes.reduce<Usage>(
      (u, r) => ({
        input_tokens: u.input_tokens + r.usage.input_tokens,
        output_tokens: u.output_tokens + r.usage.output_tokens,
      }),
      { ...ZERO },
    );
    const good = outcomes.flatMap((r, s) => (r.ok ? [{ r, s }] : []));
    if (good.length === 0) {
      const first = outcomes.find((r): r is Extract<SampleOutcome, { ok: false }> => !r.ok);
      return { ok: false, reason: `all ${o.k} samples failed: ${first?.reason ?? '?'}` };
    }
    const samples = good.map(({ r, s }) => ({
      value: r.value,
      confidence: r.confidence,
      rationale: r.rationale,
      provenance: { model: r.model, prompt_hash: p.hash, time: r.time, usage: r.usage, sample: s },
    }));
    const time = samples.reduce((t, x) => (x.provenance.time > t ? x.provenance.time : t), '');
    const m = majority(samples.map((x) => x.value));
    const failedSamples = outcomes.length - good.length;
    const votes = samples.filter((x) => x.value === m.value).length;
    return {
      ok: true,
      result: {
        task: 'consistency',
        question: o.question ?? o.fields?.question ?? 'label',
        value: m.value,
        confidence: m.agreement,
        rationale: `${votes} of ${o.k} samples agree${failedSamples > 0 ? ` (${failedSamples} failed)` : ''}`,
        samples,
        provenance: { model: o.model, prompt_hash: p.hash, time, usage },
      },
    };
  };
  return {
    id: 'consistency',
    model: o.model,
    promptHash: p.hash,
    promptSource: promptSource(p),
    estimate: (record) => ({
      requests: o.k,
      inputTokens: o.k * messagesTokens(messagesFor(record)),
      outputTokens: o.k * outputEstimate('consistency', o),
    }),
    key: (record) => requestKey(messagesFor(record)),
    async run(record, ctx): Promise<TaskOutcome> {
      const messages = messagesFor(record);
      const results = await Promise.all(Array.from({ length: o.k }, (_, s) => sampleCall(messages, s, ctx.signal)));
      const r = resultOf(results);
      const usage = results.reduce<Usage>(
        (u, x) => ({
          input_tokens: u.input_tokens + x.usage.input_tokens,
          output_tokens: u.output_tokens + x.usage.output_tokens,
        }),
        { ...ZERO },
      );
      const requests = results.reduce((n, x) => n + (x.requests ?? 0), 0);
      if (!r.ok) return { ok: false, reason: r.reason, usage, requests };
      const cached = results.every((x) => x.ok && x.cached);
      return { ok: true, cached, usage, requests, result: r.result };
    },
    // The k requests of a record as batch lines (src/core/llm/batch/samples.ts): the same bodies
    // (seed base + index), the same validation and the same aggregation as the online run.
    batchSamples: {
      k: o.k,
      request(record) {
        const messages = messagesFor(record);
        return {
          messages,
          bodies: Array.from({ length: o.k }, (_, s) =>
            structuredBody(
              { messages, spec: p.spec, params: paramsOf(s), model: o.model },
              o.structuredMode ?? 'json_schema',
            ),
          ),
        };
      },
      accept(answer) {
        const none = { input_tokens: answer.usage.input_tokens, output_tokens: answer.usage.output_tokens };
        if (answer.refusal) return { ok: false, reason: `refused: ${answer.refusal}`, usage: none };
        const v = checkStructured(p.spec, answer.content ?? '');
        if (!v.ok) return { ok: false, reason: `invalid answer: ${v.error}`, usage: none };
        return {
          ok: true,
          value: v.value.label,
          confidence: v.value.confidence,
          rationale: v.value.rationale,
          model: answer.model ?? o.model,
          time: new Date().toISOString(),
          usage: answer.usage,
        };
      },
      sample: (record, s, signal) => sampleCall(messagesFor(record), s, signal),
      result: resultOf,
    },
  };
}

/**
 * Few-shot demonstrations for the label task: the first `n` records whose label a person decided
 * (annotations.human.<question>, submitted), without their annotation fields.
 */
export function humanLabeledExamples(ds: JsonlDataset, n: number, fields: FieldMap = defaultFields): FewShotExample[] {
  const out: FewShotExample[] = [];
  const exclude = annotationKeys(fields);
  for (let i = 0; i < ds.lineCount && out.length < n; i++) {
    const v = ds.line(i).value;
    if (!v) continue;
    const h = readAnnotation(v, fields).human;
    if (h && h.status === 'submitted' && typeof h.value === 'string')
      out.push({ record: recordInput(v, undefined, exclude), label: h.value });
  }
  return out;
}

// ---- operations -------------------------------------------------------------------------------

/** What the host (CLI or VS Code) supplies: the key and, optionally, the dataset adapters. */
export interface LlmEnv {
  /** From VS Code SecretStorage or the environment (e.g. OPENAI_API_KEY). Never an option. */
  apiKey(): string | undefined | Promise<string | undefined>;
  /**
   * The records and where results go. Default: the dataset store over the job's target file (the
   * input with `inPlace`, else a copy at `output`), saved atomically when the job ends.
   */
  openSource?(options: CommonOptions): Promise<RecordSource>;
  openSink?(source: RecordSource, options: CommonOptions, task: TaskId): Promise<ResultSink>;
  log?(line: string): void;
}

export function defaultOutputPath(input: string, task: TaskId): string {
  return `${input.replace(/\.jsonl$/i, '')}.${task}.jsonl`;
}

/** The file a job writes: the input itself (in place), else `output` (default `<input>.<task>.jsonl`). */
export function targetPath(o: CommonOptions, task: TaskId): string {
  return o.inPlace ? o.input : (o.output ?? defaultOutputPath(o.input, task));
}

export function defaultJobId(task: TaskId, options: CommonOptions, promptHashValue: string): string {
  const {
    jobId: _j,
    limit: _l,
    concurrency: _c,
    requestsPerMinute: _r,
    tokensPerMinute: _t,
    timeoutSeconds: _ts,
    maxRetries: _m,
    retryFailed: _rf,
    ...rest
  } = options;
  // The list of judges is not part of one judge's job: adding a judge later resumes the others'.
  const { judgeModels: _jm, models: _ms, ...own } = rest as typeof rest & { judgeModels?: unknown; models?: unknown };
  const h = createHash('sha256')
    .update(canonicalJson({ task, input: resolve(options.input), rest: own, prompt: promptHashValue }))
    .digest('hex');
  return `${task}-${h.slice(0, 12)}`;
}

export function clientFor(o: CommonOptions, apiKey: string | undefined, log?: (line: string) => void): LlmClient {
  return new LlmClient({
    baseURL: o.baseURL,
    apiKey,
    model: o.model,
    timeoutMs: o.timeoutSeconds * 1000,
    maxRetries: o.maxRetries,
    concurrency: o.concurrency,
    requestsPerMinute: o.requestsPerMinute || undefined,
    tokensPerMinute: o.tokensPerMinute || undefined,
    retryAfterCapMs: o.retryAfterCapSeconds * 1000,
    log,
  });
}

/** The models of a job: the judges of a judge job (`judgeModels`), the `models` of a label or consistency job, else the one model. */
export function modelsOf(id: TaskId, o: CommonOptions): string[] {
  const many =
    id === 'judge'
      ? (o as JudgeOptions).judgeModels
      : id === 'label' || id === 'consistency'
        ? (o as LabelOptions).models
        : [];
  return many.length > 0 ? [...new Set(many)] : [o.model];
}

/** The job id of the k-th of `count` models' jobs: a given job id names the run, each model's job gets its own journal under it. */
export function jobIdOf(id: TaskId, o: CommonOptions, k: number, count: number, promptHashValue: string): string {
  if (o.jobId !== undefined) return count > 1 ? `${o.jobId}.${id === 'judge' ? 'judge' : 'model'}${k + 1}` : o.jobId;
  return defaultJobId(id, o, promptHashValue);
}

/** The prices of a job's model: the options' when set, else the table's (./prices.ts), else 0. */
export function pricesOf(o: CommonOptions): { input: number; output: number } {
  const p = effectivePrices(o.model, { input: o.pricePerMillionInputTokens, output: o.pricePerMillionOutputTokens });
  return { input: p.input, output: p.output };
}

/**
 * The records an earlier, interrupted run of this job already finished (its journal), which a
 * resume does not send again: ok and skipped ones, and failed ones unless they are retried.
 */
function finishedInJournal(
  id: TaskId,
  o: CommonOptions,
  k: number,
  count: number,
  task: LlmTask,
): {
  /** Whether the journal has an entry for the record at `i` (which `has` then checks). */
  entry(i: number): boolean;
  has(i: number, record: () => Promise<Record<string, unknown> | undefined>): Promise<boolean>;
  readonly size: number;
} {
  const path = journalPathFor(journalDirFor(targetPath(o, id)), jobIdOf(id, o, k, count, task.promptHash));
  const state = readJournal(path, true);
  const done = new Map<number, string | undefined>();
  const h = state.header;
  if (
    h &&
    h.version === JOURNAL_VERSION &&
    h.task === task.id &&
    h.prompt_hash === task.promptHash &&
    h.model === task.model
  ) {
    for (const [i, e] of state.records) if (e.status !== 'failed' || !o.retryFailed) done.set(i, e.key);
  }
  // An entry bound to its record's content (a journal `key`) counts only while the record at that
  // index still has that content; the runner redoes the others. The record is read only to check an
  // entry's key: an index with no entry is left to do whatever the record holds.
  return {
    size: done.size,
    entry: (i) => done.has(i),
    has: async (i, record) => {
      if (!done.has(i)) return false;
      const key = done.get(i);
      if (key === undefined || task.key === undefined) return true;
      const value = await record();
      return value === undefined || task.key(value) === key;
    },
  };
}

/** A job's client (with the host's key), its response cache and a log line going to both logs. */
export async function openEngine(
  o: CommonOptions,
  env: { apiKey(): string | undefined | Promise<string | undefined>; log?(line: string): void },
  ctx: { log(line: string): void },
): Promise<{ client: LlmClient; cache?: ResponseCache; log: (line: string) => void; close: () => void }> {
  const log = (l: string): void => {
    ctx.log(l);
    env.log?.(l);
  };
  const client = clientFor(o, await env.apiKey(), log);
  const cache = cacheFor(o);
  return {
    client,
    cache,
    log,
    close: () => {
      client.close();
      cache?.close();
    },
  };
}

/** The response cache of a job: `cacheDir`, else the per-user cache (defaultCacheDir()); none with `noCache`. */
export function cacheFor(o: CommonOptions): ResponseCache | undefined {
  return o.noCache ? undefined : new ResponseCache(o.cacheDir ?? defaultCacheDir());
}

async function estimateTask<K extends TaskId>(
  id: K,
  o: TaskOptionsById[K],
  env: LlmEnv,
  ctx: EstimateContext,
): Promise<Estimate> {
  let opened: JsonlDataset | undefined;
  let source: RecordSource;
  if (env.openSource) source = await env.openSource(o);
  else {
    opened = await JsonlDataset.open(o.input);
    await opened.ready;
    source = new StoreRecordSource(opened);
  }
  const client = clientFor(o, undefined);
  try {
    const models = modelsOf(id, o);
    // Per model: its task (prompt, hash) and the records its journal already has (a resume).
    const jobs = models.map((model, k) => {
      const om = { ...o, model } as TaskOptionsById[K];
      const task = createTask(id, om, { client });
      return { om, task, done: finishedInJournal(id, om, k, models.length, task), prices: pricesOf(om) };
    });
    const n = Math.min(source.count(), o.limit ?? Infinity);
    const e: Estimate = { records: n, requests: 0, inputTokens: 0, outputTokens: 0, cost: 0 };
    let cost = 0;
    let pending = 0;
    // A first run reads a sample past a size; a resume walks every record (which are done is known
    // only record by record) and counts the tokens of a sample of the records left.
    const first = jobs.every((j) => j.done.size === 0);
    const counted = first ? undefined : new LeftSample(n - Math.min(...jobs.map((j) => j.done.size)));
    // A record's requests and tokens, for the jobs that have it left to do.
    const count = (v: Record<string, unknown>, left: typeof jobs): void => {
      const r = (left[0] as (typeof jobs)[number]).task.estimate(v);
      for (const j of left) {
        e.requests += r.requests;
        e.inputTokens += r.inputTokens;
        e.outputTokens += r.outputTokens;
        cost += (r.inputTokens * j.prices.input + r.outputTokens * j.prices.output) / 1e6;
      }
    };
    const read = (i: number): Promise<Record<string, unknown> | undefined> =>
      Promise.resolve(source.get(i)).then((r) => r.value);
    // A record some journal has an entry for: read (at most once) when an entry's key is checked or
    // its tokens are counted.
    const journaled = async (i: number): Promise<void> => {
      let got: Promise<Record<string, unknown> | undefined> | undefined;
      const value = (): Promise<Record<string, unknown> | undefined> => (got ??= read(i));
      const left: typeof jobs = [];
      for (const j of jobs) if (!(await j.done.has(i, value))) left.push(j);
      if (left.length === 0) return;
      pending++;
      // (an invalid line taken into the sample counts as nothing: the scaled sum stays even)
      if (counted && !counted.take(i)) return;
      const v = await value();
      if (v) count(v, left);
    };
    // A record no journal has is left to do without being read: a resume reads only the records
    // whose entries it checks and those of its sample (the 1 GB file's resume read and parsed its
    // million records for the ten thousand it counts: 17 s, now about 2).
    const pass = await estimatePass(n, ctx, first, (i) => {
      for (const j of jobs) if (j.done.entry(i)) return journaled(i);
      pending++;
      if (counted && !counted.take(i)) return;
      return read(i).then((v) => v && count(v, jobs));
    });
    e.cost = cost;
    // Records left to do (every record on a first run); `records` stays the file's.
    if (!pass.sampled && pending < n) e.remaining = pending;
    const scaled = scaleEstimate(e, pass);
    return counted ? counted.scale(scaled) : scaled;
  } finally {
    client.close();
    opened?.close();
  }
}

type RunContext = { signal: AbortSignal; progress: (p: Progress) => void; log: (l: string) => void };

/** One job: one task and model over the file. */
async function runOne<K extends TaskId>(
  id: K,
  o: TaskOptionsById[K],
  env: LlmEnv,
  ctx: RunContext,
): Promise<JobSummary> {
  const { client, cache, log, close } = await openEngine(o, env, ctx);
  const target = targetPath(o, id);
  let opened: JsonlDataset | undefined;
  let fresh = false;
  let jobId = '';
  let storeSink: StoreResultSink | undefined;
  try {
    const task = createTask(id, o, { client, cache });
    jobId = o.jobId ?? defaultJobId(id, o, task.promptHash);
    let source: RecordSource;
    let sink: ResultSink;
    if (env.openSource) {
      source = await env.openSource(o);
      if (!env.openSink) throw new UserError('a custom record source needs a custom result sink (env.openSink)');
      sink = await env.openSink(source, o, id);
    } else {
      fresh = target !== o.input && !existsSync(target);
      opened = await openJobTarget(o.input, target === o.input ? undefined : target, {
        annotationKeys: annotationKeys(o.fields),
        log,
      });
      source = new StoreRecordSource(opened);
      storeSink = new StoreResultSink(opened, {
        fields: o.fields ?? defaultFields,
        replace: o.replaceExisting,
        batchSize: SINK_BATCH,
      });
      sink = storeSink;
    }
    log(`${id} with ${o.model}: ${task.promptSource ?? task.promptHash}`);
    const summary = await runJob({
      jobId,
      journalDir: journalDirFor(target),
      task,
      source,
      sink,
      concurrency: o.concurrency,
      signal: ctx.signal,
      progress: ctx.progress,
      log,
      prices: pricesOf(o),
      retryFailed: o.retryFailed,
      limit: o.limit,
    });
    // The store's sink (ours, or a face's) says what it did not apply or kept.
    const ss = storeSink ?? (sink instanceof StoreResultSink ? sink : undefined);
    if (ss && ss.missed > 0)
      log(`${ss.missed} result(s) not applied: their records were edited or removed while the job ran`);
    if (ss && ss.kept > 0) {
      const what = id === 'rationale' ? 'rationale' : 'label';
      log(
        `${ss.kept} record(s) already had a ${what} other than the model's answer: kept (the answer is a suggestion beside it); replaceExisting replaces it, keeping the old one in annotations.history`,
      );
    }
    return summary;
  } catch (err) {
    // Stopped by a fatal error (no server there, a bad key) before any record had a result: the
    // output this run made is a mere copy of the input; it and the empty journal go.
    if (fresh && (storeSink?.received ?? 0) === 0 && err instanceof LlmError && err.kind === 'fatal') {
      opened?.close();
      opened = undefined;
      removeUnused(target, journalPathFor(journalDirFor(target), jobId));
    }
    throw err;
  } finally {
    close();
    opened?.close();
  }
}

/** Removes a job's output copy and its journal (and the journal folder when nothing else is in it). */
function removeUnused(output: string, journal: string): void {
  rmSync(output, { force: true });
  rmSync(journal, { force: true });
  const dir = dirname(journal);
  try {
    // The folder's own .gitignore (store/files ensureGitIgnored) does not keep it.
    const left = readdirSync(dir);
    if (left.every((n) => n === '.gitignore')) {
      for (const n of left) rmSync(join(dir, n), { force: true });
      rmdirSync(dir);
    }
  } catch {
    /* not there */
  }
}

/**
 * Runs a task; a judge task with several `judgeModels` runs one job per judge over the same file
 * (one after the other, sharing the cache and the journal folder; each has its own journal), so
 * every record gets every judge's verdict. The summary then adds up the judges' (`parts` has each).
 */
async function runTask<K extends TaskId>(
  id: K,
  o: TaskOptionsById[K],
  env: LlmEnv,
  ctx: RunContext,
): Promise<JobSummary> {
  const models = modelsOf(id, o);
  if (models.length === 1) return runOne(id, { ...o, model: models[0] as string }, env, ctx);
  const parts: JobSummary[] = [];
  for (const [k, model] of models.entries()) {
    const progress = (p: Progress): void =>
      ctx.progress({
        done: k * (p.total ?? 0) + p.done,
        total: p.total === undefined ? undefined : p.total * models.length,
        unit: p.unit,
        message: `${id === 'judge' ? 'judge' : 'model'} ${k + 1} of ${models.length} (${model}) · ${p.message ?? ''}`,
      });
    // A given job id names the run: each model's job gets its own journal under it.
    const jobId = o.jobId === undefined ? undefined : `${o.jobId}.${id === 'judge' ? 'judge' : 'model'}${k + 1}`;
    try {
      parts.push(await runOne(id, { ...o, model, jobId }, env, { ...ctx, progress }));
    } catch (err) {
      if (err instanceof JobCancelledError) throw new JobCancelledError(mergeSummaries([...parts, err.summary]));
      throw err;
    }
  }
  return mergeSummaries(parts);
}

function op<K extends TaskId, S extends z.ZodType<TaskOptionsById[K]>>(
  id: K,
  opId: string,
  title: string,
  description: string,
  schema: S,
  env: LlmEnv,
): Operation<S, JobSummary> {
  return defineOperation<S, JobSummary>({
    id: opId,
    title,
    description,
    options: schema,
    // A folder or a binary file is refused up front (else every line would be skipped as invalid, exit 0).
    estimate: async (o, ctx) => {
      if (!env.openSource) assertDatasetFile(o.input);
      return estimateTask(id, o as TaskOptionsById[K], env, ctx);
    },
    run: async (o, ctx) => {
      if (!env.openSource) assertDatasetFile(o.input);
      return runTask(id, o as TaskOptionsById[K], env, ctx);
    },
  });
}

/** The five LLM operations, bound to a host environment (API key source, dataset adapters), by their id (the task's). */
export function llmOperations(env: LlmEnv) {
  return {
    label: op(
      'label',
      'label',
      'Label records with an LLM',
      'Suggests one label per record (zero- or few-shot), with confidence and rationale.',
      LabelOptions,
      env,
    ),
    rationale: op(
      'rationale',
      'rationale',
      'Write rationales',
      'Explains why each record has its label.',
      RationaleOptions,
      env,
    ),
    judge: op(
      'judge',
      'judge',
      'Judge records with an LLM',
      'Scores each record against a rubric (overall and per criterion) with reasons; several judge models side by side.',
      JudgeOptions,
      env,
    ),
    consistency: op(
      'consistency',
      'consistency',
      'Self-consistency labels',
      'Samples the label k times and reports the majority and the agreement.',
      ConsistencyOptions,
      env,
    ),
    critique: op(
      'critique',
      'critique',
      'Critique and refine',
      'Critiques a field of each record and proposes a refined version, kept beside the original.',
      CritiqueOptions,
      env,
    ),
  };
}
