// A batch job, from requests to outcomes, resumable at any point (see journal.ts for the journal):
//
//   1. build    the requests not yet sent are written to input files (split at 50,000 requests or
//               200 MB), in `<journal>.files/`; a round of parts is usable once all are written
//   2. submit   each part is uploaded (Files API, purpose batch) and a batch is created from it;
//               ids are journaled (fsynced) as soon as they exist
//   3. wait     each batch is polled with backoff until it ends (completed, expired, cancelled,
//               failed); abortable: aborting stops waiting, the batches go on
//   4. fetch    its output and error files are downloaded next to the input
//   5. apply    every line goes to `onOutcome` (streamed); requests without a line get an outcome
//               too (expired/cancelled/failed); then `onPartApplied` (the caller saves) and the
//               journal marks the part applied
//   6. follow up  requests that failed for a transient reason, expired or were cancelled by the
//               provider go to a follow-up batch (`followUpRounds`, default 1); what still failed
//               is in the summary, for an online retry
//
// The same job run again (same journal) resumes where it stopped and never creates a second batch
// for requests already sent. Requests it is given that no part holds yet (records added or edited
// since) are sent in a new round; requests already sent are not sent again.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Progress } from '../../operation';
import { abortReason } from '../limiter';
import { BatchApiClient, DEFAULT_POLL, pollUntilDone, type Batch, type PollPolicy } from './api';
import {
  CHAT_ENDPOINT,
  outcomesOf,
  readInputFile,
  readInputIds,
  readOutcomes,
  type BatchOutcome,
  type BatchRequest,
} from './format';
import { InputFileWriter, type InputFile, type SplitLimits } from './input-files';
import {
  BatchJournal,
  fsyncDir,
  readBatchJournal,
  type BatchJournalState,
  type BatchStatusName,
  type PartState,
} from './journal';

export interface OutcomeContext {
  part: number;
  round: number;
  /** The request goes to a follow-up batch: this failure is not its last word. */
  willRetry: boolean;
  /** The part was applied (and saved) by an earlier run: the outcome is given again for the caller's summary, not to be applied again. */
  replayed: boolean;
}

export interface BatchRunOptions {
  api: BatchApiClient;
  /** `<target>.curator-journal/<job>.batch.jsonl` (batchJournalPath). */
  journalPath: string;
  job: string;
  model: string;
  /** The job's requests as they are now (called on every run; custom_ids already sent are skipped). */
  requests(): Iterable<BatchRequest> | AsyncIterable<BatchRequest>;
  /** Each line's outcome, streamed (output file, then error file, then requests with no line). */
  onOutcome(o: BatchOutcome, ctx: OutcomeContext): void | Promise<void>;
  /** After a part's outcomes: make them durable (save). The part is journaled as applied after it. */
  onPartApplied?(part: number): void | Promise<void>;
  limits?: Partial<SplitLimits>;
  poll?: Partial<PollPolicy>;
  /** Follow-up batches for failed and expired lines. Default 1. */
  followUpRounds?: number;
  /** Metadata added to each batch (besides curator_job and curator_part). */
  metadata?: Record<string, string>;
  /** Submit and return without waiting for the batches. */
  submitOnly?: boolean;
  /** Give the outcomes of parts applied by an earlier run again, marked `replayed` (default true). */
  replay?: boolean;
  signal?: AbortSignal;
  progress?(p: Progress): void;
  log?(line: string): void;
}

export interface PartSummary {
  part: number;
  round: number;
  batchId?: string;
  status?: BatchStatusName;
  requests: number;
  ok: number;
  failed: number;
}

export interface BatchFailure {
  custom_id: string;
  kind: 'failed' | 'expired' | 'cancelled';
  status?: number;
  message: string;
}

export interface BatchRunSummary {
  job: string;
  journal: string;
  /** Distinct requests in all parts. */
  requests: number;
  /** Requests sent in this run's new rounds (0 on a pure resume). */
  newRequests: number;
  parts: PartSummary[];
  /** Batches created by this run (a resume creates none for parts already created). */
  batchesCreated: number;
  /** Batches found again on resume after a kill between their creation and the journal's record of it. */
  batchesAdopted: number;
  ok: number;
  /** Requests whose last outcome is a failure (for an online retry), by custom_id. */
  failures: BatchFailure[];
  /** Every part applied. */
  complete: boolean;
  cancelled: boolean;
}

export class BatchCancelledError extends Error {
  constructor(readonly summary: BatchRunSummary) {
    super(`batch job ${summary.job} stopped waiting; its batches go on: run it again to resume`);
    this.name = 'AbortError';
  }
}

/** The journal of a batch job next to a dataset's job journals. */
export function batchJournalPath(journalDir: string, job: string): string {
  return join(journalDir, `${job}.batch.jsonl`);
}

/** The folder of a batch job's input, output and error files. */
export function batchFilesDir(journalPath: string): string {
  return journalPath.replace(/\.jsonl$/, '') + '.files';
}

/** Retry a failed request? Expired and provider-cancelled ones yes, and transient HTTP errors. */
export function retryable(o: { kind: BatchFailure['kind']; status?: number }): boolean {
  if (o.kind !== 'failed') return true;
  if (o.status === undefined) return true;
  return o.status === 408 || o.status === 409 || o.status === 429 || o.status >= 500;
}

interface RoundInfo {
  round: number;
  parts: number[];
  depth: number;
  parent?: number;
}

export async function runBatch(opts: BatchRunOptions): Promise<BatchRunSummary> {
  const { api, journalPath, job, signal } = opts;
  const log = (l: string): void => opts.log?.(l);
  const followUps = opts.followUpRounds ?? 1;
  const poll: PollPolicy = { ...DEFAULT_POLL, ...opts.poll };
  const dir = batchFilesDir(journalPath);
  mkdirSync(dirname(journalPath), { recursive: true });
  mkdirSync(dir, { recursive: true });
  // temporary files of a process that was killed while writing or downloading
  for (const name of readdirSync(dir))
    if (/^\..*\.\d+\.(tmp|download)$/.test(name)) rmSync(join(dir, name), { force: true });
  const st = readBatchJournal(journalPath);
  if (st.header && (st.header.job !== job || st.header.model !== opts.model || st.header.endpoint !== CHAT_ENDPOINT)) {
    throw new Error(
      `the batch journal ${journalPath} belongs to another job (${st.header.job}, model ${st.header.model}); remove it or use another job id`,
    );
  }
  const journal = new BatchJournal(journalPath, st.goodLength);
  const summary: BatchRunSummary = {
    job,
    journal: journalPath,
    requests: 0,
    newRequests: 0,
    parts: [],
    batchesCreated: 0,
    batchesAdopted: 0,
    ok: 0,
    failures: [],
    complete: false,
    cancelled: st.cancelRequested,
  };
  try {
    if (!st.header) {
      const header = {
        type: 'header' as const,
        version: 1 as const,
        kind: 'batch' as const,
        job,
        endpoint: CHAT_ENDPOINT,
        base_url: api.baseURL,
        model: opts.model,
        created: new Date().toISOString(),
      };
      journal.append(header);
      st.header = header;
    }
    const rounds = roundsOf(st);

    // 1) build: the requests no part holds yet
    const known = new Set<string>();
    for (const p of [...st.parts.values()].sort((a, b) => a.part - b.part)) {
      const path = join(dir, p.file);
      if (existsSync(path)) readInputIds(path, (id) => known.add(id));
    }
    if (!st.cancelRequested) {
      opts.progress?.({ done: 0, unit: 'requests', message: 'writing the batch input files' });
      const round = nextRound(st);
      const firstPart = nextPart(st);
      const w = new InputFileWriter(dir, job, opts.limits, firstPart);
      let added = 0;
      try {
        for await (const r of opts.requests()) {
          if (signal?.aborted) throw abortReason(signal);
          if (known.has(r.custom_id)) continue;
          known.add(r.custom_id);
          w.add(r);
          added++;
        }
      } catch (err) {
        w.abort();
        throw err;
      }
      const files = w.finish();
      if (files.length > 0) {
        fsyncDir(dir);
        addRound(rounds, round, firstPart, files, { requests: added, depth: 0 });
        summary.newRequests = added;
        log(
          `batch job ${job}: ${added.toLocaleString('en-US')} new request(s) in ${files.length} file(s)${known.size > added ? `; ${(known.size - added).toLocaleString('en-US')} sent before` : ''}`,
        );
      }
    }
    summary.requests = known.size;

    // 2-6) round after round (follow-ups are added as rounds end)
    const failuresByPart = new Map<number, Map<string, BatchFailure>>();
    const done = new Set<number>();
    for (;;) {
      const pending = [...rounds.values()].filter((r) => !done.has(r.round)).sort((a, b) => a.round - b.round);
      if (pending.length === 0) break;
      for (const r of pending) {
        const parts = r.parts.map((i) => st.parts.get(i) as PartState);
        const willRetry = r.depth < followUps && !st.cancelRequested;
        // submit every part of the round first: the provider works on them while we wait
        for (const p of parts) {
          if (p.applied || st.cancelRequested) continue;
          await submit(p);
        }
        if (opts.submitOnly) {
          done.add(r.round);
          continue;
        }
        for (const p of parts) {
          if (p.applied) {
            if (opts.replay !== false) failuresByPart.set(p.part, await apply(p, r.round, willRetry, true));
            continue;
          }
          if (!p.batchId) continue; // cancelled before it was submitted
          await waitAndFetch(p);
          failuresByPart.set(p.part, await apply(p, r.round, willRetry, false));
        }
        done.add(r.round);
        // a follow-up round for what failed, expired or was cancelled by the provider
        if (willRetry && ![...rounds.values()].some((x) => x.parent === r.round)) {
          const retry = new Set<string>();
          for (const p of parts) {
            const fails = failuresByPart.get(p.part) ?? failuresOf(p);
            failuresByPart.set(p.part, fails);
            for (const [id, f] of fails) if (retryable(f)) retry.add(id);
          }
          if (retry.size > 0) {
            const round = nextRound(st);
            const firstPart = nextPart(st);
            const w = new InputFileWriter(dir, job, opts.limits, firstPart);
            for (const p of parts)
              readInputFile(
                join(dir, p.file),
                (req) => retry.has(req.custom_id) && w.add({ custom_id: req.custom_id, body: req.body }),
              );
            const files = w.finish();
            fsyncDir(dir);
            addRound(rounds, round, firstPart, files, { requests: retry.size, depth: r.depth + 1, parent: r.round });
            log(`batch job ${job}: ${retry.size} failed or expired request(s) go to a follow-up batch`);
          }
        }
      }
    }

    // summary: the last outcome of each request
    const last = new Map<string, BatchFailure | 'ok'>();
    for (const p of [...st.parts.values()].sort((a, b) => a.part - b.part)) {
      const fails = failuresByPart.get(p.part) ?? (p.applied ? failuresOf(p) : undefined);
      summary.parts.push({
        part: p.part,
        round: p.round,
        ...(p.batchId ? { batchId: p.batchId } : {}),
        ...(p.status ? { status: p.status } : {}),
        requests: p.requests,
        ok: p.applied?.ok ?? 0,
        failed: p.applied?.failed ?? 0,
      });
      if (!fails) continue;
      readInputIds(join(dir, p.file), (id) => last.set(id, fails.get(id) ?? 'ok'));
    }
    for (const [, v] of last) {
      if (v === 'ok') summary.ok++;
      else summary.failures.push(v);
    }
    summary.complete = opts.submitOnly
      ? false
      : [...st.parts.values()].every((p) => p.applied || (st.cancelRequested && !p.batchId));
    if (summary.complete) journal.append({ type: 'end', time: new Date().toISOString() });
    return summary;
  } catch (err) {
    if (signal?.aborted) throw new BatchCancelledError(summary);
    throw err;
  } finally {
    journal.close();
  }

  /**
   * Journals the input files of a new round as its parts (numbered from `firstPart`), then the
   * round as built (`built`: its requests, depth, and the round it follows up), and adds it to `rounds`.
   */
  function addRound(
    rounds: Map<number, RoundInfo>,
    round: number,
    firstPart: number,
    files: InputFile[],
    built: { requests: number; depth: number; parent?: number },
  ): void {
    const parts = files.map((f, k) => {
      const part = firstPart + k;
      journal.append(
        { type: 'part', part, round, file: f.name, requests: f.requests, bytes: f.bytes, sha256: f.sha256 },
        false,
      );
      st.parts.set(part, { part, round, file: f.name, requests: f.requests, bytes: f.bytes, sha256: f.sha256 });
      return part;
    });
    journal.append({ type: 'built', round, parts, ...built });
    st.built.set(round, { parts, ...built });
    rounds.set(round, {
      round,
      parts,
      depth: built.depth,
      ...(built.parent !== undefined ? { parent: built.parent } : {}),
    });
  }

  async function submit(p: PartState): Promise<void> {
    if (!p.fileId) {
      const filename = p.file;
      let adopted: string | undefined;
      if (p.uploading) {
        const found = await api.findFile(filename, p.bytes, signal);
        if (found) {
          adopted = found.id;
          log(`part ${p.part}: its upload finished before the process stopped (${found.id})`);
        }
      }
      if (!adopted) {
        journal.append({ type: 'uploading', part: p.part, filename });
        p.uploading = filename;
        opts.progress?.({ done: p.part, unit: 'files', message: `uploading ${filename}` });
        adopted = (await api.upload(join(dir, p.file), filename, signal)).id;
      }
      journal.append({ type: 'uploaded', part: p.part, file_id: adopted });
      p.fileId = adopted;
    }
    if (!p.batchId) {
      let batch: Batch | undefined;
      if (p.creating) {
        batch = await api.findBatch(p.fileId, signal);
        if (batch) {
          summary.batchesAdopted++;
          log(`part ${p.part}: its batch was created before the process stopped (${batch.id})`);
        }
      }
      if (!batch) {
        journal.append({ type: 'creating', part: p.part, input_file_id: p.fileId });
        p.creating = p.fileId;
        batch = await api.create(
          p.fileId,
          { ...opts.metadata, curator_job: job.slice(0, 500), curator_part: String(p.part) },
          CHAT_ENDPOINT,
          signal,
        );
        summary.batchesCreated++;
      }
      journal.append({ type: 'created', part: p.part, batch_id: batch.id });
      p.batchId = batch.id;
      log(`part ${p.part}: batch ${batch.id} (${p.requests.toLocaleString('en-US')} requests)`);
    }
  }

  async function waitAndFetch(p: PartState): Promise<void> {
    if (!p.ended) {
      const b = await pollUntilDone(api, p.batchId as string, poll, signal, (b) => {
        const counts = {
          completed: b.request_counts?.completed ?? 0,
          failed: b.request_counts?.failed ?? 0,
          total: b.request_counts?.total ?? p.requests,
        };
        p.status = b.status;
        p.counts = counts;
        if (!['completed', 'failed', 'expired', 'cancelled'].includes(b.status))
          journal.append({ type: 'status', part: p.part, status: b.status, ...counts }, false);
        opts.progress?.({
          done: counts.completed + counts.failed,
          total: counts.total,
          unit: 'requests',
          message: `batch ${b.id}: ${b.status} · ${counts.completed} done, ${counts.failed} failed of ${counts.total}`,
        });
      });
      const errors = b.errors?.data
        ?.map((e) => `${e.line !== null && e.line !== undefined ? `line ${e.line}: ` : ''}${e.message ?? e.code ?? ''}`)
        .join('; ');
      const counts = {
        completed: b.request_counts?.completed ?? 0,
        failed: b.request_counts?.failed ?? 0,
        total: b.request_counts?.total ?? p.requests,
      };
      journal.append({
        type: 'ended',
        part: p.part,
        status: b.status,
        output_file_id: b.output_file_id ?? null,
        error_file_id: b.error_file_id ?? null,
        ...counts,
        ...(errors ? { errors } : {}),
      });
      p.status = b.status;
      p.counts = counts;
      p.ended = {
        status: b.status,
        output_file_id: b.output_file_id ?? null,
        error_file_id: b.error_file_id ?? null,
        ...(errors ? { errors } : {}),
      };
      log(`part ${p.part}: batch ${b.id} ${b.status}${errors ? `: ${errors}` : ''}`);
    }
    if (!p.downloaded) {
      const base = p.file.replace(/\.jsonl$/, '');
      const output = p.ended.output_file_id ? `${base}.output.jsonl` : null;
      const errors = p.ended.error_file_id ? `${base}.errors.jsonl` : null;
      opts.progress?.({ done: 0, unit: 'files', message: `downloading the results of batch ${p.batchId}` });
      if (output) await api.download(p.ended.output_file_id as string, join(dir, output), signal);
      if (errors) await api.download(p.ended.error_file_id as string, join(dir, errors), signal);
      fsyncDir(dir);
      journal.append({ type: 'downloaded', part: p.part, output, errors });
      p.downloaded = { output, errors };
    }
  }

  /** Streams a part's outcomes to the caller; returns its failures by custom_id. */
  async function apply(
    p: PartState,
    round: number,
    willRetryRound: boolean,
    replayed: boolean,
  ): Promise<Map<string, BatchFailure>> {
    const seen = new Set<string>();
    const fails = new Map<string, BatchFailure>();
    let ok = 0;
    const deliver = async (outcome: BatchOutcome): Promise<void> => {
      const o: BatchOutcome = outcome.ok ? outcome : { ...outcome, message: api.redact(outcome.message) };
      if (o.ok) {
        if (seen.has(o.custom_id) && !fails.has(o.custom_id)) return;
        fails.delete(o.custom_id);
        seen.add(o.custom_id);
        ok++;
      } else {
        if (seen.has(o.custom_id)) return;
        seen.add(o.custom_id);
        fails.set(o.custom_id, {
          custom_id: o.custom_id,
          kind: o.kind,
          ...(o.status !== undefined ? { status: o.status } : {}),
          message: o.message,
        });
      }
      const r = opts.onOutcome(o, {
        part: p.part,
        round,
        willRetry: !o.ok && willRetryRound && retryable(o),
        replayed,
      });
      if (r instanceof Promise) await r;
    };
    const drain = async (path: string | null): Promise<void> => {
      if (!path) return;
      // streamed: the caller is awaited between lines, the file is never held
      let bad = 0;
      for await (const o of outcomesOf(join(dir, path), () => bad++)) await deliver(o);
      if (bad > 0) log(`part ${p.part}: ${bad} line(s) of ${path} are not batch output lines`);
    };
    if (!replayed)
      opts.progress?.({
        done: 0,
        total: p.requests,
        unit: 'requests',
        message: `applying the results of batch ${p.batchId}`,
      });
    await drain(p.downloaded?.output ?? null);
    await drain(p.downloaded?.errors ?? null);
    const status = p.ended?.status;
    const missingKind: BatchFailure['kind'] =
      status === 'expired' ? 'expired' : status === 'cancelled' || status === 'cancelling' ? 'cancelled' : 'failed';
    const message =
      status === 'failed'
        ? `the batch failed: ${p.ended?.errors ?? 'no reason given'}`
        : `no answer in the results of batch ${p.batchId} (${status})`;
    const missing: BatchOutcome[] = [];
    // a batch that failed as a whole (its input file refused) would fail again: not retried (status 400)
    readInputIds(join(dir, p.file), (id) => {
      if (!seen.has(id))
        missing.push({
          custom_id: id,
          ok: false,
          kind: missingKind,
          ...(status === 'failed' ? { status: 400 } : {}),
          message,
        });
    });
    for (const o of missing) await deliver(o);
    if (replayed) return fails;
    if (opts.onPartApplied) await opts.onPartApplied(p.part);
    journal.append({ type: 'applied', part: p.part, ok, failed: fails.size });
    p.applied = { ok, failed: fails.size };
    return fails;
  }

  /** The failures of a part applied by an earlier run (from its files on disk). */
  function failuresOf(p: PartState): Map<string, BatchFailure> {
    const fails = new Map<string, BatchFailure>();
    const okIds = new Set<string>();
    const read = (path: string | null | undefined): void => {
      if (!path || !existsSync(join(dir, path))) return;
      readOutcomes(join(dir, path), (o) => {
        if (o.ok) okIds.add(o.custom_id);
        else if (!fails.has(o.custom_id))
          fails.set(o.custom_id, {
            custom_id: o.custom_id,
            kind: o.kind,
            ...(o.status !== undefined ? { status: o.status } : {}),
            message: api.redact(o.message),
          });
      });
    };
    read(p.downloaded?.output);
    read(p.downloaded?.errors);
    for (const id of okIds) fails.delete(id);
    const status = p.ended?.status;
    const kind: BatchFailure['kind'] =
      status === 'expired' ? 'expired' : status === 'cancelled' ? 'cancelled' : 'failed';
    readInputIds(join(dir, p.file), (id) => {
      if (!okIds.has(id) && !fails.has(id))
        fails.set(id, {
          custom_id: id,
          kind,
          ...(status === 'failed' ? { status: 400 } : {}),
          message:
            status === 'failed'
              ? `the batch failed: ${p.ended?.errors ?? 'no reason given'}`
              : `no answer in the results of batch ${p.batchId} (${status})`,
        });
    });
    return fails;
  }
}

function roundsOf(st: BatchJournalState): Map<number, RoundInfo> {
  const out = new Map<number, RoundInfo>();
  for (const [round, b] of st.built) {
    out.set(round, {
      round,
      parts: b.parts.filter((i) => st.parts.has(i)),
      depth: b.depth,
      ...(b.parent !== undefined ? { parent: b.parent } : {}),
    });
  }
  return out;
}

function nextRound(st: BatchJournalState): number {
  return st.built.size === 0 ? 0 : Math.max(...st.built.keys()) + 1;
}

function nextPart(st: BatchJournalState): number {
  return st.parts.size === 0 ? 0 : Math.max(...st.parts.keys()) + 1;
}

/**
 * The batch jobs of a dataset (`<file>.curator-journal/*.batch.jsonl`), with whether each is
 * unfinished: what `curate batch status` lists and what the extension resumes on activation.
 */
export function listBatchJobs(datasetPath: string): Array<{ job: string; path: string; unfinished: boolean }> {
  const dir = `${datasetPath}.curator-journal`;
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.batch.jsonl'))
    .sort()
    .map((n) => {
      const path = join(dir, n);
      const st = readBatchJournal(path);
      return {
        job: n.replace(/\.batch\.jsonl$/, ''),
        path,
        unfinished: !st.ended && [...st.parts.values()].some((p) => !p.applied),
      };
    });
}

/** What `curate batch status` shows: the journal's view of each part (no network). */
export function batchJobStatus(journalPath: string): {
  header?: BatchJournalState['header'];
  parts: PartState[];
  cancelRequested: boolean;
  ended: boolean;
} {
  const st = readBatchJournal(journalPath);
  return {
    ...(st.header ? { header: st.header } : {}),
    parts: [...st.parts.values()].sort((a, b) => a.part - b.part),
    cancelRequested: st.cancelRequested,
    ended: st.ended,
  };
}

/**
 * Cancels a batch job: journals the request (a later run submits nothing more and sends no
 * follow-up) and cancels every batch that has not ended. Returns the batches' statuses.
 */
export async function cancelBatchJob(
  api: BatchApiClient,
  journalPath: string,
  signal?: AbortSignal,
): Promise<Array<{ part: number; batchId: string; status: string }>> {
  const st = readBatchJournal(journalPath);
  if (!st.header) throw new Error(`no batch job at ${journalPath}`);
  const journal = new BatchJournal(journalPath, st.goodLength);
  const out: Array<{ part: number; batchId: string; status: string }> = [];
  try {
    journal.append({ type: 'cancel', time: new Date().toISOString() });
    for (const p of [...st.parts.values()].sort((a, b) => a.part - b.part)) {
      let batchId = p.batchId;
      if (!batchId && p.creating) batchId = (await api.findBatch(p.creating, signal))?.id;
      if (!batchId || p.ended) continue;
      const b = await api.cancel(batchId, signal);
      out.push({ part: p.part, batchId, status: b.status });
    }
  } finally {
    journal.close();
  }
  return out;
}
