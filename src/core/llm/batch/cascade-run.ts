// The cost cascade as a run of the label operation (`cascade: [small, large]`, `escalateBelow`):
// the first model labels every record, each next one only the records whose confidence stayed
// below the threshold (cascade.ts selectEscalation), and what the last model leaves below it goes
// to the human review queue (annotations.review: pending, queue "low-confidence", what
// `curate review-queue` writes). Each stage is an ordinary job over those records, online
// (runJob) or as a Batch API job (runBatchOver), journaled under its own id: killed and run
// again, each stage resumes. The summary is the online runner's with `cascade`: per stage the
// records, accepted, escalated, review, failed, tokens and cost (cascade.ts cascadeReport).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OperationContext, Progress } from '../../operation';
import { UserError } from '../../operation';
import { journalDirFor, runJob, type CascadeInfo, type JobSummary } from '../../jobs/runner';
import { openJobTarget, SINK_BATCH, StoreRecordSource, StoreResultSink } from '../../jobs/store-io';
import type { RecordSource, ResultSink } from '../../jobs/types';
import { defaultFields, readAnnotation } from '../../schema/annotation';
import type { JsonlDataset } from '../../store';
import type { Usage } from '../client';
import {
  annotationKeys,
  createTask,
  defaultJobId,
  openEngine,
  pricesOf,
  targetPath,
  type LabelOptions,
  type LlmEnv,
} from '../tasks';
import { cascadeReport, estimateCascade, selectEscalation, type CascadeStage, type StageRecord } from './cascade';
import { finishBatchJob, writeBatchJobOptions } from './job-options';
import { runBatchOver, type BatchModeOptions } from './operation';

/** The review queue a cascade fills (the same name `curate review-queue` uses by default). */
export const CASCADE_QUEUE = 'low-confidence';
export const DEFAULT_ESCALATE_BELOW = 0.8;

/** The records at chosen indices of a source, as a source of their own. */
class Subset implements RecordSource {
  constructor(
    private readonly inner: RecordSource,
    readonly indices: readonly number[],
  ) {}
  count(): number {
    return this.indices.length;
  }
  get(i: number) {
    return this.inner.get(this.indices[i] as number);
  }
}

/** The confidence a record's own suggestion by `model` holds (a stage resumed from an earlier run's batch). */
function storedConfidence(
  record: Record<string, unknown> | undefined,
  model: string,
  o: LabelOptions,
): number | undefined {
  if (!record) return undefined;
  const question = o.question ?? o.fields?.question ?? 'label';
  const mine = readAnnotation(record, o.fields ?? defaultFields).suggestions.filter(
    (s) => s.question === question && (s.agent === model || s.agent?.startsWith(`${model}-`) === true),
  );
  const s = mine.find((x) => x.agent === model) ?? mine[0];
  return typeof s?.score === 'number' ? s.score : undefined;
}

/** What a record of the cascade is to its file of unlabeled records: 8 bytes of its request key. */
function shortKey(key: string): Buffer {
  return createHash('sha256').update(key).digest().subarray(0, 8);
}

/**
 * The records that had no label when the cascade first started (a later stage's label replaces
 * an earlier stage's only on those), kept beside the stage journals (`<job>.cascade.json`) until
 * the cascade ends: a cascade resumed after stage 1 wrote its labels (killed between two stages)
 * still knows which labels are its own. Bound to the records' content, not to their line numbers
 * (a line inserted or deleted meanwhile moves the others): the file holds 8 bytes of each such
 * record's request key (what the model reads of it, unchanged by the labels the stages write),
 * base64, about 11 bytes a record. `keyOf(i)`: that key of record i; `valid`: the records
 * counted. Returns the set of indices to use: the file's records found among them, else `now`
 * (written). A file of version 1 (line indices, before this) is read as it was written.
 */
async function rememberUnlabeled(
  journalDir: string,
  job: string,
  now: Set<number>,
  valid: readonly number[],
  keyOf: (i: number) => Promise<string>,
): Promise<Set<number>> {
  const path = join(journalDir, `${job}.cascade.json`);
  if (existsSync(path)) {
    try {
      const raw = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown; unlabeled?: unknown; keys?: unknown };
      if (raw.version === 2 && typeof raw.keys === 'string') {
        const packed = Buffer.from(raw.keys, 'base64');
        const keys = new Set<string>();
        for (let k = 0; k + 8 <= packed.length; k += 8) keys.add(packed.toString('hex', k, k + 8));
        const found = new Set<number>();
        for (const i of valid) if (keys.has(shortKey(await keyOf(i)).toString('hex'))) found.add(i);
        return found;
      }
      if (Array.isArray(raw.unlabeled) && raw.unlabeled.every((x) => Number.isSafeInteger(x)))
        return new Set(raw.unlabeled as number[]);
    } catch {
      // unreadable: written again from the records as they are
    }
  }
  const packed = Buffer.allocUnsafe(8 * now.size);
  let at = 0;
  for (const i of now) at += shortKey(await keyOf(i)).copy(packed, at);
  mkdirSync(journalDir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: 2, keys: packed.toString('base64') })}\n`);
  renameSync(tmp, path);
  return now;
}

/** Runs a label job as a cascade; `mode.batch`: every stage as a Batch API job. */
export async function runCascade(
  o: LabelOptions,
  env: LlmEnv,
  ctx: OperationContext,
  mode: BatchModeOptions & { batch: boolean },
): Promise<JobSummary> {
  const models = o.cascade ?? [];
  if (models.length < 2) throw new UserError('a cascade needs at least two models, cheapest first', 2, 'cascade');
  if (o.models.length > 0) throw new UserError('a cascade and several models side by side do not go together');
  const threshold = o.escalateBelow ?? DEFAULT_ESCALATE_BELOW;
  const started = performance.now();
  const target = targetPath(o, 'label');
  const journalDir = journalDirFor(target);
  const log = (l: string): void => {
    ctx.log(l);
    env.log?.(l);
  };
  let opened: JsonlDataset | undefined;
  try {
    // The records and where results go, once for every stage.
    let source: RecordSource;
    let open: (replace: boolean) => Promise<ResultSink>;
    if (env.openSource) {
      const s = (source = await env.openSource(o));
      const openSink = env.openSink?.bind(env);
      if (!openSink) throw new UserError('a custom record source needs a custom result sink (env.openSink)');
      open = (replace) => openSink(s, { ...o, replaceExisting: replace }, 'label');
    } else {
      const ds = (opened = await openJobTarget(o.input, target === o.input ? undefined : target, {
        annotationKeys: annotationKeys(o.fields),
        log,
      }));
      source = new StoreRecordSource(ds);
      open = (replace) =>
        Promise.resolve(new StoreResultSink(ds, { fields: o.fields ?? defaultFields, replace, batchSize: SINK_BATCH }));
    }
    const keep = await open(o.replaceExisting);
    const replace = o.replaceExisting ? keep : await open(true);
    // both sinks' results in the file (a sink may keep results until its flush: StoreResultSink's batchSize)
    const flushSinks = async (): Promise<void> => {
      await keep.flush();
      if (replace !== keep) await replace.flush();
    };
    const n = Math.min(source.count(), o.limit ?? Infinity);
    const labelField = (o.fields ?? defaultFields).label;
    // Records without a label before the cascade: a later stage's label replaces the earlier stage's.
    let unlabeled = new Set<number>();
    const skipped: JobSummary['skipped'] = [];
    let current: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = await source.get(i);
      if (!r.value) {
        skipped.push({ i, line: r.lineNumber, reason: r.invalid?.reason ?? 'not a JSON object' });
        continue;
      }
      current.push(i);
      if (r.value[labelField] === undefined || r.value[labelField] === null) unlabeled.add(i);
    }

    const stages: CascadeStage[] = [];
    const results: StageRecord[][] = [];
    const parts: JobSummary[] = [];
    const failures = new Map<number, { line: number; reason: string; model: string }>();
    // The cascade's job: its stages are `<job>.stage<n>`. One id for every stage (the whole
    // cascade's options, its models and all), so that the options written once beside the stage
    // journals (`<job>.batch.op.json`) resume the whole cascade (VS Code on activation).
    let cascadeJob = o.jobId;
    for (const [s, model] of models.entries()) {
      if (current.length === 0) break;
      const last = s === models.length - 1;
      const om: LabelOptions = { ...o, model, cascade: undefined, escalateBelow: undefined, models: [] };
      const stage: CascadeStage = { model, prices: pricesOf(om), mode: mode.batch ? 'batch' : 'online' };
      stages.push(stage);
      const progress = (p: Progress): void =>
        ctx.progress({ ...p, message: `stage ${s + 1} of ${models.length} (${model}) · ${p.message ?? ''}` });
      const engine = await openEngine(om, env, ctx);
      try {
        const task = createTask('label', om, {
          client: engine.client,
          ...(engine.cache ? { cache: engine.cache } : {}),
        });
        cascadeJob ??= defaultJobId('label', { ...o, model: models[0] as string }, task.promptHash);
        const jobId = `${cascadeJob}.stage${s + 1}`;
        if (mode.batch && s === 0) writeBatchJobOptions(journalDir, cascadeJob, 'label', { ...o, jobId: cascadeJob });
        if (s === 0) {
          const key = task.key?.bind(task);
          if (!key) throw new Error('the label task has no record key');
          unlabeled = await rememberUnlabeled(journalDir, cascadeJob, unlabeled, current, async (i) => {
            const r = (await source.get(i)).value;
            return r ? key(r) : '';
          });
        }
        const subset = new Subset(source, current);
        const got = new Map<number, { confidence?: number; usage?: Usage }>();
        const sink: ResultSink = {
          apply: (i, r, bound) => {
            const at = subset.indices[i] as number;
            got.set(at, {
              ...(r.confidence !== undefined ? { confidence: r.confidence } : {}),
              usage: r.provenance.usage,
            });
            // the stronger model's label takes the place of the weaker one's (not of a label the record had)
            return (s > 0 && unlabeled.has(at) ? replace : keep).apply(at, r, bound);
          },
          flush: flushSinks,
        };
        log(
          `cascade stage ${s + 1} of ${models.length}: ${model} on ${current.length} record(s)${mode.batch ? ' as a batch' : ''}`,
        );
        const summary = mode.batch
          ? await runBatchOver({
              id: 'label',
              o: om,
              task,
              env,
              ctx: { ...ctx, progress },
              mode,
              jobId,
              journalDir,
              source: subset,
              sink,
              log,
            })
          : await runJob({
              jobId,
              journalDir,
              task,
              source: subset,
              sink,
              concurrency: o.concurrency,
              signal: ctx.signal,
              progress,
              log,
              prices: pricesOf(om),
              retryFailed: o.retryFailed,
            });
        await flushSinks();
        parts.push(summary);
        for (const f of summary.failed)
          failures.set(subset.indices[f.i] as number, { line: f.line, reason: f.reason, model });
        const records: StageRecord[] = [];
        for (const i of current) {
          const g = got.get(i);
          const confidence = g ? g.confidence : storedConfidence((await source.get(i)).value, model, om);
          const failed = g === undefined && confidence === undefined;
          records.push({
            key: i,
            ...(confidence !== undefined ? { confidence } : {}),
            ...(failed ? { failed } : {}),
            ...(g?.usage ? { usage: g.usage } : {}),
          });
          if (!failed) failures.delete(i);
        }
        results.push(records);
        const sel = selectEscalation(records, threshold, last);
        current = sel.escalate;
      } finally {
        engine.close();
      }
    }
    const report = cascadeReport(stages, results, threshold);
    const review = [...report.decidedBy].filter(([, d]) => d === 'review').map(([i]) => i);
    if (review.length > 0) {
      if (keep.review) {
        for (const i of review) keep.review(i, CASCADE_QUEUE);
        await flushSinks();
        log(
          `${review.length} record(s) below ${threshold} after ${models.at(-1) ?? ''}: sent to the review queue "${CASCADE_QUEUE}"`,
        );
      } else log(`${review.length} record(s) below ${threshold} after the last model (this sink cannot queue them)`);
    }
    const first = report.stages[0];
    const perRecord: Usage = first?.records
      ? {
          input_tokens: Math.round(first.tokens.input_tokens / first.records),
          output_tokens: Math.round(first.tokens.output_tokens / first.records),
        }
      : { input_tokens: 0, output_tokens: 0 };
    const cascade: CascadeInfo = {
      threshold,
      stages: report.stages,
      accepted: report.total.accepted,
      review: review.length,
      queue: CASCADE_QUEUE,
      cost: report.total.cost,
      strongestOnly: estimateCascade(
        models.map((m) => ({ model: m, prices: pricesOf({ ...o, model: m }), mode: mode.batch ? 'batch' : 'online' })),
        first?.records ?? 0,
        perRecord,
        [],
      ).strongestOnly,
    };
    // every stage's answers applied: the cascade is no longer resumed on activation
    if (mode.batch && cascadeJob !== undefined) finishBatchJob(journalDir, cascadeJob);
    if (cascadeJob !== undefined) rmSync(join(journalDir, `${cascadeJob}.cascade.json`), { force: true });
    const sum = (f: (p: JobSummary) => number): number => parts.reduce((x, p) => x + f(p), 0);
    const answered = new Set(results.flatMap((r) => r.filter((x) => !x.failed).map((x) => x.key)));
    return {
      jobId: parts.map((p) => p.jobId).join('+'),
      task: 'label',
      model: models.join(' > '),
      total: n,
      ok: answered.size,
      failed: [...failures].map(([i, f]) => ({ i, ...f })).sort((a, b) => a.i - b.i),
      skipped,
      cached: sum((p) => p.cached),
      resumed: parts[0]?.resumed ?? 0,
      requests: sum((p) => p.requests),
      tokens: {
        input_tokens: sum((p) => p.tokens.input_tokens),
        output_tokens: sum((p) => p.tokens.output_tokens),
      },
      cost: sum((p) => p.cost),
      elapsedMs: performance.now() - started,
      journal: parts.map((p) => p.journal).join(', '),
      complete: parts.every((p) => p.complete),
      cascade,
    };
  } finally {
    opened?.close();
  }
}
