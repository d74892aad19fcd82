// Runs an LLM task over a RecordSource with bounded concurrency, journals every finished record,
// resumes from the journal, reports progress, and returns a summary. Results reach the sink in
// completion order. Per-record failures are recorded and the job keeps going; a fatal error (bad
// key/model/URL) stops it; cancellation stops it promptly. In both cases the journal and the sink
// are flushed first, so a resume picks up where it stopped.
import { createHash, randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { canonicalJson } from '../llm/cache';
import { fsyncDir } from '../store/files';
import type { Progress } from '../operation';
import type { Usage } from '../llm/client';
import type { TaskResult } from '../llm/apply-result';
import {
  indexJournal,
  JOURNAL_VERSION,
  JournalReader,
  JournalWriter,
  setJournalAside,
  type EntryRef,
  type JournalEntry,
  type JournalIndex,
} from './journal';
import type { LlmTask, RecordSource, ResultSink } from './types';

export interface Prices {
  /** USD per million tokens. */
  input: number;
  output: number;
}

export interface JobOptions<R = TaskResult> {
  jobId: string;
  /** Folder of the journal, e.g. `<file>.curator-journal` (see journalDirFor). */
  journalDir: string;
  task: LlmTask<R>;
  source: RecordSource;
  sink: ResultSink<R>;
  /** Records in flight at most (the client's limiter bounds the HTTP requests). Default 8. */
  concurrency?: number;
  signal?: AbortSignal;
  progress?: (p: Progress) => void;
  log?: (line: string) => void;
  prices?: Prices;
  /** Redo records the journal lists as failed. Default true. */
  retryFailed?: boolean;
  /** Only the first N records. */
  limit?: number;
  /** Keep the journal in place after a complete run (default: renamed to <id>.done-<time>.jsonl unless records failed). */
  keepJournal?: boolean;
  /**
   * Give the sink the results of an earlier run from the journal (default true). A sink that reads
   * the journal itself (generation jobs write their output from it) says false, and the journal's
   * results are then not held in memory.
   */
  replay?: boolean;
}

export interface JobSummary {
  jobId: string;
  task: string;
  /** The model (several judges: their names, comma-separated). */
  model: string;
  total: number;
  ok: number;
  /** `model` says which judge failed, in a summary of several judges. */
  failed: Array<{ i: number; line: number; reason: string; model?: string }>;
  skipped: Array<{ i: number; line: number; reason: string }>;
  /** Answered from the response cache (no request). */
  cached: number;
  /** Taken from the journal of an earlier, interrupted run (no request). */
  resumed: number;
  requests: number;
  tokens: Usage;
  cost: number;
  elapsedMs: number;
  journal: string;
  complete: boolean;
  /** Several judges: each judge's own summary (the fields above add them up). */
  parts?: JobSummary[];
  /** Run as a Batch API job (src/core/llm/batch/operation.ts): its batches. */
  batch?: BatchJobInfo;
  /** A cost cascade (src/core/llm/batch/cascade-run.ts): per stage, and what went to people. */
  cascade?: CascadeInfo;
}

/** What a cascade did: each stage's counts and cost, and the records left to the review queue. */
export interface CascadeInfo {
  threshold: number;
  stages: Array<{
    model: string;
    mode: 'online' | 'batch';
    records: number;
    accepted: number;
    escalated: number;
    review: number;
    failed: number;
    tokens: Usage;
    cost: number;
  }>;
  /** Records whose label a stage decided, and those sent to the review queue. */
  accepted: number;
  review: number;
  queue: string;
  cost: number;
  /** What the strongest model alone would have cost on every record (the same tokens per record). */
  strongestOnly: number;
}

/** What a job run as a batch sent and where its batches are. */
export interface BatchJobInfo {
  /** The batch journals (one per model). */
  journals: string[];
  /** Distinct requests in all the job's batches, and those this run sent. */
  requests: number;
  newRequests: number;
  /** Batches this run created (0 on a resume of batches already created). */
  batchesCreated: number;
  batches: Array<{ part: number; round: number; batchId?: string; status?: string; requests: number }>;
  /** Answers refused because their record changed since (its new content is sent by the next run). */
  stale: number;
  /** Records the batch left failed and that went through the online path (retryOnline). */
  retriedOnline: number;
  /** Cost at the Batch API's price (the summary's `cost` adds the online retries). */
  batchCost: number;
  /** Stopped waiting (cancelled): the batches go on at the provider. */
  waiting?: boolean;
}

/** One summary for several jobs over the same file (a judge per model): sums, failures by model. */
export function mergeSummaries(parts: readonly JobSummary[]): JobSummary {
  const sum = (f: (s: JobSummary) => number): number => parts.reduce((n, s) => n + f(s), 0);
  return {
    jobId: parts.map((p) => p.jobId).join('+'),
    task: parts[0]?.task ?? '',
    model: parts.map((p) => p.model).join(', '),
    total: sum((s) => s.total),
    ok: sum((s) => s.ok),
    failed: parts.flatMap((p) => p.failed.map((f) => ({ ...f, model: f.model ?? p.model }))),
    skipped: parts.flatMap((p) => p.skipped),
    cached: sum((s) => s.cached),
    resumed: sum((s) => s.resumed),
    requests: sum((s) => s.requests),
    tokens: { input_tokens: sum((s) => s.tokens.input_tokens), output_tokens: sum((s) => s.tokens.output_tokens) },
    cost: sum((s) => s.cost),
    elapsedMs: sum((s) => s.elapsedMs),
    journal: parts[0]?.journal ?? '',
    complete: parts.length > 0 && parts.every((p) => p.complete),
    parts: [...parts],
  };
}

export class JobCancelledError extends Error {
  constructor(readonly summary: JobSummary) {
    super(
      `job ${summary.jobId} cancelled after ${summary.ok + summary.failed.length + summary.skipped.length} of ${summary.total} records; run it again to resume`,
    );
    this.name = 'AbortError';
  }
}

export function journalDirFor(datasetPath: string): string {
  return `${datasetPath}.curator-journal`;
}

function fmtEta(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${s % 60}s`
      : `${s}s`;
}

/** The journal file of a job. */
export function journalPathFor(journalDir: string, jobId: string): string {
  return join(journalDir, `${jobId}.jsonl`);
}

/** The key of a record for a task without its own (LlmTask.key): a hash of the whole record. */
export function recordKey(record: Record<string, unknown>): string {
  return `r2:${createHash('sha256').update(canonicalJson(record)).digest('hex').slice(0, 32)}`;
}

/** The key function of a task (its own, else a hash of the whole record). */
export function keyFunction<R>(task: LlmTask<R>): (record: Record<string, unknown>) => string {
  return task.key ? (r) => task.key!(r) : recordKey;
}

/**
 * Brings an existing journal in line with the records as they are now. When every entry is still
 * at its record (the key of the record at its index is its key), nothing changes. Otherwise the
 * journal is rewritten (atomically): each record whose key has an entry gets that entry at its
 * index now (a moved record keeps its result; identical records share it); an entry whose record
 * is gone or changed is dropped (the record, if changed, is redone). Returns the journal's index.
 */
export async function alignJournal(
  path: string,
  ix: JournalIndex,
  source: RecordSource,
  keyOf: (r: Record<string, unknown>) => string,
  log?: (line: string) => void,
): Promise<JournalIndex> {
  if (ix.byKey.size === 0) return ix;
  const count = source.count();
  let aligned = true;
  for (const [i, e] of ix.byIndex) {
    if (i >= count) {
      aligned = false;
      break;
    }
    const rec = await source.get(i);
    if (!rec.value || keyOf(rec.value) !== e.key) {
      aligned = false;
      break;
    }
  }
  if (aligned) return ix;
  const reader = new JournalReader(path);
  const tmp = `${path}.align-${process.pid}-${randomBytes(4).toString('hex')}`;
  const out = openSync(tmp, 'wx', 0o600);
  let kept = 0;
  let moved = 0;
  const used = new Set<string>();
  try {
    const lines: string[] = [];
    let bytes = 0;
    const flush = (): void => {
      if (lines.length === 0) return;
      const b = Buffer.from(lines.join(''));
      let off = 0;
      while (off < b.length) off += writeSync(out, b, off, b.length - off);
      lines.length = 0;
      bytes = 0;
    };
    if (ix.header) lines.push(`${JSON.stringify(ix.header)}\n`);
    for (let j = 0; j < count; j++) {
      const rec = await source.get(j);
      if (!rec.value) continue;
      const key = keyOf(rec.value);
      const ref = ix.byKey.get(key);
      if (!ref) continue;
      const e = reader.read<unknown>(ref);
      if (ref.i !== j) moved++;
      kept++;
      used.add(key);
      const line = `${JSON.stringify({ ...e, i: j, line: rec.lineNumber })}\n`;
      lines.push(line);
      bytes += line.length;
      if (bytes > 1 << 20) flush();
    }
    flush();
    fsyncSync(out);
  } catch (err) {
    closeSync(out);
    rmSync(tmp, { force: true });
    reader.close();
    throw err;
  }
  closeSync(out);
  reader.close();
  renameSync(tmp, path);
  fsyncDir(dirname(path));
  const dropped = [...ix.byKey.keys()].filter((k) => !used.has(k)).length;
  log?.(
    `the records changed since the journal was written: ${kept} result(s) kept for their records (${moved} moved), ` +
      `${dropped} dropped (their records changed or are gone); records without a result are done now`,
  );
  return indexJournal(path);
}

export async function runJob<R = TaskResult>(opts: JobOptions<R>): Promise<JobSummary> {
  const started = performance.now();
  const { task, source, sink } = opts;
  const total = Math.min(source.count(), opts.limit ?? Infinity);
  // Nothing to do (an empty file): no journal, no journal folder.
  if (total === 0 && !existsSync(journalPathFor(opts.journalDir, opts.jobId))) {
    await sink.flush();
    return {
      jobId: opts.jobId,
      task: task.id,
      model: task.model,
      total: 0,
      ok: 0,
      failed: [],
      skipped: [],
      cached: 0,
      resumed: 0,
      requests: 0,
      tokens: { input_tokens: 0, output_tokens: 0 },
      cost: 0,
      elapsedMs: performance.now() - started,
      journal: '',
      complete: true,
    };
  }
  const prices = opts.prices ?? { input: 0, output: 0 };
  const path = journalPathFor(opts.journalDir, opts.jobId);
  const replayResults = opts.replay ?? true;
  const keyOf = keyFunction(task);
  let ix = indexJournal(path);
  if (ix.goodLength > 0 && ix.header?.version !== JOURNAL_VERSION) {
    // A journal of another format (version 1: results bound to line numbers only) is never applied:
    // kept aside, the job starts over.
    const aside = setJournalAside(path, `v${ix.header?.version ?? 'unknown'}`);
    opts.log?.(
      `the journal of job ${opts.jobId} is of another format (version ${ix.header?.version ?? 'unknown'}; version 1 bound results to line numbers only): ` +
        `set aside as ${aside}; its records are done again`,
    );
    ix = indexJournal(path);
  }
  if (
    ix.header &&
    (ix.header.task !== task.id || ix.header.prompt_hash !== task.promptHash || ix.header.model !== task.model)
  ) {
    throw new Error(
      `journal ${path} belongs to a different job (task/prompt/model changed); remove it or use another job id`,
    );
  }
  ix = await alignJournal(path, ix, source, keyOf, opts.log);
  const journal = new JournalWriter<JournalEntry<R>>(path, ix.goodLength);
  if (!ix.header) {
    journal.append({
      type: 'header',
      version: JOURNAL_VERSION,
      job: opts.jobId,
      task: task.id,
      model: task.model,
      prompt_hash: task.promptHash,
      created: new Date().toISOString(),
      binding: 'key',
    });
  }
  const reader = new JournalReader(path);
  /**
   * The entries of earlier runs by key. Those of this run are not held in memory (a run over a
   * million records would hold a million keys): the check at the end reads them from the journal.
   */
  const byKey = ix.byKey;
  /** Where this run's entries start in the journal. */
  const runStart = journal.length;

  const summary: JobSummary = {
    jobId: opts.jobId,
    task: task.id,
    model: task.model,
    total,
    ok: 0,
    failed: [],
    skipped: [],
    cached: 0,
    resumed: 0,
    requests: 0,
    tokens: { input_tokens: 0, output_tokens: 0 },
    cost: 0,
    elapsedMs: 0,
    journal: path,
    complete: false,
  };
  const retryFailed = opts.retryFailed ?? true;
  const settled = (e: EntryRef): boolean => e.status !== 'failed' || !retryFailed;
  const done = new Set<number>();

  /** Hands an entry's result to the sink, bound to the key it was computed for. */
  const applyEntry = async (i: number, e: EntryRef): Promise<void> => {
    if (e.status !== 'ok' || !replayResults) return;
    const entry = reader.read<R>(e);
    if (entry.status === 'ok') await sink.apply(i, entry.result, { key: e.key, keyOf });
  };
  const count = (e: EntryRef, i: number, line: number): void => {
    if (e.status === 'ok') summary.ok++;
    else if (e.status === 'skipped') summary.skipped.push({ i, line, reason: e.reason ?? '' });
    else summary.failed.push({ i, line, reason: e.reason ?? '' });
  };

  // 1) results of an earlier run come from the journal (now in line with the records)
  const replay = [...ix.byIndex.values()].filter((e) => e.i < total && settled(e)).sort((a, b) => a.i - b.i);
  for (const e of replay) {
    done.add(e.i);
    await applyEntry(e.i, e);
    count(e, e.i, e.line);
    if (e.status === 'ok') summary.resumed++;
  }
  if (replay.length > 0) opts.log?.(`resuming job ${opts.jobId}: ${replay.length} records from the journal`);

  // 2) the rest, with bounded concurrency
  const inner = new AbortController();
  setMaxListeners(0, inner.signal); // one listener per request in flight
  const onAbort = (): void => inner.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  let fatal: { error: unknown } | undefined; // what the first fatal failure threw
  let next = 0;
  let finished = done.size;
  let finishedThisRun = 0;
  let lastProgress = 0;
  const report = (force = false): void => {
    if (!opts.progress) return;
    const now = performance.now();
    if (!force && now - lastProgress < 200) return;
    lastProgress = now;
    const elapsed = now - started;
    const eta = finishedThisRun > 0 ? ((total - finished) * elapsed) / finishedThisRun : NaN;
    const tokens = summary.tokens.input_tokens + summary.tokens.output_tokens;
    const priced = prices.input > 0 || prices.output > 0;
    opts.progress({
      done: finished,
      total,
      unit: 'records',
      message: [
        `record ${finished.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`,
        `${tokens.toLocaleString('en-US')} tokens`,
        priced ? `$${summary.cost.toFixed(4)}` : undefined,
        `${summary.failed.length} ${summary.failed.length === 1 ? 'error' : 'errors'}`,
        `ETA ${fmtEta(eta)}`,
      ]
        .filter(Boolean)
        .join(' · '),
    });
  };
  report(true);

  /** Does record `i`: from the journal when a record with its key is settled there, else by the task. */
  const processIndex = async (i: number): Promise<'done' | 'stop' | 'gone'> => {
    if (i >= source.count()) return 'gone'; // deleted meanwhile (the check at the end sees what moved)
    const rec = await source.get(i);
    if (rec.invalid || !rec.value) {
      const reason = rec.invalid?.reason ?? 'not a JSON object';
      journal.append({ type: 'record', i, line: rec.lineNumber, status: 'skipped', reason });
      summary.skipped.push({ i, line: rec.lineNumber, reason });
      return 'done';
    }
    const key = keyOf(rec.value);
    const bound = { key, keyOf };
    const known = byKey.get(key);
    if (known && settled(known)) {
      // An earlier run did a record with this content (identical to this one, or this one before it
      // moved in a way the alignment could not see): its result, no request.
      const entry = reader.read<R>(known);
      const at: EntryRef = {
        ...known,
        i,
        line: rec.lineNumber,
        ...journal.append({ ...entry, i, line: rec.lineNumber }),
      };
      await applyEntry(i, at);
      count(at, i, rec.lineNumber);
      if (known.status === 'ok') summary.resumed++;
      return 'done';
    }
    let outcome;
    try {
      outcome = await task.run(rec.value, { signal: inner.signal, index: i, line: rec.lineNumber });
    } catch (err) {
      if (inner.signal.aborted) return 'stop'; // cancelled (or stopped by a fatal error): not journaled, redone on resume
      fatal = { error: err };
      inner.abort(err);
      return 'stop';
    }
    if (inner.signal.aborted && fatal) return 'stop';
    summary.requests += outcome.requests;
    if (!(outcome.ok && outcome.cached)) {
      summary.tokens.input_tokens += outcome.usage.input_tokens;
      summary.tokens.output_tokens += outcome.usage.output_tokens;
      summary.cost += (outcome.usage.input_tokens * prices.input + outcome.usage.output_tokens * prices.output) / 1e6;
    }
    const line = rec.lineNumber;
    if (outcome.ok) {
      journal.append({
        type: 'record',
        i,
        line,
        key,
        status: 'ok',
        cached: outcome.cached,
        result: outcome.result,
        usage: outcome.usage,
      });
      summary.ok++;
      if (outcome.cached) summary.cached++;
      await sink.apply(i, outcome.result, bound);
    } else if (outcome.skip) {
      journal.append({
        type: 'record',
        i,
        line,
        key,
        status: 'skipped',
        reason: outcome.reason,
        usage: outcome.usage,
        ...(outcome.detail !== undefined ? { detail: outcome.detail } : {}),
      });
      summary.skipped.push({ i, line, reason: outcome.reason });
    } else {
      journal.append({ type: 'record', i, line, key, status: 'failed', reason: outcome.reason, usage: outcome.usage });
      summary.failed.push({ i, line, reason: outcome.reason });
    }
    return 'done';
  };

  /** Runs `take()`'s indices with bounded concurrency until it returns undefined or the job stops. */
  const runAll = async (take: () => number | undefined, n: number): Promise<void> => {
    const worker = async (): Promise<void> => {
      while (!inner.signal.aborted) {
        const i = take();
        if (i === undefined) return;
        const r = await processIndex(i);
        if (r === 'stop') return;
        if (r === 'gone') continue;
        finished++;
        finishedThisRun++;
        report();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, n) }, worker));
  };

  /**
   * When the records changed under the job while it ran (a person edited the open file), results
   * were applied where their records are now (the sink finds them by key), but a record that moved
   * over the job's position was passed over and an edited one needs its own result: one more look
   * at every record, until no edit comes in between (at most a few times).
   */
  const recheck = async (): Promise<void> => {
    if (!source.revision) return;
    for (let pass = 0; pass < 4 && source.revision() !== revision && !inner.signal.aborted; pass++) {
      revision = source.revision();
      const todo: number[] = [];
      const n = Math.min(source.count(), opts.limit ?? Infinity);
      const all = indexJournal(path).byKey; // this run's entries too
      for (let j = 0; j < n; j++) {
        const rec = await source.get(j);
        if (!rec.value) continue;
        const e = all.get(keyOf(rec.value));
        if (e && settled(e)) await applyEntry(j, e);
        else if (!e || e.pos < runStart) todo.push(j); // (a failure of this run is retried by the next run, not now)
      }
      if (todo.length === 0) continue;
      opts.log?.(`the records changed while job ${opts.jobId} ran: ${todo.length} record(s) to do again`);
      summary.total += todo.length;
      let k = 0;
      await runAll(() => (k < todo.length ? todo[k++] : undefined), Math.min(opts.concurrency ?? 8, todo.length));
    }
  };

  let revision = source.revision?.() ?? 0;
  try {
    const n = Math.max(1, Math.min(opts.concurrency ?? 8, total || 1));
    // The end is the number of records now: a person may delete or insert records while it runs.
    const end = (): number => Math.min(source.count(), opts.limit ?? Infinity);
    await runAll(() => {
      while (next < end() && done.has(next)) next++;
      return next < end() ? next++ : undefined;
    }, n);
    if (!fatal) await recheck();
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    journal.sync();
    reader.close();
    await sink.flush();
  }
  summary.elapsedMs = performance.now() - started;
  summary.failed.sort((a, b) => a.i - b.i);
  summary.skipped.sort((a, b) => a.i - b.i);
  report(true);
  if (fatal) {
    journal.close();
    throw fatal.error;
  }
  if (inner.signal.aborted) {
    journal.close();
    throw new JobCancelledError(summary);
  }
  summary.complete = true;
  journal.append({ type: 'end', time: new Date().toISOString() });
  // With failures the journal stays: running the job again redoes only the failed records.
  if (opts.keepJournal || summary.failed.length > 0) journal.close();
  else summary.journal = journal.retire();
  return summary;
}
