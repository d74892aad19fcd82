// A k-sample task (self-consistency) as a batch job: each record's k samples are k requests, with
// custom_ids `<content-bound id>#<i>` (the online run sends k requests too, sample i with seed
// base + i: the batch sends the same bodies, so a deterministic endpoint gives the same answers).
// A record's result is the online run's aggregation (majority label, agreement share as its
// confidence, the samples with their provenance) once all k samples are in. Samples that failed
// or expired go to the follow-up batch like any request (run.ts); a record some of whose samples
// are still missing after it is listed failed, and `retryOnline` sends only its missing samples
// through the online path (`missingSamplesTask`), then aggregates them with the batch's.
//
// Resuming: a record is applied (and saved) with the part its last sample came in; run again, the
// parts applied before are replayed (run.ts), so a record all of whose samples are replayed was
// applied by an earlier run (counted, not applied again) and one with a fresh sample is applied now.
import type { TaskResult } from '../apply-result';
import type { ChatMessage, Usage } from '../client';
import type { LlmTask, RecordSource, ResultSink, TaskOutcome } from '../../jobs/types';
import type { SampleOutcome, SamplesFacet } from './facet';
import type { BatchOutcome, BatchRequest } from './format';
import { limitOf, runOptionsOf, type BatchJobOptions, type BatchJobSummary } from './job';
import { customIdFor, messagesKey, type ApplySummary } from './records';
import { runBatch } from './run';

/** A record's key (the job journal's: a hash of the messages its requests send). */
export type RecordKey = (record: Record<string, unknown>) => string;

/** The content-bound id of a record's k samples (`<id>#<i>` is sample i's custom_id). */
function baseIdOf(
  facet: SamplesFacet,
  bodies: Array<Record<string, unknown>>,
  messages: ChatMessage[],
  key: RecordKey | undefined,
  record: Record<string, unknown>,
): string {
  return customIdFor(
    { ...(bodies[0] as Record<string, unknown>), samples: facet.k },
    key ? key(record) : messagesKey(messages),
  );
}

export function sampleId(base: string, s: number): string {
  return `${base}#${s}`;
}

/** The record's base id and its sample requests, or why it has none. */
export function sampleRequestsOf(
  facet: SamplesFacet,
  record: Record<string, unknown>,
  key?: RecordKey,
): { base: string; requests: BatchRequest[] } | { skip: string } {
  const r = facet.request(record);
  if ('skip' in r) return r;
  const base = baseIdOf(facet, r.bodies, r.messages, key, record);
  return { base, requests: r.bodies.map((body, s) => ({ custom_id: sampleId(base, s), body })) };
}

function parseSampleId(id: string): { base: string; s: number } | undefined {
  const at = id.lastIndexOf('#');
  if (at < 0) return undefined;
  const s = Number(id.slice(at + 1));
  return Number.isInteger(s) && s >= 0 ? { base: id.slice(0, at), s } : undefined;
}

/** The sample requests of a source's records (k per distinct record, in record order). */
export async function* sampleRequests(
  source: RecordSource,
  facet: SamplesFacet,
  opts: { key?: RecordKey; limit?: number } = {},
): AsyncGenerator<BatchRequest> {
  const n = Math.min(source.count(), opts.limit ?? Infinity);
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const rec = await source.get(i);
    if (!rec.value) continue;
    const r = sampleRequestsOf(facet, rec.value, opts.key);
    if ('skip' in r || seen.has(r.base)) continue;
    seen.add(r.base);
    yield* r.requests;
  }
}

interface SampleSet {
  outcomes: Array<SampleOutcome | undefined>;
  /** A sample of this run (not replayed from a part applied before): the record is applied now. */
  fresh: boolean;
}

/**
 * Applies sample outcomes to the records they were computed from (the content check of
 * records.ts's BatchApplier, per record rather than per request): a record gets its result when
 * its k samples are in.
 */
export class SampleApplier {
  private byBase = new Map<string, number | number[]>();
  private sets = new Map<string, SampleSet>();
  private settled = new Set<string>();
  private lines = new Map<number, number>();
  private pending: Array<{ i: number; result: TaskResult }> = [];
  private indexed = false;
  readonly summary: ApplySummary = { applied: 0, resumed: 0, answers: 0, failed: [], stale: [], redo: [], skipped: [] };

  constructor(
    private readonly source: RecordSource,
    private readonly sink: ResultSink,
    private readonly facet: SamplesFacet,
    private readonly opts: { key?: RecordKey; limit?: number; onAnswer?: (usage: Usage) => void } = {},
  ) {}

  async index(): Promise<void> {
    this.indexed = true;
    this.byBase.clear();
    const n = Math.min(this.source.count(), this.opts.limit ?? Infinity);
    for (let i = 0; i < n; i++) {
      const rec = await this.source.get(i);
      if (!rec.value) {
        this.summary.skipped.push({ i, line: rec.lineNumber, reason: rec.invalid?.reason ?? 'not a JSON object' });
        continue;
      }
      const r = sampleRequestsOf(this.facet, rec.value, this.opts.key);
      if ('skip' in r) {
        this.summary.skipped.push({ i, line: rec.lineNumber, reason: r.skip });
        continue;
      }
      const had = this.byBase.get(r.base);
      if (had === undefined) this.byBase.set(r.base, i);
      else if (typeof had === 'number') this.byBase.set(r.base, [had, i]);
      else had.push(i);
      if (rec.lineNumber !== i + 1) this.lines.set(i, rec.lineNumber);
    }
  }

  async apply(o: BatchOutcome, ctx: { willRetry?: boolean; replayed?: boolean } = {}): Promise<void> {
    if (!this.indexed) await this.index();
    const id = parseSampleId(o.custom_id);
    const at = id && id.s < this.facet.k ? this.byBase.get(id.base) : undefined;
    if (!id || at === undefined) {
      this.summary.stale.push(o.custom_id);
      return;
    }
    if (this.settled.has(id.base)) return;
    let set = this.sets.get(id.base);
    if (!set) {
      set = { outcomes: new Array<SampleOutcome | undefined>(this.facet.k).fill(undefined), fresh: false };
      this.sets.set(id.base, set);
    }
    if (set.outcomes[id.s]?.ok) return; // one answer per sample
    if (!o.ok) {
      if (ctx.willRetry) return;
      set.outcomes[id.s] = {
        ok: false,
        reason: `${o.kind}${o.status ? ` (HTTP ${o.status})` : ''}: ${o.message}`,
        usage: { input_tokens: 0, output_tokens: 0 },
      };
      return;
    }
    this.opts.onAnswer?.(o.answer.usage);
    set.outcomes[id.s] = this.facet.accept({
      content: o.answer.content,
      refusal: o.answer.refusal,
      ...(o.answer.model !== undefined ? { model: o.answer.model } : {}),
      usage: o.answer.usage,
    });
    if (!set.outcomes[id.s]?.ok) return;
    if (!ctx.replayed) set.fresh = true;
    if (!set.outcomes.every((x) => x?.ok)) return;
    // every sample is in: the record's result
    const r = this.facet.result(set.outcomes as SampleOutcome[]);
    this.settled.add(id.base);
    this.sets.delete(id.base);
    if (!r.ok) return;
    const indices = typeof at === 'number' ? [at] : at;
    this.summary.answers++;
    this.summary.applied += indices.length;
    if (!set.fresh) {
      this.summary.resumed += indices.length;
      return;
    }
    for (const i of indices) this.pending.push({ i, result: r.result });
  }

  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    batch.sort((a, b) => a.i - b.i);
    for (const { i, result } of batch) {
      const p = this.sink.apply(i, result);
      if (p instanceof Promise) await p;
    }
  }

  /**
   * The samples the batch gave a record that did not get all k (undefined or failed: missing), for
   * the online retry of just the missing ones.
   */
  samplesOf(base: string): ReadonlyArray<SampleOutcome | undefined> | undefined {
    return this.sets.get(base)?.outcomes;
  }

  finish(): ApplySummary {
    if (this.pending.length > 0)
      throw new Error('SampleApplier.finish() before flush(): results not given to the sink');
    this.summary.failed = [];
    this.summary.redo = [];
    const k = this.facet.k;
    for (const [base, at] of this.byBase) {
      if (this.settled.has(base)) continue;
      const set = this.sets.get(base);
      const outcomes = set?.outcomes ?? [];
      const good = outcomes.filter((x) => x?.ok).length;
      const failed = outcomes.filter((x) => x && !x.ok);
      for (const i of typeof at === 'number' ? [at] : at) {
        if (failed.length === 0) this.summary.redo.push({ i, line: this.line(i) });
        else {
          const first = failed[0] as Extract<SampleOutcome, { ok: false }>;
          this.summary.failed.push({
            i,
            line: this.line(i),
            custom_id: base,
            reason: `${good} of ${k} samples answered, ${k - good} missing: ${first.reason}`,
          });
        }
      }
    }
    this.summary.failed.sort((a, b) => a.i - b.i);
    this.summary.redo.sort((a, b) => a.i - b.i);
    return this.summary;
  }

  private line(i: number): number {
    return this.lines.get(i) ?? i + 1;
  }
}

/**
 * The online retry of the records a k-sample batch left incomplete: only their missing samples
 * are requested (with the same seeds as the batch's), then the online run's aggregation over the
 * batch's samples and these.
 */
export function missingSamplesTask(
  task: LlmTask,
  facet: SamplesFacet,
  applier: SampleApplier,
  key?: RecordKey,
): LlmTask {
  return {
    ...task,
    estimate: (record) => task.estimate(record),
    async run(record, ctx): Promise<TaskOutcome> {
      const r = sampleRequestsOf(facet, record, key);
      if ('skip' in r) return { ok: false, reason: r.skip, usage: { input_tokens: 0, output_tokens: 0 }, requests: 0 };
      const have = applier.samplesOf(r.base) ?? [];
      const fresh: SampleOutcome[] = [];
      const outcomes = await Promise.all(
        Array.from({ length: facet.k }, async (_, s) => {
          const h = have[s];
          if (h?.ok) return h;
          const x = await facet.sample(record, s, ctx.signal);
          fresh.push(x);
          return x;
        }),
      );
      const usage = fresh.reduce<Usage>(
        (u, x) => ({
          input_tokens: u.input_tokens + x.usage.input_tokens,
          output_tokens: u.output_tokens + x.usage.output_tokens,
        }),
        { input_tokens: 0, output_tokens: 0 },
      );
      const requests = fresh.reduce((n, x) => n + (x.requests ?? 1), 0);
      const res = facet.result(outcomes);
      if (!res.ok) return { ok: false, reason: res.reason, usage, requests };
      return { ok: true, result: res.result, usage, requests, cached: fresh.every((x) => x.ok && x.cached) };
    },
  };
}

export interface SamplesBatchJobOptions extends Omit<BatchJobOptions, 'adapter'> {
  facet: SamplesFacet;
  key?: RecordKey;
  /** Each answer's tokens (also those replayed from an earlier run's parts). */
  onAnswer?: (usage: Usage) => void;
}

/** A k-sample task over a source's records as one batch job (job.ts's runBatchJob, k requests a record). */
export async function runSamplesBatchJob(
  o: SamplesBatchJobOptions,
): Promise<BatchJobSummary & { applier: SampleApplier }> {
  const applier = new SampleApplier(o.source, o.sink, o.facet, {
    ...limitOf(o),
    ...(o.key ? { key: o.key } : {}),
    ...(o.onAnswer ? { onAnswer: o.onAnswer } : {}),
  });
  const batch = await runBatch({
    ...runOptionsOf(o),
    requests: () => sampleRequests(o.source, o.facet, { ...limitOf(o), ...(o.key ? { key: o.key } : {}) }),
    onOutcome: (outcome, ctx) => applier.apply(outcome, ctx),
    onPartApplied: async () => {
      await applier.flush();
      await o.sink.flush();
    },
  });
  if (o.submitOnly) return { batch, records: applier.summary, applier };
  await applier.flush();
  await o.sink.flush();
  return { batch, records: applier.finish(), applier };
}
