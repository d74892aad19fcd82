// Any online job as a batch, by its requests: the job runs against a client that answers from a
// batch job's results (`BatchAnswers`), and the requests it makes that have no answer yet are
// collected and sent as the next round of the batch job (`prefetchAnswers`). A task whose later
// requests depend on earlier answers (a preference pair's judge after its responses; a dialogue's
// next turn) makes them in the next round: one batch round per step, until a pass over the
// records asks for nothing new. Then the job runs as it does online (its journal, its output,
// its validation and failure recording) with every answer from the batch: the content is the
// online run's on a deterministic endpoint. What the batch left failed fails the record as an
// online failure would, or (`retryOnline`) is sent online.
//
// A custom_id is a hash of the request body (model, sampling parameters, seed, response format)
// and of its messages (records.ts): the same request is the same line, never sent twice, and an
// answer is only used for the request it was computed for.
//
// A batch holds one model's requests: the requests of each model (a preference's candidates from
// several models, its judge) are a batch job of their own, `<job>~<model>`.
//
// Resuming: each batch job's journal (run.ts) holds its rounds; run again, the parts applied
// before are replayed (their answers read from the files on disk) and the batches still out are
// polled, never created again.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LlmTask, RecordSource } from '../../jobs/types';
import type { Progress } from '../../operation';
import { LlmClient, LlmError, type CallOptions, type ChatRequest, type ChatResult, type Usage } from '../client';
import type { BatchApiClient, PollPolicy } from './api';
import type { ChatAnswer } from './format';
import { customIdFor, messagesKey } from './records';
import { readBatchJournal } from './journal';
import { batchJournalPath, runBatch, type BatchRunSummary } from './run';

/** Thrown (collecting) for a request the batch has no answer for yet: it goes to the next round. */
export class NotAnsweredYet extends Error {
  constructor(readonly customId: string) {
    super('not answered by the batch yet');
    this.name = 'NotAnsweredYet';
  }
}

const KEYS = [
  'temperature',
  'top_p',
  'max_tokens',
  'seed',
  'stop',
  'presence_penalty',
  'frequency_penalty',
  'response_format',
  'logprobs',
  'top_logprobs',
] as const;

/** The body LlmClient.chat sends for a request (the same keys, the same values). */
export function chatBody(req: ChatRequest, model: string): Record<string, unknown> {
  const body: Record<string, unknown> = { model: req.model ?? model, messages: req.messages };
  for (const k of KEYS) if (req[k] !== undefined) body[k] = req[k];
  return body;
}

/**
 * A client whose answers come from a batch job. `collecting`: a request without an answer is
 * noted (`wanted`) and fails with NotAnsweredYet; otherwise it fails as a request error, or with
 * `online` it is sent through the online client.
 */
export class BatchAnswers extends LlmClient {
  readonly answers = new Map<string, ChatAnswer>();
  readonly failures = new Map<string, { message: string; status?: number }>();
  readonly wanted = new Map<string, Record<string, unknown>>();
  collecting = true;
  /** Tokens of the answers given from the batch (their cost is at the batch price), and of those sent online. */
  readonly fromBatch: Usage = { input_tokens: 0, output_tokens: 0 };
  readonly fromOnline: Usage = { input_tokens: 0, output_tokens: 0 };
  onlineRequests = 0;

  constructor(
    private readonly real: LlmClient,
    private readonly online = false,
  ) {
    super({ baseURL: real.baseURL, model: real.model });
  }

  override redact(text: string): string {
    return this.real.redact(text);
  }

  override async chat(req: ChatRequest, call: CallOptions = {}): Promise<ChatResult> {
    const body = chatBody(req, this.model);
    const id = customIdFor(body, messagesKey(req.messages));
    const a = this.answers.get(id);
    if (a) {
      if (!this.collecting) {
        this.fromBatch.input_tokens += a.usage.input_tokens;
        this.fromBatch.output_tokens += a.usage.output_tokens;
      }
      return {
        content: a.content === null ? null : this.redact(a.content),
        refusal: a.refusal === null ? null : this.redact(a.refusal),
        finishReason: a.finishReason,
        model: a.model ? this.redact(a.model) : (body.model as string),
        usage: a.usage,
        attempts: 1,
        latencyMs: 0,
        ...(a.logprobs ? { logprobs: a.logprobs } : {}),
      };
    }
    if (this.collecting) {
      this.wanted.set(id, body);
      throw new NotAnsweredYet(id);
    }
    if (this.online) {
      const r = await this.real.chat(req, call);
      this.onlineRequests++;
      this.fromOnline.input_tokens += r.usage.input_tokens;
      this.fromOnline.output_tokens += r.usage.output_tokens;
      return r;
    }
    const f = this.failures.get(id);
    throw new LlmError(
      f
        ? `${f.status ? `HTTP ${f.status}: ` : ''}${f.message} (in the batch; run again with retryOnline to send it online)`
        : 'no answer from the batch (run the same command again)',
      'request',
      f?.status,
    );
  }
}

/**
 * One pass of a task over the first `n` records with a BatchAnswers client: each request without
 * an answer yet is noted for the next round (NotAnsweredYet); other errors show in the run itself.
 */
export async function passOverRecords<R>(
  task: LlmTask<R>,
  source: RecordSource,
  n: number,
  signal: AbortSignal,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    signal.throwIfAborted();
    const rec = await source.get(i);
    if (!rec.value) continue;
    try {
      await task.run(rec.value, { signal, index: i, line: rec.lineNumber });
    } catch (err) {
      if (!(err instanceof NotAnsweredYet)) signal.throwIfAborted();
    }
  }
}

export interface PrefetchOptions {
  api: BatchApiClient;
  /** `<target>.curator-journal` (journalDirFor). */
  journalDir: string;
  /** The job's id: each model's batch job is `<job>~<model>` (a batch holds one model's requests). */
  job: string;
  /** The model whose batch job is `<job>` itself (the job's own model: its journal is the one a face resumes). */
  primaryModel?: string;
  client: BatchAnswers;
  /** One pass of the job over its records (the client collecting): the requests it makes are noted. */
  pass(): Promise<void>;
  poll?: Partial<PollPolicy>;
  signal?: AbortSignal;
  progress?: (p: Progress) => void;
  log?: (line: string) => void;
}

export interface PrefetchSummary {
  /** Each model's batch job's last run (its parts, what this run sent and created). */
  jobs: BatchRunSummary[];
  /** Requests sent by this run (every round), batches created by this run. */
  newRequests: number;
  batchesCreated: number;
  /** Rounds (passes that asked for something new). */
  rounds: number;
}

/** The batch job of a model's requests (a file name part: the model's name made safe, and a hash of it). */
export function modelJob(job: string, model: string): string {
  const safe = model.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40);
  return `${job}~${safe}-${createHash('sha256').update(model).digest('hex').slice(0, 8)}`;
}

/**
 * Collects the job's answers from its batch jobs (one per model), round after round, until a
 * pass over the records asks for nothing new. Returns with the client out of collecting mode.
 */
export async function prefetchAnswers(o: PrefetchOptions): Promise<PrefetchSummary> {
  const { client } = o;
  let newRequests = 0;
  let batchesCreated = 0;
  let rounds = 0;
  const last = new Map<string, BatchRunSummary>();
  const runModel = async (
    model: string,
    requests: Array<{ custom_id: string; body: Record<string, unknown> }>,
    submitOnly = false,
  ): Promise<BatchRunSummary> => {
    const job = model === o.primaryModel ? o.job : modelJob(o.job, model);
    const s = await runBatch({
      submitOnly,
      api: o.api,
      journalPath: batchJournalPath(o.journalDir, job),
      job,
      model,
      requests: () => requests,
      onOutcome: (outcome, ctx) => {
        if (outcome.ok) {
          client.answers.set(outcome.custom_id, outcome.answer);
          client.failures.delete(outcome.custom_id);
        } else if (!ctx.willRetry && !client.answers.has(outcome.custom_id))
          client.failures.set(outcome.custom_id, {
            message: `${outcome.kind}: ${outcome.message}`,
            ...(outcome.status !== undefined ? { status: outcome.status } : {}),
          });
      },
      ...(o.poll ? { poll: o.poll } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.progress ? { progress: o.progress } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
    newRequests += s.newRequests;
    batchesCreated += s.batchesCreated;
    last.set(model, s);
    return s;
  };
  client.collecting = true;
  // what earlier runs sent: their answers (replayed), the batches still out waited for
  for (const model of modelsSent(o.journalDir, o.job, o.primaryModel)) await runModel(model, []);
  for (;;) {
    client.wanted.clear();
    await o.pass();
    // the requests without an answer that the batch has not failed for good, by model
    const byModel = new Map<string, Array<{ custom_id: string; body: Record<string, unknown> }>>();
    for (const [custom_id, body] of client.wanted) {
      if (client.failures.has(custom_id)) continue;
      const m = String(body.model);
      let list = byModel.get(m);
      if (!list) byModel.set(m, (list = []));
      list.push({ custom_id, body });
    }
    if (byModel.size === 0) break;
    rounds++;
    const asked = [...byModel.values()].reduce((n, l) => n + l.length, 0);
    o.log?.(`batch round ${rounds}: ${asked} request(s) for ${[...byModel.keys()].join(', ')}`);
    let sent = 0;
    const models = [...byModel].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    // every model's batch submitted first (the provider works on them all), then each waited for
    for (const [model, requests] of models) sent += (await runModel(model, requests, true)).newRequests;
    for (const [model, requests] of models) await runModel(model, requests);
    // sent before and not answered (a cancelled job's parts never submitted): nothing more to wait for
    if (sent === 0) break;
  }
  client.collecting = false;
  client.wanted.clear();
  return { jobs: [...last.values()], newRequests, batchesCreated, rounds };
}

/** The models of a job's batch jobs that earlier runs started (their journals' headers). */
function modelsSent(journalDir: string, job: string, primaryModel?: string): string[] {
  if (!existsSync(journalDir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(journalDir).sort()) {
    const own = primaryModel !== undefined && name === `${job}.batch.jsonl`;
    if (!own && (!name.startsWith(`${job}~`) || !name.endsWith('.batch.jsonl'))) continue;
    const model = readBatchJournal(join(journalDir, name)).header?.model;
    if (model !== undefined) out.push(model);
  }
  return out;
}
