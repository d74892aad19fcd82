// Batch requests bound to records' content, and results applied only to the records they were
// computed from.
//
// A request's custom_id is a hash of the task's request for the record without its messages
// (model, response format, sampling parameters: the task) and of the record's key: by default
// `messagesKey(messages)`, a hash of the messages the task renders from the record (what the model
// reads of it: never the annotation fields a result writes). This is the same value as the job
// journal's record key (LlmTask.key, `requestKey` in tasks.ts), so after the merge the runner can
// pass `task.key`. Identical records share one request.
//
// Applying an outcome looks the custom_id up among the custom_ids of the records as they are now
// (computed when the results are applied, not when they were sent): a record edited since the
// request was sent no longer has that custom_id, so the answer is not applied to it ("stale": its
// record changed or is gone) and the record is listed to be done again ("redo"); a record that
// moved gets its answer wherever it is now.
import { createHash } from 'node:crypto';
import type { TaskResult } from '../apply-result';
import { canonicalJson } from '../cache';
import type { ChatMessage } from '../client';
import type { RecordSource, ResultSink } from '../../jobs/types';
import type { BatchFacet } from './facet';
import { chatAnswer, type BatchOutcome, type BatchRequest, type ChatAnswer } from './format';
import { logprobConfidence } from './logprobs';

/** The record's key: a hash of the messages the task sends for it (the job journal's `requestKey`). */
export function messagesKey(messages: readonly ChatMessage[]): string {
  return `k2:${createHash('sha256').update(canonicalMessages(messages)).digest('hex').slice(0, 32)}`;
}

/** JSON of long message texts every request repeats (the system prompt, few-shot turns). */
const repeated = new Map<string, string>();

function jsonString(text: string): string {
  if (text.length < 256) return JSON.stringify(text);
  let j = repeated.get(text);
  if (j === undefined) {
    j = JSON.stringify(text);
    if (repeated.size >= 32) repeated.clear();
    repeated.set(text, j);
  }
  return j;
}

/** canonicalJson(messages), without the generic walk for the usual {role, content} messages. */
function canonicalMessages(messages: readonly ChatMessage[]): string {
  let out = '[';
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as ChatMessage;
    const keys = Object.keys(m);
    if (
      keys.length !== 2 ||
      typeof m.content !== 'string' ||
      typeof m.role !== 'string' ||
      !('content' in m) ||
      !('role' in m)
    )
      return canonicalJson(messages);
    out += `${i ? ',' : ''}{"content":${i < messages.length - 1 ? jsonString(m.content) : JSON.stringify(m.content)},"role":${JSON.stringify(m.role)}}`;
  }
  return `${out}]`;
}

/** Canonical JSON of a body's values that are objects (the response format's schema): the same object for every record of a task. */
const canonicalOf = new WeakMap<object, string>();

/** The custom_id of a request: a hash of the task's part of the body (all but the messages) and the record's key. */
export function customIdFor(body: Record<string, unknown>, key: string): string {
  const h = createHash('sha256');
  for (const k of Object.keys(body).sort()) {
    if (k === 'messages') continue;
    const v = body[k];
    let c: string;
    if (v !== null && typeof v === 'object') {
      c = canonicalOf.get(v) ?? canonicalJson(v);
      canonicalOf.set(v, c);
    } else c = canonicalJson(v);
    h.update(`${JSON.stringify(k)}:${c};`);
  }
  h.update(`key:${key}`);
  // One flat string: `dc1-${hex.slice(0, 40)}` is a rope of a slice of the 64-digit hex (about
  // 150 bytes each, where 100,000 of them are kept as map keys), this is 64.
  const id = Buffer.allocUnsafe(44);
  id.write('dc1-', 0, 'latin1');
  id.write(h.digest().toString('hex', 0, 20), 4, 'latin1');
  return id.toString('latin1');
}

/** What the batch engine needs of a task, per record. */
export interface BatchTaskAdapter {
  /** The request for a record, or why there is none. */
  request(
    record: Record<string, unknown>,
  ): { body: Record<string, unknown>; messages: ChatMessage[] } | { skip: string };
  /** The task's result from an answer (validated), or why there is none. */
  accept(answer: ChatAnswer): { ok: true; result: TaskResult } | { ok: false; reason: string };
  /** The record's key (default: messagesKey of its request's messages). */
  key?(record: Record<string, unknown>): string;
}

/** The adapter of a task's batch facet (tasks.ts); `confidence: 'logprobs'` for label tasks. */
export function taskAdapter(
  facet: BatchFacet,
  opts: {
    confidence?: 'verbal' | 'logprobs';
    labels?: readonly string[];
    topLogprobs?: number;
    key?: (record: Record<string, unknown>) => string;
  } = {},
): BatchTaskAdapter {
  const logprobs = opts.confidence === 'logprobs';
  return {
    ...(opts.key ? { key: opts.key } : {}),
    request(record) {
      const r = facet.request(record);
      if ('skip' in r) return r;
      return logprobs
        ? { body: { ...r.body, logprobs: true, top_logprobs: opts.topLogprobs ?? 5 }, messages: r.messages }
        : r;
    },
    accept(answer) {
      const r = facet.accept({
        content: answer.content,
        refusal: answer.refusal,
        ...(answer.model !== undefined ? { model: answer.model } : {}),
        usage: answer.usage,
      });
      if (!r.ok || !logprobs) return r;
      return { ok: true, result: withLogprobConfidence(r.result, answer, opts.labels ?? []) };
    },
  };
}

/**
 * A label result with its confidence from logprobs (provenance `confidence: "logprobs"`, with the
 * model's own stated confidence kept as `verbal_confidence`); the result as it was, with
 * `confidence: "verbal"`, when the answer carries no usable logprobs.
 */
export function withLogprobConfidence(result: TaskResult, answer: ChatAnswer, labels: readonly string[]): TaskResult {
  const label = typeof result.value === 'string' ? result.value : undefined;
  const lp =
    label !== undefined && answer.logprobs && answer.content !== null
      ? logprobConfidence({ content: answer.content, logprobs: answer.logprobs, label, labels })
      : undefined;
  if (!lp || 'error' in lp) {
    const reason = !answer.logprobs ? 'the endpoint gave no logprobs' : lp && 'error' in lp ? lp.error : 'no label';
    return { ...result, provenance: { ...result.provenance, ...{ confidence: 'verbal', confidence_note: reason } } };
  }
  return {
    ...result,
    confidence: round(lp.confidence),
    provenance: {
      ...result.provenance,
      ...{
        confidence: 'logprobs',
        verbal_confidence: result.confidence,
        label_probability: round(lp.probability),
        ...(lp.normalised ? {} : { confidence_note: 'not normalised: no top_logprobs or no label set' }),
      },
    },
  };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function keyOf(adapter: BatchTaskAdapter, record: Record<string, unknown>, messages: readonly ChatMessage[]): string {
  return adapter.key ? adapter.key(record) : messagesKey(messages);
}

/**
 * The batch requests of a source's records (one per distinct custom_id, in record order); records
 * without a request (invalid lines, a task's check) go to `onSkip`.
 */
export async function* recordRequests(
  source: RecordSource,
  adapter: BatchTaskAdapter,
  opts: { limit?: number; onSkip?: (i: number, line: number, reason: string) => void } = {},
): AsyncGenerator<BatchRequest> {
  const n = Math.min(source.count(), opts.limit ?? Infinity);
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const rec = await source.get(i);
    if (!rec.value) {
      opts.onSkip?.(i, rec.lineNumber, rec.invalid?.reason ?? 'not a JSON object');
      continue;
    }
    const r = adapter.request(rec.value);
    if ('skip' in r) {
      opts.onSkip?.(i, rec.lineNumber, r.skip);
      continue;
    }
    const custom_id = customIdFor(r.body, keyOf(adapter, rec.value, r.messages));
    if (seen.has(custom_id)) continue;
    seen.add(custom_id);
    yield { custom_id, body: r.body };
  }
}

export interface ApplySummary {
  /** Records that got a result (in this run or, `resumed`, in an earlier one). */
  applied: number;
  resumed: number;
  /** Results that went to several identical records count once here. */
  answers: number;
  /** Records whose request failed (or whose answer was invalid), with the reason. */
  failed: Array<{ i: number; line: number; custom_id: string; reason: string }>;
  /** Outcomes whose custom_id no record has now (its record changed or is gone): not applied. */
  stale: string[];
  /** Records with a request and no final outcome (edited since, or not answered yet): to do again. */
  redo: Array<{ i: number; line: number }>;
  skipped: Array<{ i: number; line: number; reason: string }>;
}

/**
 * Applies outcomes to the records they were computed from. `index()` reads the records as they
 * are now and maps each custom_id to its records; `apply()` takes one outcome.
 */
export class BatchApplier {
  private byId = new Map<string, number | number[]>();
  /** The answered requests, by their first record's index (not the outcome's id: a string more each). */
  private settled = new Set<number>();
  private failedIds = new Map<string, string>();
  readonly summary: ApplySummary = { applied: 0, resumed: 0, answers: 0, failed: [], stale: [], redo: [], skipped: [] };
  private indexed = false;
  private lines = new Map<number, number>();
  /** Accepted results not yet given to the sink; given in record order (`flush`). */
  private pending: Array<{ i: number; result: TaskResult }> = [];

  constructor(
    private readonly source: RecordSource,
    private readonly sink: ResultSink,
    private readonly adapter: BatchTaskAdapter,
    private readonly opts: {
      limit?: number;
      /** Give the sink the results every this many (default 50,000; the store holds them until it saves). */
      flushEvery?: number;
      /** After each flush (e.g. the sink's save, so the store does not hold more than `flushEvery` edits). */
      afterFlush?: () => void | Promise<void>;
    } = {},
  ) {}

  /** Maps the current records' custom_ids to their indices (the content check of every apply). */
  async index(): Promise<void> {
    this.indexed = true;
    this.byId.clear();
    const n = Math.min(this.source.count(), this.opts.limit ?? Infinity);
    for (let i = 0; i < n; i++) {
      const rec = await this.source.get(i);
      if (!rec.value) {
        this.summary.skipped.push({ i, line: rec.lineNumber, reason: rec.invalid?.reason ?? 'not a JSON object' });
        continue;
      }
      const r = this.adapter.request(rec.value);
      if ('skip' in r) {
        this.summary.skipped.push({ i, line: rec.lineNumber, reason: r.skip });
        continue;
      }
      const id = customIdFor(r.body, keyOf(this.adapter, rec.value, r.messages));
      const had = this.byId.get(id);
      if (had === undefined) this.byId.set(id, i);
      else if (typeof had === 'number') this.byId.set(id, [had, i]);
      else had.push(i);
      if (rec.lineNumber !== i + 1) this.lines.set(i, rec.lineNumber);
    }
  }

  /** The custom_id of every indexed record's request. */
  ids(): IterableIterator<string> {
    return this.byId.keys();
  }

  private line(i: number): number {
    return this.lines.get(i) ?? i + 1;
  }

  /**
   * Applies one outcome (indexing the records first if not done yet). A failure with `willRetry`
   * is not recorded (a follow-up batch answers it); a `replayed` answer was applied and saved by an
   * earlier run: it is counted, not applied again.
   */
  async apply(o: BatchOutcome, ctx: { willRetry?: boolean; replayed?: boolean } = {}): Promise<void> {
    if (!this.indexed) await this.index();
    const at = this.byId.get(o.custom_id);
    if (at === undefined) {
      this.summary.stale.push(o.custom_id);
      return;
    }
    const indices = typeof at === 'number' ? [at] : at;
    if (this.settled.has(indices[0] as number)) return; // one answer per request
    if (!o.ok) {
      if (ctx.willRetry) return;
      this.failedIds.set(o.custom_id, `${o.kind}${o.status ? ` (HTTP ${o.status})` : ''}: ${o.message}`);
      return;
    }
    const r = this.adapter.accept(o.answer);
    if (!r.ok) {
      this.failedIds.set(o.custom_id, r.reason);
      return;
    }
    this.failedIds.delete(o.custom_id);
    this.settled.add(indices[0] as number);
    this.summary.answers++;
    if (ctx.replayed) {
      this.summary.applied += indices.length;
      this.summary.resumed += indices.length;
      return;
    }
    for (const i of indices) this.pending.push({ i, result: r.result });
    this.summary.applied += indices.length;
    if (this.pending.length >= (this.opts.flushEvery ?? 50_000)) {
      await this.flush();
      await this.opts.afterFlush?.();
    }
  }

  /**
   * Gives the accepted results to the sink in record order (output files are in no order; the
   * store edits lines fastest front to back), all at once when it has `applyMany` (which also makes
   * them durable). Called at the end of each part and by `finish`.
   */
  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    batch.sort((a, b) => a.i - b.i);
    // a sink that writes them in one pass (and saves): the dataset store, when no editor needs them as edits
    if (this.sink.applyMany) {
      if (batch.length > 0) await this.sink.applyMany(batch);
      return;
    }
    for (const { i, result } of batch) {
      const p = this.sink.apply(i, result);
      if (p instanceof Promise) await p;
    }
  }

  /** Ends the application (after `flush`): failures and records left to redo go to the summary. */
  finish(): ApplySummary {
    if (this.pending.length > 0) throw new Error('BatchApplier.finish() before flush(): results not given to the sink');
    this.summary.failed = [];
    this.summary.redo = [];
    for (const [id, at] of this.byId) {
      if (this.settled.has(typeof at === 'number' ? at : (at[0] as number))) continue;
      const reason = this.failedIds.get(id);
      for (const i of typeof at === 'number' ? [at] : at) {
        if (reason !== undefined) this.summary.failed.push({ i, line: this.line(i), custom_id: id, reason });
        else this.summary.redo.push({ i, line: this.line(i) });
      }
    }
    this.summary.failed.sort((a, b) => a.i - b.i);
    this.summary.redo.sort((a, b) => a.i - b.i);
    return this.summary;
  }
}

/** Reads a ChatCompletion body as an answer (for callers holding a raw body). */
export { chatAnswer };
