// Runs an LLM task over a RecordSource with bounded concurrency, journals every finished record,
// resumes from the journal, reports progress, and returns a summary. Results reach the sink in
// completion order. Per-record failures are recorded and the job keeps going; a fatal error (bad
// key/model/URL) stops it; cancellation stops it promptly. In both cases the journal and the sink
// are flushed first, so a resume picks up where it stopped.
import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Progress } from '../operation';
import type { Usage } from '../llm/client';
import type { TaskResult } from '../llm/apply-result';
import { JournalWriter, readJournal, type JournalEntry, type JournalRecord } from './journal';
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
    super(`job ${summary.jobId} cancelled after ${summary.ok + summary.failed.length + summary.skipped.length} of ${summary.total} records; run it again to resume`);
    this.name = 'AbortError';
  }
}

export function journalDirFor(datasetPath: string): string {
  return `${datasetPath}.curator-journal`;
}

function fmtEta(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

/** The journal file of a job. */
export function journalPathFor(journalDir: string, jobId: string): string {
  return join(journalDir, `${jobId}.jsonl`);
}

export async function runJob<R = TaskResult>(opts: JobOptions<R>): Promise<JobSummary> {
  const started = performance.now();
  const { task, source, sink } = opts;
  const total = Math.min(source.count(), opts.limit ?? Infinity);
  // Nothing to do (an empty file): no journal, no journal folder.
  if (total === 0 && !existsSync(journalPathFor(opts.journalDir, opts.jobId))) {
    await sink.flush();
    return { jobId: opts.jobId, task: task.id, model: task.model, total: 0, ok: 0, failed: [], skipped: [], cached: 0, resumed: 0, requests: 0, tokens: { input_tokens: 0, output_tokens: 0 }, cost: 0, elapsedMs: performance.now() - started, journal: '', complete: true };
  }
  const prices = opts.prices ?? { input: 0, output: 0 };
  const path = journalPathFor(opts.journalDir, opts.jobId);
  const replayResults = opts.replay ?? true;
  const state = readJournal<R>(path, !replayResults);
  if (state.header && (state.header.task !== task.id || state.header.prompt_hash !== task.promptHash || state.header.model !== task.model)) {
    throw new Error(`journal ${path} belongs to a different job (task/prompt/model changed); remove it or use another job id`);
  }
  const journal = new JournalWriter<JournalEntry<R>>(path, state.goodLength);
  if (!state.header) {
    journal.append({ type: 'header', version: 1, job: opts.jobId, task: task.id, model: task.model, prompt_hash: task.promptHash, created: new Date().toISOString() });
  }

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
  const done = new Set<number>();

  // 1) results of an earlier run come from the journal
  const replay: JournalRecord<R>[] = [];
  for (const [i, e] of state.records) {
    if (i >= total) continue;
    if (e.status === 'failed' && retryFailed) continue;
    done.add(i);
    replay.push(e);
  }
  for (const e of replay) {
    if (e.status === 'ok') {
      if (replayResults) await sink.apply(e.i, e.result);
      summary.ok++;
      summary.resumed++;
    } else if (e.status === 'skipped') summary.skipped.push({ i: e.i, line: e.line, reason: e.reason });
    else summary.failed.push({ i: e.i, line: e.line, reason: e.reason });
  }
  if (replay.length > 0) opts.log?.(`resuming job ${opts.jobId}: ${replay.length} records from the journal`);

  // 2) the rest, with bounded concurrency
  const inner = new AbortController();
  setMaxListeners(0, inner.signal); // one listener per request in flight
  const onAbort = (): void => inner.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  let fatal: unknown;
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

  const worker = async (): Promise<void> => {
    while (!inner.signal.aborted) {
      const i = next++;
      if (i >= total) return;
      if (done.has(i)) continue;
      const rec = await source.get(i);
      if (rec.invalid || !rec.value) {
        const reason = rec.invalid?.reason ?? 'not a JSON object';
        journal.append({ type: 'record', i, line: rec.lineNumber, status: 'skipped', reason });
        summary.skipped.push({ i, line: rec.lineNumber, reason });
      } else {
        let outcome;
        try {
          outcome = await task.run(rec.value, { signal: inner.signal, index: i, line: rec.lineNumber });
        } catch (err) {
          if (inner.signal.aborted) return; // cancelled (or stopped by a fatal error): not journaled, redone on resume
          fatal = err;
          inner.abort(err);
          return;
        }
        if (inner.signal.aborted && fatal !== undefined) return;
        summary.requests += outcome.requests;
        if (!(outcome.ok && outcome.cached)) {
          summary.tokens.input_tokens += outcome.usage.input_tokens;
          summary.tokens.output_tokens += outcome.usage.output_tokens;
          summary.cost += (outcome.usage.input_tokens * prices.input + outcome.usage.output_tokens * prices.output) / 1e6;
        }
        if (outcome.ok) {
          journal.append({ type: 'record', i, line: rec.lineNumber, status: 'ok', cached: outcome.cached, result: outcome.result, usage: outcome.usage });
          summary.ok++;
          if (outcome.cached) summary.cached++;
          await sink.apply(i, outcome.result);
        } else if (outcome.skip) {
          journal.append({ type: 'record', i, line: rec.lineNumber, status: 'skipped', reason: outcome.reason, usage: outcome.usage, ...(outcome.detail !== undefined ? { detail: outcome.detail } : {}) });
          summary.skipped.push({ i, line: rec.lineNumber, reason: outcome.reason });
        } else {
          journal.append({ type: 'record', i, line: rec.lineNumber, status: 'failed', reason: outcome.reason, usage: outcome.usage });
          summary.failed.push({ i, line: rec.lineNumber, reason: outcome.reason });
        }
      }
      finished++;
      finishedThisRun++;
      report();
    }
  };

  try {
    const n = Math.max(1, Math.min(opts.concurrency ?? 8, total || 1));
    await Promise.all(Array.from({ length: n }, worker));
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    journal.sync();
    await sink.flush();
  }
  summary.elapsedMs = performance.now() - started;
  summary.failed.sort((a, b) => a.i - b.i);
  summary.skipped.sort((a, b) => a.i - b.i);
  report(true);
  if (fatal !== undefined) {
    journal.close();
    throw fatal;
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
